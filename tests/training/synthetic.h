#pragma once
// Synthetic embeddings with a known class structure: one random unit centre
// per class, samples = normalise(centre + noise * N(0, I)).
#include <cstdint>
#include <string>
#include <vector>

#include "tagsmith/library/library.h"

namespace tagsmith::test {

struct Clusters {
  int dim = 0;
  std::vector<std::string> classes;
  std::vector<float> centres;     // classes x dim
  std::vector<float> embeddings;  // rows x dim
  std::vector<int> labels;
  std::size_t rows() const { return labels.size(); }
  std::vector<float> row(std::size_t i) const {
    return {embeddings.begin() + i * dim, embeddings.begin() + (i + 1) * dim};
  }
};

Clusters make_clusters(int classes, int dim, int per_class, double noise, std::uint64_t seed);
// More samples around the same centres.
Clusters more_samples(const Clusters& c, int per_class, double noise, std::uint64_t seed);
// A random unit vector (far from every centre in high dimension).
std::vector<float> random_unit(int dim, std::uint64_t seed);

// Adds one asset per row to the library with its embedding under `encoder`
// and a confirmed tag `attribute`=class; returns the asset ids.
std::vector<store::AssetId> add_labelled_assets(library::Library& lib, const Clusters& c,
                                                const std::string& attribute,
                                                const std::string& encoder,
                                                const std::string& sha_prefix);
// Replaces the human label of `asset` for `attribute`.
void relabel(store::Store& store, store::AssetId asset, const std::string& attribute,
             const std::string& old_node, const std::string& new_node);

}  // namespace tagsmith::test
