#pragma once
// A classifier's labels mapped onto the taxonomy (issue 13): how an ImageNet
// CNN's 1000 class probabilities become tag scores, by rules kept in a data
// file (data/imagenet_map.yaml, format in docs/label-map.md) -- the idea of
// PhotoPrism's rules.yml, under tagsmith's tiers, audit and `why`.
//
//   auto labels = LabelMap::parse_label_list(read_file_text("imagenet_labels.txt"));
//   auto map = LabelMap::load(LabelMap::builtin_imagenet_yaml(), "imagenet_map.yaml",
//                             labels, taxonomy);
//   std::vector<ScoreSet> sets = map.scores(softmax_probabilities);  // one per attribute
//
// Scoring, per attribute the map names (all of it pure, no model, no I/O):
//  1. direct(n) = sum over the classes mapped to node n of weight x p(class),
//     counting only classes with p >= their min_probability (a floor that
//     keeps the long tail of 1000 classes from adding up);
//  2. subtree(n) = direct(n) + the subtrees of n's children;
//  3. a parent is scored only when none of its children holds at least
//     `specific_share` of its subtree: a photo that is clearly sneakers is
//     tagged sneakers (and the engine adds `shoes` as its ancestor), while
//     evidence spread over trench coat, fur coat and suit still adds up to
//     a confident `outerwear`;
//  4. single-valued attributes compete: score(n) = subtree(n) /
//     (mapped + unmapped_weight x (total - mapped)), where mapped is the
//     attribute's summed direct evidence and total the probabilities' sum.
//     With unmapped_weight 1 (the default) the score is the probability mass
//     itself, so a photo whose top classes are unrelated scores low; lower
//     values discount the classes mapped nowhere. A class's weights within
//     one single-valued attribute sum to at most 1 (validated), so scores
//     there are a distribution. Multi-valued: score(n) = min(1, subtree(n)).
// Each node score carries its evidence: the contributing classes with their
// probabilities, which `tagsmith why` prints ("from ImageNet 'running shoe'
// 0.74, ...").
#include <cstddef>
#include <map>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/tagging/engine.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

// Where one class counts: a node of an attribute, with a weight.
struct LabelTarget {
  std::string attribute;
  std::string node;
  double weight = 1.0;           // in (0, 1]: the share of p(class) that is evidence for node
  double min_probability = 0.0;  // in [0, 1): below it the class adds nothing
  taxonomy::SourceLocation where;
};

// One class of the classifier and its targets.
struct LabelRule {
  std::size_t index = 0;  // position in the label list = index into the probabilities
  std::string label;      // the class's full label text
  std::vector<LabelTarget> targets;
  taxonomy::SourceLocation where;
};

class LabelMap {
 public:
  // Parses and validates `yaml_text` against the classifier's `labels` (one
  // per class, in output order; for MobileNetV2 1001 lines, 0 = background)
  // and the taxonomy the scores are for. Throws taxonomy::ValidationError
  // listing every problem as file:line:column (unknown label, ambiguous or
  // repeated label, unknown attribute or node, weight or threshold out of
  // range, weights of one class over 1 on a single-valued attribute, unknown
  // keys).
  static LabelMap load(std::string_view yaml_text, std::string_view source_name,
                       std::span<const std::string> labels, const taxonomy::Taxonomy& tax);
  // The ImageNet map compiled into the binary (data/imagenet_map.yaml).
  static std::string_view builtin_imagenet_yaml();
  // A label file as the classifier ships it: one label per line (CR LF or
  // LF; a final newline does not add an empty label).
  static std::vector<std::string> parse_label_list(std::string_view text);

  // SHA-256 of the map's text: changes whenever the rules do.
  const std::string& version() const { return version_; }
  const std::string& name() const { return name_; }
  // How explanations name the labels ("ImageNet").
  const std::string& classifier() const { return classifier_; }
  std::size_t classes() const { return classes_; }
  const std::vector<LabelRule>& rules() const { return rules_; }
  // "labels:<first 12 hex digits of version()>": the score source when the
  // caller does not name one.
  std::string default_source() const;

  // One ScoreSet per attribute that received evidence, in taxonomy order,
  // named `source` (default_source() when empty). `probabilities` must have
  // classes() entries (InputError otherwise); they are normally a softmax.
  std::vector<ScoreSet> scores(std::span<const float> probabilities,
                               const std::string& source = {}) const;

 private:
  struct AttributeModel {
    std::string id;
    bool multi = false;
    double unmapped_weight = 1.0;
    double specific_share = 0.75;
    std::vector<std::string> nodes;                 // taxonomy pre-order
    std::vector<long> parent;                       // index into nodes; -1 for roots
    std::vector<std::vector<std::size_t>> targets;  // node -> (rule, target) pairs, flattened
  };
  struct TargetRef {
    std::size_t rule, target;
  };

  std::string version_, name_, classifier_;
  std::size_t classes_ = 0;
  std::vector<LabelRule> rules_;
  std::vector<AttributeModel> attributes_;  // only attributes some rule targets
  std::vector<TargetRef> target_refs_;      // AttributeModel::targets index into this

  friend struct LabelMapBuilder;
};

}  // namespace tagsmith::tagging
