#pragma once
// A library's vector index on disk, kept in step with its Store.
//
//   DIR/index/<model>.faiss      the FAISS index (one per model version)
//   DIR/index/<model>.faiss.ids  position -> asset id
//   DIR/index/<model>.json       model version, kind, dim, count and the sync
//                                 watermark (store embedding count, highest
//                                 asset id checked)
//
// open() loads the index for a model version, or builds it from the store's
// embeddings when there is none, when its files disagree, or when they were
// written for another model (index files of other model versions are removed:
// their vectors live on in the store). sync() adds the embeddings stored since
// the last sync; the usual case -- newly ingested assets -- costs one lookup
// per new asset, and only an unexplained change of the store's embedding
// count (a backfill of older assets) costs a full scan. A flat index that
// grows past the approximate threshold is rebuilt as HNSW/IVF.
#include <filesystem>
#include <memory>
#include <string>

#include "tagsmith/library/library.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/store/store.h"

namespace tagsmith::search {

struct SyncReport {
  bool loaded = false;   // read from disk
  bool rebuilt = false;  // built from the store (with `reason`)
  std::string reason;
  std::size_t added = 0;  // vectors added by this sync
};

class LibraryVectorIndex {
 public:
  static std::unique_ptr<LibraryVectorIndex> open(store::Store& db,
                                                  const std::filesystem::path& index_dir,
                                                  const std::string& model_version,
                                                  const IndexOptions& options = {});
  static std::unique_ptr<LibraryVectorIndex> open(library::Library& lib,
                                                  const std::string& model_version,
                                                  const IndexOptions& options = {});

  // Adds what the store gained since the last sync and saves when anything changed.
  SyncReport sync();
  const SyncReport& last_open() const { return opened_; }

  const std::string& model_version() const { return model_; }
  // Null when the store holds no embedding for this model yet.
  const VectorIndex* index() const { return index_.get(); }
  std::filesystem::path index_file() const;

 private:
  LibraryVectorIndex(store::Store& db, std::filesystem::path dir, std::string model,
                     IndexOptions o);
  void rebuild(const std::string& reason);
  void save();
  void add_batch(std::vector<AssetId>& ids, std::vector<float>& vecs);

  store::Store& db_;
  std::filesystem::path dir_;
  std::string model_;
  IndexOptions options_;
  std::unique_ptr<VectorIndex> index_;
  std::int64_t synced_embeddings_ = -1;  // store's embedding count at last sync
  AssetId checked_max_id_ = 0;           // every asset <= this was looked at
  SyncReport opened_;
};

// The file-name-safe form of a model version ("clip@3f2a" -> "clip@3f2a";
// "a/b c" -> "a_b_c-<hash>").
std::string model_file_stem(const std::string& model_version);

}  // namespace tagsmith::search
