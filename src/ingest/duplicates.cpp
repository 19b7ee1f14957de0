#include "tagsmith/ingest/duplicates.h"

#include <algorithm>
#include <map>
#include <numeric>

#include "tagsmith/image/colour.h"

namespace tagsmith::ingest {

std::vector<std::vector<store::AssetId>> near_duplicate_groups(
    const std::vector<store::AssetFingerprint>& assets, int max_distance, double max_colour_delta) {
  const std::size_t n = assets.size();
  std::vector<std::size_t> parent(n);
  std::iota(parent.begin(), parent.end(), 0);
  auto find = [&](std::size_t x) {
    while (parent[x] != x) x = parent[x] = parent[parent[x]];
    return x;
  };
  // All pairs: 64-bit XOR + popcount is ~1 ns, so 50k assets take about a
  // second. Libraries in the millions want multi-index hashing (see search/).
  for (std::size_t i = 0; i < n; ++i) {
    for (std::size_t j = i + 1; j < n; ++j) {
      const auto& a = assets[i];
      const auto& b = assets[j];
      if (__builtin_popcountll(a.phash ^ b.phash) > max_distance) continue;
      if (a.has_colour && b.has_colour &&
          image::ciede2000(a.main_colour, b.main_colour) > max_colour_delta)
        continue;
      { parent[find(i)] = find(j); }
    }
  }
  std::map<std::size_t, std::vector<store::AssetId>> groups;
  for (std::size_t i = 0; i < n; ++i) groups[find(i)].push_back(assets[i].id);
  std::vector<std::vector<store::AssetId>> out;
  for (auto& [root, ids] : groups) {
    if (ids.size() < 2) continue;
    std::sort(ids.begin(), ids.end());
    out.push_back(std::move(ids));
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace tagsmith::ingest
