#pragma once
// Differences between two taxonomy versions, keyed by stable node ids: what a
// merchandiser needs to review before importing, and what decides which tags
// a re-tag may change.
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::taxonomy {

struct LabelChange {  // same id, label changed ("renamed")
  NodeRef node;
  std::string language;
  std::string before, after;  // "" when absent on that side
};

struct MoveChange {  // same id, parent changed
  NodeRef node;
  std::string before, after;  // parent ids; "" = root
};

struct ThresholdChange {
  std::string attribute;
  std::string node;                     // "" for the attribute-level thresholds
  std::string which;                    // "auto" | "flag" | "suggest"
  std::optional<double> before, after;  // node level: nullopt = no override
};

struct SynonymChange {
  NodeRef node;
  std::vector<std::string> added, removed;
};

struct AttributeChange {  // cardinality, applicability or source changed
  std::string attribute;
  std::string field;
  std::string before, after;
};

struct RuleChange {
  std::string id;
  std::string before, after;  // Rule::describe(); "" when absent on that side
};

struct TaxonomyDiff {
  std::vector<std::string> attributes_added, attributes_removed;
  std::vector<NodeRef> added, removed;  // includes nodes of added/removed attributes
  std::vector<LabelChange> renamed;
  std::vector<MoveChange> moved;
  std::vector<ThresholdChange> thresholds;
  std::vector<SynonymChange> synonyms;
  std::vector<AttributeChange> attributes_changed;
  std::vector<RuleChange> rules;  // added, removed or changed
  bool empty() const;
};

TaxonomyDiff diff(const Taxonomy& a, const Taxonomy& b);

// Plain text, one change per line ("+ garment_type/shorts", "~ ..."), or
// "no differences".
std::string render_text(const TaxonomyDiff& d);
nlohmann::json to_json(const TaxonomyDiff& d);

}  // namespace tagsmith::taxonomy
