#include "tagsmith/training/heads.h"

#include <gtest/gtest.h>

#include "synthetic.h"
#include "tagsmith/common/error.h"
#include "tagsmith/training/calibration.h"
#include "tagsmith/training/metrics.h"
#include "tagsmith/training/scorer.h"
#include "temp_dir.h"

namespace tagsmith::training {
namespace {

HeadData as_data(const test::Clusters& c, const std::string& attribute = "garment_type") {
  return {attribute, c.classes, c.dim, c.embeddings, c.labels};
}

Metrics measure(const AttributeHead& head, const test::Clusters& c) {
  std::vector<std::vector<double>> p;
  for (std::size_t i = 0; i < c.rows(); ++i) p.push_back(head.probabilities(normalised(c.row(i))));
  return evaluate(c.labels, p, head.classes);
}

TEST(Heads, LinearHeadSeparatesClusters) {
  const auto train = test::make_clusters(10, 64, 30, 0.05, 1);
  const auto test = test::more_samples(train, 20, 0.05, 99);
  HeadTrainingReport report;
  const auto head = train_head(as_data(train), {}, nullptr, &report);
  EXPECT_GT(report.val_rows, 0u);
  EXPECT_GT(report.epochs, 0);
  const auto m = measure(head, test);
  EXPECT_GT(m.accuracy, 0.95);
  EXPECT_GT(m.macro_f1, 0.95);
}

TEST(Heads, NoisyClustersBeatChanceClearly) {
  const auto train = test::make_clusters(20, 64, 40, 0.5, 2);
  const auto test = test::more_samples(train, 20, 0.5, 98);
  const auto head = train_head(as_data(train), {});
  const auto m = measure(head, test);
  EXPECT_GT(m.accuracy, 3 * (1.0 / 20));  // chance is 0.05
  EXPECT_LT(m.accuracy, 0.999);           // really noisy
  // Temperature-scaled confidence is roughly honest.
  EXPECT_LT(m.ece, 0.12);
}

TEST(Heads, MlpHeadLearnsToo) {
  const auto train = test::make_clusters(8, 64, 30, 0.1, 3);
  const auto test = test::more_samples(train, 10, 0.1, 97);
  HeadOptions o;
  o.hidden = 32;
  const auto head = train_head(as_data(train), o);
  EXPECT_EQ(head.hidden, 32);
  EXPECT_GT(measure(head, test).accuracy, 0.9);
}

TEST(Heads, CalibrationLowersTheEceOfAnOverconfidentHead) {
  const auto train = test::make_clusters(10, 64, 40, 0.45, 4);
  const auto val = test::more_samples(train, 30, 0.45, 96);
  const auto test = test::more_samples(train, 30, 0.45, 95);
  HeadOptions o;
  o.calibrate = false;
  auto head = train_head(as_data(train), o);
  // Deliberately over-confident: every logit x 5.
  for (auto& w : head.w1) w *= 5;
  for (auto& b : head.b1) b *= 5;
  head.temperature = 1;
  const double before = measure(head, test).ece;
  std::vector<std::vector<double>> z;
  for (std::size_t i = 0; i < val.rows(); ++i) z.push_back(head.logits(normalised(val.row(i))));
  head.temperature = fit_temperature(z, val.labels);
  const double after = measure(head, test).ece;
  EXPECT_GT(head.temperature, 2.0);
  EXPECT_GT(before, 0.1);
  EXPECT_LT(after, before / 2);
}

TEST(Heads, ZeroShotPriorCarriesUnseenAndRareClasses) {
  // Prompts that point at the true centres: a class never labelled is still
  // predicted from its prompt, and a one-shot class leans on it.
  const auto all = test::make_clusters(6, 64, 20, 0.1, 5);
  test::Clusters labelled = all;
  labelled.embeddings.clear();
  labelled.labels.clear();
  labelled.classes = {all.classes[0], all.classes[1], all.classes[2], all.classes[3],
                      all.classes[4]};
  int seen4 = 0;
  for (std::size_t i = 0; i < all.rows(); ++i) {
    const int y = all.labels[i];
    if (y == 5 || (y == 4 && seen4++ > 0)) continue;  // class 5 unseen, class 4 once
    const auto r = all.row(i);
    labelled.embeddings.insert(labelled.embeddings.end(), r.begin(), r.end());
    labelled.labels.push_back(y);
  }
  ZeroShotPrior prior;
  prior.classes = all.classes;
  prior.dim = all.dim;
  prior.embeddings = all.centres;
  prior.logit_scale = 30;
  const auto head = train_head(as_data(labelled), {}, &prior);
  ASSERT_EQ(head.classes.size(), 6u);
  EXPECT_EQ(head.classes[5], all.classes[5]);
  EXPECT_FLOAT_EQ(head.blend[5], 0.0f);
  EXPECT_LT(head.blend[4], 0.5f);
  EXPECT_GT(head.blend[0], 0.7f);
  const auto test = test::more_samples(all, 10, 0.1, 94);
  const auto m = measure(head, test);
  EXPECT_GT(m.per_class[5].recall, 0.8);
  EXPECT_GT(m.per_class[4].recall, 0.8);
  EXPECT_GT(m.accuracy, 0.9);
}

TEST(Heads, SaveLoadRoundTripGivesIdenticalPredictions) {
  const auto train = test::make_clusters(5, 32, 20, 0.2, 6);
  HeadSet set;
  set.version = "heads-0001";
  set.encoder_version = "enc";
  HeadOptions mlp;
  mlp.hidden = 16;
  set.heads.push_back(train_head(as_data(train, "a"), {}));
  set.heads.push_back(train_head(as_data(train, "b"), mlp));
  test::TempDir dir;
  set.save(dir / "models" / "heads-0001");
  const auto loaded = HeadSet::load(dir / "models" / "heads-0001");
  EXPECT_EQ(loaded.version, "heads-0001");
  EXPECT_EQ(loaded.encoder_version, "enc");
  ASSERT_EQ(loaded.heads.size(), 2u);
  const HeadScorer a(set), b(loaded);
  for (std::size_t i = 0; i < train.rows(); i += 7) {
    const auto sa = a.score(train.row(i)), sb = b.score(train.row(i));
    ASSERT_EQ(sa.size(), sb.size());
    for (std::size_t k = 0; k < sa.size(); ++k) {
      ASSERT_EQ(sa[k].scores.size(), sb[k].scores.size());
      for (std::size_t j = 0; j < sa[k].scores.size(); ++j) {
        EXPECT_EQ(sa[k].scores[j].score, sb[k].scores[j].score);
      }
    }
  }
  EXPECT_THROW(HeadSet::load(dir / "nowhere"), NotFoundError);
}

TEST(Heads, OodEmbeddingsAreFlaggedAndCapped) {
  const auto train = test::make_clusters(8, 128, 40, 0.08, 7);
  HeadSet set;
  set.version = "heads-0042";
  set.encoder_version = "enc";
  set.heads.push_back(train_head(as_data(train, "pattern"), {}));
  const HeadScorer scorer(set);
  EXPECT_EQ(scorer.source(), "model:heads-0042");
  // In-distribution samples: not flagged.
  const auto test = test::more_samples(train, 10, 0.08, 93);
  int flagged = 0;
  for (std::size_t i = 0; i < test.rows(); ++i) {
    flagged += scorer.score(test.row(i))[0].evidence["ood"].get<bool>();
  }
  EXPECT_LE(flagged, 2);  // the quantile rule allows a rare false alarm
  // Far away: random directions.
  for (int s = 0; s < 10; ++s) {
    const auto sets = scorer.score(test::random_unit(128, 500 + s));
    ASSERT_EQ(sets.size(), 1u);
    EXPECT_TRUE(sets[0].evidence["ood"].get<bool>());
    EXPECT_EQ(sets[0].source, "model:heads-0042");
    double top = 0;
    for (const auto& ns : sets[0].scores) top = std::max(top, ns.score);
    EXPECT_LE(top, 0.94 + 1e-12);
  }
}

TEST(Heads, RejectsBadInput) {
  HeadData d{"x", {"a", "b"}, 4, {1, 0, 0, 0}, {0}};
  EXPECT_THROW(train_head(d, {}), InputError);  // one class only
  d.labels = {0, 1};
  EXPECT_THROW(train_head(d, {}), InputError);  // 2 labels, 4 floats
}

}  // namespace
}  // namespace tagsmith::training
