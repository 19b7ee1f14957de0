#pragma once
// The customer's taxonomy: the vocabulary every tag must come from.
//
// A taxonomy is a list of attributes (category, garment_type, colour_shade,
// ...). Each attribute is single- or multi-valued and holds a forest of nodes
// with ids that are stable across versions (tags, audit events and diffs refer
// to them), labels per language, synonyms, zero-shot prompts, optional
// threshold overrides and `implies` links into other attributes. Brand rules
// map combinations of known facts onto nodes ("a longline cardigan is
// outerwear in spring/summer") or suppress nodes (`ignore`).
//
// Taxonomies are immutable values: parse() either returns a fully validated
// taxonomy or throws ValidationError listing every problem, so a bad file can
// never replace a good one. The file format is documented in docs/taxonomy.md.
#include <cstddef>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace tagsmith::image {
class Palette;
}

namespace tagsmith::taxonomy {

// 1-based position in the source file; 0/0 for generated or unknown.
struct SourceLocation {
  int line = 0;
  int column = 0;
};

// "attribute/node_id" -- the unambiguous way to name a node.
struct NodeRef {
  std::string attribute;
  std::string node;
  std::string str() const { return attribute + "/" + node; }
  friend bool operator==(const NodeRef&, const NodeRef&) = default;
  friend auto operator<=>(const NodeRef&, const NodeRef&) = default;
};

// Tier boundaries: score >= auto -> auto-applied, >= flag -> applied and
// flagged for review, >= suggest -> suggestion only, below -> dropped.
struct Thresholds {
  double auto_apply = 0.95;
  double flag = 0.75;
  double suggest = 0.30;
  friend bool operator==(const Thresholds&, const Thresholds&) = default;
};

// A node-level override; unset fields fall back to the nearest ancestor's
// override, then to the attribute.
struct ThresholdOverride {
  std::optional<double> auto_apply, flag, suggest;
  bool empty() const { return !auto_apply && !flag && !suggest; }
  friend bool operator==(const ThresholdOverride&, const ThresholdOverride&) = default;
};

struct Node {
  std::string id;
  std::string parent;                         // "" for a root
  std::vector<std::string> children;          // ids, in file order
  std::map<std::string, std::string> labels;  // language -> label
  std::vector<std::string> synonyms;          // merge into this node, any language
  std::vector<std::string> prompts;           // zero-shot prompts (never empty after parse)
  ThresholdOverride thresholds;
  std::map<std::string, std::vector<std::string>> implies;  // attribute -> node ids
  std::string family;  // palette shades: the colour_family node this shade belongs to
  int depth = 0;       // 0 for roots
  SourceLocation where;

  // Label in `language`, falling back to English, then the id.
  const std::string& label(std::string_view language = "en") const;
};

enum class Cardinality { kSingle, kMulti };

// Hashes std::string and std::string_view alike, so lookups by a view need
// no temporary string (deciding looks nodes up by id a few hundred times per
// asset).
struct IdHash {
  using is_transparent = void;
  std::size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using IdIndex = std::unordered_map<std::string, std::size_t, IdHash, std::equal_to<>>;

struct Attribute {
  std::string id;
  Cardinality cardinality = Cardinality::kSingle;
  std::map<std::string, std::string> labels;
  std::string source;               // "" (nodes listed in the file) or "palette"
  std::string palette_level;        // "families" | "shades" when source == "palette"
  std::vector<NodeRef> applies_to;  // empty: applies to every asset
  Thresholds thresholds;
  std::vector<Node> nodes;  // pre-order: every parent precedes its children
  SourceLocation where;

  bool multi() const { return cardinality == Cardinality::kMulti; }
  const Node* node(std::string_view id) const;
  std::optional<std::size_t> index_of(std::string_view id) const;
  // Ancestors of `id`, nearest first (empty for roots and unknown ids).
  std::vector<std::string> ancestors(std::string_view id) const;
  // True when `id` is `ancestor` or lies below it.
  bool within(std::string_view id, std::string_view ancestor) const;
  // Effective thresholds for a node: node override, ancestors' overrides, attribute.
  Thresholds thresholds_for(std::string_view id) const;
  // The same by position in `nodes`, without a lookup (the engine asks per
  // decision): precomputed when the taxonomy is built.
  const Thresholds& thresholds_at(std::size_t i) const { return effective_[i]; }
  // Position of node i's parent in `nodes`; nullopt for a root.
  std::optional<std::size_t> parent_index(std::size_t i) const {
    return parent_[i] < nodes.size() ? std::optional<std::size_t>(parent_[i]) : std::nullopt;
  }

 private:
  friend class Taxonomy;
  friend struct Builder;
  // Fills parent_ and effective_ from `nodes` and `thresholds` (index_ must
  // be built): the last step of building an attribute.
  void index_tree();
  IdIndex index_;
  std::vector<std::size_t> parent_;    // nodes.size() for a root
  std::vector<Thresholds> effective_;  // thresholds_for() of each node
};

// A condition on known facts: the asset carries (a descendant of) one of `nodes`.
struct Condition {
  std::string attribute;
  std::vector<std::string> nodes;  // any of
  friend bool operator==(const Condition&, const Condition&) = default;
};

// A brand rule. Exactly one of `then` (mapping) or `ignore` is non-empty.
struct Rule {
  std::string id;
  std::vector<Condition> when;  // all must hold; may be empty for ignore rules
  std::vector<Condition> then;  // set these nodes (one per single-valued attribute)
  std::vector<NodeRef> ignore;  // never tag these; node "" = the whole attribute
  SourceLocation where;
  bool is_ignore() const { return !ignore.empty(); }
  // Canonical one-line form, e.g. "when garment_type=longline_cardigan season=spring|summer
  // then category=outerwear"; used by diffs and evidence.
  std::string describe() const;
};

class Taxonomy {
 public:
  // Parses and validates. `source_name` is used in messages (usually the file
  // path). Attributes with `source: palette` get their nodes from `palette`;
  // when null, the built-in palette is used. Throws ValidationError listing
  // every problem found.
  static Taxonomy parse(std::string_view yaml_text, std::string_view source_name,
                        const image::Palette* palette = nullptr);
  static Taxonomy load(const std::filesystem::path& path, const image::Palette* palette = nullptr);
  // The default taxonomy embedded in the binary (data/taxonomy.yaml).
  static Taxonomy builtin(const image::Palette* palette = nullptr);
  static std::string_view builtin_yaml();

  const std::string& name() const { return name_; }
  const std::string& source_name() const { return source_name_; }
  const std::string& yaml_text() const { return yaml_text_; }  // verbatim, for versioning
  const std::vector<std::string>& languages() const { return languages_; }
  const std::vector<Attribute>& attributes() const { return attributes_; }
  const std::vector<Rule>& rules() const { return rules_; }

  const Attribute* attribute(std::string_view id) const;
  std::optional<std::size_t> attribute_index(std::string_view id) const;
  const Node* node(std::string_view attribute, std::string_view id) const;
  const Node* node(const NodeRef& ref) const { return node(ref.attribute, ref.node); }

  // Resolves "attribute/node" or a bare "node" (looked up in
  // `default_attribute`). Returns nullopt when no such node exists.
  std::optional<NodeRef> resolve(std::string_view ref, std::string_view default_attribute) const;

  // Nodes whose id, label (any language) or synonym equals `text` after
  // normalise_text(); for search ("blouse" -> garment_type/shirt).
  std::vector<NodeRef> lookup_label(std::string_view text) const;

  // Attribute indices in the order the tagging engine decides them: an
  // attribute comes after those its applicability, rules and incoming
  // `implies` depend on (file order otherwise; cycles broken by file order).
  const std::vector<std::size_t>& evaluation_order() const { return order_; }

 private:
  friend struct Builder;
  std::string name_;
  std::string source_name_;
  std::string yaml_text_;
  std::vector<std::string> languages_;
  std::vector<Attribute> attributes_;
  std::vector<Rule> rules_;
  IdIndex attribute_index_;
  std::unordered_multimap<std::string, NodeRef> label_index_;
  std::vector<std::size_t> order_;
};

}  // namespace tagsmith::taxonomy
