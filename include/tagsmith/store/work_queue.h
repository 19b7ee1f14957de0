#pragma once
// WorkQueue: the durable to-do list of the library's multi-step jobs.
//
// A job that does more than one unit of work per asset (ingest, then tag;
// train, promote, then re-tag; re-embed, then re-tag) records what is left
// for each asset *before or with* the unit of work that makes it necessary,
// and each later step removes the entry in the same transaction that stores
// its result. A job killed at any moment therefore leaves behind exactly its
// unfinished work, and whichever command runs next (`ingest`, `tag
// --pending`, `retag`, `train`) finishes it: the end state equals that of an
// uninterrupted run.
//
// Who queues what:
//   AssetStore::add_asset       queues kTag for the new asset (same transaction)
//   AssetStore::put_embedding   queues kTag: the asset's model evidence changed
//   queue_work_for_all          a re-tag of the whole catalogue, before it starts
// and TagStore::apply_tag_changes settles kTag for the assets it decided.
//
// Entries are per (asset, step): queueing again is a no-op, so a job may be
// queued twice without doing the work twice. Implementations are safe to call
// from several threads.
//
// Distributed work (`tagsmith ingest --enqueue`, `tagsmith worker`, docs/jobs.md):
// besides the per-asset steps, the queue holds jobs -- files to ingest --
// recorded by one command and done by worker processes on any machine.
// A worker *claims* jobs and step entries under a lease that it renews while
// alive (its heartbeat); when a worker is killed or its machine vanishes, the
// lease runs out and another worker claims the same work. Every effect is
// idempotent (assets by content hash, paths and tags by unique keys), so work
// done twice is written once. Lease times are the database's clock, which
// every worker shares.
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

enum class WorkStep {
  kTag,  // decide the asset's machine tags under the current taxonomy and models
};
std::string to_string(WorkStep step);

enum class JobKind {
  kIngest,  // target: the absolute path of a file to ingest
};
enum class JobState { kQueued, kRunning, kDone, kFailed };
std::string to_string(JobKind kind);
std::string to_string(JobState state);
JobKind job_kind_from_string(const std::string& s);    // throws InputError
JobState job_state_from_string(const std::string& s);  // throws InputError

struct Job {
  std::int64_t id = 0;
  JobKind kind = JobKind::kIngest;
  std::string target;
  JobState state = JobState::kQueued;
  int attempts = 0;    // claims so far
  std::string worker;  // who holds it (running) or last held it
  std::string error;   // why it failed
  std::string created_at, updated_at;
};

struct JobCounts {
  std::int64_t queued = 0, running = 0, done = 0, failed = 0;
};

class WorkQueue {
 public:
  virtual ~WorkQueue() = default;

  // Queues `step` for these assets (unknown ids are ignored) in one transaction.
  virtual void queue_work(std::span<const AssetId> ids, WorkStep step) = 0;
  // Queues `step` for every asset in one transaction; returns how many are
  // now pending.
  virtual std::int64_t queue_work_for_all(WorkStep step) = 0;
  // Up to `limit` assets with `step` pending and id > `after`, ascending.
  virtual std::vector<AssetId> pending_work(WorkStep step, AssetId after, std::size_t limit) = 0;
  virtual std::int64_t pending_count(WorkStep step) = 0;

  // --- claims (workers sharing one library) --------------------------------------
  // Claims up to `limit` entries of `step` that no live lease holds, for
  // `worker` until now + `lease`; ascending by asset. Settling an entry
  // (apply_tag_changes) ends its claim. pending_work() ignores claims: it is
  // for a single process finishing its own library's work.
  virtual std::vector<AssetId> claim_work(WorkStep step, const std::string& worker,
                                          std::chrono::seconds lease, std::size_t limit) = 0;
  // Entries of `step` held under a live lease.
  virtual std::int64_t claimed_count(WorkStep step) = 0;

  // --- jobs ------------------------------------------------------------------------
  // Queues one job per target, in one transaction; a target already queued or
  // running is not queued again. Returns how many were added.
  virtual std::int64_t enqueue_jobs(JobKind kind, std::span<const std::string> targets) = 0;
  // Claims up to `limit` jobs of `kind` for `worker` until now + `lease`:
  // queued ones, and running ones whose lease ran out (their worker died),
  // oldest first. Each claim counts an attempt. A job whose lease ran out
  // after its `max_attempts`-th claim fails instead ("worker lost N times"),
  // so one file that kills every worker that touches it stops at that.
  virtual std::vector<Job> claim_jobs(JobKind kind, const std::string& worker,
                                      std::chrono::seconds lease, std::size_t limit,
                                      int max_attempts = 3) = 0;
  // Marks a job that `worker` holds done, or failed with `error` when that is
  // not empty. Returns false, changing nothing, when `worker` no longer holds
  // it (its lease ran out and another worker took the job over).
  virtual bool finish_job(std::int64_t id, const std::string& worker,
                          const std::string& error = {}) = 0;
  virtual JobCounts job_counts(JobKind kind) = 0;
  // Jobs in `state`, oldest first.
  virtual std::vector<Job> jobs_in_state(JobState state, std::size_t limit) = 0;
  // Queues failed jobs again (all of them when `id` is 0); returns how many.
  virtual std::int64_t retry_failed_jobs(std::int64_t id = 0) = 0;

  // --- leases ------------------------------------------------------------------------
  // Extends every lease `worker` holds (jobs and step entries) to now +
  // `lease`: the worker's heartbeat. Returns how many it holds.
  virtual std::int64_t renew_leases(const std::string& worker, std::chrono::seconds lease) = 0;
  // Gives back, unfinished and without counting the attempt, everything
  // `worker` holds: a worker that stops cleanly.
  virtual void release_leases(const std::string& worker) = 0;
};

}  // namespace tagsmith::store
