#pragma once
// The training set: what people have said about assets, joined with the
// assets' embeddings, split into train and a held-out set that never moves.
//
// Labels per (asset, attribute), from the tags table:
//  - human labels: state confirmed or human_set (a correction is stored as
//    human_set on the new node). Rejected tags are negatives; single-label
//    heads cannot use them, they are only counted.
//  - optionally (off by default) auto tags with confidence >=
//    min_auto_confidence, for (asset, attribute) pairs without a human label.
//  Several labels for one (asset, attribute): with a taxonomy, nodes on one
//  ancestor chain collapse to the deepest one (the engine also applies
//  ancestors); anything else is ambiguous and skipped (and counted).
//  Multi-valued attributes of the taxonomy are skipped: heads are single-label.
//
// The split is stratified per class and persisted per attribute in the
// settings table (key "training.split.<attribute>", JSON {"train": [ids],
// "holdout": [ids], "seed", "holdout_fraction"}). An asset keeps its side for
// ever -- held out once, held out in every later version, and never trained
// on -- so candidate and current are compared on data neither has seen. New
// assets are assigned per class so that each class's held-out share moves
// toward holdout_fraction, in a seeded pseudo-random order (a hash of seed and
// asset id), so the result does not depend on iteration order.
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "tagsmith/store/store.h"

namespace tagsmith::taxonomy {
class Taxonomy;
}

namespace tagsmith::training {

struct DatasetOptions {
  bool include_auto = false;
  double min_auto_confidence = 0.95;
  double holdout_fraction = 0.2;
  std::uint64_t seed = 7;
  // Classes with fewer labelled assets put none in the held-out set (one
  // example is worth more for training than for a noisy measurement).
  int min_class_size_for_holdout = 2;
  std::vector<std::string> attributes;  // empty: every attribute with labels
};

struct AttributeData {
  std::string attribute;
  std::vector<std::string> classes;  // taxonomy order when known, else sorted
  std::vector<store::AssetId> assets;
  std::vector<int> labels;            // index into classes
  std::vector<bool> holdout;          // per row
  std::vector<bool> human;            // per row: false for auto tags
  std::vector<float> embeddings;      // rows x dim, as stored (not normalised)
  std::size_t rejected = 0;           // human-rejected tags seen (negatives, unused)
  std::size_t ambiguous = 0;          // assets with conflicting labels, skipped
  std::size_t missing_embedding = 0;  // labelled assets without an embedding

  std::size_t rows() const { return labels.size(); }
  std::size_t holdout_rows() const;
};

struct TrainingSet {
  std::string encoder_version;
  int dim = 0;
  std::vector<AttributeData> attributes;
  const AttributeData* attribute(const std::string& id) const;
};

// Persisted split of one attribute.
struct SplitState {
  std::set<store::AssetId> train, holdout;
};

// Assigns every asset in `assets` (labels: class per asset) that `existing`
// does not know yet; returns the updated state. Pure and deterministic.
SplitState assign_split(const SplitState& existing, const std::vector<store::AssetId>& assets,
                        const std::vector<int>& labels, double holdout_fraction, std::uint64_t seed,
                        int min_class_size_for_holdout = 2);

SplitState load_split(store::Store& store, const std::string& attribute);
void save_split(store::Store& store, const std::string& attribute, const SplitState& split,
                const DatasetOptions& options);

// Reads labels and embeddings (model `encoder_version`), assigns and persists
// the split, and returns the rows. `taxonomy` may be null.
TrainingSet load_training_set(store::Store& store, const std::string& encoder_version,
                              const DatasetOptions& options,
                              const taxonomy::Taxonomy* taxonomy = nullptr);

}  // namespace tagsmith::training
