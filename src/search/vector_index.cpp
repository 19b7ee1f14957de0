#include "tagsmith/search/vector_index.h"

#include <faiss/IndexFlat.h>
#include <faiss/IndexHNSW.h>
#include <faiss/IndexIVFFlat.h>
#include <faiss/impl/AuxIndexStructures.h>
#include <faiss/impl/FaissException.h>
#include <faiss/impl/IDSelector.h>
#include <faiss/index_io.h>
#include <faiss/utils/distances.h>

#include <algorithm>
#include <cmath>
#include <fstream>
#include <queue>
#include <random>

#include "tagsmith/common/error.h"

namespace tagsmith::search {

namespace fs = std::filesystem;
using idx_t = faiss::Index::idx_t;  // faiss 1.7.3 (Debian 12) has no faiss::idx_t yet

Selection::Selection(std::vector<AssetId> ids) : ids_(std::move(ids)) {
  std::sort(ids_.begin(), ids_.end());
  ids_.erase(std::unique(ids_.begin(), ids_.end()), ids_.end());
}

bool Selection::contains(AssetId id) const {
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
  }
  return "?";
}

IndexKind index_kind_from_string(const std::string& s) {
  if (s == "flat") return IndexKind::kFlat;
  if (s == "hnsw") return IndexKind::kHnsw;
  if (s == "ivf") return IndexKind::kIvf;
  throw InputError("unknown vector index kind '" + s + "' (flat, hnsw, ivf)");
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
    if (kind_ == IndexKind::kIvf) {
      auto* ivf = dynamic_cast<faiss::IndexIVF*>(index_.get());
      ivf->make_direct_map(true);  // vector(pos) for exact search over a selection
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
    if (kind_ == IndexKind::kIvf) {
      // The direct map is an array (positions stay dense), which
      // update_vectors supports: re-assign and re-encode, same position.
      auto& ivf = dynamic_cast<faiss::IndexIVF&>(*index_);
      ivf.update_vectors(static_cast<int>(positions.size()), positions.data(), rows.data());
    } else {
      // Flat storage, alone (kFlat) or under the HNSW graph: overwrite.
      faiss::Index* store = kind_ == IndexKind::kFlat
                                ? index_.get()
                                : dynamic_cast<faiss::IndexHNSW&>(*index_).storage;
      auto& flat = dynamic_cast<faiss::IndexFlat&>(*store);
      for (std::size_t i = 0; i < positions.size(); ++i)
        std::copy_n(rows.begin() + i * d, d, flat.get_xb() + positions[i] * d);
    }
    return positions.size();
  }

  std::vector<Neighbor> search(std::span<const float> query, std::size_t k,
                               const Selection* allowed) const override {
    check_query(query);
    const std::vector<float> unit = unit_rows(query, query.size());
    const std::span<const float> q(unit);
    if (k == 0 || ids_.empty()) return {};
    if (kind_ == IndexKind::kFlat) return search_exact(q, k, allowed);
    const std::size_t n = ids_.size();
    if (allowed) {
      const auto limit =
          std::max(options_.exact_max_selected,
                   static_cast<std::size_t>(options_.exact_fraction * static_cast<double>(n)));
      if (allowed->size() <= limit) return search_exact(q, k, allowed);
    }
    // Search breadth grows with how much the filter removes, so that enough
    // allowed candidates are met along the way.
    const double ratio =
        allowed ? std::clamp(static_cast<double>(n) / std::max<std::size_t>(allowed->size(), 1),
                             1.0, 16.0)
                : 1.0;
    SelectionFilter sel;
    sel.ids = &ids_;
    sel.allowed = allowed;
    std::vector<float> dist(k);
    std::vector<idx_t> labels(k, -1);
    if (kind_ == IndexKind::kHnsw) {
      faiss::SearchParametersHNSW p;
      p.efSearch = static_cast<int>(std::max<double>(options_.hnsw_ef_search, 2.0 * k) * ratio);
      p.sel = allowed ? &sel : nullptr;
      index_->search(1, q.data(), static_cast<idx_t>(k), dist.data(), labels.data(), &p);
    } else {
      faiss::SearchParametersIVF p;
      auto nlist = dynamic_cast<const faiss::IndexIVF&>(*index_).nlist;
      p.nprobe = std::min<std::size_t>(nlist, static_cast<std::size_t>(options_.ivf_probe * ratio));
      p.sel = allowed ? &sel : nullptr;
      index_->search(1, q.data(), static_cast<idx_t>(k), dist.data(), labels.data(), &p);
    }
    std::vector<Neighbor> out;
    for (std::size_t i = 0; i < k; ++i)
      if (labels[i] >= 0) out.push_back({ids_[labels[i]], dist[i]});
    if (allowed) {
      // Too few survivors although more allowed vectors exist: answer exactly.
      std::size_t reachable = std::min(k, allowed->size());
      if (out.size() < reachable && out.size() < allowed_in_index(*allowed, reachable))
        return search_exact(q, k, allowed);
    }
    return out;
  }

  std::vector<Neighbor> search_exact(std::span<const float> query, std::size_t k,
                                     const Selection* allowed) const override {
    check_query(query);
    const std::vector<float> unit = unit_rows(query, query.size());
    const std::span<const float> q(unit);
    if (k == 0 || ids_.empty()) return {};
    const std::size_t d = index_->d;
    // Min-heap of the best k so far.
    // Ties go to the lower id, so answers are reproducible.
    auto better = [](const Neighbor& a, const Neighbor& b) {
      return a.score > b.score || (a.score == b.score && a.id < b.id);
    };
    // With `better` as the ordering, the top of the heap is the worst kept.
    std::priority_queue<Neighbor, std::vector<Neighbor>, decltype(better)> heap(better);
    std::vector<float> buf(d);
    auto consider = [&](std::size_t pos) {
      float s = faiss::fvec_inner_product(q.data(), vector_at(pos, buf), d);
      Neighbor nb{ids_[pos], s};
      if (heap.size() < k) {
        heap.push(nb);
      } else if (better(nb, heap.top())) {
        heap.pop();
        heap.push(nb);
      }
    };
    if (allowed && allowed->size() < ids_.size()) {
      for (AssetId id : allowed->ids())
        if (auto p = position(id)) consider(*p);
    } else {
      for (std::size_t pos = 0; pos < ids_.size(); ++pos)
        if (!allowed || allowed->contains(ids_[pos])) consider(pos);
    }
    std::vector<Neighbor> out(heap.size());
    for (std::size_t i = out.size(); i-- > 0; heap.pop()) out[i] = heap.top();
    return out;
  }

  std::optional<std::vector<float>> vector(AssetId id) const override {
    auto p = position(id);
    if (!p) return std::nullopt;
    std::vector<float> buf(index_->d);
    const float* v = vector_at(*p, buf);
    return std::vector<float>(v, v + index_->d);
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
    std::size_t bytes = ids_.size() * sizeof(AssetId) + by_id_.size() * sizeof(by_id_[0]);
    const std::size_t vec = ids_.size() * index_->d * sizeof(float);
    bytes += vec;
    if (kind_ == IndexKind::kHnsw) {
      const auto& h = dynamic_cast<const faiss::IndexHNSW&>(*index_).hnsw;
      bytes += h.neighbors.size() * sizeof(h.neighbors[0]) +
               h.offsets.size() * sizeof(h.offsets[0]) + h.levels.size() * sizeof(h.levels[0]);
    } else if (kind_ == IndexKind::kIvf) {
      const auto& ivf = dynamic_cast<const faiss::IndexIVF&>(*index_);
      bytes += ids_.size() * sizeof(idx_t) * 2 +
               ivf.nlist * index_->d * sizeof(float);  // list ids + direct map
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
  }
  const faiss::Index& faiss_index() const { return *index_; }

 private:
  void check_query(std::span<const float> q) const {
    if (q.size() != static_cast<std::size_t>(index_->d))
      throw InputError("query vector has " + std::to_string(q.size()) + " dimensions, the index " +
                       std::to_string(index_->d));
  }

  std::optional<std::size_t> position(AssetId id) const {
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

  const float* vector_at(std::size_t pos, std::vector<float>& buf) const {
    if (const auto* flat = dynamic_cast<const faiss::IndexFlat*>(storage_()))
      return flat->get_xb() + pos * index_->d;
    index_->reconstruct(static_cast<idx_t>(pos), buf.data());
    return buf.data();
  }

  const faiss::Index* storage_() const {
    if (kind_ == IndexKind::kFlat) return index_.get();
    if (kind_ == IndexKind::kHnsw) return dynamic_cast<const faiss::IndexHNSW&>(*index_).storage;
    return nullptr;
  }

  IndexKind kind_;
  std::unique_ptr<faiss::Index> index_;
  IndexOptions options_;
  std::vector<AssetId> ids_;                              // position -> asset
  std::vector<std::pair<AssetId, std::uint32_t>> by_id_;  // asset -> position, sorted
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
    case IndexKind::kIvf: {
      const std::size_t n = training.size() / dim;
      if (n == 0) throw Error("an IVF index needs training vectors");
      int lists =
          o.ivf_lists > 0 ? o.ivf_lists : static_cast<int>(4 * std::sqrt(static_cast<double>(n)));
      lists = std::clamp(
          lists, 1,
          static_cast<int>(std::max<std::size_t>(n / 39, 1)));  // faiss wants >= 39 points per list
      auto quantizer = std::make_unique<faiss::IndexFlatIP>(dim);
      auto ivf = std::make_unique<faiss::IndexIVFFlat>(quantizer.get(), dim, lists,
                                                       faiss::METRIC_INNER_PRODUCT);
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
  if (kind == IndexKind::kIvf) {
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
