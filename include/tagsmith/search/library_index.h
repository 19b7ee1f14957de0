#pragma once
// A library's vector index on disk, kept in step with its Store by following
// the store's embedding change sequence (AssetStore::embeddings_changed_since).
//
//   DIR/index/<model>.faiss      the FAISS index (one per model version)
//   DIR/index/<model>.faiss.ids  position -> asset id
//   DIR/index/<model>.json       model version, kind, dim, count and the sync
//                                 watermark: the last change sequence number
//                                 applied
//   DIR/index/<model>.lock       taken while the three are written or read, so
//                                 processes sharing the directory never mix
//                                 two writers' files
//
// open() loads the index for a model version, or builds it from the store's
// embeddings when there is none, when its files disagree, when they were
// written for another model or before the change sequence existed, when
// they hold another kind than the options choose for their size (an index
// written when HNSW was the default), or when the store is behind the
// watermark (a restored backup). Index files of other
// model versions are removed: their vectors live on in the store.
//
// sync() applies the changes numbered after the watermark: new vectors are
// added, replaced ones replaced in place (VectorIndex::replace) -- no rebuild.
// Rebuilds happen only when a flat index grows past the approximate
// threshold (it becomes the approximate kind, IVF-fp16 by default), and for
// HNSW once a tenth of its nodes
// were replaced in place (FAISS cannot remove HNSW nodes, so a replaced node
// keeps links chosen for its old vector; see vector_index.h).
//
// Threads: sync() and save_if_changed() from one thread at a time. Other
// threads may search index() while sync() runs if they hold read_lock()
// while they use it: sync() reads the store without the lock and takes it
// exclusively only to apply what it read. A sync that rebuilds replaces the
// index object; the old one stays valid (unchanged) for holders of
// shared_index().
#include <cstdint>
#include <filesystem>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/store/store.h"

namespace tagsmith::search {

struct SyncReport {
  bool loaded = false;   // read from disk
  bool rebuilt = false;  // built anew (with `reason`)
  std::string reason;
  std::size_t added = 0;     // vectors added by this sync
  std::size_t replaced = 0;  // vectors replaced by this sync
};

// The default IndexOptions, with the approximate kind taken from
// $TAGSMITH_VECTOR_INDEX when it is set (flat, ivf, ivf-sq8, ivf-fp16, hnsw;
// "flat" keeps every library exact): how a deployment picks another kind
// than ivf-fp16. Throws InputError on another value.
IndexOptions index_options_from_environment();

class LibraryVectorIndex {
 public:
  static std::unique_ptr<LibraryVectorIndex> open(store::Store& db,
                                                  const std::filesystem::path& index_dir,
                                                  const std::string& model_version,
                                                  const IndexOptions& options = {});
  static std::unique_ptr<LibraryVectorIndex> open(
      library::Library& lib, const std::string& model_version,
      const IndexOptions& options = index_options_from_environment());

  enum class Persist {
    kIfChanged,  // save when the sync changed anything (the CLI)
    kLater,      // keep changes in memory until save_if_changed() (a server
                 // following a busy library: the files are only a warm start)
  };
  // Applies what the store changed since the last sync.
  SyncReport sync(Persist persist = Persist::kIfChanged);
  // Writes the index when it has changes the files do not have yet.
  void save_if_changed();
  const SyncReport& last_open() const { return opened_; }

  const std::string& model_version() const { return model_; }
  // Null when the store holds no embedding for this model yet.
  const VectorIndex* index() const { return index_.get(); }
  std::shared_ptr<const VectorIndex> shared_index() const { return index_; }
  // Hold while using index() on a thread other than the one that syncs.
  // Writer-preferring: a sync waiting to apply changes holds back new
  // readers, so a steady stream of searches cannot starve it.
  std::shared_lock<std::shared_mutex> read_lock() const;
  // The last change sequence number applied.
  std::int64_t watermark() const { return synced_seq_; }
  std::filesystem::path index_file() const;

 private:
  LibraryVectorIndex(store::Store& db, std::filesystem::path dir, std::string model,
                     IndexOptions o);
  void rebuild();
  void apply(std::vector<store::EmbeddingChange>& changes, SyncReport& report);
  void replace_index(std::shared_ptr<VectorIndex> index);
  void save();
  class WriteLock;

  store::Store& db_;
  std::filesystem::path dir_;
  std::string model_;
  IndexOptions options_;
  std::shared_ptr<VectorIndex> index_;
  mutable std::shared_mutex mu_;       // guards *index_ against searches while syncing
  mutable std::mutex turnstile_;       // held by a writer from before it waits for mu_
  std::int64_t synced_seq_ = 0;        // last change sequence number applied
  std::size_t replaced_in_place_ = 0;  // HNSW nodes whose links predate their vector
  bool unsaved_ = false;
  SyncReport opened_;
};

// The file-name-safe form of a model version ("clip@3f2a" -> "clip@3f2a";
// "a/b c" -> "a_b_c-<hash>").
std::string model_file_stem(const std::string& model_version);

}  // namespace tagsmith::search
