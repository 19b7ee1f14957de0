#pragma once
// AssetStore: the photos a library holds — one asset per distinct content,
// the paths it was found at, the files that failed to ingest, and what the
// models and hashes derived from each asset (embeddings, fingerprints).
//
// Each mutating call is one unit of work committed atomically. Implementations
// are safe to call from several threads.
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <utility>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

class AssetStore {
 public:
  virtual ~AssetStore() = default;

  // --- assets and their paths ---------------------------------------------
  virtual std::optional<AssetRecord> find_asset(AssetId id) = 0;
  virtual std::optional<AssetRecord> find_asset_by_sha256(const std::string& sha256) = 0;
  virtual std::optional<AssetRecord> find_asset_by_path(const std::string& path) = 0;
  virtual std::optional<PathRecord> find_path(const std::string& path) = 0;
  // Inserts the asset, its thumbnail, colours, first path and (when given)
  // its embedding, queues its tagging (WorkStep::kTag, work_queue.h) and
  // clears any ingest error recorded for that path, in one transaction. Returns the new id. Throws
  // when the content is already stored.
  virtual AssetId add_asset(const AssetRecord& asset, const PathRecord& path,
                            const std::string& model_version = {},
                            std::span<const float> embedding = {}) = 0;
  // Records another path for existing content (exact duplicate) and clears
  // any ingest error recorded for it.
  virtual void add_path(const PathRecord& path) = 0;
  // The first path, then aliases, each group by path.
  virtual std::vector<PathRecord> paths_of(AssetId id) = 0;
  virtual std::vector<AssetId> asset_ids() = 0;  // ascending
  // Perceptual hash and main colour of every asset, for near-duplicate grouping.
  virtual std::vector<AssetFingerprint> fingerprints() = 0;
  virtual void for_each_asset(const std::function<void(const AssetRecord&)>& fn) = 0;
  // The assets among `ids` (any order, duplicates and unknown ids ignored),
  // with their colours, by ascending id. For jobs over the whole catalogue (a
  // re-tag reads batches of thousands): a dense run of ids is read in one
  // range scan, not one query per asset.
  virtual std::vector<AssetRecord> find_assets(std::span<const AssetId> ids) = 0;

  // --- ingest errors --------------------------------------------------------
  // One per path: recording again replaces the reason.
  virtual void record_ingest_error(const IngestError& error) = 0;
  virtual std::vector<IngestError> ingest_errors() = 0;  // by path

  // --- embeddings (one per asset and model version) -------------------------
  // Every write of an embedding row (add_asset with an embedding,
  // put_embedding, also when it replaces a vector) gives that row a new
  // sequence number, store-wide (across model versions), greater than every
  // number given out before. The change sequence is what lets a process keep
  // a copy of the vectors (a server's FAISS index) in step without rescanning.
  //
  // Stores (or replaces) the vector and queues the asset's re-tagging
  // (WorkStep::kTag), in one transaction.
  virtual void put_embedding(AssetId id, const std::string& model_version,
                             std::span<const float> vector) = 0;
  virtual std::optional<std::vector<float>> embedding(AssetId id,
                                                      const std::string& model_version) = 0;
  // The `model_version` embeddings of those among `ids` that have one (any
  // order, duplicates ignored), by ascending asset id; read like find_assets().
  virtual std::vector<std::pair<AssetId, std::vector<float>>> embeddings(
      std::span<const AssetId> ids, const std::string& model_version) = 0;
  // By ascending asset id.
  virtual void for_each_embedding(
      const std::string& model_version,
      const std::function<void(AssetId, std::span<const float>)>& fn) = 0;
  // The embedding rows of `model_version` whose sequence number is greater
  // than `after_seq`, by ascending sequence number, at most `limit` of them
  // (limit 0: none). Each row appears once, with its current vector and the
  // number of its latest write (a replaced vector is reported again under
  // its new number; its old number is never reported again). Numbers have
  // gaps (other model versions, replaced rows).
  //
  // Numbers become visible in ascending order: once any reader has seen a
  // row with number S, no write that commits later has a number <= S. So a
  // follower can keep the last number it saw as its watermark and page on
  // with after_seq = that number, and never miss a write. (SQLite has one
  // writer at a time; a store with concurrent writers must hand out the
  // number in commit order, e.g. from a counter row updated in the writing
  // transaction, not from a plain sequence.)
  virtual std::vector<EmbeddingChange> embeddings_changed_since(const std::string& model_version,
                                                                std::int64_t after_seq,
                                                                std::size_t limit) = 0;
};

}  // namespace tagsmith::store
