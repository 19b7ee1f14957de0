#include "tagsmith/training/metrics.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tagsmith/common/error.h"
#include "tagsmith/training/calibration.h"

namespace tagsmith::training {
namespace {

// Seven rows over A, B, C (hand-worked in the comments).
struct Tiny {
  std::vector<std::string> classes = {"A", "B", "C"};
  std::vector<int> labels = {0, 0, 1, 2, 2, 1, 1};
  std::vector<std::vector<double>> probs = {
      {0.7, 0.2, 0.1},    // A -> A  .7  correct
      {0.4, 0.5, 0.1},    // A -> B  .5  wrong
      {0.1, 0.8, 0.1},    // B -> B  .8  correct
      {0.3, 0.3, 0.4},    // C -> C  .4  correct
      {0.6, 0.3, 0.1},    // C -> A  .6  wrong
      {0.05, 0.9, 0.05},  // B -> B  .9  correct
      {0.2, 0.7, 0.1},    // B -> B  .7  correct
  };
};

TEST(Metrics, AccuracyAndF1MatchHandComputedValues) {
  Tiny t;
  const auto m = evaluate(t.labels, t.probs, t.classes);
  EXPECT_EQ(m.n, 7u);
  EXPECT_NEAR(m.accuracy, 5.0 / 7, 1e-12);
  // A: P 1/2 R 1/2 F1 .5; B: P 3/4 R 1 F1 6/7; C: P 1 R 1/2 F1 2/3.
  EXPECT_NEAR(m.per_class[0].f1, 0.5, 1e-12);
  EXPECT_NEAR(m.per_class[1].f1, 6.0 / 7, 1e-12);
  EXPECT_NEAR(m.per_class[2].f1, 2.0 / 3, 1e-12);
  EXPECT_NEAR(m.macro_f1, (0.5 + 6.0 / 7 + 2.0 / 3) / 3, 1e-12);
  EXPECT_NEAR(m.weighted_f1, (2 * 0.5 + 3 * 6.0 / 7 + 2 * 2.0 / 3) / 7, 1e-12);
  EXPECT_EQ(m.confusion[0][1], 1u);
  EXPECT_EQ(m.confusion[2][0], 1u);
  EXPECT_DOUBLE_EQ(m.top5_accuracy, 1.0);  // three classes: always in the top 5
}

TEST(Metrics, EceAndReliabilityBins) {
  Tiny t;
  const auto m = evaluate(t.labels, t.probs, t.classes);
  ASSERT_EQ(m.reliability.size(), 15u);
  // .4 -> bin 5, .5 -> 7, .6 -> 8, .7 .7 -> 10, .8 -> 11 (upper edge 12/15), .9 -> 13.
  EXPECT_EQ(m.reliability[5].count, 1u);
  EXPECT_EQ(m.reliability[7].count, 1u);
  EXPECT_EQ(m.reliability[8].count, 1u);
  EXPECT_EQ(m.reliability[10].count, 2u);
  EXPECT_EQ(m.reliability[11].count, 1u);
  EXPECT_EQ(m.reliability[13].count, 1u);
  EXPECT_NEAR(m.reliability[10].mean_confidence, 0.7, 1e-12);
  EXPECT_NEAR(m.reliability[10].accuracy, 1.0, 1e-12);
  EXPECT_NEAR(m.reliability[7].accuracy, 0.0, 1e-12);
  // (.6 + .5 + .6 + 2*.3 + .2 + .1) / 7
  EXPECT_NEAR(m.ece, 2.6 / 7, 1e-12);
}

TEST(Metrics, CoveragePrecisionAndThresholds) {
  Tiny t;
  MetricOptions o;
  o.auto_threshold = 0.75;
  o.precision_targets = {0.8, 0.95, 0.99};
  const auto m = evaluate(t.labels, t.probs, t.classes, o);
  // Sorted: .9c .8c .7c .7c .6w .5w .4c
  EXPECT_EQ(m.coverage.size(), 101u);
  EXPECT_FALSE(m.coverage[95].precision.has_value());
  EXPECT_NEAR(*m.coverage[70].precision, 1.0, 1e-12);
  EXPECT_NEAR(m.coverage[70].coverage, 4.0 / 7, 1e-12);
  EXPECT_NEAR(*m.coverage[60].precision, 0.8, 1e-12);
  EXPECT_NEAR(*m.coverage[0].precision, 5.0 / 7, 1e-12);
  EXPECT_NEAR(*m.threshold_for_precision.at(0.8), 0.6, 1e-12);
  EXPECT_NEAR(*m.threshold_for_precision.at(0.95), 0.7, 1e-12);
  EXPECT_NEAR(*m.threshold_for_precision.at(0.99), 0.7, 1e-12);
  EXPECT_EQ(m.auto_count, 2u);
  EXPECT_NEAR(m.auto_share, 2.0 / 7, 1e-12);
  EXPECT_NEAR(*m.auto_precision, 1.0, 1e-12);
}

TEST(Metrics, ThresholdNeverReachedIsNull) {
  const auto m = evaluate(std::vector<int>{1, 0}, {{0.9, 0.1}, {0.8, 0.2}}, {"x", "y"});
  EXPECT_FALSE(m.threshold_for_precision.at(0.95).has_value());
  EXPECT_TRUE(m.threshold_for_precision.at(0.99) == std::nullopt);
  EXPECT_TRUE(nlohmann::json(m)["threshold_for_precision"]["0.95"].is_null());
}

TEST(Metrics, MostConfusedPairsAreUnorderedAndRanked) {
  // a->b twice, b->a once, c->a once.
  std::vector<int> labels = {0, 0, 1, 2, 0};
  std::vector<std::vector<double>> p = {
      {0.1, 0.8, 0.1}, {0.2, 0.7, 0.1}, {0.9, 0.05, 0.05}, {0.6, 0.1, 0.3}, {0.9, 0.05, 0.05}};
  const auto m = evaluate(labels, p, {"a", "b", "c"});
  ASSERT_EQ(m.most_confused.size(), 2u);
  EXPECT_EQ(m.most_confused[0].a, "a");
  EXPECT_EQ(m.most_confused[0].b, "b");
  EXPECT_EQ(m.most_confused[0].a_as_b, 2u);
  EXPECT_EQ(m.most_confused[0].b_as_a, 1u);
  EXPECT_EQ(m.most_confused[1].a, "a");
  EXPECT_EQ(m.most_confused[1].b, "c");
  EXPECT_EQ(m.most_confused[1].b_as_a, 1u);
}

TEST(Metrics, TopFiveAccuracy) {
  // Seven classes; the true class ranks 1st, 5th, 6th.
  std::vector<std::string> classes = {"0", "1", "2", "3", "4", "5", "6"};
  std::vector<int> labels = {0, 4, 5};
  std::vector<std::vector<double>> p = {
      {0.4, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1},
      {0.3, 0.2, 0.15, 0.1, 0.09, 0.08, 0.08},
      {0.3, 0.2, 0.15, 0.1, 0.09, 0.08, 0.08},
  };
  const auto m = evaluate(labels, p, classes);
  EXPECT_NEAR(m.top5_accuracy, 2.0 / 3, 1e-12);
}

TEST(Metrics, MacroF1IgnoresClassesNeitherTrueNorPredicted) {
  const auto m = evaluate(std::vector<int>{0, 1}, {{0.9, 0.1, 0}, {0.2, 0.8, 0}}, {"a", "b", "c"});
  EXPECT_DOUBLE_EQ(m.macro_f1, 1.0);
}

TEST(Metrics, SegmentsAndErrors) {
  Tiny t;
  std::vector<std::string> seg = {"m", "m", "m", "w", "w", "w", "w"};
  const auto by = evaluate_by_segment(t.labels, t.probs, t.classes, seg);
  ASSERT_EQ(by.size(), 2u);
  EXPECT_NEAR(by.at("m").accuracy, 2.0 / 3, 1e-12);
  EXPECT_NEAR(by.at("w").accuracy, 3.0 / 4, 1e-12);
  EXPECT_THROW(evaluate(std::vector<int>{3}, {{0.5, 0.5, 0}}, t.classes), InputError);
  EXPECT_THROW(evaluate(std::vector<int>{0}, {{0.5, 0.5}}, t.classes), InputError);
  EXPECT_EQ(evaluate(std::vector<int>{}, {}, t.classes).n, 0u);
}

TEST(Metrics, WilsonInterval) {
  const auto ci = wilson_interval(8, 10);
  EXPECT_NEAR(ci.lower, 0.4902, 1e-4);
  EXPECT_NEAR(ci.upper, 0.9433, 1e-4);
  EXPECT_DOUBLE_EQ(wilson_interval(0, 0).upper, 1.0);
}

TEST(Metrics, JsonHasEveryHeadline) {
  Tiny t;
  const nlohmann::json j = evaluate(t.labels, t.probs, t.classes);
  for (const char* key : {"accuracy", "macro_f1", "weighted_f1", "top5_accuracy", "ece",
                          "reliability", "coverage", "threshold_for_precision", "most_confused",
                          "auto_share", "auto_precision", "confusion", "per_class"}) {
    EXPECT_TRUE(j.contains(key)) << key;
  }
  EXPECT_EQ(j["reliability"].size(), 15u);
}

TEST(Calibration, FitsTheTemperatureOfScaledLogits) {
  // Labels drawn from softmax(z); logits presented as 4z must give T ~ 4.
  std::vector<std::vector<double>> logits;
  std::vector<int> labels;
  unsigned s = 1;
  auto rnd = [&] {
    s = s * 1103515245u + 12345u;
    return ((s >> 8) & 0xFFFF) / 65536.0;
  };
  for (int i = 0; i < 4000; ++i) {
    std::vector<double> z = {rnd() * 3, rnd() * 3, rnd() * 3};
    const auto p = softmax(z);
    const double u = rnd();
    labels.push_back(u < p[0] ? 0 : (u < p[0] + p[1] ? 1 : 2));
    for (auto& v : z) v *= 4;
    logits.push_back(z);
  }
  EXPECT_NEAR(fit_temperature(logits, labels), 4.0, 0.4);
  EXPECT_LT(mean_nll(logits, labels, 4.0), mean_nll(logits, labels, 1.0));
}

}  // namespace
}  // namespace tagsmith::training
