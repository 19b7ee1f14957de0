// WorkQueue claims and jobs over PostgreSQL: the statements that let any
// number of workers on any number of machines share one queue. A claim
// picks rows with SELECT … FOR UPDATE SKIP LOCKED, so concurrent workers
// never wait for, nor take, each other's rows; leases are timestamps of the
// database's clock (now()), which every worker shares.
#include <fmt/format.h>

#include <algorithm>

#include "pg_roles.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::store {
namespace {

constexpr const char* kJobColumns =
    "id, kind, target, state, attempts, worker, error, created_at, updated_at";
Job read_job(const pqxx::row& row) {
  PgRow r(row);
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

std::int64_t seconds(std::chrono::seconds s) {
  return static_cast<std::int64_t>(s.count());
}

}  // namespace

std::vector<AssetId> PgWorkQueue::claim_work(WorkStep step, const std::string& worker,
                                             std::chrono::seconds lease, std::size_t limit) {
  auto out = c_.transact([&](pqxx::work& w) {
    std::vector<AssetId> ids;
    for (const auto& row :
         w.exec_params("WITH free AS (SELECT asset_id FROM work_queue WHERE step = $1 AND "
                       "(lease_until IS NULL OR lease_until < now()) ORDER BY asset_id LIMIT $2 "
                       "FOR UPDATE SKIP LOCKED) "
                       "UPDATE work_queue q SET claimed_by = $3, claimed_at = $4, "
                       "lease_until = now() + make_interval(secs => $5) FROM free "
                       "WHERE q.step = $1 AND q.asset_id = free.asset_id RETURNING q.asset_id",
                       to_string(step), static_cast<std::int64_t>(limit), worker, now_utc_iso8601(),
                       seconds(lease)))
      ids.push_back(row[0].as<AssetId>());
    return ids;
  });
  std::sort(out.begin(), out.end());
  return out;
}

std::int64_t PgWorkQueue::claimed_count(WorkStep step) {
  return c_.transact([&](pqxx::work& w) {
    return w
        .exec_params1("SELECT count(*) FROM work_queue WHERE step = $1 AND lease_until >= now()",
                      to_string(step))[0]
        .as<std::int64_t>();
  });
}

std::int64_t PgWorkQueue::enqueue_jobs(JobKind kind, std::span<const std::string> targets) {
  if (targets.empty()) return 0;
  return c_.transact([&](pqxx::work& w) {
    const std::string now = now_utc_iso8601();
    std::int64_t added = 0;
    // Batches of targets as one text[] parameter: one round trip per 1000.
    constexpr std::size_t kBatch = 1000;
    for (std::size_t i = 0; i < targets.size(); i += kBatch) {
      const auto batch = targets.subspan(i, std::min(kBatch, targets.size() - i));
      std::string array = "{";
      for (std::size_t k = 0; k < batch.size(); ++k) {
        if (k) array += ',';
        array += '"';
        for (char ch : batch[k]) {
          if (ch == '"' || ch == '\\') array += '\\';
          array += ch;
        }
        array += '"';
      }
      array += '}';
      added += w.exec_params(
                    "INSERT INTO jobs (kind, target, state, created_at, updated_at) "
                    "SELECT $1, t, 'queued', $2, $2 FROM unnest($3::text[]) AS t "
                    "ON CONFLICT (kind, target) WHERE state IN ('queued', 'running') DO NOTHING",
                    to_string(kind), now, array)
                   .affected_rows();
    }
    return added;
  });
}

std::vector<Job> PgWorkQueue::claim_jobs(JobKind kind, const std::string& worker,
                                         std::chrono::seconds lease, std::size_t limit,
                                         int max_attempts) {
  auto out = c_.transact([&](pqxx::work& w) {
    const std::string now = now_utc_iso8601();
    w.exec_params(
        "UPDATE jobs SET state = 'failed', lease_until = NULL, updated_at = $1, "
        "error = 'the worker processing it stopped (killed or lost) ' || attempts || ' times' "
        "WHERE kind = $2 AND state = 'running' AND lease_until < now() AND attempts >= $3",
        now, to_string(kind), max_attempts);
    std::vector<Job> jobs;
    for (const auto& row : w.exec_params(
             fmt::format("WITH free AS (SELECT id FROM jobs WHERE kind = $1 AND "
                         "(state = 'queued' OR (state = 'running' AND lease_until < now())) "
                         "ORDER BY id LIMIT $2 FOR UPDATE SKIP LOCKED) "
                         "UPDATE jobs j SET state = 'running', worker = $3, "
                         "attempts = j.attempts + 1, lease_until = now() + "
                         "make_interval(secs => $4), updated_at = $5 FROM free "
                         "WHERE j.id = free.id RETURNING {}",
                         "j.id, j.kind, j.target, j.state, j.attempts, j.worker, j.error, "
                         "j.created_at, j.updated_at"),
             to_string(kind), static_cast<std::int64_t>(limit), worker, seconds(lease), now))
      jobs.push_back(read_job(row));
    return jobs;
  });
  std::sort(out.begin(), out.end(), [](const Job& a, const Job& b) { return a.id < b.id; });
  return out;
}

bool PgWorkQueue::finish_job(std::int64_t id, const std::string& worker, const std::string& error) {
  return c_.transact([&](pqxx::work& w) {
    return w.exec_params(
                "UPDATE jobs SET state = $1, error = $2, lease_until = NULL, updated_at = $3 "
                "WHERE id = $4 AND worker = $5 AND state = 'running'",
                error.empty() ? "done" : "failed", error, now_utc_iso8601(), id, worker)
               .affected_rows() > 0;
  });
}

JobCounts PgWorkQueue::job_counts(JobKind kind) {
  return c_.transact([&](pqxx::work& w) {
    JobCounts c;
    for (const auto& row : w.exec_params(
             "SELECT state, count(*) FROM jobs WHERE kind = $1 GROUP BY state", to_string(kind))) {
      const auto n = row[1].as<std::int64_t>();
      switch (job_state_from_string(row[0].as<std::string>())) {
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
  });
}

std::vector<Job> PgWorkQueue::jobs_in_state(JobState state, std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<Job> out;
    for (const auto& row : w.exec_params(
             fmt::format("SELECT {} FROM jobs WHERE state = $1 ORDER BY id LIMIT $2", kJobColumns),
             to_string(state), static_cast<std::int64_t>(limit)))
      out.push_back(read_job(row));
    return out;
  });
}

std::int64_t PgWorkQueue::retry_failed_jobs(std::int64_t id) {
  return c_.transact([&](pqxx::work& w) {
    return static_cast<std::int64_t>(
        w.exec_params(
             "UPDATE jobs SET state = 'queued', attempts = 0, worker = '', error = '', "
             "updated_at = $1 WHERE state = 'failed' AND ($2 = 0 OR id = $2) AND NOT EXISTS "
             "(SELECT 1 FROM jobs a WHERE a.kind = jobs.kind AND a.target = jobs.target "
             "AND a.state IN ('queued', 'running'))",
             now_utc_iso8601(), id)
            .affected_rows());
  });
}

std::int64_t PgWorkQueue::renew_leases(const std::string& worker, std::chrono::seconds lease) {
  return c_.transact([&](pqxx::work& w) {
    std::int64_t n = 0;
    n += w.exec_params(
              "UPDATE jobs SET lease_until = now() + make_interval(secs => $1) "
              "WHERE worker = $2 AND state = 'running'",
              seconds(lease), worker)
             .affected_rows();
    n += w.exec_params(
              "UPDATE work_queue SET lease_until = now() + make_interval(secs => $1) "
              "WHERE claimed_by = $2",
              seconds(lease), worker)
             .affected_rows();
    return n;
  });
}

void PgWorkQueue::release_leases(const std::string& worker) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "UPDATE jobs SET state = 'queued', worker = '', lease_until = NULL, "
        "attempts = greatest(attempts - 1, 0) WHERE worker = $1 AND state = 'running'",
        worker);
    w.exec_params(
        "UPDATE work_queue SET claimed_by = '', claimed_at = '', lease_until = NULL "
        "WHERE claimed_by = $1",
        worker);
  });
}

}  // namespace tagsmith::store
