#include "tagsmith/training/dataset.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tagsmith/common/error.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::training {
namespace {

// splitmix64: a fixed, well-mixed hash so the split order is reproducible
// across platforms and standard libraries (std::hash is not).
std::uint64_t mix(std::uint64_t x) {
  x += 0x9E3779B97F4A7C15ull;
  x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
  x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
  return x ^ (x >> 31);
}

std::string split_key(const std::string& attribute) {
  return "training.split." + attribute;
}

// One label from several: the deepest node when they all lie on one chain
// (with a taxonomy), the single distinct node otherwise; empty = ambiguous.
std::string collapse(std::vector<std::string> nodes, const taxonomy::Attribute* attr) {
  std::sort(nodes.begin(), nodes.end());
  nodes.erase(std::unique(nodes.begin(), nodes.end()), nodes.end());
  if (nodes.size() == 1) return nodes.front();
  if (!attr) return {};
  for (const auto& candidate : nodes) {
    const bool deepest = std::all_of(nodes.begin(), nodes.end(), [&](const std::string& other) {
      return attr->within(candidate, other);
    });
    if (deepest) return candidate;
  }
  return {};
}

}  // namespace

std::size_t AttributeData::holdout_rows() const {
  return static_cast<std::size_t>(std::count(holdout.begin(), holdout.end(), true));
}

const AttributeData* TrainingSet::attribute(const std::string& id) const {
  for (const auto& a : attributes) {
    if (a.attribute == id) return &a;
  }
  return nullptr;
}

SplitState assign_split(const SplitState& existing, const std::vector<store::AssetId>& assets,
                        const std::vector<int>& labels, double holdout_fraction, std::uint64_t seed,
                        int min_class_size_for_holdout) {
  SplitState out = existing;
  struct ClassState {
    std::size_t holdout = 0, train = 0;
    std::vector<store::AssetId> fresh;
  };
  std::map<int, ClassState> classes;
  for (std::size_t i = 0; i < assets.size(); ++i) {
    auto& cs = classes[labels.at(i)];
    if (existing.holdout.count(assets[i])) {
      cs.holdout++;
    } else if (existing.train.count(assets[i])) {
      cs.train++;
    } else {
      cs.fresh.push_back(assets[i]);
    }
  }
  for (auto& [label, cs] : classes) {
    std::sort(cs.fresh.begin(), cs.fresh.end(), [seed](store::AssetId a, store::AssetId b) {
      const auto ha = mix(seed ^ mix(static_cast<std::uint64_t>(a)));
      const auto hb = mix(seed ^ mix(static_cast<std::uint64_t>(b)));
      return ha != hb ? ha < hb : a < b;
    });
    const std::size_t total = cs.holdout + cs.train + cs.fresh.size();
    std::size_t target = 0;
    if (static_cast<int>(total) >= min_class_size_for_holdout) {
      target = static_cast<std::size_t>(std::floor(holdout_fraction * total + 0.5));
      target = std::min(target, total - 1);  // keep at least one to train on
    }
    const std::size_t take =
        std::min(cs.fresh.size(), target > cs.holdout ? target - cs.holdout : std::size_t{0});
    for (std::size_t i = 0; i < cs.fresh.size(); ++i) {
      (i < take ? out.holdout : out.train).insert(cs.fresh[i]);
    }
  }
  return out;
}

SplitState load_split(store::Store& store, const std::string& attribute) {
  SplitState s;
  const auto text = store.setting(split_key(attribute));
  if (!text) return s;
  try {
    const auto j = nlohmann::json::parse(*text);
    for (auto id : j.at("train")) s.train.insert(id.get<store::AssetId>());
    for (auto id : j.at("holdout")) s.holdout.insert(id.get<store::AssetId>());
  } catch (const nlohmann::json::exception& e) {
    throw Error("setting " + split_key(attribute) + " is corrupt: " + e.what());
  }
  return s;
}

void save_split(store::Store& store, const std::string& attribute, const SplitState& split,
                const DatasetOptions& options) {
  const nlohmann::json j = {{"seed", options.seed},
                            {"holdout_fraction", options.holdout_fraction},
                            {"train", split.train},
                            {"holdout", split.holdout}};
  store.set_setting(split_key(attribute), j.dump());
}

TrainingSet load_training_set(store::Store& store, const std::string& encoder_version,
                              const DatasetOptions& options, const taxonomy::Taxonomy* taxonomy) {
  // attribute -> asset -> nodes
  std::map<std::string, std::map<store::AssetId, std::vector<std::string>>> human, automatic;
  std::map<std::string, std::size_t> rejected;
  auto wanted = [&](const std::string& attribute) {
    if (!options.attributes.empty() &&
        std::find(options.attributes.begin(), options.attributes.end(), attribute) ==
            options.attributes.end()) {
      return false;
    }
    if (taxonomy) {
      const auto* a = taxonomy->attribute(attribute);
      return a && !a->multi();
    }
    return true;
  };
  store.for_each_tag([&](const store::Tag& t) {
    if (!wanted(t.attribute)) return;
    switch (t.state) {
      case store::TagState::kConfirmed:
      case store::TagState::kHumanSet:
        human[t.attribute][t.asset_id].push_back(t.node);
        break;
      case store::TagState::kRejected:
        rejected[t.attribute]++;
        break;
      case store::TagState::kAuto:
        if (options.include_auto && t.confidence >= options.min_auto_confidence) {
          automatic[t.attribute][t.asset_id].push_back(t.node);
        }
        break;
      default:
        break;
    }
  });

  TrainingSet set;
  set.encoder_version = encoder_version;
  std::set<std::string> names;
  for (const auto& [a, _] : human) names.insert(a);
  for (const auto& [a, _] : automatic) names.insert(a);

  // Labels first, so only labelled assets' embeddings are kept in memory.
  struct Label {
    std::string node;
    bool human;
  };
  std::map<std::string, std::map<store::AssetId, Label>> labels;
  std::map<std::string, std::size_t> ambiguous;
  std::unordered_map<store::AssetId, std::vector<float>> embeddings;
  for (const auto& name : names) {
    const taxonomy::Attribute* attr = taxonomy ? taxonomy->attribute(name) : nullptr;
    auto add = [&](const auto& source, bool is_human) {
      auto it = source.find(name);
      if (it == source.end()) return;
      for (const auto& [asset, nodes] : it->second) {
        if (labels[name].count(asset)) continue;  // a human label wins over auto
        auto node = collapse(nodes, attr);
        if (node.empty() || (attr && !attr->node(node))) {
          ambiguous[name]++;
          continue;
        }
        labels[name][asset] = {node, is_human};
        embeddings.emplace(asset, std::vector<float>{});
      }
    };
    add(human, true);
    add(automatic, false);
  }
  store.for_each_embedding(encoder_version, [&](store::AssetId id, std::span<const float> v) {
    auto it = embeddings.find(id);
    if (it == embeddings.end()) return;
    it->second.assign(v.begin(), v.end());
    if (set.dim == 0) set.dim = static_cast<int>(v.size());
  });

  for (const auto& name : names) {
    AttributeData data;
    data.attribute = name;
    data.rejected = rejected[name];
    data.ambiguous = ambiguous[name];
    const taxonomy::Attribute* attr = taxonomy ? taxonomy->attribute(name) : nullptr;
    std::set<std::string> used;
    std::vector<std::pair<store::AssetId, Label>> rows;
    for (const auto& [asset, label] : labels[name]) {
      const auto& e = embeddings[asset];
      if (e.empty() || static_cast<int>(e.size()) != set.dim) {
        data.missing_embedding++;
        continue;
      }
      used.insert(label.node);
      rows.emplace_back(asset, label);
    }
    if (attr) {
      for (const auto& node : attr->nodes) {
        if (used.count(node.id)) data.classes.push_back(node.id);
      }
    } else {
      data.classes.assign(used.begin(), used.end());
    }
    for (const auto& [asset, label] : rows) {
      data.assets.push_back(asset);
      data.labels.push_back(static_cast<int>(
          std::find(data.classes.begin(), data.classes.end(), label.node) - data.classes.begin()));
      data.human.push_back(label.human);
      const auto& e = embeddings[asset];
      data.embeddings.insert(data.embeddings.end(), e.begin(), e.end());
    }
    const auto before = load_split(store, name);
    const auto split = assign_split(before, data.assets, data.labels, options.holdout_fraction,
                                    options.seed, options.min_class_size_for_holdout);
    if (split.train != before.train || split.holdout != before.holdout) {
      save_split(store, name, split, options);
    }
    for (auto asset : data.assets) data.holdout.push_back(split.holdout.count(asset) > 0);
    set.attributes.push_back(std::move(data));
  }
  return set;
}

}  // namespace tagsmith::training
