#include "tagsmith/training/gate.h"

#include <cstdio>
#include <nlohmann/json.hpp>

namespace tagsmith::training {
namespace {

std::string fmt(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", v);
  return buf;
}

std::string fmt_delta(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.3f", v);
  return buf;
}

nlohmann::json headline(const Metrics& m) {
  return {{"n", m.n},
          {"accuracy", m.accuracy},
          {"macro_f1", m.macro_f1},
          {"weighted_f1", m.weighted_f1},
          {"top5_accuracy", m.top5_accuracy},
          {"ece", m.ece},
          {"auto_threshold", m.auto_threshold},
          {"auto_share", m.auto_share},
          {"auto_precision",
           m.auto_precision ? nlohmann::json(*m.auto_precision) : nlohmann::json(nullptr)}};
}

}  // namespace

GateRow judge(AttributeComparison c, const GatePolicy& policy) {
  GateRow row;
  if (!c.after || c.after->n == 0) {
    row.reason = "not judged: no held-out rows";
  } else if (!c.before) {
    row.reason = "not judged: no baseline";
  } else {
    const double df1 = c.after->macro_f1 - c.before->macro_f1;
    const double dece = c.after->ece - c.before->ece;
    const bool f1_ok = df1 >= -policy.f1_tolerance;
    const bool ece_ok = dece <= policy.ece_tolerance;
    row.pass = f1_ok && ece_ok;
    if (row.pass) {
      row.reason = "macro-F1 " + fmt_delta(df1) + ", ECE " + fmt_delta(dece) + ": within tolerance";
    } else {
      row.reason =
          std::string(f1_ok ? ""
                            : "macro-F1 worse by " + fmt(-df1) + " (tolerance " +
                                  fmt(policy.f1_tolerance) + ")") +
          (!f1_ok && !ece_ok ? "; " : "") +
          (ece_ok ? ""
                  : "ECE worse by " + fmt(dece) + " (tolerance " + fmt(policy.ece_tolerance) + ")");
    }
  }
  row.comparison = std::move(c);
  return row;
}

GateVerdict judge_all(std::string candidate, std::string baseline,
                      std::vector<AttributeComparison> comparisons, const GatePolicy& policy) {
  GateVerdict v;
  v.candidate = std::move(candidate);
  v.baseline = std::move(baseline);
  v.policy = policy;
  for (auto& c : comparisons) {
    v.rows.push_back(judge(std::move(c), policy));
    v.promote = v.promote && v.rows.back().pass;
  }
  return v;
}

std::string format_table(const GateVerdict& v) {
  std::string out;
  char line[256];
  std::snprintf(line, sizeof line, "%-20s %-18s %-12s %8s %8s %8s\n", "attribute", "metric",
                "before", "", "after", "delta");
  out += line;
  for (const auto& row : v.rows) {
    const auto& c = row.comparison;
    const Metrics* b = c.before ? &*c.before : nullptr;
    const Metrics* a = c.after ? &*c.after : nullptr;
    auto put = [&](const char* metric, std::optional<double> before, std::optional<double> after) {
      const std::string bs = before ? fmt(*before) : "-";
      const std::string as = after ? fmt(*after) : "-";
      const std::string ds = before && after ? fmt_delta(*after - *before) : "";
      std::snprintf(line, sizeof line, "%-20s %-18s %-12s %8s %8s %8s\n", c.attribute.c_str(),
                    metric, (c.before_model.empty() ? "" : c.before_model).c_str(), bs.c_str(),
                    as.c_str(), ds.c_str());
      out += line;
    };
    auto get = [](const Metrics* m, auto field) -> std::optional<double> {
      if (!m || m->n == 0) return std::nullopt;
      return field(*m);
    };
    put("accuracy", get(b, [](const Metrics& m) { return m.accuracy; }),
        get(a, [](const Metrics& m) { return m.accuracy; }));
    put("macro-F1", get(b, [](const Metrics& m) { return m.macro_f1; }),
        get(a, [](const Metrics& m) { return m.macro_f1; }));
    put("ECE", get(b, [](const Metrics& m) { return m.ece; }),
        get(a, [](const Metrics& m) { return m.ece; }));
    char auto_label[32];
    std::snprintf(auto_label, sizeof auto_label, "auto share @%.2f",
                  a ? a->auto_threshold : (b ? b->auto_threshold : 0.0));
    put(auto_label, get(b, [](const Metrics& m) { return m.auto_share; }),
        get(a, [](const Metrics& m) { return m.auto_share; }));
    auto prec = [](const Metrics* m) -> std::optional<double> {
      return m ? m->auto_precision : std::nullopt;
    };
    put("auto precision", prec(b), prec(a));
    std::snprintf(line, sizeof line, "%-20s %s (n=%zu held out): %s\n", c.attribute.c_str(),
                  row.pass ? "PASS" : "FAIL", a ? a->n : std::size_t{0}, row.reason.c_str());
    out += line;
  }
  out += v.promote ? "verdict: promote " + v.candidate + "\n"
                   : "verdict: keep " +
                         (v.baseline.empty() ? std::string("the current model") : v.baseline) +
                         " (" + v.candidate + " is worse on held-out data)\n";
  return out;
}

void to_json(nlohmann::json& j, const GateVerdict& v) {
  j = {{"candidate", v.candidate},
       {"baseline", v.baseline},
       {"promote", v.promote},
       {"f1_tolerance", v.policy.f1_tolerance},
       {"ece_tolerance", v.policy.ece_tolerance},
       {"attributes", nlohmann::json::array()}};
  for (const auto& row : v.rows) {
    const auto& c = row.comparison;
    j["attributes"].push_back({{"attribute", c.attribute},
                               {"before_model", c.before_model},
                               {"before", c.before ? headline(*c.before) : nlohmann::json(nullptr)},
                               {"after", c.after ? headline(*c.after) : nlohmann::json(nullptr)},
                               {"pass", row.pass},
                               {"reason", row.reason}});
  }
}

}  // namespace tagsmith::training
