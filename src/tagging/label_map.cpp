#include "tagsmith/tagging/label_map.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <unordered_map>

#include "tagsmith/common/error.h"
#include "tagsmith/common/hash.h"
#include "tagsmith/taxonomy/validation.h"
#include "tagsmith/taxonomy/yaml_diagnostics.h"

namespace tagsmith::embedded {
std::string_view imagenet_map_yaml();
}

namespace tagsmith::tagging {

using taxonomy::Diagnostic;
using taxonomy::SourceLocation;

namespace {

constexpr std::size_t kEvidenceLabels = 5;  // classes listed per node score

std::string first_name(const std::string& label) {
  return label.substr(0, label.find(','));
}

}  // namespace

// Collects every problem, then either yields a LabelMap or throws them all.
struct LabelMapBuilder : taxonomy::YamlDiagnostics {
  LabelMapBuilder(std::string_view source_name, std::span<const std::string> label_list,
                  const taxonomy::Taxonomy& taxonomy)
      : source(source_name), labels(label_list), tax(taxonomy) {}

  std::string source;
  std::span<const std::string> labels;
  const taxonomy::Taxonomy& tax;
  LabelMap map;
  double default_weight = 1.0, default_min_probability = 0.0, default_share = 0.75;
  std::map<std::string, std::pair<double, double>> attribute_options;  // unmapped_weight, share

  std::string unknown_attribute(const std::string& id) const {
    std::string known;
    for (const auto& a : tax.attributes()) known += (known.empty() ? "" : ", ") + a.id;
    return fmt::format("unknown attribute '{}' (the taxonomy has: {})", id, known);
  }

  // A number in [lo, hi] (open at the ends named by the flags).
  std::optional<double> number(const YAML::Node& n, std::string_view what, double lo, double hi,
                               bool lo_open, bool hi_open) {
    double v = 0;
    if (!n.IsScalar() || !YAML::convert<double>::decode(n, v) || !std::isfinite(v)) {
      error(n, fmt::format("{} must be a number", what));
      return std::nullopt;
    }
    const bool below = lo_open ? v <= lo : v < lo;
    const bool above = hi_open ? v >= hi : v > hi;
    if (below || above) {
      error(n, fmt::format("{} {} is out of range {}{}, {}{}", what, n.Scalar(),
                           lo_open ? "(" : "[", lo, hi, hi_open ? ")" : "]"));
      return std::nullopt;
    }
    return v;
  }
  std::optional<double> weight(const YAML::Node& n) {
    return number(n, "weight", 0, 1, true, false);
  }
  std::optional<double> min_probability(const YAML::Node& n) {
    return number(n, "min_probability", 0, 1, false, true);
  }
  std::optional<double> share(const YAML::Node& n) {
    return number(n, "specific_share", 0.5, 1, true, false);
  }

  void parse_defaults(const YAML::Node& d) {
    if (!check_map(d, "defaults", {"weight", "min_probability", "specific_share"})) return;
    if (d["weight"])
      if (auto w = weight(d["weight"])) default_weight = *w;
    if (d["min_probability"])
      if (auto m = min_probability(d["min_probability"])) default_min_probability = *m;
    if (d["specific_share"])
      if (auto s = share(d["specific_share"])) default_share = *s;
  }

  void parse_attribute_options(const YAML::Node& attrs) {
    if (!attrs.IsMap()) {
      error(attrs, "attributes must be a mapping of attribute id -> options");
      return;
    }
    std::set<std::string> seen;
    for (const auto& kv : attrs) {
      const std::string id = kv.first.IsScalar() ? kv.first.Scalar() : "";
      if (!seen.insert(id).second) {
        error(kv.first, fmt::format("attribute '{}' repeated in attributes", id));
        continue;
      }
      if (!tax.attribute(id)) {
        error(kv.first, unknown_attribute(id));
        continue;
      }
      const YAML::Node& o = kv.second;
      if (!check_map(o, fmt::format("options of attribute '{}'", id),
                     {"unmapped_weight", "specific_share"}))
        continue;
      auto& [unmapped, s] = attribute_options[id];
      unmapped = 1.0;
      s = -1;  // the default, resolved once defaults are known
      if (o["unmapped_weight"])
        if (auto u = number(o["unmapped_weight"], "unmapped_weight", 0, 1, false, false))
          unmapped = *u;
      if (o["specific_share"])
        if (auto v = share(o["specific_share"])) s = *v;
    }
  }

  // Resolves a label key: the exact text of a line, else a unique first name.
  std::optional<std::size_t> resolve_label(
      const YAML::Node& key_node, const std::string& key,
      const std::unordered_multimap<std::string, std::size_t>& full,
      const std::unordered_multimap<std::string, std::size_t>& first) {
    const auto describe = [&](auto range) {
      std::string lines;
      for (auto it = range.first; it != range.second; ++it)
        lines += (lines.empty() ? "" : ", ") + std::to_string(it->second);
      return lines;
    };
    const auto exact = full.equal_range(key);
    const auto n_exact = std::distance(exact.first, exact.second);
    if (n_exact == 1) return exact.first->second;
    if (n_exact > 1) {
      error(key_node, fmt::format("{} label '{}' names several classes (lines {} of the label "
                                  "list); it cannot be mapped",
                                  map.classifier_, key, describe(exact)));
      return std::nullopt;
    }
    const auto by_first = first.equal_range(key);
    const auto n_first = std::distance(by_first.first, by_first.second);
    if (n_first == 1) return by_first.first->second;
    if (n_first > 1) {
      error(key_node, fmt::format("'{}' is the first name of several {} labels (lines {}); write "
                                  "the whole label",
                                  key, map.classifier_, describe(by_first)));
      return std::nullopt;
    }
    error(key_node, fmt::format("unknown {} label '{}' (not in the label list of {} classes)",
                                map.classifier_, key, labels.size()));
    return std::nullopt;
  }

  // One target: `node`, {node, weight, min_probability} or a list of those.
  void parse_targets(const std::string& attribute, const YAML::Node& value,
                     const taxonomy::Attribute& attr, double label_weight, double label_min,
                     LabelRule& rule) {
    if (value.IsSequence()) {
      if (value.size() == 0) error(value, fmt::format("no nodes listed for '{}'", attribute));
      for (const auto& item : value)
        parse_targets(attribute, item, attr, label_weight, label_min, rule);
      return;
    }
    LabelTarget t;
    t.attribute = attribute;
    t.weight = label_weight;
    t.min_probability = label_min;
    t.where = taxonomy::location_of(value);
    YAML::Node node_node;
    if (value.IsScalar()) {
      node_node = value;
    } else if (value.IsMap()) {
      if (!check_map(value, fmt::format("a target of '{}'", attribute),
                     {"node", "weight", "min_probability"}))
        return;
      if (!value["node"]) {
        error(value, fmt::format("a target of '{}' needs `node`", attribute));
        return;
      }
      node_node = value["node"];
      if (value["weight"]) {
        auto w = weight(value["weight"]);
        if (!w) return;
        t.weight = *w;
      }
      if (value["min_probability"]) {
        auto m = min_probability(value["min_probability"]);
        if (!m) return;
        t.min_probability = *m;
      }
    } else {
      error(value, fmt::format("the target of '{}' must be a node id, {{node, weight}} or a list",
                               attribute));
      return;
    }
    if (!node_node.IsScalar()) {
      error(node_node, "a node must be a node id");
      return;
    }
    t.node = node_node.Scalar();
    t.where = taxonomy::location_of(node_node);
    if (!attr.node(t.node)) {
      error(node_node, fmt::format("unknown node '{}' in attribute '{}'", t.node, attribute));
      return;
    }
    for (const auto& other : rule.targets)
      if (other.attribute == t.attribute && other.node == t.node) {
        error(node_node,
              fmt::format("node {}/{} repeated for label '{}'", attribute, t.node, rule.label));
        return;
      }
    rule.targets.push_back(std::move(t));
  }

  void parse_labels(const YAML::Node& body) {
    if (!body.IsMap()) {
      error(body, "labels must be a mapping of classifier label -> {attribute: node}");
      return;
    }
    std::unordered_multimap<std::string, std::size_t> full, first;
    for (std::size_t i = 0; i < labels.size(); ++i) {
      full.emplace(labels[i], i);
      first.emplace(first_name(labels[i]), i);
    }
    std::unordered_map<std::string, int> key_lines;
    std::unordered_map<std::size_t, std::pair<std::string, int>> class_lines;
    for (const auto& kv : body) {
      if (!kv.first.IsScalar()) {
        error(kv.first, "a label must be a string");
        continue;
      }
      const std::string key = kv.first.Scalar();
      const SourceLocation at = taxonomy::location_of(kv.first);
      if (auto [it, fresh] = key_lines.emplace(key, at.line); !fresh) {
        error(at, fmt::format("label '{}' repeated (first at line {})", key, it->second));
        continue;
      }
      const auto index = resolve_label(kv.first, key, full, first);
      if (!index) continue;
      if (auto [it, fresh] = class_lines.emplace(*index, std::make_pair(key, at.line)); !fresh) {
        error(at, fmt::format("'{}' and '{}' (line {}) name the same class '{}'", key,
                              it->second.first, it->second.second, labels[*index]));
        continue;
      }
      LabelRule rule;
      rule.index = *index;
      rule.label = labels[*index];
      rule.where = at;
      const YAML::Node& value = kv.second;
      if (!value.IsMap() || value.size() == 0) {
        error(value.IsNull() ? kv.first : value,
              fmt::format("label '{}' must map to {{attribute: node, ...}}", key));
        continue;
      }
      double label_weight = default_weight, label_min = default_min_probability;
      if (value["weight"])
        if (auto w = weight(value["weight"])) label_weight = *w;
      if (value["min_probability"])
        if (auto m = min_probability(value["min_probability"])) label_min = *m;
      std::set<std::string> seen;
      for (const auto& target : value) {
        const std::string attribute = target.first.IsScalar() ? target.first.Scalar() : "";
        if (attribute == "weight" || attribute == "min_probability") continue;
        if (!seen.insert(attribute).second) {
          error(target.first,
                fmt::format("attribute '{}' repeated for label '{}'", attribute, key));
          continue;
        }
        const auto* attr = tax.attribute(attribute);
        if (!attr) {
          error(target.first, unknown_attribute(attribute));
          continue;
        }
        parse_targets(attribute, target.second, *attr, label_weight, label_min, rule);
      }
      // On a single-valued attribute the nodes share the class's probability.
      std::map<std::string, double> sums;
      for (const auto& t : rule.targets)
        if (!tax.attribute(t.attribute)->multi()) sums[t.attribute] += t.weight;
      for (const auto& [attribute, sum] : sums)
        if (sum > 1.0 + 1e-9)
          error(at, fmt::format("the weights of '{}' on single-valued attribute '{}' add up to "
                                "{:g}, over 1",
                                key, attribute, sum));
      if (!rule.targets.empty()) map.rules_.push_back(std::move(rule));
    }
  }

  void build_models() {
    std::map<std::string, std::vector<LabelMap::TargetRef>> by_attribute;
    for (std::size_t r = 0; r < map.rules_.size(); ++r)
      for (std::size_t t = 0; t < map.rules_[r].targets.size(); ++t)
        by_attribute[map.rules_[r].targets[t].attribute].push_back({r, t});
    for (const auto& a : tax.attributes()) {
      auto it = by_attribute.find(a.id);
      if (it == by_attribute.end()) continue;
      LabelMap::AttributeModel m;
      m.id = a.id;
      m.multi = a.multi();
      m.specific_share = default_share;
      if (auto o = attribute_options.find(a.id); o != attribute_options.end()) {
        m.unmapped_weight = o->second.first;
        if (o->second.second > 0) m.specific_share = o->second.second;
      }
      std::unordered_map<std::string, std::size_t> index;
      for (const auto& n : a.nodes) {
        index.emplace(n.id, m.nodes.size());
        m.nodes.push_back(n.id);
        m.parent.push_back(n.parent.empty() ? -1 : static_cast<long>(index.at(n.parent)));
      }
      m.targets.resize(m.nodes.size());
      for (const auto& ref : it->second) {
        m.targets[index.at(map.rules_[ref.rule].targets[ref.target].node)].push_back(
            map.target_refs_.size());
        map.target_refs_.push_back(ref);
      }
      map.attributes_.push_back(std::move(m));
    }
  }

  void parse(std::string_view text) {
    if (!check_utf8(text)) return;
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      errors.push_back({e.mark.line + 1, e.mark.column + 1, e.msg});
      return;
    }
    if (!check_map(root, "the label map",
                   {"format", "name", "classifier", "defaults", "attributes", "labels"}))
      return;
    if (!root["format"]) {
      error(SourceLocation{1, 1}, "missing `format: 1`");
    } else if (!root["format"].IsScalar() || root["format"].Scalar() != "1") {
      error(root["format"], "unsupported format (this tagsmith reads format 1)");
    }
    if (root["name"] && root["name"].IsScalar()) map.name_ = root["name"].Scalar();
    if (root["classifier"]) {
      if (root["classifier"].IsScalar())
        map.classifier_ = root["classifier"].Scalar();
      else
        error(root["classifier"], "classifier must be a name, e.g. ImageNet");
    }
    if (root["defaults"]) parse_defaults(root["defaults"]);
    if (root["attributes"]) parse_attribute_options(root["attributes"]);
    if (!root["labels"]) {
      error(SourceLocation{1, 1}, "missing `labels:` (classifier label -> {attribute: node})");
      return;
    }
    parse_labels(root["labels"]);
  }
};

LabelMap LabelMap::load(std::string_view yaml_text, std::string_view source_name,
                        std::span<const std::string> labels, const taxonomy::Taxonomy& tax) {
  LabelMapBuilder b(source_name, labels, tax);
  b.map.classifier_ = "classifier";
  b.map.classes_ = labels.size();
  b.map.version_ = sha256_hex(yaml_text);
  if (labels.empty()) b.errors.push_back({0, 0, "the classifier's label list is empty"});
  b.parse(yaml_text);
  if (!b.errors.empty()) {
    std::stable_sort(b.errors.begin(), b.errors.end(),
                     [](const Diagnostic& x, const Diagnostic& y) {
                       return std::tie(x.line, x.column) < std::tie(y.line, y.column);
                     });
    throw taxonomy::ValidationError(b.source, std::move(b.errors));
  }
  b.build_models();
  return std::move(b.map);
}

std::string_view LabelMap::builtin_imagenet_yaml() {
  return embedded::imagenet_map_yaml();
}

std::vector<std::string> LabelMap::parse_label_list(std::string_view text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    out.emplace_back(line);
    start = end + 1;
  }
  return out;
}

std::string LabelMap::default_source() const {
  return "labels:" + version_.substr(0, 12);
}

std::vector<ScoreSet> LabelMap::scores(std::span<const float> probabilities,
                                       const std::string& source) const {
  if (probabilities.size() != classes_)
    throw InputError(fmt::format("the label map expects {} class probabilities, got {}", classes_,
                                 probabilities.size()));
  double total = 0;
  for (float p : probabilities)
    if (p > 0) total += p;
  std::vector<ScoreSet> out;
  if (total <= 0) return out;

  struct Contribution {
    std::size_t rule;
    double probability, weight, amount;
    std::size_t node;  // where the target points (the node itself or a descendant)
  };
  for (const auto& a : attributes_) {
    const std::size_t n = a.nodes.size();
    std::vector<double> direct(n, 0.0);
    std::vector<std::vector<Contribution>> evidence(n);
    double mapped = 0;
    for (std::size_t i = 0; i < n; ++i) {
      for (std::size_t ref : a.targets[i]) {
        const auto& [r, t] = target_refs_[ref];
        const LabelTarget& target = rules_[r].targets[t];
        const double p = probabilities[rules_[r].index];
        if (!(p > 0) || p < target.min_probability) continue;
        const double amount = target.weight * p;
        direct[i] += amount;
        evidence[i].push_back({r, p, target.weight, amount, i});
      }
      mapped += direct[i];
    }
    if (mapped <= 0) continue;
    // Subtrees: nodes are in pre-order, so children come after their parent.
    std::vector<double> subtree = direct;
    std::vector<double> best_child(n, 0.0);
    for (std::size_t i = n; i-- > 0;) {
      if (a.parent[i] < 0) continue;
      const auto p = static_cast<std::size_t>(a.parent[i]);
      subtree[p] += subtree[i];
      best_child[p] = std::max(best_child[p], subtree[i]);
      evidence[p].insert(evidence[p].end(), evidence[i].begin(), evidence[i].end());
    }
    const double denominator =
        a.multi ? 1.0 : mapped + a.unmapped_weight * std::max(0.0, total - mapped);
    if (denominator <= 0) continue;

    ScoreSet set;
    set.source = source.empty() ? default_source() : source;
    set.attribute = a.id;
    set.evidence = {{"method", "label-map"},
                    {"classifier", classifier_},
                    {"label_map", version_.substr(0, 12)},
                    {"mapped", mapped / total}};
    for (std::size_t i = 0; i < n; ++i) {
      if (subtree[i] <= 0) continue;
      // A child holding most of the evidence is the tag; the parent follows
      // from the hierarchy in the engine.
      if (best_child[i] > 0 && best_child[i] >= a.specific_share * subtree[i]) continue;
      auto& ev = evidence[i];
      std::stable_sort(ev.begin(), ev.end(), [](const Contribution& x, const Contribution& y) {
        return x.amount > y.amount;
      });
      nlohmann::json classes = nlohmann::json::array();
      for (std::size_t k = 0; k < ev.size() && k < kEvidenceLabels; ++k) {
        nlohmann::json c = {{"label", rules_[ev[k].rule].label},
                            {"probability", ev[k].probability},
                            {"weight", ev[k].weight}};
        if (ev[k].node != i) c["node"] = a.nodes[ev[k].node];
        classes.push_back(std::move(c));
      }
      NodeScore s;
      s.node = a.nodes[i];
      s.score = std::clamp(subtree[i] / denominator, 0.0, 1.0);
      s.evidence = {
          {"method", "label-map"}, {"classifier", classifier_}, {"labels", std::move(classes)}};
      if (ev.size() > kEvidenceLabels) s.evidence["more_labels"] = ev.size() - kEvidenceLabels;
      set.scores.push_back(std::move(s));
    }
    if (!set.scores.empty()) out.push_back(std::move(set));
  }
  return out;
}

}  // namespace tagsmith::tagging
