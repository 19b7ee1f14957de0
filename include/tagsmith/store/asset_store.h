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

  // --- ingest errors --------------------------------------------------------
  // One per path: recording again replaces the reason.
  virtual void record_ingest_error(const IngestError& error) = 0;
  virtual std::vector<IngestError> ingest_errors() = 0;  // by path

  // --- embeddings (one per asset and model version) -------------------------
  // Stores (or replaces) the vector and queues the asset's re-tagging
  // (WorkStep::kTag), in one transaction.
  virtual void put_embedding(AssetId id, const std::string& model_version,
                             std::span<const float> vector) = 0;
  virtual std::optional<std::vector<float>> embedding(AssetId id,
                                                      const std::string& model_version) = 0;
  // By ascending asset id.
  virtual void for_each_embedding(
      const std::string& model_version,
      const std::function<void(AssetId, std::span<const float>)>& fn) = 0;
};

}  // namespace tagsmith::store
