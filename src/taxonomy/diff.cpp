#include "tagsmith/taxonomy/diff.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

namespace tagsmith::taxonomy {

bool TaxonomyDiff::empty() const {
  return attributes_added.empty() && attributes_removed.empty() && added.empty() &&
         removed.empty() && renamed.empty() && moved.empty() && thresholds.empty() &&
         synonyms.empty() && attributes_changed.empty() && rules.empty();
}

namespace {

std::string cardinality(const Attribute& a) {
  return a.multi() ? "multi" : "single";
}

std::string refs(const std::vector<NodeRef>& rs) {
  std::string s;
  for (const auto& r : rs) s += (s.empty() ? "" : ", ") + r.str();
  return s;
}

void compare_threshold(TaxonomyDiff& d, const std::string& attr, const std::string& node,
                       const char* which, std::optional<double> x, std::optional<double> y) {
  if (x != y) d.thresholds.push_back({attr, node, which, x, y});
}

std::string fmt_opt(const std::optional<double>& v) {
  return v ? fmt::format("{}", *v) : "-";
}

}  // namespace

TaxonomyDiff diff(const Taxonomy& a, const Taxonomy& b) {
  TaxonomyDiff d;
  for (const auto& aa : a.attributes()) {
    const Attribute* ba = b.attribute(aa.id);
    if (!ba) {
      d.attributes_removed.push_back(aa.id);
      for (const auto& n : aa.nodes) d.removed.push_back({aa.id, n.id});
      continue;
    }
    if (aa.cardinality != ba->cardinality)
      d.attributes_changed.push_back({aa.id, "kind", cardinality(aa), cardinality(*ba)});
    if (aa.applies_to != ba->applies_to)
      d.attributes_changed.push_back(
          {aa.id, "applies_to", refs(aa.applies_to), refs(ba->applies_to)});
    if (aa.source != ba->source || aa.palette_level != ba->palette_level)
      d.attributes_changed.push_back({aa.id, "source", aa.source + " " + aa.palette_level,
                                      ba->source + " " + ba->palette_level});
    compare_threshold(d, aa.id, "", "auto", aa.thresholds.auto_apply, ba->thresholds.auto_apply);
    compare_threshold(d, aa.id, "", "flag", aa.thresholds.flag, ba->thresholds.flag);
    compare_threshold(d, aa.id, "", "suggest", aa.thresholds.suggest, ba->thresholds.suggest);

    for (const auto& an : aa.nodes) {
      const Node* bn = ba->node(an.id);
      if (!bn) {
        d.removed.push_back({aa.id, an.id});
        continue;
      }
      NodeRef ref{aa.id, an.id};
      std::set<std::string> langs;
      for (const auto& [l, _] : an.labels) langs.insert(l);
      for (const auto& [l, _] : bn->labels) langs.insert(l);
      for (const auto& l : langs) {
        auto x = an.labels.count(l) ? an.labels.at(l) : "";
        auto y = bn->labels.count(l) ? bn->labels.at(l) : "";
        if (x != y) d.renamed.push_back({ref, l, x, y});
      }
      if (an.parent != bn->parent) d.moved.push_back({ref, an.parent, bn->parent});
      compare_threshold(d, aa.id, an.id, "auto", an.thresholds.auto_apply,
                        bn->thresholds.auto_apply);
      compare_threshold(d, aa.id, an.id, "flag", an.thresholds.flag, bn->thresholds.flag);
      compare_threshold(d, aa.id, an.id, "suggest", an.thresholds.suggest, bn->thresholds.suggest);
      SynonymChange sc{ref, {}, {}};
      for (const auto& s : bn->synonyms)
        if (std::find(an.synonyms.begin(), an.synonyms.end(), s) == an.synonyms.end())
          sc.added.push_back(s);
      for (const auto& s : an.synonyms)
        if (std::find(bn->synonyms.begin(), bn->synonyms.end(), s) == bn->synonyms.end())
          sc.removed.push_back(s);
      if (!sc.added.empty() || !sc.removed.empty()) d.synonyms.push_back(std::move(sc));
    }
    for (const auto& bn : ba->nodes)
      if (!aa.node(bn.id)) d.added.push_back({aa.id, bn.id});
  }
  for (const auto& ba : b.attributes()) {
    if (a.attribute(ba.id)) continue;
    d.attributes_added.push_back(ba.id);
    for (const auto& n : ba.nodes) d.added.push_back({ba.id, n.id});
  }

  auto find_rule = [](const Taxonomy& t, const std::string& id) -> const Rule* {
    for (const auto& r : t.rules())
      if (r.id == id) return &r;
    return nullptr;
  };
  for (const auto& r : a.rules()) {
    const Rule* other = find_rule(b, r.id);
    std::string after = other ? other->describe() : "";
    if (!other || after != r.describe()) d.rules.push_back({r.id, r.describe(), after});
  }
  for (const auto& r : b.rules())
    if (!find_rule(a, r.id)) d.rules.push_back({r.id, "", r.describe()});
  return d;
}

std::string render_text(const TaxonomyDiff& d) {
  if (d.empty()) return "no differences\n";
  std::string out;
  auto line = [&out](std::string s) { out += s + '\n'; };
  for (const auto& a : d.attributes_added) line("+ attribute " + a);
  for (const auto& a : d.attributes_removed) line("- attribute " + a);
  for (const auto& c : d.attributes_changed)
    line(fmt::format("~ attribute {}: {} {} -> {}", c.attribute, c.field, c.before, c.after));
  for (const auto& n : d.added) line("+ " + n.str());
  for (const auto& n : d.removed) line("- " + n.str());
  for (const auto& r : d.renamed)
    line(fmt::format("~ {} renamed ({}): \"{}\" -> \"{}\"", r.node.str(), r.language, r.before,
                     r.after));
  for (const auto& m : d.moved)
    line(fmt::format("~ {} moved: {} -> {}", m.node.str(), m.before.empty() ? "(root)" : m.before,
                     m.after.empty() ? "(root)" : m.after));
  for (const auto& t : d.thresholds)
    line(fmt::format("~ {}{} {} threshold: {} -> {}", t.attribute,
                     t.node.empty() ? "" : "/" + t.node, t.which, fmt_opt(t.before),
                     fmt_opt(t.after)));
  for (const auto& s : d.synonyms) {
    std::string parts;
    for (const auto& x : s.added) parts += " +\"" + x + "\"";
    for (const auto& x : s.removed) parts += " -\"" + x + "\"";
    line(fmt::format("~ {} synonyms:{}", s.node.str(), parts));
  }
  for (const auto& r : d.rules) {
    if (r.before.empty())
      line(fmt::format("+ rule {}: {}", r.id, r.after));
    else if (r.after.empty())
      line(fmt::format("- rule {}: {}", r.id, r.before));
    else
      line(fmt::format("~ rule {}: {} => {}", r.id, r.before, r.after));
  }
  return out;
}

nlohmann::json to_json(const TaxonomyDiff& d) {
  using nlohmann::json;
  auto opt = [](const std::optional<double>& v) { return v ? json(*v) : json(nullptr); };
  json j;
  j["attributes_added"] = d.attributes_added;
  j["attributes_removed"] = d.attributes_removed;
  j["attributes_changed"] = json::array();
  for (const auto& c : d.attributes_changed)
    j["attributes_changed"].push_back(
        {{"attribute", c.attribute}, {"field", c.field}, {"before", c.before}, {"after", c.after}});
  j["added"] = json::array();
  for (const auto& n : d.added) j["added"].push_back(n.str());
  j["removed"] = json::array();
  for (const auto& n : d.removed) j["removed"].push_back(n.str());
  j["renamed"] = json::array();
  for (const auto& r : d.renamed)
    j["renamed"].push_back({{"node", r.node.str()},
                            {"language", r.language},
                            {"before", r.before},
                            {"after", r.after}});
  j["moved"] = json::array();
  for (const auto& m : d.moved)
    j["moved"].push_back({{"node", m.node.str()},
                          {"before", m.before.empty() ? json(nullptr) : json(m.before)},
                          {"after", m.after.empty() ? json(nullptr) : json(m.after)}});
  j["thresholds"] = json::array();
  for (const auto& t : d.thresholds)
    j["thresholds"].push_back({{"attribute", t.attribute},
                               {"node", t.node.empty() ? json(nullptr) : json(t.node)},
                               {"which", t.which},
                               {"before", opt(t.before)},
                               {"after", opt(t.after)}});
  j["synonyms"] = json::array();
  for (const auto& s : d.synonyms)
    j["synonyms"].push_back({{"node", s.node.str()}, {"added", s.added}, {"removed", s.removed}});
  j["rules"] = json::array();
  for (const auto& r : d.rules)
    j["rules"].push_back({{"id", r.id},
                          {"before", r.before.empty() ? json(nullptr) : json(r.before)},
                          {"after", r.after.empty() ? json(nullptr) : json(r.after)}});
  return j;
}

}  // namespace tagsmith::taxonomy
