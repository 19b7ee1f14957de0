// The taxonomy model: lookups over attributes, nodes and rules. Reading it
// from YAML lives in taxonomy_yaml.cpp.
#include "tagsmith/taxonomy/taxonomy.h"

#include <fmt/format.h>

#include <algorithm>

#include "tagsmith/taxonomy/text.h"

namespace tagsmith::taxonomy {

const std::string& Node::label(std::string_view language) const {
  if (auto it = labels.find(std::string(language)); it != labels.end()) return it->second;
  if (auto it = labels.find("en"); it != labels.end()) return it->second;
  return id;
}

std::optional<std::size_t> Attribute::index_of(std::string_view id) const {
  auto it = index_.find(id);
  if (it == index_.end()) return std::nullopt;
  return it->second;
}

const Node* Attribute::node(std::string_view id) const {
  auto i = index_of(id);
  return i ? &nodes[*i] : nullptr;
}

std::vector<std::string> Attribute::ancestors(std::string_view id) const {
  std::vector<std::string> out;
  const Node* n = node(id);
  // Depth bounds the walk: parse() rejects cycles, but be robust anyway.
  while (n && !n->parent.empty() && out.size() < nodes.size()) {
    out.push_back(n->parent);
    n = node(n->parent);
  }
  return out;
}

bool Attribute::within(std::string_view id, std::string_view ancestor) const {
  if (id == ancestor) return true;
  for (const auto& a : ancestors(id))
    if (a == ancestor) return true;
  return false;
}

void Attribute::index_tree() {
  parent_.assign(nodes.size(), nodes.size());
  for (std::size_t i = 0; i < nodes.size(); ++i)
    if (auto p = index_of(nodes[i].parent); p && !nodes[i].parent.empty()) parent_[i] = *p;
  effective_.clear();
  for (const auto& n : nodes) effective_.push_back(thresholds_for(n.id));
}

Thresholds Attribute::thresholds_for(std::string_view id) const {
  Thresholds t = thresholds;
  std::optional<double> a, f, s;
  const Node* n = node(id);
  for (std::size_t guard = 0; n && guard <= nodes.size(); ++guard) {
    if (!a) a = n->thresholds.auto_apply;
    if (!f) f = n->thresholds.flag;
    if (!s) s = n->thresholds.suggest;
    n = n->parent.empty() ? nullptr : node(n->parent);
  }
  if (a) t.auto_apply = *a;
  if (f) t.flag = *f;
  if (s) t.suggest = *s;
  return t;
}

std::string Rule::describe() const {
  auto conds = [](const std::vector<Condition>& cs) {
    std::string s;
    for (const auto& c : cs) {
      if (!s.empty()) s += ' ';
      s += c.attribute + "=";
      for (std::size_t i = 0; i < c.nodes.size(); ++i) s += (i ? "|" : "") + c.nodes[i];
    }
    return s;
  };
  std::string out;
  if (!when.empty()) out = "when " + conds(when) + " ";
  if (is_ignore()) {
    out += "ignore";
    for (const auto& r : ignore) out += " " + (r.node.empty() ? r.attribute : r.str());
  } else {
    out += "then " + conds(then);
  }
  return out;
}

const Attribute* Taxonomy::attribute(std::string_view id) const {
  auto i = attribute_index(id);
  return i ? &attributes_[*i] : nullptr;
}

std::optional<std::size_t> Taxonomy::attribute_index(std::string_view id) const {
  auto it = attribute_index_.find(id);
  if (it == attribute_index_.end()) return std::nullopt;
  return it->second;
}

const Node* Taxonomy::node(std::string_view attribute, std::string_view id) const {
  const Attribute* a = this->attribute(attribute);
  return a ? a->node(id) : nullptr;
}

std::optional<NodeRef> Taxonomy::resolve(std::string_view ref,
                                         std::string_view default_attribute) const {
  NodeRef r;
  if (auto slash = ref.find('/'); slash != std::string_view::npos) {
    r.attribute = std::string(ref.substr(0, slash));
    r.node = std::string(ref.substr(slash + 1));
  } else {
    r.attribute = std::string(default_attribute);
    r.node = std::string(ref);
  }
  if (!node(r)) return std::nullopt;
  return r;
}

std::vector<NodeRef> Taxonomy::lookup_label(std::string_view text) const {
  std::vector<NodeRef> out;
  auto [lo, hi] = label_index_.equal_range(normalise_text(text));
  for (auto it = lo; it != hi; ++it)
    if (std::find(out.begin(), out.end(), it->second) == out.end()) out.push_back(it->second);
  // Report in taxonomy order, not hash order, so results are reproducible.
  std::sort(out.begin(), out.end(), [this](const NodeRef& x, const NodeRef& y) {
    auto ax = *attribute_index(x.attribute), ay = *attribute_index(y.attribute);
    if (ax != ay) return ax < ay;
    return *attributes_[ax].index_of(x.node) < *attributes_[ay].index_of(y.node);
  });
  return out;
}

}  // namespace tagsmith::taxonomy
