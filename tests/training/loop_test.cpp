// The retraining loop through a real library: split persistence, the gate,
// promotion and rollback.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>

#include "synthetic.h"
#include "tagsmith/common/error.h"
#include "tagsmith/training/dataset.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/training/scorer.h"
#include "tagsmith/training/train.h"
#include "temp_dir.h"

namespace tagsmith::training {
namespace {

constexpr const char* kEncoder = "enc-test";
constexpr const char* kAttr = "garment_type";

TEST(Split, DeterministicStratifiedAndSticky) {
  std::vector<store::AssetId> assets;
  std::vector<int> labels;
  for (int i = 0; i < 100; ++i) {
    assets.push_back(1000 + i);
    labels.push_back(i < 50 ? 0 : (i < 80 ? 1 : (i < 90 ? 2 : 3)));
  }
  const auto a = assign_split({}, assets, labels, 0.2, 7);
  const auto b = assign_split({}, assets, labels, 0.2, 7);
  EXPECT_EQ(a.holdout, b.holdout);
  EXPECT_EQ(a.train.size() + a.holdout.size(), 100u);
  auto held = [&](const SplitState& s, int cls) {
    int n = 0;
    for (std::size_t i = 0; i < assets.size(); ++i)
      n += labels[i] == cls && s.holdout.count(assets[i]);
    return n;
  };
  EXPECT_EQ(held(a, 0), 10);
  EXPECT_EQ(held(a, 1), 6);
  EXPECT_EQ(held(a, 2), 2);
  EXPECT_EQ(held(a, 3), 2);
  // Another seed, another (still stratified) draw.
  const auto c = assign_split({}, assets, labels, 0.2, 8);
  EXPECT_NE(a.holdout, c.holdout);
  EXPECT_EQ(held(c, 1), 6);
  // Order of the input does not matter.
  auto ra = assets;
  auto rl = labels;
  std::reverse(ra.begin(), ra.end());
  std::reverse(rl.begin(), rl.end());
  EXPECT_EQ(assign_split({}, ra, rl, 0.2, 7).holdout, a.holdout);
  // New assets: old ones keep their side, the class share stays ~20 %.
  auto more_a = assets;
  auto more_l = labels;
  for (int i = 0; i < 50; ++i) {
    more_a.push_back(5000 + i);
    more_l.push_back(0);
  }
  const auto d = assign_split(a, more_a, more_l, 0.2, 7);
  for (auto id : a.holdout) EXPECT_TRUE(d.holdout.count(id));
  for (auto id : a.train) EXPECT_TRUE(d.train.count(id));
  int held0 = 0;
  for (std::size_t i = 0; i < more_a.size(); ++i)
    held0 += more_l[i] == 0 && d.holdout.count(more_a[i]);
  EXPECT_EQ(held0, 20);
  // A singleton class is never held out.
  const auto e = assign_split({}, {1}, {0}, 0.5, 7);
  EXPECT_TRUE(e.holdout.empty());
}

TEST(TrainingSet, ReadsHumanLabelsAndPersistsTheSplit) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  const auto c = test::make_clusters(4, 16, 10, 0.1, 11);
  const auto ids = test::add_labelled_assets(*lib, c, kAttr, kEncoder, "s");
  // An auto tag (ignored by default) and a rejected tag (a negative, unused).
  store::TagChange auto_tag;
  auto_tag.tag = {ids[0], "pattern", "striped", store::TagState::kAuto, 0.99, "model:x", "x",
                  0,      "2026",    "{}"};
  auto_tag.event = {0,         ids[0], "pattern", "striped", store::TagAction::kApplied,
                    "model:x", 0.99,   "x",       0,         "2026",
                    "{}",      ""};
  store::TagChange rejected = auto_tag;
  rejected.tag.attribute = rejected.event.attribute = kAttr;
  rejected.tag.node = rejected.event.node = "class_3";
  rejected.tag.state = store::TagState::kRejected;
  lib->store().apply_tag_changes(std::vector{auto_tag, rejected});

  const auto set = load_training_set(lib->store(), kEncoder, {});
  EXPECT_EQ(set.dim, 16);
  ASSERT_EQ(set.attributes.size(), 1u);
  const auto& d = set.attributes[0];
  EXPECT_EQ(d.attribute, kAttr);
  EXPECT_EQ(d.rows(), 40u);
  EXPECT_EQ(d.rejected, 1u);
  EXPECT_EQ(d.holdout_rows(), 8u);  // 2 of 10 per class
  EXPECT_EQ(d.classes, c.classes);

  DatasetOptions with_auto;
  with_auto.include_auto = true;
  const auto set2 = load_training_set(lib->store(), kEncoder, with_auto);
  ASSERT_EQ(set2.attributes.size(), 2u);
  ASSERT_NE(set2.attribute("pattern"), nullptr);
  EXPECT_FALSE(set2.attribute("pattern")->human[0]);

  // The split is stored and survives new data.
  const auto before = load_split(lib->store(), kAttr);
  EXPECT_EQ(before.holdout.size(), 8u);
  test::add_labelled_assets(*lib, test::more_samples(c, 5, 0.1, 12), kAttr, kEncoder, "t");
  load_training_set(lib->store(), kEncoder, {});
  const auto after = load_split(lib->store(), kAttr);
  for (auto id : before.holdout) EXPECT_TRUE(after.holdout.count(id));
  for (auto id : before.train) EXPECT_TRUE(after.train.count(id));
  EXPECT_EQ(after.holdout.size(), 12u);  // 3 of 15 per class
}

std::vector<double> scores_of(const HeadScorer& s, const std::vector<float>& x) {
  std::vector<double> out;
  for (const auto& set : s.score(x)) {
    for (const auto& ns : set.scores) out.push_back(ns.score);
  }
  return out;
}

TEST(Loop, GateRefusesAWorseModelAcceptsABetterOneAndRollbackRestores) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& st = lib->store();
  const auto c = test::make_clusters(6, 32, 25, 0.25, 21);
  const auto ids = test::add_labelled_assets(*lib, c, kAttr, kEncoder, "a");

  TrainOptions o;
  o.encoder_version = kEncoder;
  EXPECT_THROW(
      {
        TrainOptions none;
        train_heads(*lib, none);
      },
      InputError);  // no encoder known

  // v1: nothing to compare with -> passes, promote.
  const auto r1 = train_heads(*lib, o);
  EXPECT_EQ(r1.candidate.version, "heads-0001");
  EXPECT_TRUE(r1.verdict.promote);
  ASSERT_EQ(r1.verdict.rows.size(), 1u);
  EXPECT_FALSE(r1.verdict.rows[0].comparison.before.has_value());
  EXPECT_GT(r1.verdict.rows[0].comparison.after->accuracy, 0.8);
  EXPECT_TRUE(r1.registered);
  EXPECT_EQ(st.model_version("heads-0001")->status, store::ModelStatus::kCandidate);
  EXPECT_EQ(promote(st, "heads-0001").retired, "");
  EXPECT_EQ(active_heads(st)->version, "heads-0001");
  const HeadScorer v1(*load_active_heads(*lib));

  // Worse: the train side's labels shuffled (held-out labels untouched).
  const auto split = load_split(st, kAttr);
  std::vector<std::pair<store::AssetId, int>> train_rows;
  for (std::size_t i = 0; i < ids.size(); ++i) {
    if (split.train.count(ids[i])) train_rows.emplace_back(ids[i], c.labels[i]);
  }
  std::vector<int> shuffled;
  for (auto& [id, y] : train_rows) shuffled.push_back(y);
  std::shuffle(shuffled.begin(), shuffled.end(), std::mt19937(5));
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    test::relabel(st, train_rows[i].first, kAttr, c.classes[train_rows[i].second],
                  c.classes[shuffled[i]]);
  }
  const auto r2 = train_heads(*lib, o);
  EXPECT_FALSE(r2.verdict.promote) << format_table(r2.verdict);
  EXPECT_EQ(r2.verdict.rows[0].comparison.before_model, "heads-0001");
  EXPECT_FALSE(r2.verdict.rows[0].pass);
  EXPECT_THROW(promote(st, r2.candidate.version), InputError);
  EXPECT_EQ(active_heads(st)->version, "heads-0001");

  // Better: labels restored and more data -> not worse, promoted.
  for (std::size_t i = 0; i < train_rows.size(); ++i) {
    test::relabel(st, train_rows[i].first, kAttr, c.classes[shuffled[i]],
                  c.classes[train_rows[i].second]);
  }
  test::add_labelled_assets(*lib, test::more_samples(c, 25, 0.25, 22), kAttr, kEncoder, "b");
  const auto r3 = train_heads(*lib, o);
  EXPECT_TRUE(r3.verdict.promote) << format_table(r3.verdict);
  const auto table = format_table(r3.verdict);
  EXPECT_NE(table.find("macro-F1"), std::string::npos);
  EXPECT_NE(table.find("auto precision"), std::string::npos);
  const auto p3 = promote(st, r3.candidate.version);
  EXPECT_EQ(p3.retired, "heads-0001");
  EXPECT_EQ(st.model_version("heads-0001")->status, store::ModelStatus::kRetired);
  EXPECT_EQ(active_heads(st)->version, r3.candidate.version);

  // Rollback: heads-0001 is active again and scores exactly as before.
  const auto rb = rollback(st);
  EXPECT_EQ(rb.retired, r3.candidate.version);
  EXPECT_EQ(rb.reactivated, "heads-0001");
  EXPECT_EQ(active_heads(st)->version, "heads-0001");
  EXPECT_EQ(st.model_version(r3.candidate.version)->status, store::ModelStatus::kRetired);
  const HeadScorer restored(*load_active_heads(*lib));
  for (int i = 0; i < 20; i += 3) EXPECT_EQ(scores_of(restored, c.row(i)), scores_of(v1, c.row(i)));
  // Rolling back past the first promotion leaves no heads active.
  EXPECT_EQ(rollback(st).reactivated, "");
  EXPECT_FALSE(active_heads(st).has_value());
  EXPECT_THROW(rollback(st), InputError);
}

TEST(Loop, ZeroShotIsTheBaselineOfTheFirstHeads) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  const auto c = test::make_clusters(5, 32, 20, 0.3, 31);
  test::add_labelled_assets(*lib, c, kAttr, kEncoder, "z");
  TrainOptions o;
  o.encoder_version = kEncoder;
  o.register_candidate = false;
  ZeroShotPrior prior;  // a useless prompt set: random directions
  prior.classes = c.classes;
  prior.dim = c.dim;
  for (int k = 0; k < 5; ++k) {
    const auto r = test::random_unit(c.dim, 900 + k);
    prior.embeddings.insert(prior.embeddings.end(), r.begin(), r.end());
  }
  o.priors[kAttr] = prior;
  const auto r = train_heads(*lib, o);
  EXPECT_FALSE(r.registered);
  EXPECT_FALSE(lib->store().model_version(r.candidate.version).has_value());
  ASSERT_EQ(r.verdict.rows.size(), 1u);
  const auto& row = r.verdict.rows[0].comparison;
  EXPECT_EQ(row.before_model, "zero-shot");
  ASSERT_TRUE(row.before && row.after);
  EXPECT_GT(row.after->macro_f1, row.before->macro_f1 + 0.2);
  EXPECT_TRUE(r.verdict.promote);
}

TEST(Gate, JudgesWithTolerances) {
  Metrics before, after;
  before.n = after.n = 10;
  before.macro_f1 = 0.80;
  before.ece = 0.05;
  after.macro_f1 = 0.795;  // within 0.01
  after.ece = 0.055;
  EXPECT_TRUE(judge({"x", "heads-1", before, after}, {}).pass);
  after.macro_f1 = 0.78;
  EXPECT_FALSE(judge({"x", "heads-1", before, after}, {}).pass);
  after.macro_f1 = 0.9;
  after.ece = 0.08;
  const auto row = judge({"x", "heads-1", before, after}, {});
  EXPECT_FALSE(row.pass);
  EXPECT_NE(row.reason.find("ECE"), std::string::npos);
  EXPECT_TRUE(judge({"x", "", std::nullopt, after}, {}).pass);
  GatePolicy loose;
  loose.ece_tolerance = 0.05;
  EXPECT_TRUE(judge({"x", "heads-1", before, after}, loose).pass);
}

}  // namespace
}  // namespace tagsmith::training
