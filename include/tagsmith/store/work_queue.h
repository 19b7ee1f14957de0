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
// from several threads; the PostgreSQL store's workers will claim entries
// from the same table.
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
};

}  // namespace tagsmith::store
