// The taxonomy's YAML format: parsing and validating a file into the model
// (taxonomy.h). Builder reads the document into raw attributes and nodes with
// their source locations, then builds trees, resolves references, checks
// thresholds and rules, and collects every problem as a Diagnostic before
// giving up, so one run reports all mistakes in a file.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <set>

#include "tagsmith/common/files.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/taxonomy/text.h"
#include "tagsmith/taxonomy/validation.h"
#include "tagsmith/taxonomy/yaml_diagnostics.h"

namespace tagsmith::embedded {
std::string_view taxonomy_yaml();
}

namespace tagsmith::taxonomy {

namespace {

bool valid_id(std::string_view id) {
  if (id.empty()) return false;
  for (unsigned char c : id)
    if (c == '/' || c <= ' ' || c == ':' || c == '|') return false;
  return true;
}

struct RawNode {
  Node node;
  bool explicit_parent = false;
  SourceLocation parent_loc;
  SourceLocation thresholds_loc;
  std::vector<SourceLocation> synonym_locs;
  std::vector<std::vector<SourceLocation>> implies_locs;  // parallel to node.implies order
  std::vector<std::pair<std::string, SourceLocation>> implies_attr_locs;
};

struct RawAttribute {
  Attribute attr;
  std::vector<RawNode> raw;
  std::vector<SourceLocation> applies_locs;
  std::vector<std::string> applies_raw;
  SourceLocation source_loc;
  SourceLocation thresholds_loc;
  std::string prompt_template;
};

}  // namespace

struct Builder : YamlDiagnostics {
  std::string source;
  Taxonomy tax;
  std::vector<RawAttribute> attrs;
  Thresholds default_thresholds;
  std::string default_prompt = "a product photo of {label}";
  const image::Palette* palette = nullptr;
  std::optional<image::Palette> builtin_palette;

  std::optional<std::string> scalar(const YAML::Node& n, std::string_view what) {
    if (!n.IsScalar()) {
      error(n, fmt::format("{} must be a scalar, found {}", what, kind_name(n)));
      return std::nullopt;
    }
    return n.Scalar();
  }

  std::optional<std::string> id_of(const YAML::Node& n, std::string_view what) {
    auto s = scalar(n, what);
    if (s && !valid_id(*s)) {
      error(n, fmt::format("{} '{}' is not a valid id (no spaces, '/', ':' or '|')", what, *s));
      return std::nullopt;
    }
    return s;
  }

  // A scalar or a list of scalars.
  std::vector<std::pair<std::string, SourceLocation>> scalars(const YAML::Node& n,
                                                              std::string_view what) {
    std::vector<std::pair<std::string, SourceLocation>> out;
    if (n.IsScalar()) {
      out.emplace_back(n.Scalar(), location_of(n));
    } else if (n.IsSequence()) {
      for (const auto& item : n)
        if (auto s = scalar(item, what)) out.emplace_back(*s, location_of(item));
    } else {
      error(n, fmt::format("{} must be a scalar or a list, found {}", what, kind_name(n)));
    }
    return out;
  }

  std::optional<double> number(const YAML::Node& n, std::string_view what) {
    try {
      if (n.IsScalar()) {
        double v = n.as<double>();
        if (!(v >= 0.0 && v <= 1.0)) {
          error(n, fmt::format("{} must lie in [0, 1], found {}", what, n.Scalar()));
          return std::nullopt;
        }
        return v;
      }
    } catch (const YAML::BadConversion&) {
    }
    error(n, fmt::format("{} must be a number in [0, 1]", what));
    return std::nullopt;
  }

  ThresholdOverride thresholds(const YAML::Node& n, std::string_view what) {
    ThresholdOverride t;
    if (!check_map(n, what, {"auto", "flag", "suggest"})) return t;
    if (n["auto"]) t.auto_apply = number(n["auto"], "auto threshold");
    if (n["flag"]) t.flag = number(n["flag"], "flag threshold");
    if (n["suggest"]) t.suggest = number(n["suggest"], "suggest threshold");
    return t;
  }

  void check_order(const Thresholds& t, SourceLocation at, std::string_view what) {
    if (t.flag > t.auto_apply)
      error(at, fmt::format("{}: flag threshold {} is above auto threshold {}", what, t.flag,
                            t.auto_apply));
    if (t.suggest > t.flag)
      error(at, fmt::format("{}: suggest threshold {} is above flag threshold {}", what, t.suggest,
                            t.flag));
  }

  std::map<std::string, std::string> labels(const YAML::Node& n, std::string_view what) {
    std::map<std::string, std::string> out;
    if (!n.IsMap()) {
      error(n, fmt::format("{} must map languages to labels, found {}", what, kind_name(n)));
      return out;
    }
    for (const auto& kv : n) {
      auto lang = scalar(kv.first, "language code");
      auto text = scalar(kv.second, "label");
      if (!lang || !text) continue;
      if (text->empty()) error(kv.second, fmt::format("empty '{}' label", *lang));
      if (!out.emplace(*lang, *text).second)
        error(kv.first, fmt::format("language '{}' repeated in {}", *lang, what));
    }
    return out;
  }

  void parse_node(RawAttribute& ra, const YAML::Node& n, const std::string& nested_parent) {
    if (!check_map(n, "a node",
                   {"id", "labels", "synonyms", "prompts", "thresholds", "implies", "parent",
                    "children", "description"}))
      return;
    RawNode raw;
    Node& node = raw.node;
    node.where = location_of(n);
    if (!n["id"]) {
      error(n, "node has no 'id'");
      return;
    }
    auto id = id_of(n["id"], "node id");
    if (!id) return;
    node.id = *id;
    node.where = location_of(n["id"]);
    node.parent = nested_parent;
    if (n["parent"]) {
      raw.parent_loc = location_of(n["parent"]);
      if (!nested_parent.empty()) {
        error(n["parent"], fmt::format("node '{}' is nested under '{}' and also names parent:",
                                       node.id, nested_parent));
      } else if (auto p = id_of(n["parent"], "parent")) {
        node.parent = *p;
        raw.explicit_parent = true;
      }
    }
    if (n["labels"]) node.labels = labels(n["labels"], "labels");
    if (n["synonyms"])
      for (auto& [s, at] : scalars(n["synonyms"], "synonym")) {
        node.synonyms.push_back(s);
        raw.synonym_locs.push_back(at);
      }
    if (n["prompts"])
      for (auto& [s, at] : scalars(n["prompts"], "prompt")) node.prompts.push_back(s);
    if (n["thresholds"]) {
      node.thresholds = thresholds(n["thresholds"], "node thresholds");
      raw.thresholds_loc = location_of(n["thresholds"]);
    }
    if (n["implies"]) {
      const YAML::Node& imp = n["implies"];
      if (!imp.IsMap()) {
        error(imp, "implies must map attributes to node ids");
      } else {
        for (const auto& kv : imp) {
          auto attr = scalar(kv.first, "attribute");
          if (!attr) continue;
          raw.implies_attr_locs.emplace_back(*attr, location_of(kv.first));
          std::vector<SourceLocation> locs;
          for (auto& [s, at] : scalars(kv.second, "implied node")) {
            node.implies[*attr].push_back(s);
            locs.push_back(at);
          }
          raw.implies_locs.push_back(std::move(locs));
        }
      }
    }
    std::string my_id = node.id;
    ra.raw.push_back(std::move(raw));
    if (n["children"]) {
      const YAML::Node& ch = n["children"];
      if (!ch.IsSequence())
        error(ch, fmt::format("children must be a list, found {}", kind_name(ch)));
      else
        for (const auto& c : ch) parse_node(ra, c, my_id);
    }
  }

  void parse_attribute(const YAML::Node& n) {
    if (!check_map(n, "an attribute",
                   {"id", "kind", "labels", "source", "palette", "applies_to", "thresholds",
                    "prompt", "nodes", "description"}))
      return;
    RawAttribute ra;
    Attribute& a = ra.attr;
    a.where = location_of(n);
    if (!n["id"]) {
      error(n, "attribute has no 'id'");
      return;
    }
    auto id = id_of(n["id"], "attribute id");
    if (!id) return;
    a.id = *id;
    a.where = location_of(n["id"]);
    for (const auto& other : attrs)
      if (other.attr.id == a.id) {
        error(n["id"], fmt::format("duplicate attribute id '{}' (first defined at line {})", a.id,
                                   other.attr.where.line));
        return;
      }
    if (n["kind"]) {
      auto k = scalar(n["kind"], "kind");
      if (k == "single")
        a.cardinality = Cardinality::kSingle;
      else if (k == "multi")
        a.cardinality = Cardinality::kMulti;
      else if (k)
        error(n["kind"], fmt::format("kind must be 'single' or 'multi', found '{}'", *k));
    }
    if (n["labels"]) a.labels = labels(n["labels"], "labels");
    a.thresholds = default_thresholds;
    if (n["thresholds"]) {
      ra.thresholds_loc = location_of(n["thresholds"]);
      auto o = thresholds(n["thresholds"], "attribute thresholds");
      if (o.auto_apply) a.thresholds.auto_apply = *o.auto_apply;
      if (o.flag) a.thresholds.flag = *o.flag;
      if (o.suggest) a.thresholds.suggest = *o.suggest;
      check_order(a.thresholds, ra.thresholds_loc, "attribute '" + a.id + "'");
    }
    ra.prompt_template = default_prompt;
    if (n["prompt"])
      if (auto p = scalar(n["prompt"], "prompt template")) ra.prompt_template = *p;
    if (n["applies_to"])
      for (auto& [s, at] : scalars(n["applies_to"], "applies_to entry")) {
        ra.applies_raw.push_back(s);
        ra.applies_locs.push_back(at);
      }
    if (n["source"]) {
      ra.source_loc = location_of(n["source"]);
      auto s = scalar(n["source"], "source");
      if (s && *s != "palette")
        error(n["source"], fmt::format("source must be 'palette', found '{}'", *s));
      else if (s)
        a.source = *s;
      if (a.source == "palette") {
        if (!n["palette"]) {
          error(n["source"], "source: palette needs palette: families or palette: shades");
        } else if (auto level = scalar(n["palette"], "palette")) {
          if (*level != "families" && *level != "shades")
            error(n["palette"],
                  fmt::format("palette must be 'families' or 'shades', found '{}'", *level));
          else
            a.palette_level = *level;
        }
        if (n["nodes"])
          error(n["nodes"], fmt::format("attribute '{}' takes its nodes from the palette; edit "
                                        "the palette instead of listing nodes",
                                        a.id));
      }
    } else if (n["palette"]) {
      error(n["palette"], "palette: is only allowed together with source: palette");
    }
    if (n["nodes"] && a.source.empty()) {
      const YAML::Node& ns = n["nodes"];
      if (!ns.IsSequence())
        error(ns, fmt::format("nodes must be a list, found {}", kind_name(ns)));
      else
        for (const auto& c : ns) parse_node(ra, c, "");
    }
    attrs.push_back(std::move(ra));
  }

  const image::Palette& the_palette() {
    if (palette) return *palette;
    if (!builtin_palette) builtin_palette = image::Palette::builtin();
    return *builtin_palette;
  }

  void generate_palette_nodes() {
    std::string family_attr;
    for (auto& ra : attrs)
      if (ra.attr.palette_level == "families") family_attr = ra.attr.id;
    for (auto& ra : attrs) {
      if (ra.attr.palette_level.empty()) continue;
      const image::Palette& p = the_palette();
      auto add = [&](const std::string& id, const std::string& en, const std::string& zh,
                     const std::string& family) {
        RawNode raw;
        raw.node.id = id;
        if (!en.empty()) raw.node.labels["en"] = en;
        if (!zh.empty()) raw.node.labels["zh"] = zh;
        raw.node.family = family;
        if (!family.empty() && !family_attr.empty()) {
          raw.node.implies[family_attr].push_back(family);
          raw.implies_attr_locs.emplace_back(family_attr, ra.source_loc);
          raw.implies_locs.push_back({ra.source_loc});
        }
        raw.node.where = ra.source_loc;
        ra.raw.push_back(std::move(raw));
      };
      if (ra.attr.palette_level == "families")
        for (const auto& f : p.families()) add(f.id, f.name, f.name_zh, "");
      else
        for (const auto& s : p.shades()) add(s.id, s.name, s.name_zh, s.family);
    }
  }

  // Orders nodes parents-first, rejects duplicates, unknown parents and cycles.
  void build_tree(RawAttribute& ra) {
    Attribute& a = ra.attr;
    std::unordered_map<std::string, std::size_t> first;
    std::vector<bool> keep(ra.raw.size(), true);
    for (std::size_t i = 0; i < ra.raw.size(); ++i) {
      const Node& n = ra.raw[i].node;
      auto [it, fresh] = first.emplace(n.id, i);
      if (!fresh) {
        error(n.where, fmt::format("duplicate node id '{}' in attribute '{}' (first defined at "
                                   "line {}, column {})",
                                   n.id, a.id, ra.raw[it->second].node.where.line,
                                   ra.raw[it->second].node.where.column));
        keep[i] = false;
      }
    }
    for (std::size_t i = 0; i < ra.raw.size(); ++i) {
      if (!keep[i]) continue;
      Node& n = ra.raw[i].node;
      if (!n.parent.empty() && !first.count(n.parent)) {
        error(ra.raw[i].parent_loc,
              fmt::format("parent '{}' of node '{}' is not a node of attribute '{}'", n.parent,
                          n.id, a.id));
        n.parent.clear();  // keep checking the rest as if it were a root
      }
    }
    // Cycle detection: walk up from each node; a walk longer than the node
    // count, or one that revisits a node, is a cycle. Report each cycle once,
    // at the parent: key of its first member in file order.
    std::set<std::string> in_reported_cycle;
    for (std::size_t i = 0; i < ra.raw.size(); ++i) {
      if (!keep[i] || in_reported_cycle.count(ra.raw[i].node.id)) continue;
      std::vector<std::string> path{ra.raw[i].node.id};
      std::string cur = ra.raw[i].node.parent;
      bool cycle = false;
      while (!cur.empty() && path.size() <= ra.raw.size()) {
        if (cur == path.front()) {
          cycle = true;
          break;
        }
        if (std::find(path.begin(), path.end(), cur) != path.end()) break;  // cycle above us
        path.push_back(cur);
        cur = ra.raw[first[cur]].node.parent;
      }
      if (cycle) {
        std::string chain;
        for (const auto& p : path) chain += p + " -> ";
        chain += path.front();
        error(ra.raw[i].parent_loc,
              fmt::format("cycle in parent links of attribute '{}': {}", a.id, chain));
        for (const auto& p : path) in_reported_cycle.insert(p);
      }
    }
    for (std::size_t i = 0; i < ra.raw.size(); ++i)
      if (in_reported_cycle.count(ra.raw[i].node.id)) keep[i] = false;

    // Pre-order walk from the roots, children in file order.
    std::unordered_map<std::string, std::vector<std::size_t>> kids;
    std::vector<std::size_t> roots;
    for (std::size_t i = 0; i < ra.raw.size(); ++i) {
      if (!keep[i]) continue;
      if (ra.raw[i].node.parent.empty())
        roots.push_back(i);
      else
        kids[ra.raw[i].node.parent].push_back(i);
    }
    std::vector<RawNode> ordered;
    std::function<void(std::size_t, int)> visit = [&](std::size_t i, int depth) {
      RawNode r = ra.raw[i];
      r.node.depth = depth;
      r.node.children.clear();
      for (std::size_t k : kids[r.node.id]) r.node.children.push_back(ra.raw[k].node.id);
      ordered.push_back(std::move(r));
      for (std::size_t k : kids[ra.raw[i].node.id]) visit(k, depth + 1);
    };
    for (std::size_t r : roots) visit(r, 0);
    ra.raw = std::move(ordered);
    for (std::size_t i = 0; i < ra.raw.size(); ++i) a.index_[ra.raw[i].node.id] = i;
  }

  const Attribute* find_attr(std::string_view id) const {
    for (const auto& ra : attrs)
      if (ra.attr.id == id) return &ra.attr;
    return nullptr;
  }

  bool known(std::string_view attr, std::string_view node) const {
    const Attribute* a = find_attr(attr);
    return a && a->index_.count(std::string(node));
  }

  std::optional<NodeRef> ref(const std::string& text, SourceLocation at,
                             std::string_view default_attr, std::string_view what) {
    NodeRef r;
    if (auto slash = text.find('/'); slash != std::string::npos) {
      r.attribute = text.substr(0, slash);
      r.node = text.substr(slash + 1);
    } else {
      r.attribute = default_attr;
      r.node = text;
    }
    if (!find_attr(r.attribute)) {
      error(at, fmt::format("{} '{}' names unknown attribute '{}'", what, text, r.attribute));
      return std::nullopt;
    }
    if (!known(r.attribute, r.node)) {
      error(at, fmt::format("{} '{}' names unknown node '{}' of attribute '{}'", what, text, r.node,
                            r.attribute));
      return std::nullopt;
    }
    return r;
  }

  void resolve_references() {
    for (auto& ra : attrs) {
      Attribute& a = ra.attr;
      for (std::size_t i = 0; i < ra.applies_raw.size(); ++i)
        if (auto r = ref(ra.applies_raw[i], ra.applies_locs[i], "category", "applies_to entry"))
          a.applies_to.push_back(*r);
      for (auto& raw : ra.raw) {
        Node& n = raw.node;
        std::size_t k = 0;
        for (const auto& [attr, at] : raw.implies_attr_locs) {
          const auto& locs = raw.implies_locs[k++];
          if (!find_attr(attr)) {
            error(at, fmt::format("node '{}' implies unknown attribute '{}'", n.id, attr));
            n.implies.erase(attr);
            continue;
          }
          if (attr == a.id) {
            error(at, fmt::format("node '{}' implies its own attribute '{}'; use parent: for "
                                  "hierarchy",
                                  n.id, attr));
            n.implies.erase(attr);
            continue;
          }
          auto& targets = n.implies[attr];
          std::vector<std::string> good;
          for (std::size_t j = 0; j < targets.size(); ++j) {
            if (known(attr, targets[j]))
              good.push_back(targets[j]);
            else
              error(j < locs.size() ? locs[j] : at,
                    fmt::format("node '{}' implies unknown node '{}' of attribute '{}'", n.id,
                                targets[j], attr));
          }
          if (good.size() > 1 && !find_attr(attr)->multi())
            error(at, fmt::format("node '{}' implies {} nodes of single-valued attribute '{}'",
                                  n.id, good.size(), attr));
          targets = std::move(good);
          if (targets.empty()) n.implies.erase(attr);
        }
      }
    }
  }

  void check_nodes() {
    for (auto& ra : attrs) {
      Attribute& a = ra.attr;
      // Names (ids and labels) and synonyms, normalised, per attribute.
      std::unordered_multimap<std::string, std::size_t> names;
      std::unordered_map<std::string, std::size_t> synonym_owner;
      for (std::size_t i = 0; i < ra.raw.size(); ++i) {
        const Node& n = ra.raw[i].node;
        names.emplace(normalise_text(n.id), i);
        for (const auto& [lang, l] : n.labels) names.emplace(normalise_text(l), i);
      }
      for (std::size_t i = 0; i < ra.raw.size(); ++i) {
        RawNode& raw = ra.raw[i];
        Node& n = raw.node;
        for (std::size_t s = 0; s < n.synonyms.size(); ++s) {
          std::string key = normalise_text(n.synonyms[s]);
          SourceLocation at = s < raw.synonym_locs.size() ? raw.synonym_locs[s] : n.where;
          if (key.empty()) {
            error(at, fmt::format("empty synonym on node '{}'", n.id));
            continue;
          }
          auto [it, fresh] = synonym_owner.emplace(key, i);
          if (!fresh && it->second != i) {
            const Node& other = ra.raw[it->second].node;
            error(at, fmt::format("synonym '{}' of {}/{} is already claimed by {}/{} (line {})",
                                  n.synonyms[s], a.id, n.id, a.id, other.id, other.where.line));
            continue;
          }
          auto [lo, hi] = names.equal_range(key);
          for (auto nit = lo; nit != hi; ++nit)
            if (nit->second != i) {
              const Node& other = ra.raw[nit->second].node;
              error(at, fmt::format("synonym '{}' of {}/{} is the name of {}/{} (line {})",
                                    n.synonyms[s], a.id, n.id, a.id, other.id, other.where.line));
              break;
            }
        }
        for (const auto& lang : tax.languages_)
          if (!n.labels.count(lang))
            error(n.where, fmt::format("node {}/{} has no '{}' label", a.id, n.id, lang));
        if (!n.thresholds.empty()) {
          Thresholds t = a.thresholds;
          if (n.thresholds.auto_apply) t.auto_apply = *n.thresholds.auto_apply;
          if (n.thresholds.flag) t.flag = *n.thresholds.flag;
          if (n.thresholds.suggest) t.suggest = *n.thresholds.suggest;
          check_order(t, raw.thresholds_loc, "node " + a.id + "/" + n.id);
        }
        if (n.prompts.empty()) {
          std::string p = ra.prompt_template;
          std::string label = n.label("en");
          for (std::size_t pos; (pos = p.find("{label}")) != std::string::npos;)
            p.replace(pos, 7, label);
          n.prompts.push_back(p);
        }
      }
    }
  }

  std::vector<Condition> conditions(const YAML::Node& n, std::string_view what,
                                    bool single_for_single) {
    std::vector<Condition> out;
    if (!n.IsMap()) {
      error(n, fmt::format("{} must map attributes to node ids, found {}", what, kind_name(n)));
      return out;
    }
    for (const auto& kv : n) {
      auto attr = scalar(kv.first, "attribute");
      if (!attr) continue;
      const Attribute* a = find_attr(*attr);
      if (!a) {
        error(kv.first, fmt::format("{} names unknown attribute '{}'", what, *attr));
        continue;
      }
      Condition c{*attr, {}};
      for (auto& [id, at] : scalars(kv.second, "node id")) {
        if (!known(*attr, id))
          error(at, fmt::format("{} names unknown node '{}' of attribute '{}'", what, id, *attr));
        else
          c.nodes.push_back(id);
      }
      if (single_for_single && !a->multi() && c.nodes.size() > 1)
        error(kv.second, fmt::format("{} sets {} nodes of single-valued attribute '{}'", what,
                                     c.nodes.size(), *attr));
      if (!c.nodes.empty()) out.push_back(std::move(c));
    }
    return out;
  }

  void parse_rules(const YAML::Node& n) {
    if (!n.IsSequence()) {
      error(n, fmt::format("rules must be a list, found {}", kind_name(n)));
      return;
    }
    for (const auto& r : n) {
      if (!check_map(r, "a rule", {"id", "when", "then", "ignore", "description"})) continue;
      Rule rule;
      rule.where = location_of(r);
      if (!r["id"]) {
        error(r, "rule has no 'id'");
        continue;
      }
      auto id = id_of(r["id"], "rule id");
      if (!id) continue;
      rule.id = *id;
      rule.where = location_of(r["id"]);
      bool dup = false;
      for (const auto& other : tax.rules_)
        if (other.id == rule.id) {
          error(r["id"], fmt::format("duplicate rule id '{}' (first defined at line {})", rule.id,
                                     other.where.line));
          dup = true;
        }
      if (r["when"]) rule.when = conditions(r["when"], "rule '" + rule.id + "' when:", false);
      if (r["then"] && r["ignore"]) {
        error(r["ignore"], fmt::format("rule '{}' has both then: and ignore:", rule.id));
        continue;
      }
      if (r["then"]) {
        rule.then = conditions(r["then"], "rule '" + rule.id + "' then:", true);
        if (!r["when"]) error(r["then"], fmt::format("mapping rule '{}' needs when:", rule.id));
      } else if (r["ignore"]) {
        for (auto& [text, at] : scalars(r["ignore"], "ignore entry")) {
          if (text.find('/') == std::string::npos) {
            if (find_attr(text))
              rule.ignore.push_back({text, ""});
            else
              error(at, fmt::format("rule '{}' ignores unknown attribute '{}'", rule.id, text));
          } else if (auto nr = ref(text, at, "", "rule '" + rule.id + "' ignore entry")) {
            rule.ignore.push_back(*nr);
          }
        }
      } else {
        error(r, fmt::format("rule '{}' needs then: or ignore:", rule.id));
        continue;
      }
      if (!dup) tax.rules_.push_back(std::move(rule));
    }
  }

  void compute_order() {
    const std::size_t n = tax.attributes_.size();
    std::vector<std::set<std::size_t>> deps(n);  // deps[a] = attributes a must follow
    auto idx = [&](const std::string& id) { return *tax.attribute_index(id); };
    for (std::size_t i = 0; i < n; ++i) {
      const Attribute& a = tax.attributes_[i];
      for (const auto& r : a.applies_to) deps[i].insert(idx(r.attribute));
      for (const auto& node : a.nodes)
        for (const auto& [target, ids] : node.implies) deps[idx(target)].insert(i);
    }
    for (const auto& r : tax.rules_) {
      std::vector<std::size_t> targets;
      for (const auto& c : r.then) targets.push_back(idx(c.attribute));
      for (const auto& g : r.ignore) targets.push_back(idx(g.attribute));
      for (auto t : targets)
        for (const auto& c : r.when)
          if (idx(c.attribute) != t) deps[t].insert(idx(c.attribute));
    }
    std::vector<bool> done(n, false);
    while (tax.order_.size() < n) {
      std::size_t pick = n;
      for (std::size_t i = 0; i < n && pick == n; ++i) {
        if (done[i]) continue;
        bool ready = true;
        for (auto d : deps[i])
          if (!done[d] && d != i) ready = false;
        if (ready) pick = i;
      }
      if (pick == n)  // a dependency cycle: break it in file order
        for (std::size_t i = 0; i < n && pick == n; ++i)
          if (!done[i]) pick = i;
      done[pick] = true;
      tax.order_.push_back(pick);
    }
  }

  void build_label_index() {
    for (const auto& a : tax.attributes_)
      for (const auto& node : a.nodes) {
        NodeRef r{a.id, node.id};
        std::set<std::string> keys;
        keys.insert(normalise_text(node.id));
        std::string spaced = node.id;
        std::replace(spaced.begin(), spaced.end(), '_', ' ');
        keys.insert(normalise_text(spaced));
        for (const auto& [lang, l] : node.labels) keys.insert(normalise_text(l));
        for (const auto& s : node.synonyms) keys.insert(normalise_text(s));
        for (const auto& k : keys) tax.label_index_.emplace(k, r);
      }
  }

  void run(std::string_view text) {
    if (!check_utf8(text)) return;
    YAML::Node root;
    try {
      root = YAML::Load(std::string(text));
    } catch (const YAML::ParserException& e) {
      error(SourceLocation{e.mark.line + 1, e.mark.column + 1}, "YAML syntax error: " + e.msg);
      return;
    }
    if (!check_map(root, "the taxonomy file",
                   {"version", "name", "languages", "defaults", "attributes", "rules"}))
      return;
    if (root["version"]) {
      auto v = scalar(root["version"], "version");
      if (v && *v != "1")
        error(root["version"], fmt::format("unsupported taxonomy format version '{}'", *v));
    }
    if (root["name"])
      if (auto s = scalar(root["name"], "name")) tax.name_ = *s;
    // Languages listed here are required on every node; by default none are
    // (a node without labels is shown by its id).
    if (root["languages"]) {
      for (auto& [l, at] : scalars(root["languages"], "language")) tax.languages_.push_back(l);
    }
    if (root["defaults"]) {
      const YAML::Node& d = root["defaults"];
      if (check_map(d, "defaults", {"thresholds", "prompt"})) {
        if (d["thresholds"]) {
          auto o = thresholds(d["thresholds"], "default thresholds");
          if (o.auto_apply) default_thresholds.auto_apply = *o.auto_apply;
          if (o.flag) default_thresholds.flag = *o.flag;
          if (o.suggest) default_thresholds.suggest = *o.suggest;
          check_order(default_thresholds, location_of(d["thresholds"]), "default thresholds");
        }
        if (d["prompt"])
          if (auto p = scalar(d["prompt"], "prompt template")) default_prompt = *p;
      }
    }
    if (!root["attributes"]) {
      error(SourceLocation{1, 1}, "the taxonomy has no attributes:");
      return;
    }
    const YAML::Node& as = root["attributes"];
    if (!as.IsSequence()) {
      error(as, fmt::format("attributes must be a list, found {}", kind_name(as)));
      return;
    }
    for (const auto& a : as) parse_attribute(a);
    try {
      generate_palette_nodes();
    } catch (const Error& e) {
      error(SourceLocation{}, std::string("cannot load the palette: ") + e.what());
    }
    for (auto& ra : attrs) build_tree(ra);
    resolve_references();
    check_nodes();
    if (root["rules"]) parse_rules(root["rules"]);
    if (!errors.empty()) return;

    for (auto& ra : attrs) {
      for (auto& raw : ra.raw) ra.attr.nodes.push_back(std::move(raw.node));
      ra.attr.index_tree();
      tax.attribute_index_[ra.attr.id] = tax.attributes_.size();
      tax.attributes_.push_back(std::move(ra.attr));
    }
    compute_order();
    build_label_index();
  }
};

Taxonomy Taxonomy::parse(std::string_view yaml_text, std::string_view source_name,
                         const image::Palette* palette) {
  Builder b;
  b.source = std::string(source_name);
  b.palette = palette;
  b.tax.source_name_ = b.source;
  b.tax.yaml_text_ = std::string(yaml_text);
  b.run(yaml_text);
  if (!b.errors.empty()) {
    std::stable_sort(b.errors.begin(), b.errors.end(),
                     [](const Diagnostic& x, const Diagnostic& y) {
                       return std::tie(x.line, x.column) < std::tie(y.line, y.column);
                     });
    throw ValidationError(b.source, std::move(b.errors));
  }
  return std::move(b.tax);
}

Taxonomy Taxonomy::load(const std::filesystem::path& path, const image::Palette* palette) {
  return parse(read_file_text(path), path.string(), palette);
}

std::string_view Taxonomy::builtin_yaml() {
  return embedded::taxonomy_yaml();
}

Taxonomy Taxonomy::builtin(const image::Palette* palette) {
  return parse(builtin_yaml(), "<builtin taxonomy.yaml>", palette);
}

}  // namespace tagsmith::taxonomy
