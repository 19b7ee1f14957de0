#include "synthetic.h"

#include <cmath>
#include <random>

#include "library_fixture.h"

namespace tagsmith::test {
namespace {

void normalise(float* v, int dim) {
  double n = 0;
  for (int i = 0; i < dim; ++i) n += v[i] * v[i];
  n = std::sqrt(n);
  for (int i = 0; i < dim; ++i) v[i] = static_cast<float>(v[i] / n);
}

}  // namespace

std::vector<float> random_unit(int dim, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  for (auto& x : v) x = g(rng);
  normalise(v.data(), dim);
  return v;
}

Clusters more_samples(const Clusters& base, int per_class, double noise, std::uint64_t seed) {
  Clusters c = base;
  c.embeddings.clear();
  c.labels.clear();
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  const int k = static_cast<int>(c.classes.size());
  // Interleaved so any prefix holds every class.
  for (int s = 0; s < per_class; ++s) {
    for (int cl = 0; cl < k; ++cl) {
      std::vector<float> v(c.dim);
      for (int j = 0; j < c.dim; ++j)
        v[j] = c.centres[cl * c.dim + j] + static_cast<float>(noise) * g(rng);
      normalise(v.data(), c.dim);
      c.embeddings.insert(c.embeddings.end(), v.begin(), v.end());
      c.labels.push_back(cl);
    }
  }
  return c;
}

Clusters make_clusters(int classes, int dim, int per_class, double noise, std::uint64_t seed) {
  Clusters c;
  c.dim = dim;
  for (int k = 0; k < classes; ++k) {
    c.classes.push_back("class_" + std::to_string(k));
    auto centre = random_unit(dim, seed * 1000 + k + 1);
    c.centres.insert(c.centres.end(), centre.begin(), centre.end());
  }
  return more_samples(c, per_class, noise, seed + 17);
}

std::vector<store::AssetId> add_labelled_assets(library::Library& lib, const Clusters& c,
                                                const std::string& attribute,
                                                const std::string& encoder,
                                                const std::string& sha_prefix) {
  auto& st = lib.store();
  std::vector<store::AssetId> ids;
  std::vector<store::TagChange> changes;
  for (std::size_t i = 0; i < c.rows(); ++i) {
    test::FakeAsset a(sha_prefix + std::to_string(i));
    const auto id = a.embedding(encoder, c.row(i)).add_to(st);
    ids.push_back(id);
    store::TagChange ch;
    ch.tag.asset_id = id;
    ch.tag.attribute = attribute;
    ch.tag.node = c.classes[c.labels[i]];
    ch.tag.state = store::TagState::kConfirmed;
    ch.tag.confidence = 1;
    ch.tag.actor = "user:test";
    ch.tag.updated_at = a.record().ingested_at;
    ch.event.asset_id = id;
    ch.event.attribute = attribute;
    ch.event.node = ch.tag.node;
    ch.event.action = store::TagAction::kConfirmed;
    ch.event.actor = "user:test";
    ch.event.at = a.record().ingested_at;
    changes.push_back(ch);
  }
  st.apply_tag_changes(changes);
  return ids;
}

void relabel(store::Store& st, store::AssetId asset, const std::string& attribute,
             const std::string& old_node, const std::string& new_node) {
  if (old_node == new_node) return;
  std::vector<store::TagChange> changes(2);
  changes[0].kind = store::TagChange::Kind::kRemove;
  changes[0].tag.asset_id = asset;
  changes[0].tag.attribute = attribute;
  changes[0].tag.node = old_node;
  changes[0].event = {0,           asset, attribute, old_node, store::TagAction::kRemoved,
                      "user:test", 0,     "",        0,        "2026-01-02T00:00:00.000Z",
                      "{}",        ""};
  changes[1].tag.asset_id = asset;
  changes[1].tag.attribute = attribute;
  changes[1].tag.node = new_node;
  changes[1].tag.state = store::TagState::kHumanSet;
  changes[1].tag.confidence = 1;
  changes[1].tag.actor = "user:test";
  changes[1].tag.updated_at = "2026-01-02T00:00:00.000Z";
  changes[1].event = {0,           asset,   attribute, new_node, store::TagAction::kCorrected,
                      "user:test", 1,       "",        0,        "2026-01-02T00:00:00.000Z",
                      "{}",        old_node};
  st.apply_tag_changes(changes);
}

}  // namespace tagsmith::test
