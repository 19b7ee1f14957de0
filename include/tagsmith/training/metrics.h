#pragma once
// Metrics for one single-label attribute: how good and how honest a model's
// probabilities are on labelled data. Pure C++ (no torch), shared by the
// evaluation gate (training) and the evaluation harness (eval).
//
// Input: N rows, each a true class index in [0, C) and a probability vector
// over the C classes (need not sum to exactly 1). A row's prediction is its
// argmax (lowest index on ties) and its confidence is that maximum.
//
// Definitions (docs/training.md has the long form):
//  - macro-F1 averages per-class F1 over the classes that occur as a true
//    label or as a prediction (sklearn's default label set); a class never
//    predicted has precision 0. weighted-F1 weights per-class F1 by support.
//  - top-5: the true class is among the 5 highest probabilities (C <= 5: 1).
//  - ECE: 15 equal-width confidence bins, bin b = (b/15, (b+1)/15] (0 goes
//    into bin 0); ECE = sum_b n_b/N * |accuracy_b - mean_confidence_b|.
//  - coverage-precision: for a threshold t the auto tier is {confidence >=
//    t}; coverage = its share of rows, precision = its accuracy. The curve is
//    sampled at t = 0.00, 0.01, ..., 1.00; the thresholds reaching 95/97/99 %
//    are exact: the smallest observed confidence t with precision(t) >= target.
//  - confused pairs: unordered class pairs {a, b} ranked by a->b plus b->a
//    errors (then by the pair's indices), both directions reported.
#include <cstddef>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <span>
#include <string>
#include <vector>

namespace tagsmith::training {

inline constexpr int kEceBins = 15;

struct ReliabilityBin {
  double lower = 0, upper = 0;  // (lower, upper]
  std::size_t count = 0;
  double mean_confidence = 0;  // 0 when empty
  double accuracy = 0;         // 0 when empty
};

struct CoveragePoint {
  double threshold = 0;
  double coverage = 0;              // share of rows with confidence >= threshold
  std::size_t count = 0;            // those rows
  std::optional<double> precision;  // their accuracy; none when count == 0
};

struct ConfusedPair {
  std::string a, b;        // a < b by class index
  std::size_t a_as_b = 0;  // true a predicted b
  std::size_t b_as_a = 0;  // true b predicted a
  std::size_t total() const { return a_as_b + b_as_a; }
};

struct ClassReport {
  std::string name;
  std::size_t support = 0;    // true rows
  std::size_t predicted = 0;  // rows predicted as this class
  double precision = 0, recall = 0, f1 = 0;
};

struct MetricOptions {
  double auto_threshold = 0.95;  // the attribute's auto-apply threshold
  std::size_t confused_pairs = 10;
  std::vector<double> precision_targets = {0.95, 0.97, 0.99};
};

struct Metrics {
  std::size_t n = 0;
  std::size_t classes = 0;
  double accuracy = 0;
  double macro_f1 = 0;
  double weighted_f1 = 0;
  double top5_accuracy = 0;
  double ece = 0;
  double mean_confidence = 0;
  std::vector<ReliabilityBin> reliability;  // kEceBins bins
  std::vector<CoveragePoint> coverage;      // 101 points, t = 0.00 .. 1.00
  // target precision -> smallest threshold reaching it (none: never reached)
  std::map<double, std::optional<double>> threshold_for_precision;
  std::vector<ConfusedPair> most_confused;
  std::vector<ClassReport> per_class;               // in class order
  std::vector<std::vector<std::size_t>> confusion;  // [true][predicted]
  double auto_threshold = 0;
  double auto_share = 0;  // share of rows auto-applied
  std::size_t auto_count = 0;
  std::optional<double> auto_precision;  // none when nothing is auto-applied
};

// Throws InputError when sizes disagree or a label is out of range.
// Zero rows give a Metrics with n == 0 and zero scores.
Metrics evaluate(std::span<const int> labels, const std::vector<std::vector<double>>& probs,
                 const std::vector<std::string>& class_names, const MetricOptions& options = {});

// The same metrics per segment value (e.g. per gender), in segment order.
// `segments[i]` is row i's segment.
std::map<std::string, Metrics> evaluate_by_segment(std::span<const int> labels,
                                                   const std::vector<std::vector<double>>& probs,
                                                   const std::vector<std::string>& class_names,
                                                   const std::vector<std::string>& segments,
                                                   const MetricOptions& options = {});

// Wilson score interval for a proportion (successes out of n) at `z`
// standard deviations (1.96: 95 %). n == 0 gives [0, 1].
struct Interval {
  double lower = 0, upper = 1;
};
Interval wilson_interval(std::size_t successes, std::size_t n, double z = 1.96);

// JSON form (nlohmann ADL). Optionals are written as null.
void to_json(nlohmann::json& j, const Metrics& m);
void to_json(nlohmann::json& j, const ReliabilityBin& b);
void to_json(nlohmann::json& j, const CoveragePoint& p);
void to_json(nlohmann::json& j, const ConfusedPair& p);
void to_json(nlohmann::json& j, const ClassReport& c);

}  // namespace tagsmith::training
