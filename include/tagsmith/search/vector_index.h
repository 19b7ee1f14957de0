#pragma once
// Vector indexes over asset embeddings (FAISS), with asset ids and filters.
//
// VectorIndex is the interface; make_vector_index() picks an implementation:
//   kFlat  exact inner-product search (faiss::IndexFlatIP): small libraries,
//          and the reference every approximate index is measured against;
//   kHnsw  graph search (faiss::IndexHNSWFlat, inner product): fast at 1M, no
//          training, incremental adds;
//   kIvf   inverted lists (faiss::IndexIVFFlat): much faster to build than
//          HNSW on few cores, needs a training sample;
//   kIvfSq8  inverted lists of 8-bit scalar-quantised codes
//          (faiss::IndexIVFScalarQuantizer, QT_8bit): a quarter of the
//          memory of kIvf; scores within ~0.002 of exact, which near-ties
//          feel (recall@10 0.95-0.97 at 1M);
//   kIvfFp16 the same lists with half-precision codes (QT_fp16): half the
//          memory of kIvf, recall@10 ~1.0 -- the default above the
//          approximate threshold (docs/search.md has the measurements).
// FAISS trains, assigns, stores and persists; the scans that answer a query
// (IVF lists, exact search) run on this project's SIMD kernels, because
// Debian's FAISS is built for baseline x86-64.
// Vectors are scaled to unit length on add() and on every query, so inner
// product is cosine similarity whatever the scale of an encoder's features
// (CLIP's are unit already; a classifier's pooled features are not).
//
// Filtered search never silently drops matches: when the allowed set is small
// (<= exact_max_selected, or <= exact_fraction of the index) it is searched
// exactly; otherwise the approximate index searches with the filter applied
// inside FAISS (IDSelector) and a search breadth scaled to the selectivity,
// and if fewer than min(k, |allowed ∩ index|) hits survive, exact search over
// the allowed set answers instead.
//
// Thread safety: search() is const and may run on several threads; add()
// needs exclusive access.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::search {

using store::AssetId;

struct Neighbor {
  AssetId id = 0;
  float score = 0;  // inner product (cosine similarity for unit vectors)
};

// The set of assets a search is restricted to.
class Selection {
 public:
  explicit Selection(std::vector<AssetId> ids);  // sorts and de-duplicates
  bool contains(AssetId id) const {
    if (bits_.empty()) return contains_slow(id);
    const auto off = static_cast<std::uint64_t>(id - base_);
    return id >= base_ && off < span_ && ((bits_[off >> 6] >> (off & 63)) & 1);
  }
  std::size_t size() const { return ids_.size(); }
  const std::vector<AssetId>& ids() const { return ids_; }

 private:
  bool contains_slow(AssetId id) const;
  std::vector<AssetId> ids_;
  // Bitmap over [base_, base_ + span_) when the ids are dense enough.
  AssetId base_ = 0;
  std::uint64_t span_ = 0;
  std::vector<std::uint64_t> bits_;
};

enum class IndexKind { kFlat, kHnsw, kIvf, kIvfSq8, kIvfFp16 };
std::string to_string(IndexKind k);
// "flat", "hnsw", "ivf", "ivf-sq8", "ivf-fp16"; throws InputError on anything else.
IndexKind index_kind_from_string(const std::string& s);

struct IndexOptions {
  // Libraries with fewer vectors use exact search; at or above, `approximate`.
  std::size_t approximate_threshold = 50'000;
  IndexKind approximate = IndexKind::kIvfFp16;
  // HNSW: M links per node; efConstruction trades build time for recall.
  int hnsw_m = 32;
  int hnsw_ef_construction = 64;
  int hnsw_ef_search = 96;
  // IVF (both kinds): lists (0: 4·sqrt(training sample)) and lists probed per query.
  int ivf_lists = 0;
  int ivf_probe = 48;
  // Filtered search goes exact at or below max(exact_max_selected, exact_fraction·size).
  std::size_t exact_max_selected = 20'000;
  double exact_fraction = 0.02;
};

class VectorIndex {
 public:
  virtual ~VectorIndex() = default;
  virtual IndexKind kind() const = 0;
  virtual int dim() const = 0;
  virtual std::size_t size() const = 0;
  virtual bool contains(AssetId id) const = 0;
  virtual std::vector<AssetId> ids() const = 0;  // in insertion order
  // Adds n = ids.size() vectors (row-major, n·dim floats). Ids already in the
  // index are skipped. Throws InputError on a dimension mismatch.
  virtual void add(std::span<const AssetId> ids, std::span<const float> vectors) = 0;
  // Replaces the vectors of ids the index holds (row-major, n·dim floats);
  // ids it does not hold are skipped. Returns how many were replaced.
  // kFlat and the IVF kinds replace exactly (IVF moves the vector to the list of its
  // new nearest centroid). kHnsw cannot take a node out of its graph (FAISS
  // has no removal for HNSW), so the stored vector is overwritten in place:
  // scores are exact, but the node keeps the links chosen for its old vector
  // and approximate search may reach it less reliably until a rebuild.
  // Throws InputError on a dimension mismatch.
  virtual std::size_t replace(std::span<const AssetId> ids, std::span<const float> vectors) = 0;
  // The k best matches, best first, restricted to `allowed` when given.
  virtual std::vector<Neighbor> search(std::span<const float> query, std::size_t k,
                                       const Selection* allowed = nullptr) const = 0;
  // The exact answer (brute force), the reference and the fallback.
  virtual std::vector<Neighbor> search_exact(std::span<const float> query, std::size_t k,
                                             const Selection* allowed = nullptr) const = 0;
  virtual std::optional<std::vector<float>> vector(AssetId id) const = 0;
  // Writes FILE (FAISS index) and FILE.ids atomically (temp + rename each).
  virtual void save(const std::filesystem::path& file) const = 0;
  virtual std::size_t memory_bytes() const = 0;
};

// An empty index. `training` (row-major, dim floats each) is used by kIvf to
// learn its lists; other kinds ignore it. IVF kinds without training throw.
std::unique_ptr<VectorIndex> make_vector_index(IndexKind kind, int dim, const IndexOptions& options,
                                               std::span<const float> training = {});
// The kind `options` chooses for n vectors.
IndexKind kind_for_size(std::size_t n, const IndexOptions& options);
// Builds the right kind for `vectors` and adds them (trains IVF on a sample).
std::unique_ptr<VectorIndex> build_vector_index(int dim, std::span<const AssetId> ids,
                                                std::span<const float> vectors,
                                                const IndexOptions& options);
// Reads what save() wrote. Throws Error when the files are missing, unreadable
// or disagree with each other.
std::unique_ptr<VectorIndex> load_vector_index(const std::filesystem::path& file,
                                               const IndexOptions& options);

}  // namespace tagsmith::search
