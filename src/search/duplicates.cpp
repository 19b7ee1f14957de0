#include "tagsmith/search/duplicates.h"

#include <faiss/utils/distances.h>

#include <algorithm>
#include <map>
#include <numeric>
#include <unordered_map>

namespace tagsmith::search {

namespace {

struct UnionFind {
  std::unordered_map<AssetId, AssetId> parent;
  AssetId find(AssetId x) {
    auto it = parent.try_emplace(x, x).first;
    if (it->second == x) return x;
    AssetId root = find(it->second);
    parent[x] = root;
    return root;
  }
  void unite(AssetId a, AssetId b) {
    a = find(a);
    b = find(b);
    if (a != b) parent[std::max(a, b)] = std::min(a, b);
  }
};

}  // namespace

std::vector<DuplicateGroup> near_duplicate_view(store::Store& db, const VectorIndex* vectors,
                                                const DuplicateOptions& o) {
  UnionFind uf;
  // Per edge: its similarity when both ends have embeddings; which evidence made it.
  std::map<std::pair<AssetId, AssetId>, std::pair<std::optional<float>, int>>
      edges;  // bit 1 phash, bit 2 embedding
  auto link = [&](AssetId a, AssetId b, std::optional<float> sim, int basis) {
    if (a > b) std::swap(a, b);
    auto& e = edges[{a, b}];
    if (sim) e.first = sim;
    e.second |= basis;
    uf.unite(a, b);
  };

  for (const auto& group :
       ingest::near_duplicate_groups(db.fingerprints(), o.max_hamming, o.max_colour_delta)) {
    std::vector<std::optional<std::vector<float>>> vecs;
    for (AssetId id : group) vecs.push_back(vectors ? vectors->vector(id) : std::nullopt);
    for (std::size_t i = 0; i < group.size(); ++i) {
      for (std::size_t j = i + 1; j < group.size(); ++j) {
        if (vecs[i] && vecs[j]) {
          float s = faiss::fvec_inner_product(vecs[i]->data(), vecs[j]->data(), vecs[i]->size());
          if (s >= o.confirm_similarity) link(group[i], group[j], s, 1 | 2);
        } else {
          link(group[i], group[j], std::nullopt, 1);
        }
      }
    }
  }

  if (vectors && vectors->size() <= o.neighbour_scan_max) {
    for (AssetId id : vectors->ids()) {
      auto v = vectors->vector(id);
      for (const auto& nb : vectors->search(*v, 6)) {
        if (nb.id != id && nb.score >= o.embedding_similarity) link(id, nb.id, nb.score, 2);
      }
    }
  }

  std::map<AssetId, DuplicateGroup> groups;
  std::map<AssetId, int> basis;
  for (const auto& [pair, edge] : edges) {
    AssetId root = uf.find(pair.first);
    auto& g = groups[root];
    g.ids.push_back(pair.first);
    g.ids.push_back(pair.second);
    if (edge.first && (!g.min_similarity || *edge.first < *g.min_similarity))
      g.min_similarity = edge.first;
    basis[root] |= edge.second;
  }
  std::vector<DuplicateGroup> out;
  for (auto& [root, g] : groups) {
    std::sort(g.ids.begin(), g.ids.end());
    g.ids.erase(std::unique(g.ids.begin(), g.ids.end()), g.ids.end());
    if (g.ids.size() < 2) continue;
    const int b = basis[root];
    g.basis = b == 3 ? "phash+embedding" : b == 2 ? "embedding" : "phash";
    out.push_back(std::move(g));
  }
  return out;
}

}  // namespace tagsmith::search
