#pragma once
// The tagging engine: from raw scores to governed tag decisions.
//
// Pure logic, no storage and no I/O: given the taxonomy, every score an asset
// received (zero-shot model, trained heads, colour analysis, ...) and the tags
// it already carries, decide() returns the tags the machine proposes, each in
// a trust tier with its evidence. change_set() then says what must change in
// storage; the store turns each change into one audit event.
//
// The policy, in the order it is applied per attribute (attributes are visited
// in Taxonomy::evaluation_order(), so category is known before neckline):
//  1. Human tags (set or confirmed) are facts: never overwritten or removed,
//     and used for applicability and rules. A single-valued attribute with a
//     human value gets no machine decision; a human-rejected node is never
//     proposed again.
//  2. An attribute with applies_to is decided only when a known fact (human
//     tag or applied -- auto or flagged -- decision) lies within one of the
//     listed nodes; otherwise it is left untagged.
//  3. Candidates: per node the maximum score over all score sets (scores may
//     name a node by id, label or synonym), plus `implies` links from nodes
//     already decided or known (confidence carried over), plus colour.
//  4. Ignore rules whose conditions hold remove nodes (and their descendants).
//  5. Mapping rules whose conditions hold set their node with confidence =
//     the weakest fact they relied on; they beat model scores.
//  6. Single-valued: the best candidate (rules first) if >= the suggest
//     floor. Multi-valued: every candidate >= the suggest floor.
//  7. Tier: >= auto -> auto, >= flag -> flagged, else suggested (inclusive
//     boundaries, per-node threshold overrides).
//  8. Hierarchy: each chosen node's ancestors are decided too, with at least
//     the child's confidence.
#include <functional>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/common/colour_record.h"
#include "tagsmith/tagging/colour_calibration.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

enum class Tier { kAuto, kFlagged, kSuggested };
std::string_view to_string(Tier tier);  // "auto" | "flagged" | "suggested"
std::optional<Tier> parse_tier(std::string_view text);
// Auto and flagged tags are applied (visible on the asset); suggestions are not.
inline bool is_applied(Tier t) {
  return t != Tier::kSuggested;
}
Tier tier_for(double confidence, const taxonomy::Thresholds& t);  // suggest floor not checked
// How a number is written into evidence: rounded to four decimals. Evidence
// is for people and `explain` (which shows two); four keep the order of
// alternatives at half the bytes that every audit event stores, and a
// re-tag of a million assets writes millions of events.
double evidence_number(double x);

struct NodeScore {
  std::string node;                   // node id, label or synonym within the attribute
  double score = 0;                   // in [0, 1]
  nlohmann::json evidence = nullptr;  // per-node detail (e.g. colour share and ΔE)
};

struct ScoreSet {
  std::string source;  // "model:<version>", "colour", "rule:<id>", ...
  std::string attribute;
  std::vector<NodeScore> scores;
  nlohmann::json evidence;  // copied into decisions this set wins
};

struct ExistingTag {
  std::string attribute;
  std::string node;
  Tier tier = Tier::kSuggested;
  double confidence = 0;
  std::string actor;      // who set it last ("model:...", "user:...", "rule:...")
  bool human = false;     // set or confirmed by a person: never touched by the machine
  bool rejected = false;  // a person rejected it: the machine must not propose it again
};

struct Decision {
  std::string attribute;
  std::string node;
  Tier tier = Tier::kSuggested;
  double confidence = 0;
  std::string actor;  // source of the winning score, or "rule:<id>"
  // {"alternatives": [{"node","score"}...], "sources": {source: score},
  //  "source": winning source, "detail": node or set evidence of that source
  //  (for colour: share, delta_e), "rule": {"id", "when"}, "implied_by":
  //  "attr/node", "child": id, "thresholds": {"auto","flag","suggest"}} --
  //  keys present when relevant.
  nlohmann::json evidence;
  // The same evidence as JSON text, set instead of `evidence` when decide()
  // is asked for EvidenceForm::kText (what a re-tag stores).
  std::string evidence_text;
};

struct AssetInput {
  std::vector<ScoreSet> scores;
  const ColourAnalysis* colours = nullptr;  // from ingest; may be null
  std::vector<ExistingTag> existing;
};

// How closely a colour matches a palette shade, with its share of the
// product (documented in docs/taxonomy.md):
//   colour_confidence = dominance(share) * match(delta_e)
//   dominance(share) = min(1, share / 0.4)
//   match(delta_e)   = 1 / (1 + (delta_e / tolerance)^2)
// Shade scores use match() with tolerance 10 (ΔE 2.3, a just-noticeable
// difference, still gives 0.95) on top of their family's probability.
double colour_confidence(double share, double delta_e, double tolerance);
inline constexpr double kShadeTolerance = 10.0;
inline constexpr double kFamilyTolerance = 20.0;

// Score sets derived from a colour analysis for the taxonomy's palette
// attributes (source "colour"): families (and "multi" when the taxonomy has
// it) get the calibrated probabilities of colour_calibration.h; shades get
// P(family) x (their part of the family's share) x match(ΔE). Evidence
// records share, ΔE, the product mask and the calibration version.
// decide() calls this itself, with the built-in calibration, when
// AssetInput::colours is set.
std::vector<ScoreSet> colour_scores(
    const taxonomy::Taxonomy& tax, const ColourAnalysis& colours,
    const ColourCalibration& calibration = ColourCalibration::builtin());

std::vector<Decision> decide(const taxonomy::Taxonomy& tax, const AssetInput& input);
// The same decisions, with evidence only on those `wants_evidence` accepts
// (called once per decision, evidence not yet set; the others carry null
// evidence). Building the evidence JSON is most of decide()'s cost, and a
// re-tag needs it only for the decisions that change a stored tag.
// kText: the evidence as JSON text (Decision::evidence_text) instead of an
// object, for a caller that only stores it -- a re-tag of a million assets
// writes millions.
enum class EvidenceForm { kJson, kText };
std::vector<Decision> decide(const taxonomy::Taxonomy& tax, const AssetInput& input,
                             const std::function<bool(const Decision&)>& wants_evidence,
                             EvidenceForm form = EvidenceForm::kJson);

// What storage must do to go from `existing` to `decisions`. Human tags are
// never touched (and rejected tags are left as they are). The engine's delta
// for one tag; store_changes.h turns deltas into store::TagChange rows with
// their audit events.
struct TagDelta {
  enum class Kind {
    kAdd,      // new node
    kUpdate,   // same node, tier or confidence changed
    kReplace,  // single-valued attribute: value changed (before.node != after.node)
    kRemove,   // a machine tag no longer supported by any decision
  };
  Kind kind;
  std::optional<ExistingTag> before;  // set for update, replace, remove
  std::optional<Decision> after;      // set for add, update, replace
  bool tier_changed() const;
  const std::string& attribute() const { return after ? after->attribute : before->attribute; }
};
std::string_view to_string(TagDelta::Kind kind);

// `confidence_epsilon`: confidence moves smaller than this (same tier) are not
// reported, so re-tagging with an identical model writes nothing. The deltas
// take the decisions (pass them with std::move when they are not needed
// afterwards: their evidence moves instead of being copied).
std::vector<TagDelta> change_set(const taxonomy::Taxonomy& tax,
                                 const std::vector<ExistingTag>& existing,
                                 std::vector<Decision> decisions, double confidence_epsilon = 1e-6);

// Whether change_set() would write `decision` over `existing`: its node has
// no machine tag yet, or one in another tier or with a confidence more than
// `confidence_epsilon` away (a person's tag is never written over). What a
// re-tag gives decide() as `wants_evidence`: unchanged decisions need none.
bool changes_stored_tag(const std::vector<ExistingTag>& existing, const Decision& decision,
                        double confidence_epsilon = 1e-6);

}  // namespace tagsmith::tagging
