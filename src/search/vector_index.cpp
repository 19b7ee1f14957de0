#include "tagsmith/search/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/IndexScalarQuantizer.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <numeric>
#include <random>

#include "tagsmith/common/error.h"
#include "vector_kernels.h"

namespace tagsmith::search {

namespace fs = std::filesystem;
using idx_t = faiss::Index::idx_t;  // faiss 1.7.3 (Debian 12) has no faiss::idx_t yet

Selection::Selection(std::vector<AssetId> ids) : ids_(std::move(ids)) {
  if (!std::is_sorted(ids_.begin(), ids_.end())) std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
  if (ids_.empty()) return;
  // Asset ids are dense in practice; a bitmap over their range makes
  // contains() one bit test for the filter FAISS calls per candidate. A
  // range much wider than the set (ids from far apart) keeps binary search.
  const auto range = static_cast<std::uint64_t>(ids_.back() - ids_.front()) + 1;
  if (range / 64 > ids_.size() + 1024) return;
  base_ = ids_.front();
  span_ = range;
  bits_.assign((range + 63) / 64, 0);
  for (AssetId id : ids_) {
    const auto off = static_cast<std::uint64_t>(id - base_);
    bits_[off >> 6] |= std::uint64_t{1} << (off & 63);
  }
}

bool Selection::contains_slow(AssetId id) const {
  return std::binary_search(ids_.begin(), ids_.end(), id);
}

std::string to_string(IndexKind k) {
  switch (k) {
    case IndexKind::kFlat:
      return "flat";
    case IndexKind::kHnsw:
      return "hnsw";
    case IndexKind::kIvf:
      return "ivf";
    case IndexKind::kIvfSq8:
      return "ivf-sq8";
    case IndexKind::kIvfFp16:
      return "ivf-fp16";
  }
  return "?";
}

IndexKind index_kind_from_string(const std::string& s) {
  if (s == "flat") return IndexKind::kFlat;
  if (s == "hnsw") return IndexKind::kHnsw;
  if (s == "ivf") return IndexKind::kIvf;
  if (s == "ivf-sq8") return IndexKind::kIvfSq8;
  if (s == "ivf-fp16") return IndexKind::kIvfFp16;
  throw InputError("unknown vector index kind '" + s + "' (flat, hnsw, ivf, ivf-sq8, ivf-fp16)");
}

IndexKind kind_for_size(std::size_t n, const IndexOptions& o) {
  return n < o.approximate_threshold ? IndexKind::kFlat : o.approximate;
}

namespace {

// Positions whose asset is in a Selection: lets FAISS skip the rest while
// it searches, instead of us discarding them afterwards.
struct SelectionFilter : faiss::IDSelector {
  const std::vector<AssetId>* ids;
  const Selection* allowed;
  bool is_member(idx_t pos) const override { return allowed->contains((*ids)[pos]); }
};

// One class for all kinds: they differ only in the faiss::Index they wrap and
// in the search parameters, so the id map, filtering policy, exact fallback
// and persistence are shared.
// Rows of `d` floats scaled to unit length (zero rows stay zero), so that
// inner product is cosine whatever scale an encoder's features have.
std::vector<float> unit_rows(std::span<const float> rows, std::size_t d) {
  std::vector<float> out(rows.begin(), rows.end());
  if (d == 0) return out;
  for (std::size_t r = 0; r + d <= out.size(); r += d) {
    double sum = 0;
    for (std::size_t i = 0; i < d; ++i) sum += double(out[r + i]) * out[r + i];
    if (sum <= 0) continue;
    const float inv = static_cast<float>(1.0 / std::sqrt(sum));
    for (std::size_t i = 0; i < d; ++i) out[r + i] *= inv;
  }
  return out;
}

class FaissIndex final : public VectorIndex {
 public:
  FaissIndex(IndexKind kind, std::unique_ptr<faiss::Index> index, const IndexOptions& o)
      : kind_(kind), index_(std::move(index)), options_(o) {
    if (kind_ == IndexKind::kIvf || kind_ == IndexKind::kIvfSq8 || kind_ == IndexKind::kIvfFp16) {
      ivf_ = dynamic_cast<faiss::IndexIVF*>(index_.get());
      ivf_->make_direct_map(true);  // position -> (list, offset), for exact search and replace
    }
    if (kind_ == IndexKind::kIvfSq8) {
      const auto& sq = dynamic_cast<const faiss::IndexIVFScalarQuantizer&>(*index_).sq;
      sq_trained_ = sq.trained.data();  // vmin[d] then vdiff[d] (QT_8bit, trained before add)
    }
  }

  IndexKind kind() const override { return kind_; }
  int dim() const override { return static_cast<int>(index_->d); }
  std::size_t size() const override { return ids_.size(); }
  std::vector<AssetId> ids() const override { return ids_; }

  bool contains(AssetId id) const override { return position(id).has_value(); }

  void add(std::span<const AssetId> ids, std::span<const float> raw) override {
    const std::size_t d = index_->d;
    if (raw.size() != ids.size() * d)
      throw InputError("vector index: " + std::to_string(raw.size()) + " floats for " +
                       std::to_string(ids.size()) + " vectors of " + std::to_string(d) +
                       " dimensions");
    const std::vector<float> unit = unit_rows(raw, d);
    const std::span<const float> vectors(unit);
    // Keep the first occurrence of each id the index does not hold yet.
    std::vector<std::pair<AssetId, std::size_t>> order(ids.size());
    for (std::size_t i = 0; i < ids.size(); ++i) order[i] = {ids[i], i};
    std::sort(order.begin(), order.end());
    std::vector<char> keep(ids.size(), 0);
    std::size_t kept = 0;
    for (std::size_t j = 0; j < order.size(); ++j) {
      if (j > 0 && order[j].first == order[j - 1].first) continue;
      if (contains(order[j].first)) continue;
      keep[order[j].second] = 1;
      ++kept;
    }
    std::vector<AssetId> fresh_ids;
    if (kept == ids.size()) {
      index_->add(static_cast<idx_t>(ids.size()), vectors.data());
    } else {
      std::vector<float> fresh;
      fresh.reserve(kept * d);
      fresh_ids.reserve(kept);
      for (std::size_t i = 0; i < ids.size(); ++i) {
        if (!keep[i]) continue;
        fresh_ids.push_back(ids[i]);
        fresh.insert(fresh.end(), vectors.begin() + i * d, vectors.begin() + (i + 1) * d);
      }
      if (!fresh_ids.empty()) index_->add(static_cast<idx_t>(fresh_ids.size()), fresh.data());
      ids = fresh_ids;
    }
    const auto base = ids_.size();
    ids_.insert(ids_.end(), ids.begin(), ids.end());
    for (std::size_t i = 0; i < ids.size(); ++i)
      by_id_.emplace_back(ids[i], static_cast<std::uint32_t>(base + i));
    std::sort(by_id_.begin(), by_id_.end());
    index_positions();
  }

  std::size_t replace(std::span<const AssetId> ids, std::span<const float> raw) override {
    const std::size_t d = index_->d;
    if (raw.size() != ids.size() * d)
      throw InputError("vector index: " + std::to_string(raw.size()) + " floats for " +
                       std::to_string(ids.size()) + " vectors of " + std::to_string(d) +
                       " dimensions");
    const std::vector<float> unit = unit_rows(raw, d);
    std::vector<idx_t> positions;
    std::vector<float> rows;
    for (std::size_t i = 0; i < ids.size(); ++i) {
      const auto pos = position(ids[i]);
      if (!pos) continue;
      positions.push_back(static_cast<idx_t>(*pos));
      rows.insert(rows.end(), unit.begin() + i * d, unit.begin() + (i + 1) * d);
    }
    if (positions.empty()) return 0;
    if (ivf_) {
      // The direct map is an array (positions stay dense), which
      // update_vectors supports: re-assign and re-encode, same position.
      ivf_->update_vectors(static_cast<int>(positions.size()), positions.data(), rows.data());
    } else {
      // Flat storage, alone (kFlat) or under the HNSW graph: overwrite.
      auto& flat = const_cast<faiss::IndexFlat&>(*flat_storage());
      for (std::size_t i = 0; i < positions.size(); ++i)
        std::copy_n(rows.begin() + i * d, d, flat.get_xb() + positions[i] * d);
    }
    return positions.size();
  }

  std::vector<Neighbor> search(std::span<const float> query, std::size_t k,
                               const Selection* allowed) const override {
    check_query(query);
    if (k == 0 || ids_.empty()) return {};
    if (kind_ == IndexKind::kFlat) return search_exact(query, k, allowed);
    const std::size_t n = ids_.size();
    if (allowed) {
      const auto limit =
          std::max(options_.exact_max_selected,
                   static_cast<std::size_t>(options_.exact_fraction * static_cast<double>(n)));
      if (allowed->size() <= limit) return search_exact(query, k, allowed);
    }
    const Query q = prepare(query);
    // Search breadth grows with how much the filter removes, so that enough
    // allowed candidates are met along the way.
    const double ratio =
        allowed ? std::clamp(static_cast<double>(n) / std::max<std::size_t>(allowed->size(), 1),
                             1.0, 16.0)
                : 1.0;
    std::vector<Neighbor> out;
    if (kind_ == IndexKind::kHnsw) {
      SelectionFilter sel;
      sel.ids = &ids_;
      sel.allowed = allowed;
      std::vector<float> dist(k);
      std::vector<idx_t> labels(k, -1);
      faiss::SearchParametersHNSW p;
      p.efSearch = static_cast<int>(std::max<double>(options_.hnsw_ef_search, 2.0 * k) * ratio);
      p.sel = allowed ? &sel : nullptr;
      index_->search(1, q.unit.data(), static_cast<idx_t>(k), dist.data(), labels.data(), &p);
      for (std::size_t i = 0; i < k; ++i)
        if (labels[i] >= 0) out.push_back({ids_[labels[i]], dist[i]});
    } else {
      const std::size_t nprobe = std::min<std::size_t>(
          ivf_->nlist, static_cast<std::size_t>(std::max(1.0, options_.ivf_probe * ratio)));
      out = search_lists(q, k, allowed, nprobe);
    }
    if (allowed) {
      // Too few survivors although more allowed vectors exist: answer exactly.
      std::size_t reachable = std::min(k, allowed->size());
      if (out.size() < reachable && out.size() < allowed_in_index(*allowed, reachable))
        return search_exact(query, k, allowed);
    }
    return out;
  }

  std::vector<Neighbor> search_exact(std::span<const float> query, std::size_t k,
                                     const Selection* allowed) const override {
    check_query(query);
    if (k == 0 || ids_.empty()) return {};
    const Query q = prepare(query);
    TopK top(k);
    if (allowed && allowed->size() < ids_.size() / 4) {
      // A small selection: look its members up one by one.
      for (AssetId id : allowed->ids())
        if (auto p = position(id)) top.consider({id, score_at(q, *p)});
    } else if (ivf_) {
      // Every vector, list by list (the codes of a list are contiguous).
      for (std::size_t l = 0; l < ivf_->nlist; ++l) scan_list(q, l, allowed, top);
    } else {
      const std::size_t d = index_->d;
      const float* xb = flat_storage()->get_xb();
      constexpr std::size_t kBlock = 256;
      float scores[kBlock];
      for (std::size_t b = 0; b < ids_.size(); b += kBlock) {
        const std::size_t m = std::min(kBlock, ids_.size() - b);
        kernels::dot_rows(q.unit.data(), xb + b * d, m, d, scores);
        for (std::size_t i = 0; i < m; ++i)
          if (!allowed || allowed->contains(ids_[b + i])) top.consider({ids_[b + i], scores[i]});
      }
    }
    return top.sorted();
  }

  std::optional<std::vector<float>> vector(AssetId id) const override {
    auto p = position(id);
    if (!p) return std::nullopt;
    std::vector<float> v(index_->d);
    if (const auto* flat = flat_storage())
      std::copy_n(flat->get_xb() + *p * index_->d, index_->d, v.begin());
    else
      index_->reconstruct(static_cast<idx_t>(*p), v.data());  // SQ8: decoded
    return v;
  }

  void save(const fs::path& file) const override {
    fs::create_directories(file.parent_path());
    const fs::path tmp = file.string() + ".tmp";
    faiss::write_index(index_.get(), tmp.c_str());
    const fs::path ids_file = file.string() + ".ids", ids_tmp = ids_file.string() + ".tmp";
    {
      std::ofstream out(ids_tmp, std::ios::binary | std::ios::trunc);
      const std::uint64_t n = ids_.size();
      out.write("TSIDS001", 8);
      out.write(reinterpret_cast<const char*>(&n), sizeof n);
      out.write(reinterpret_cast<const char*>(ids_.data()),
                static_cast<std::streamsize>(n * sizeof(AssetId)));
      if (!out) throw Error("cannot write " + ids_tmp.string());
    }
    fs::rename(tmp, file);
    fs::rename(ids_tmp, ids_file);
  }

  std::size_t memory_bytes() const override {
    std::size_t bytes = ids_.size() * sizeof(AssetId) + by_id_.size() * sizeof(by_id_[0]) +
                        position_of_.size() * sizeof(std::uint32_t);
    const std::size_t d = index_->d;
    if (kind_ == IndexKind::kHnsw) {
      const auto& h = dynamic_cast<const faiss::IndexHNSW&>(*index_).hnsw;
      bytes += ids_.size() * d * sizeof(float) + h.neighbors.size() * sizeof(h.neighbors[0]) +
               h.offsets.size() * sizeof(h.offsets[0]) + h.levels.size() * sizeof(h.levels[0]);
    } else if (ivf_) {
      // Codes, list ids and the direct map, plus the centroids.
      bytes +=
          ids_.size() * (ivf_->code_size + 2 * sizeof(idx_t)) + ivf_->nlist * d * sizeof(float);
    } else {
      bytes += ids_.size() * d * sizeof(float);
    }
    return bytes;
  }

  void set_ids(std::vector<AssetId> ids) {
    ids_ = std::move(ids);
    by_id_.clear();
    by_id_.reserve(ids_.size());
    for (std::size_t i = 0; i < ids_.size(); ++i)
      by_id_.emplace_back(ids_[i], static_cast<std::uint32_t>(i));
    std::sort(by_id_.begin(), by_id_.end());
    index_positions();
  }

 private:
  static constexpr std::uint32_t kNoPosition = ~std::uint32_t{0};

  // Asset ids are dense in practice: a table over their range answers
  // position() in one load instead of a binary search over by_id_, which
  // filtered searches do tens of thousands of times per query. Ids spread
  // far apart keep the binary search.
  void index_positions() {
    position_of_.clear();
    if (by_id_.empty()) return;
    const auto range = static_cast<std::uint64_t>(by_id_.back().first - by_id_.front().first) + 1;
    if (range > 4 * by_id_.size() + 1024) return;
    position_base_ = by_id_.front().first;
    position_of_.assign(range, kNoPosition);
    for (const auto& [id, pos] : by_id_)
      position_of_[static_cast<std::size_t>(id - position_base_)] = pos;
  }

  // The positions of `allowed` as a bitmap over positions, so that scanning
  // a list tests each vector with one bit read and no lookup of its asset.
  std::vector<std::uint64_t> position_bits(const Selection& allowed) const {
    std::vector<std::uint64_t> bits((ids_.size() + 63) / 64, 0);
    for (AssetId id : allowed.ids())
      if (auto p = position(id)) bits[*p >> 6] |= std::uint64_t{1} << (*p & 63);
    return bits;
  }

  // A query prepared once for every vector it meets: unit length, and for
  // SQ8 codes the weights that make an inner product with a code one pass:
  //   x_i = vmin_i + (c_i + 0.5)/255 · vdiff_i   (faiss QT_8bit)
  //   q·x = Σ q_i (vmin_i + 0.5 vdiff_i/255) + Σ (q_i vdiff_i/255) c_i = bias + Σ w_i c_i
  struct Query {
    std::vector<float> unit, w;
    float bias = 0;
  };
  Query prepare(std::span<const float> query) const {
    Query q;
    q.unit = unit_rows(query, query.size());
    if (sq_trained_) {
      const std::size_t d = index_->d;
      const float *vmin = sq_trained_, *vdiff = sq_trained_ + d;
      q.w.resize(d);
      double bias = 0;
      for (std::size_t i = 0; i < d; ++i) {
        q.w[i] = q.unit[i] * vdiff[i] / 255.0f;
        bias += double(q.unit[i]) * (vmin[i] + 0.5f * vdiff[i] / 255.0f);
      }
      q.bias = static_cast<float>(bias);
    }
    return q;
  }

  // The k best seen so far; ties go to the lower id, so answers are reproducible.
  class TopK {
   public:
    explicit TopK(std::size_t k) : k_(k) { heap_.reserve(k + 1); }
    // Cheap rejection first: most candidates are worse than the k-th.
    void consider(Neighbor nb) {
      if (heap_.size() == k_ && !better(nb, heap_.front())) return;
      heap_.push_back(nb);
      std::push_heap(heap_.begin(), heap_.end(), better);
      if (heap_.size() > k_) {
        std::pop_heap(heap_.begin(), heap_.end(), better);
        heap_.pop_back();
      }
    }
    std::vector<Neighbor> sorted() {
      std::sort(heap_.begin(), heap_.end(), better);
      return std::move(heap_);
    }

   private:
    static bool better(const Neighbor& a, const Neighbor& b) {
      return a.score > b.score || (a.score == b.score && a.id < b.id);
    }
    std::size_t k_;
    std::vector<Neighbor> heap_;  // with `better` as the order, front() is the worst kept
  };

  // Scores every vector of inverted list `l` (allowed ones only) into `top`.
  void scan_list(const Query& q, std::size_t l, const Selection* allowed, TopK& top,
                 const std::uint64_t* allowed_positions = nullptr) const {
    const auto* lists = ivf_->invlists;
    const std::size_t m = lists->list_size(l);
    if (m == 0) return;
    const std::size_t d = index_->d;
    faiss::InvertedLists::ScopedCodes codes(lists, l);
    faiss::InvertedLists::ScopedIds list_ids(lists, l);
    constexpr std::size_t kBlock = 256;
    float scores[kBlock];
    for (std::size_t b = 0; b < m; b += kBlock) {
      const std::size_t n = std::min(kBlock, m - b);
      const std::uint8_t* block = codes.get() + b * ivf_->code_size;
      if (allowed_positions) {
        // Filter first: a rejected vector costs one bit test, not a dot product.
        for (std::size_t i = 0; i < n; ++i) {
          const auto pos = static_cast<std::uint64_t>(list_ids[b + i]);
          if (!((allowed_positions[pos >> 6] >> (pos & 63)) & 1)) continue;
          top.consider({ids_[pos], score_code(q, block + i * ivf_->code_size)});
        }
        continue;
      }
      if (allowed) {
        for (std::size_t i = 0; i < n; ++i) {
          const AssetId id = ids_[list_ids[b + i]];
          if (!allowed->contains(id)) continue;
          top.consider({id, score_code(q, block + i * ivf_->code_size)});
        }
        continue;
      }
      if (sq_trained_)
        kernels::dot_rows_u8(q.w.data(), q.bias, block, n, d, scores);
      else if (kind_ == IndexKind::kIvfFp16)
        kernels::dot_rows_f16(q.unit.data(), reinterpret_cast<const std::uint16_t*>(block), n, d,
                              scores);
      else
        kernels::dot_rows(q.unit.data(), reinterpret_cast<const float*>(block), n, d, scores);
      for (std::size_t i = 0; i < n; ++i) top.consider({ids_[list_ids[b + i]], scores[i]});
    }
  }

  // IVF search: the nprobe lists whose centroids are nearest the query.
  std::vector<Neighbor> search_lists(const Query& q, std::size_t k, const Selection* allowed,
                                     std::size_t nprobe) const {
    const auto& centroids = dynamic_cast<const faiss::IndexFlat&>(*ivf_->quantizer);
    const std::size_t nlist = ivf_->nlist;
    std::vector<float> c(nlist);
    kernels::dot_rows(q.unit.data(), centroids.get_xb(), nlist, index_->d, c.data());
    std::vector<std::uint32_t> order(nlist);
    std::iota(order.begin(), order.end(), 0u);
    nprobe = std::min(nprobe, nlist);
    std::partial_sort(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(nprobe),
                      order.end(), [&](std::uint32_t a, std::uint32_t b) { return c[a] > c[b]; });
    TopK top(k);
    // A selection of a few percent, scanned over hundreds of lists: test
    // positions (read in list order) rather than look up each vector's
    // asset in a table of a million, a cache miss per vector.
    std::vector<std::uint64_t> positions;
    if (allowed && allowed->size() * 4 < ids_.size()) positions = position_bits(*allowed);
    for (std::size_t i = 0; i < nprobe; ++i)
      scan_list(q, order[i], allowed, top, positions.empty() ? nullptr : positions.data());
    return top.sorted();
  }

  float score_code(const Query& q, const std::uint8_t* code) const {
    if (sq_trained_) return q.bias + kernels::dot_u8(q.w.data(), code, index_->d);
    if (kind_ == IndexKind::kIvfFp16)
      return kernels::dot_f16(q.unit.data(), reinterpret_cast<const std::uint16_t*>(code),
                              index_->d);
    return kernels::dot(q.unit.data(), reinterpret_cast<const float*>(code), index_->d);
  }

  float score_at(const Query& q, std::size_t pos) const {
    if (const auto* flat = flat_storage())
      return kernels::dot(q.unit.data(), flat->get_xb() + pos * index_->d, index_->d);
    const auto lo = ivf_->direct_map.get(static_cast<idx_t>(pos));
    const auto list = faiss::lo_listno(lo), offset = faiss::lo_offset(lo);
    faiss::InvertedLists::ScopedCodes codes(ivf_->invlists, list);
    return score_code(q, codes.get() + offset * ivf_->code_size);
  }

  void check_query(std::span<const float> q) const {
    if (q.size() != static_cast<std::size_t>(index_->d))
      throw InputError("query vector has " + std::to_string(q.size()) + " dimensions, the index " +
                       std::to_string(index_->d));
  }

  std::optional<std::size_t> position(AssetId id) const {
    if (!position_of_.empty()) {
      if (id < position_base_ ||
          static_cast<std::uint64_t>(id - position_base_) >= position_of_.size())
        return std::nullopt;
      const auto p = position_of_[static_cast<std::size_t>(id - position_base_)];
      if (p == kNoPosition) return std::nullopt;
      return p;
    }
    auto it = std::lower_bound(by_id_.begin(), by_id_.end(), std::make_pair(id, std::uint32_t{0}));
    if (it == by_id_.end() || it->first != id) return std::nullopt;
    return it->second;
  }

  // How many of the first `cap` allowed ids the index holds (enough to know
  // whether a short answer is really short).
  std::size_t allowed_in_index(const Selection& allowed, std::size_t cap) const {
    std::size_t n = 0;
    for (AssetId id : allowed.ids()) {
      if (contains(id) && ++n >= cap) break;
    }
    return n;
  }

  // The float vectors, for kinds that keep them (flat, and HNSW's storage).
  const faiss::IndexFlat* flat_storage() const {
    if (kind_ == IndexKind::kFlat) return &dynamic_cast<const faiss::IndexFlat&>(*index_);
    if (kind_ == IndexKind::kHnsw)
      return &dynamic_cast<const faiss::IndexFlat&>(
          *dynamic_cast<const faiss::IndexHNSW&>(*index_).storage);
    return nullptr;
  }

  IndexKind kind_;
  std::unique_ptr<faiss::Index> index_;
  IndexOptions options_;
  faiss::IndexIVF* ivf_ = nullptr;                        // the IVF kinds
  const float* sq_trained_ = nullptr;                     // kIvfSq8: vmin[d], vdiff[d]
  std::vector<AssetId> ids_;                              // position -> asset
  std::vector<std::pair<AssetId, std::uint32_t>> by_id_;  // asset -> position, sorted
  std::vector<std::uint32_t> position_of_;  // asset - position_base_ -> position (dense ids)
  AssetId position_base_ = 0;
};

std::unique_ptr<faiss::Index> new_faiss_index(IndexKind kind, int dim, const IndexOptions& o,
                                              std::span<const float> training) {
  switch (kind) {
    case IndexKind::kFlat:
      return std::make_unique<faiss::IndexFlatIP>(dim);
    case IndexKind::kHnsw: {
      auto h = std::make_unique<faiss::IndexHNSWFlat>(dim, o.hnsw_m, faiss::METRIC_INNER_PRODUCT);
      h->hnsw.efConstruction = o.hnsw_ef_construction;
      h->hnsw.efSearch = o.hnsw_ef_search;
      return h;
    }
    case IndexKind::kIvf:
    case IndexKind::kIvfSq8:
    case IndexKind::kIvfFp16: {
      const std::size_t n = training.size() / dim;
      if (n == 0) throw Error("an IVF index needs training vectors");
      int lists =
          o.ivf_lists > 0 ? o.ivf_lists : static_cast<int>(4 * std::sqrt(static_cast<double>(n)));
      lists = std::clamp(
          lists, 1,
          static_cast<int>(std::max<std::size_t>(n / 39, 1)));  // faiss wants >= 39 points per list
      auto quantizer = std::make_unique<faiss::IndexFlatIP>(dim);
      std::unique_ptr<faiss::IndexIVF> ivf;
      if (kind == IndexKind::kIvf)
        ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim, lists,
                                                    faiss::METRIC_INNER_PRODUCT);
      else if (kind == IndexKind::kIvfFp16)
        ivf = std::make_unique<faiss::IndexIVFScalarQuantizer>(
            quantizer.get(), dim, lists, faiss::ScalarQuantizer::QT_fp16,
            faiss::METRIC_INNER_PRODUCT, /*encode_residual=*/false);
      else {
        // Codes of the vectors themselves, not residuals: one SQ for all lists.
        auto sq = std::make_unique<faiss::IndexIVFScalarQuantizer>(
            quantizer.get(), dim, lists, faiss::ScalarQuantizer::QT_8bit,
            faiss::METRIC_INNER_PRODUCT, /*encode_residual=*/false);
        // Each dimension's range is learnt from the sample; widened by a fifth
        // on each side so that vectors added later rarely fall outside it
        // (they would be clamped), at the price of a slightly coarser step.
        sq->sq.rangestat_arg = 0.2f;
        ivf = std::move(sq);
      }
      ivf->own_fields = true;
      quantizer.release();  // owned by ivf now (own_fields)
      ivf->cp.niter = 10;
      ivf->cp.spherical = true;  // unit vectors: centroids on the sphere
      ivf->train(static_cast<idx_t>(n), training.data());
      ivf->nprobe = o.ivf_probe;
      return ivf;
    }
  }
  throw Error("unknown index kind");
}

}  // namespace

std::unique_ptr<VectorIndex> make_vector_index(IndexKind kind, int dim, const IndexOptions& options,
                                               std::span<const float> training) {
  if (dim <= 0) throw InputError("vector index: dimension must be positive");
  return std::make_unique<FaissIndex>(kind, new_faiss_index(kind, dim, options, training), options);
}

std::unique_ptr<VectorIndex> build_vector_index(int dim, std::span<const AssetId> ids,
                                                std::span<const float> vectors,
                                                const IndexOptions& options) {
  const IndexKind kind = kind_for_size(ids.size(), options);
  std::vector<float> sample;
  if (kind == IndexKind::kIvf || kind == IndexKind::kIvfSq8 || kind == IndexKind::kIvfFp16) {
    // k-means on a sample is as good as on everything and far cheaper.
    const std::size_t n = ids.size(), want = std::min<std::size_t>(n, 100'000);
    std::vector<std::size_t> pick(n);
    for (std::size_t i = 0; i < n; ++i) pick[i] = i;
    std::mt19937_64 rng(42);
    std::shuffle(pick.begin(), pick.end(), rng);
    sample.reserve(want * dim);
    for (std::size_t i = 0; i < want; ++i)
      sample.insert(sample.end(), vectors.begin() + pick[i] * dim,
                    vectors.begin() + (pick[i] + 1) * dim);
  }
  auto index = make_vector_index(kind, dim, options, unit_rows(sample, dim));
  index->add(ids, vectors);
  return index;
}

std::unique_ptr<VectorIndex> load_vector_index(const fs::path& file, const IndexOptions& options) {
  std::unique_ptr<faiss::Index> raw;
  try {
    raw.reset(faiss::read_index(file.c_str()));
  } catch (const faiss::FaissException& e) {
    throw Error("cannot read vector index " + file.string() + ": " + e.what());
  }
  IndexKind kind;
  if (dynamic_cast<faiss::IndexHNSWFlat*>(raw.get()))
    kind = IndexKind::kHnsw;
  else if (dynamic_cast<faiss::IndexIVFFlat*>(raw.get()))
    kind = IndexKind::kIvf;
  else if (auto* sq = dynamic_cast<faiss::IndexIVFScalarQuantizer*>(raw.get());
           sq && !sq->by_residual && dynamic_cast<faiss::IndexFlat*>(sq->quantizer) &&
           (sq->sq.qtype == faiss::ScalarQuantizer::QT_8bit ||
            sq->sq.qtype == faiss::ScalarQuantizer::QT_fp16))
    kind =
        sq->sq.qtype == faiss::ScalarQuantizer::QT_8bit ? IndexKind::kIvfSq8 : IndexKind::kIvfFp16;
  else if (dynamic_cast<faiss::IndexFlatIP*>(raw.get()))
    kind = IndexKind::kFlat;
  else
    throw Error("vector index " + file.string() + " is of an unsupported type");

  const fs::path ids_file = file.string() + ".ids";
  std::ifstream in(ids_file, std::ios::binary);
  char magic[8];
  std::uint64_t n = 0;
  if (!in.read(magic, 8) || std::string_view(magic, 8) != "TSIDS001" ||
      !in.read(reinterpret_cast<char*>(&n), sizeof n))
    throw Error("vector index id map " + ids_file.string() + " is missing or damaged");
  if (n != static_cast<std::uint64_t>(raw->ntotal))
    throw Error("vector index " + file.string() + " holds " + std::to_string(raw->ntotal) +
                " vectors but its id map " + std::to_string(n));
  std::vector<AssetId> ids(n);
  if (!in.read(reinterpret_cast<char*>(ids.data()),
               static_cast<std::streamsize>(n * sizeof(AssetId))))
    throw Error("vector index id map " + ids_file.string() + " is truncated");
  auto index = std::make_unique<FaissIndex>(kind, std::move(raw), options);
  index->set_ids(std::move(ids));
  return index;
}

}  // namespace tagsmith::search
