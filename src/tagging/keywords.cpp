#include "tagsmith/tagging/keywords.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <set>

#include "tagsmith/common/error.h"
#include "tagsmith/taxonomy/text.h"

namespace tagsmith::tagging {

namespace {

using taxonomy::NodeRef;

std::string attribute_label(const taxonomy::Attribute& a, const std::string& language) {
  for (const std::string& lang : {language, std::string("en")})
    if (auto it = a.labels.find(lang); it != a.labels.end() && !it->second.empty())
      return it->second;
  return a.id;
}

// Every name a node answers to, normalised.
std::set<std::string> names_of(const taxonomy::Node& n) {
  std::set<std::string> out{taxonomy::normalise_text(n.id)};
  for (const auto& [lang, label] : n.labels) out.insert(taxonomy::normalise_text(label));
  for (const auto& s : n.synonyms) out.insert(taxonomy::normalise_text(s));
  return out;
}

std::set<std::string> names_of(const taxonomy::Attribute& a) {
  std::set<std::string> out{taxonomy::normalise_text(a.id)};
  for (const auto& [lang, label] : a.labels) out.insert(taxonomy::normalise_text(label));
  return out;
}

// A colour shade named the same as its own family reads as the family.
std::vector<NodeRef> prefer_families(const taxonomy::Taxonomy& tax, std::vector<NodeRef> refs) {
  if (refs.size() < 2) return refs;
  std::vector<NodeRef> out;
  for (const auto& r : refs) {
    const auto* n = tax.node(r);
    const bool family_present = n && !n->family.empty() &&
                                std::any_of(refs.begin(), refs.end(),
                                            [&](const NodeRef& o) { return o.node == n->family; });
    if (!family_present) out.push_back(r);
  }
  return out.empty() ? refs : out;
}

std::string describe(const std::vector<NodeRef>& refs) {
  std::vector<std::string> names;
  for (const auto& r : refs) names.push_back(r.attribute + "=" + r.node);
  return fmt::format("{}", fmt::join(names, ", "));
}

// How well a hierarchy's leading components agree with a candidate: the
// attribute named counts most, each ancestor named counts one.
int hint_score(const taxonomy::Taxonomy& tax, const NodeRef& ref,
               const std::vector<std::string>& leading) {
  const auto* attr = tax.attribute(ref.attribute);
  if (!attr) return 0;
  int score = 0;
  const auto attr_names = names_of(*attr);
  std::vector<std::set<std::string>> ancestor_names;
  for (const auto& id : attr->ancestors(ref.node))
    if (const auto* a = attr->node(id)) ancestor_names.push_back(names_of(*a));
  for (const auto& part : leading) {
    if (attr_names.count(part)) score += 2;
    for (const auto& names : ancestor_names)
      if (names.count(part)) score += 1;
  }
  return score;
}

}  // namespace

std::string hierarchy_of(const taxonomy::Taxonomy& tax, const std::string& attribute,
                         const std::string& node, const std::string& language) {
  const auto* attr = tax.attribute(attribute);
  if (!attr) return attribute + image::kHierarchySeparator + node;
  std::vector<std::string> parts{attribute_label(*attr, language)};
  auto ancestors = attr->ancestors(node);
  std::reverse(ancestors.begin(), ancestors.end());
  for (const auto& id : ancestors)
    if (const auto* a = attr->node(id)) parts.push_back(a->label(language));
  const auto* n = attr->node(node);
  parts.push_back(n ? n->label(language) : node);
  // '|' separates components: a label holding one would split in two.
  for (auto& p : parts) std::replace(p.begin(), p.end(), image::kHierarchySeparator, '/');
  return fmt::format("{}", fmt::join(parts, std::string(1, image::kHierarchySeparator)));
}

image::PhotoKeywords keywords_of(const taxonomy::Taxonomy& tax, const std::vector<store::Tag>& tags,
                                 const std::string& language) {
  image::PhotoKeywords out;
  for (const auto& t : tags) {
    const auto* n = tax.node(t.attribute, t.node);
    image::PhotoKeywords one;
    one.subjects.push_back(n ? n->label(language) : t.node);
    one.hierarchical.push_back(hierarchy_of(tax, t.attribute, t.node, language));
    out.merge(one);
  }
  return out;
}

KeywordMapping map_keywords(const taxonomy::Taxonomy& tax, const image::PhotoKeywords& keywords) {
  KeywordMapping out;
  std::vector<KeywordMatch> found;
  std::set<std::string> components;  // of hierarchical subjects, normalised

  for (const auto& subject : keywords.hierarchical) {
    auto parts = image::split_hierarchy(subject);
    if (parts.empty()) continue;
    for (const auto& p : parts) components.insert(taxonomy::normalise_text(p));
    auto refs = prefer_families(tax, tax.lookup_label(parts.back()));
    if (refs.empty()) {
      out.unmatched.push_back({subject, "names no node of the taxonomy"});
      continue;
    }
    if (refs.size() > 1) {
      std::vector<std::string> leading;
      for (std::size_t i = 0; i + 1 < parts.size(); ++i)
        leading.push_back(taxonomy::normalise_text(parts[i]));
      int best = -1;
      std::vector<NodeRef> best_refs;
      for (const auto& r : refs) {
        const int s = hint_score(tax, r, leading);
        if (s > best) {
          best = s;
          best_refs = {r};
        } else if (s == best) {
          best_refs.push_back(r);
        }
      }
      refs = std::move(best_refs);
    }
    if (refs.size() > 1) {
      out.unmatched.push_back({subject, "ambiguous: " + describe(refs)});
      continue;
    }
    found.push_back({refs.front(), subject});
  }

  for (const auto& keyword : keywords.subjects) {
    if (components.count(taxonomy::normalise_text(keyword))) continue;  // a hierarchy's part
    auto refs = prefer_families(tax, tax.lookup_label(keyword));
    if (refs.empty()) {
      out.unmatched.push_back({keyword, "names no node of the taxonomy"});
    } else if (refs.size() > 1) {
      out.unmatched.push_back({keyword, "ambiguous: " + describe(refs)});
    } else {
      found.push_back({refs.front(), keyword});
    }
  }

  // One row per node; on a single-valued attribute one value, the deepest of
  // a chain (an ancestor is implied by its descendant).
  std::map<std::string, std::vector<KeywordMatch>> by_attribute;
  for (auto& m : found) {
    auto& list = by_attribute[m.ref.attribute];
    if (std::none_of(list.begin(), list.end(),
                     [&](const KeywordMatch& o) { return o.ref == m.ref; }))
      list.push_back(std::move(m));
  }
  for (const auto& attr : tax.attributes()) {
    auto it = by_attribute.find(attr.id);
    if (it == by_attribute.end()) continue;
    auto& list = it->second;
    if (!attr.multi() && list.size() > 1) {
      std::vector<KeywordMatch> deepest;
      for (const auto& m : list) {
        const bool covered = std::any_of(list.begin(), list.end(), [&](const KeywordMatch& o) {
          return o.ref.node != m.ref.node && attr.within(o.ref.node, m.ref.node);
        });
        if (!covered) deepest.push_back(m);
      }
      list = std::move(deepest);
      if (list.size() > 1) {
        std::vector<NodeRef> refs;
        for (const auto& m : list) refs.push_back(m.ref);
        for (const auto& m : list)
          out.unmatched.push_back({m.keyword, fmt::format("{} takes one value; the photo names {}",
                                                          attr.id, describe(refs))});
        continue;
      }
    }
    for (auto& m : list) out.matched.push_back(std::move(m));
  }
  return out;
}

KeywordImport import_keywords(TagService& service, store::Store& db, store::AssetId asset,
                              const image::PhotoKeywords& keywords, const std::string& actor) {
  KeywordImport out;
  if (keywords.empty()) return out;
  const auto& tax = service.taxonomy();
  auto mapping = map_keywords(tax, keywords);
  out.unmatched = std::move(mapping.unmatched);
  out.matched = mapping.matched.size();
  const auto current = db.tags_of(asset);
  for (const auto& m : mapping.matched) {
    const auto* attr = tax.attribute(m.ref.attribute);
    std::string refused;
    for (const auto& t : current) {
      if (t.attribute != m.ref.attribute || !store::is_human(t.state) || t.actor == actor) continue;
      if (t.node == m.ref.node && t.state == store::TagState::kRejected)
        refused =
            fmt::format("{} {} was rejected by {}; not imported", t.attribute, t.node, t.actor);
      else if (t.node != m.ref.node && attr && !attr->multi() &&
               t.state != store::TagState::kRejected)
        refused = fmt::format("{} is already {} (set by {}); not overwritten", t.attribute, t.node,
                              t.actor);
    }
    if (!refused.empty()) {
      out.unmatched.push_back({m.keyword, refused});
      continue;
    }
    try {
      if (service.set(asset, m.ref.attribute, m.ref.node, actor))
        ++out.set;
      else
        ++out.unchanged;
    } catch (const InputError& e) {
      out.unmatched.push_back({m.keyword, e.what()});
    }
  }
  return out;
}

}  // namespace tagsmith::tagging
