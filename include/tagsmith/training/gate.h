#pragma once
// The evaluation gate: a candidate head set replaces the current one only if,
// on the held-out set, no attribute gets measurably worse.
//
// Per attribute, with tolerances from GatePolicy:
//   pass  <=>  after.macro_f1 >= before.macro_f1 - f1_tolerance
//         and  after.ece      <= before.ece      + ece_tolerance
// An attribute without a baseline (nothing active, no zero-shot prior) or
// without held-out rows cannot be judged and passes, with the reason stated.
// The verdict promotes only when every attribute passes.
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/training/metrics.h"

namespace tagsmith::training {

struct GatePolicy {
  double f1_tolerance = 0.01;
  double ece_tolerance = 0.01;
};

// Held-out metrics of both sides for one attribute.
struct AttributeComparison {
  std::string attribute;
  std::string before_model;       // "heads-0002", "zero-shot", or "" (none)
  std::optional<Metrics> before;  // none: no baseline
  std::optional<Metrics> after;   // none: no held-out rows
};

struct GateRow {
  AttributeComparison comparison;
  bool pass = true;
  std::string reason;  // why it passed or failed, one line
};

struct GateVerdict {
  std::string candidate;
  std::string baseline;  // the active heads version, or "" when none
  GatePolicy policy;
  std::vector<GateRow> rows;
  bool promote = true;
};

GateRow judge(AttributeComparison comparison, const GatePolicy& policy);
GateVerdict judge_all(std::string candidate, std::string baseline,
                      std::vector<AttributeComparison> comparisons, const GatePolicy& policy);

// The before/after table for a terminal, one line per attribute and metric:
//   attribute     metric        before   after    delta
//   garment_type  accuracy      0.812    0.871   +0.059
//   ...           macro-F1, ECE, auto share @0.95, auto precision
// followed by the verdict per attribute and overall.
std::string format_table(const GateVerdict& verdict);

// Compact JSON (headline metrics only, no curves) for metrics_json.
void to_json(nlohmann::json& j, const GateVerdict& v);

}  // namespace tagsmith::training
