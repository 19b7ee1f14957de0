#include "tagsmith/training/metrics.h"

#include <algorithm>
#include <cmath>
#include <nlohmann/json.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::training {
namespace {

struct Row {
  int label;
  int predicted;
  double confidence;
  bool correct() const { return label == predicted; }
};

// Bin (b/15, (b+1)/15]; confidence 0 falls into bin 0. The small epsilon keeps
// values like 2/15 that are computed with rounding error in the bin they name.
int ece_bin(double confidence) {
  const double scaled = confidence * kEceBins;
  int b = static_cast<int>(std::ceil(scaled - 1e-12)) - 1;
  return std::clamp(b, 0, kEceBins - 1);
}

}  // namespace

Metrics evaluate(std::span<const int> labels, const std::vector<std::vector<double>>& probs,
                 const std::vector<std::string>& class_names, const MetricOptions& options) {
  const std::size_t n = labels.size();
  const std::size_t c = class_names.size();
  if (probs.size() != n) {
    throw InputError("metrics: " + std::to_string(n) + " labels but " +
                     std::to_string(probs.size()) + " probability rows");
  }
  Metrics m;
  m.n = n;
  m.classes = c;
  m.auto_threshold = options.auto_threshold;
  m.confusion.assign(c, std::vector<std::size_t>(c, 0));

  std::vector<Row> rows;
  rows.reserve(n);
  std::size_t top5 = 0;
  for (std::size_t i = 0; i < n; ++i) {
    const auto& p = probs[i];
    if (p.size() != c) {
      throw InputError("metrics: row " + std::to_string(i) + " has " + std::to_string(p.size()) +
                       " probabilities for " + std::to_string(c) + " classes");
    }
    if (labels[i] < 0 || static_cast<std::size_t>(labels[i]) >= c) {
      throw InputError("metrics: label " + std::to_string(labels[i]) + " out of range");
    }
    const int pred = static_cast<int>(std::max_element(p.begin(), p.end()) - p.begin());
    rows.push_back({labels[i], pred, p[pred]});
    m.confusion[labels[i]][pred]++;
    // Rank of the true class: classes strictly above it, plus equal ones
    // with a lower index (the same tie rule as argmax).
    std::size_t above = 0;
    const double pt = p[labels[i]];
    for (std::size_t k = 0; k < c; ++k) {
      if (p[k] > pt || (p[k] == pt && static_cast<int>(k) < labels[i])) ++above;
    }
    if (above < 5) ++top5;
  }

  // Per-class precision/recall/F1.
  m.per_class.resize(c);
  std::size_t correct = 0;
  for (std::size_t k = 0; k < c; ++k) {
    auto& cr = m.per_class[k];
    cr.name = class_names[k];
    for (std::size_t j = 0; j < c; ++j) {
      cr.support += m.confusion[k][j];
      cr.predicted += m.confusion[j][k];
    }
    const double tp = static_cast<double>(m.confusion[k][k]);
    correct += m.confusion[k][k];
    cr.precision = cr.predicted ? tp / cr.predicted : 0.0;
    cr.recall = cr.support ? tp / cr.support : 0.0;
    cr.f1 = (cr.precision + cr.recall) > 0
                ? 2 * cr.precision * cr.recall / (cr.precision + cr.recall)
                : 0.0;
  }
  if (n == 0) return m;

  m.accuracy = static_cast<double>(correct) / n;
  m.top5_accuracy = static_cast<double>(top5) / n;
  std::size_t present = 0;
  double f1_sum = 0, weighted = 0;
  for (const auto& cr : m.per_class) {
    if (cr.support == 0 && cr.predicted == 0) continue;
    ++present;
    f1_sum += cr.f1;
    weighted += cr.f1 * cr.support;
  }
  m.macro_f1 = present ? f1_sum / present : 0.0;
  m.weighted_f1 = weighted / n;

  // Reliability diagram and ECE.
  m.reliability.resize(kEceBins);
  std::vector<double> conf_sum(kEceBins, 0), hits(kEceBins, 0);
  double total_conf = 0;
  for (const auto& r : rows) {
    const int b = ece_bin(r.confidence);
    m.reliability[b].count++;
    conf_sum[b] += r.confidence;
    hits[b] += r.correct() ? 1 : 0;
    total_conf += r.confidence;
  }
  m.mean_confidence = total_conf / n;
  for (int b = 0; b < kEceBins; ++b) {
    auto& bin = m.reliability[b];
    bin.lower = static_cast<double>(b) / kEceBins;
    bin.upper = static_cast<double>(b + 1) / kEceBins;
    if (bin.count == 0) continue;
    bin.mean_confidence = conf_sum[b] / bin.count;
    bin.accuracy = hits[b] / bin.count;
    m.ece += static_cast<double>(bin.count) / n * std::abs(bin.accuracy - bin.mean_confidence);
  }

  // Coverage-precision: sort by confidence descending so each threshold's
  // auto tier is a prefix.
  std::vector<Row> sorted = rows;
  std::sort(sorted.begin(), sorted.end(),
            [](const Row& a, const Row& b) { return a.confidence > b.confidence; });
  std::vector<std::size_t> prefix_hits(n + 1, 0);
  for (std::size_t i = 0; i < n; ++i) prefix_hits[i + 1] = prefix_hits[i] + sorted[i].correct();
  // Rows with confidence >= t: the length of the prefix.
  auto covered = [&](double t) {
    return static_cast<std::size_t>(
        std::partition_point(sorted.begin(), sorted.end(),
                             [t](const Row& r) { return r.confidence >= t; }) -
        sorted.begin());
  };
  for (int i = 0; i <= 100; ++i) {
    CoveragePoint pt;
    pt.threshold = i / 100.0;
    pt.count = covered(pt.threshold);
    pt.coverage = static_cast<double>(pt.count) / n;
    if (pt.count) pt.precision = static_cast<double>(prefix_hits[pt.count]) / pt.count;
    m.coverage.push_back(pt);
  }
  for (double target : options.precision_targets) {
    std::optional<double> best;
    // Each distinct confidence is a candidate threshold; the prefix ending at
    // its last occurrence is its auto tier. Walking from the most inclusive
    // end finds the smallest threshold first.
    for (std::size_t end = n; end > 0; --end) {
      if (end < n && sorted[end].confidence == sorted[end - 1].confidence) continue;
      const double precision = static_cast<double>(prefix_hits[end]) / end;
      if (precision >= target - 1e-12) {
        best = sorted[end - 1].confidence;
        break;
      }
    }
    m.threshold_for_precision[target] = best;
  }

  m.auto_count = covered(options.auto_threshold);
  m.auto_share = static_cast<double>(m.auto_count) / n;
  if (m.auto_count)
    m.auto_precision = static_cast<double>(prefix_hits[m.auto_count]) / m.auto_count;

  // Most confused unordered pairs.
  for (std::size_t a = 0; a < c; ++a) {
    for (std::size_t b = a + 1; b < c; ++b) {
      ConfusedPair p{class_names[a], class_names[b], m.confusion[a][b], m.confusion[b][a]};
      if (p.total()) m.most_confused.push_back(p);
    }
  }
  std::stable_sort(
      m.most_confused.begin(), m.most_confused.end(),
      [](const ConfusedPair& x, const ConfusedPair& y) { return x.total() > y.total(); });
  if (m.most_confused.size() > options.confused_pairs)
    m.most_confused.resize(options.confused_pairs);
  return m;
}

std::map<std::string, Metrics> evaluate_by_segment(std::span<const int> labels,
                                                   const std::vector<std::vector<double>>& probs,
                                                   const std::vector<std::string>& class_names,
                                                   const std::vector<std::string>& segments,
                                                   const MetricOptions& options) {
  if (segments.size() != labels.size()) {
    throw InputError("metrics: " + std::to_string(labels.size()) + " labels but " +
                     std::to_string(segments.size()) + " segment values");
  }
  std::map<std::string, std::vector<std::size_t>> rows;
  for (std::size_t i = 0; i < segments.size(); ++i) rows[segments[i]].push_back(i);
  std::map<std::string, Metrics> out;
  for (const auto& [segment, idx] : rows) {
    std::vector<int> l;
    std::vector<std::vector<double>> p;
    for (auto i : idx) {
      l.push_back(labels[i]);
      p.push_back(probs.at(i));
    }
    out.emplace(segment, evaluate(l, p, class_names, options));
  }
  return out;
}

Interval wilson_interval(std::size_t successes, std::size_t n, double z) {
  if (n == 0) return {0, 1};
  const double p = static_cast<double>(successes) / n;
  const double z2 = z * z;
  const double denom = 1 + z2 / n;
  const double centre = (p + z2 / (2 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z2 / (4.0 * n * n)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

namespace {
nlohmann::json opt(const std::optional<double>& v) {
  return v ? nlohmann::json(*v) : nlohmann::json(nullptr);
}
}  // namespace

void to_json(nlohmann::json& j, const ReliabilityBin& b) {
  j = {{"lower", b.lower},
       {"upper", b.upper},
       {"count", b.count},
       {"mean_confidence", b.mean_confidence},
       {"accuracy", b.accuracy}};
}

void to_json(nlohmann::json& j, const CoveragePoint& p) {
  j = {{"threshold", p.threshold},
       {"coverage", p.coverage},
       {"count", p.count},
       {"precision", opt(p.precision)}};
}

void to_json(nlohmann::json& j, const ConfusedPair& p) {
  j = {{"a", p.a}, {"b", p.b}, {"a_as_b", p.a_as_b}, {"b_as_a", p.b_as_a}, {"total", p.total()}};
}

void to_json(nlohmann::json& j, const ClassReport& c) {
  j = {{"name", c.name},           {"support", c.support}, {"predicted", c.predicted},
       {"precision", c.precision}, {"recall", c.recall},   {"f1", c.f1}};
}

void to_json(nlohmann::json& j, const Metrics& m) {
  nlohmann::json thresholds = nlohmann::json::object();
  for (const auto& [target, t] : m.threshold_for_precision) {
    // Keys like "0.95": fixed two or three decimals read better than %g.
    char key[16];
    std::snprintf(key, sizeof key, "%.3g", target);
    thresholds[key] = opt(t);
  }
  j = {{"n", m.n},
       {"classes", m.classes},
       {"accuracy", m.accuracy},
       {"macro_f1", m.macro_f1},
       {"weighted_f1", m.weighted_f1},
       {"top5_accuracy", m.top5_accuracy},
       {"ece", m.ece},
       {"mean_confidence", m.mean_confidence},
       {"reliability", m.reliability},
       {"coverage", m.coverage},
       {"threshold_for_precision", thresholds},
       {"most_confused", m.most_confused},
       {"per_class", m.per_class},
       {"confusion", m.confusion},
       {"auto_threshold", m.auto_threshold},
       {"auto_share", m.auto_share},
       {"auto_count", m.auto_count},
       {"auto_precision", opt(m.auto_precision)}};
}

}  // namespace tagsmith::training
