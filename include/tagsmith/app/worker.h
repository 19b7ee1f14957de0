#pragma once
// A worker: one of any number of processes, on any number of machines, that
// share a library's work (docs/jobs.md, docs/deploy.md). In a loop it
//   1. claims a batch of ingest jobs (files queued by `tagsmith ingest
//      --enqueue`), ingests them and finishes each job (done, or failed with
//      the reason the file was rejected);
//   2. claims a batch of assets whose tagging is pending (new assets, or a
//      whole catalogue queued for re-tagging after a taxonomy or model
//      change) and tags them;
// and while it runs, a heartbeat renews the leases on what it holds. A
// worker killed at any moment loses nothing: its leases run out and another
// worker claims the same jobs and assets; ingest and tagging are idempotent
// (assets by content hash, paths and tags by unique keys), so nothing is
// written twice.
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <string>

#include "tagsmith/app/context.h"

namespace tagsmith::app {

struct WorkerOptions {
  std::string id;  // unique among live workers; empty: host:pid:random
  std::chrono::seconds lease{60};
  std::size_t ingest_batch = 16;
  std::size_t tag_batch = 256;
  int max_attempts = 3;          // claims of one job before it fails as a poison job
  int threads = 0;               // decode and tagging threads; 0 = all cores
  ingest::IngestOptions ingest;  // limits; embedder and person masker come from the context
  bool until_idle = false;       // return once nothing is left to claim
  std::chrono::milliseconds idle_poll{1000};
  const std::atomic<bool>* stop = nullptr;  // set (by a signal handler): finish the batch, return
  std::function<void(const std::string&)> log;  // one line per batch; may be empty
};

struct WorkerReport {
  std::string id;
  std::int64_t jobs_done = 0, jobs_failed = 0, jobs_lost = 0;  // lost: lease taken over
  std::int64_t ingested = 0, aliases = 0, skipped = 0;
  std::int64_t tagged_assets = 0, tag_changes = 0;
  double seconds = 0;
};

// A new worker id: host:pid:random.
std::string new_worker_id();

// Works until stopped, or (until_idle) until nothing is left to claim; gives
// back what it holds when it returns. Throws on a store failure (the leases
// then run out as if it had been killed).
WorkerReport run_worker(LibraryContext& context, const WorkerOptions& options);

}  // namespace tagsmith::app
