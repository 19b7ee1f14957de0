// WorkQueue claims and jobs over SQLite. Several worker processes may share
// one library file: each claim is one write transaction (SQLite serialises
// writers), and lease times are ISO-8601 text from SQLite's own clock, which
// compares as time.
#include <fmt/format.h>

#include <algorithm>

#include "sqlite_roles.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::store {
namespace {

constexpr const char* kNow = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now')";
// now + ? seconds (bind the seconds as an integer).
constexpr const char* kLeaseEnd = "strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+' || ? || ' seconds')";

constexpr const char* kJobColumns =
    "id, kind, target, state, attempts, worker, error, created_at, updated_at";
Job read_job(SQLite::Statement& q) {
  Row r(q);
  Job j;
  j.id = r.int64();
  j.kind = job_kind_from_string(r.text());
  j.target = r.text();
  j.state = job_state_from_string(r.text());
  j.attempts = r.integer();
  j.worker = r.text();
  j.error = r.text();
  j.created_at = r.text();
  j.updated_at = r.text();
  r.end();
  return j;
}

}  // namespace

std::vector<AssetId> SqliteWorkQueue::claim_work(WorkStep step, const std::string& worker,
                                                 std::chrono::seconds lease, std::size_t limit) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  SQLite::Statement q(
      c_.db(), fmt::format("UPDATE work_queue SET claimed_by = ?, claimed_at = {0}, "
                           "lease_until = {1} WHERE step = ? AND asset_id IN (SELECT asset_id "
                           "FROM work_queue WHERE step = ? AND (claimed_by = '' OR lease_until < "
                           "{0}) ORDER BY asset_id LIMIT ?) RETURNING asset_id",
                           kNow, kLeaseEnd));
  const std::string name = to_string(step);
  Binder{q}(worker)(static_cast<std::int64_t>(lease.count()))(
      name)(name)(static_cast<std::int64_t>(limit));
  std::vector<AssetId> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  q.reset();
  tx.commit();
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t SqliteWorkQueue::claimed_count(WorkStep step) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT count(*) FROM work_queue WHERE step = ? AND "
                                           "claimed_by <> '' AND lease_until >= {}",
                                           kNow));
  Binder{q}(to_string(step));
  q.executeStep();
  return q.getColumn(0).getInt64();
}

std::int64_t SqliteWorkQueue::enqueue_jobs(JobKind kind, std::span<const std::string> targets) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  SQLite::Statement q(c_.db(),
                      "INSERT INTO jobs (kind, target, state, created_at, updated_at) "
                      "VALUES (?, ?, 'queued', ?, ?) ON CONFLICT (kind, target) "
                      "WHERE state IN ('queued', 'running') DO NOTHING");
  const std::string now = now_utc_iso8601();
  std::int64_t added = 0;
  for (const auto& target : targets) {
    q.reset();
    Binder{q}(to_string(kind))(target)(now)(now);
    added += q.exec();
  }
  tx.commit();
  return added;
}

std::vector<Job> SqliteWorkQueue::claim_jobs(JobKind kind, const std::string& worker,
                                             std::chrono::seconds lease, std::size_t limit,
                                             int max_attempts) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  const std::string now = now_utc_iso8601();
  // Jobs whose worker was lost once too often fail rather than take another.
  SQLite::Statement give_up(
      c_.db(), fmt::format("UPDATE jobs SET state = 'failed', lease_until = '', updated_at = ?, "
                           "error = 'the worker processing it stopped (killed or lost) ' || "
                           "attempts || ' times' WHERE kind = ? AND state = 'running' AND "
                           "lease_until < {} AND attempts >= ?",
                           kNow));
  Binder{give_up}(now)(to_string(kind))(max_attempts);
  give_up.exec();
  SQLite::Statement q(
      c_.db(),
      fmt::format("UPDATE jobs SET state = 'running', worker = ?, attempts = attempts + 1, "
                  "lease_until = {1}, updated_at = ? WHERE id IN (SELECT id FROM jobs WHERE "
                  "kind = ? AND (state = 'queued' OR (state = 'running' AND lease_until < {0})) "
                  "ORDER BY id LIMIT ?) RETURNING {2}",
                  kNow, kLeaseEnd, kJobColumns));
  Binder{q}(worker)(static_cast<std::int64_t>(lease.count()))(now)(to_string(kind))(
      static_cast<std::int64_t>(limit));
  std::vector<Job> out;
  while (q.executeStep()) out.push_back(read_job(q));
  q.reset();
  tx.commit();
  std::sort(out.begin(), out.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  return out;
}

bool SqliteWorkQueue::finish_job(std::int64_t id, const std::string& worker,
                                 const std::string& error) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "UPDATE jobs SET state = ?, error = ?, lease_until = '', updated_at = ? "
                      "WHERE id = ? AND worker = ? AND state = 'running'");
  Binder{q}(std::string(error.empty() ? "done" : "failed"))(error)(now_utc_iso8601())(id)(worker);
  return q.exec() > 0;
}

JobCounts SqliteWorkQueue::job_counts(JobKind kind) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "SELECT state, count(*) FROM jobs WHERE kind = ? GROUP BY state");
  Binder{q}(to_string(kind));
  JobCounts c;
  while (q.executeStep()) {
    const std::int64_t n = q.getColumn(1).getInt64();
    switch (job_state_from_string(q.getColumn(0).getString())) {
      case JobState::kQueued:
        c.queued = n;
        break;
      case JobState::kRunning:
        c.running = n;
        break;
      case JobState::kDone:
        c.done = n;
        break;
      case JobState::kFailed:
        c.failed = n;
        break;
    }
  }
  return c;
}

std::vector<Job> SqliteWorkQueue::jobs_in_state(JobState state, std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM jobs WHERE state = ? ORDER BY id LIMIT ?", kJobColumns));
  Binder{q}(to_string(state))(static_cast<std::int64_t>(limit));
  std::vector<Job> out;
  while (q.executeStep()) out.push_back(read_job(q));
  return out;
}

std::int64_t SqliteWorkQueue::retry_failed_jobs(std::int64_t id) {
  auto held = c_.lock();
  // A failed job whose target was queued again since stays failed (history);
  // the unique index would refuse a second active job for it.
  SQLite::Statement q(c_.db(),
                      "UPDATE jobs SET state = 'queued', attempts = 0, worker = '', error = '', "
                      "updated_at = ? WHERE state = 'failed' AND (? = 0 OR id = ?) AND NOT EXISTS "
                      "(SELECT 1 FROM jobs a WHERE a.kind = jobs.kind AND a.target = jobs.target "
                      "AND a.state IN ('queued', 'running'))");
  Binder{q}(now_utc_iso8601())(id)(id);
  return q.exec();
}

std::int64_t SqliteWorkQueue::renew_leases(const std::string& worker, std::chrono::seconds lease) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  const auto seconds = static_cast<std::int64_t>(lease.count());
  SQLite::Statement jobs(c_.db(), fmt::format("UPDATE jobs SET lease_until = {} WHERE worker = ? "
                                              "AND state = 'running'",
                                              kLeaseEnd));
  Binder{jobs}(seconds)(worker);
  std::int64_t held_now = jobs.exec();
  SQLite::Statement work(
      c_.db(),
      fmt::format("UPDATE work_queue SET lease_until = {} WHERE claimed_by = ?", kLeaseEnd));
  Binder{work}(seconds)(worker);
  held_now += work.exec();
  tx.commit();
  return held_now;
}

void SqliteWorkQueue::release_leases(const std::string& worker) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  SQLite::Statement jobs(c_.db(),
                         "UPDATE jobs SET state = 'queued', worker = '', lease_until = '', "
                         "attempts = max(attempts - 1, 0) WHERE worker = ? AND state = 'running'");
  Binder{jobs}(worker);
  jobs.exec();
  SQLite::Statement work(c_.db(),
                         "UPDATE work_queue SET claimed_by = '', claimed_at = '', lease_until = '' "
                         "WHERE claimed_by = ?");
  Binder{work}(worker);
  work.exec();
  tx.commit();
}

}  // namespace tagsmith::store
