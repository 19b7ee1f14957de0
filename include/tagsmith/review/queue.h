#pragma once
// The human-in-the-loop review queue.
//
// Items are machine tags a person should look at: flagged tags (applied but
// not trusted), suggestions, and auto tags drawn into an audit sample. The
// queue orders them so reviewers spend their time where it teaches the most
// (lowest confidence, or smallest margin between the top two candidates),
// filters them ("autumn black knitwear awaiting review"), and records every
// action through the TagService — one audit event each, with the reviewer's
// name — plus the time the reviewer took, skips included.
//
// Review for a team: items() for a named reviewer claims what it returns
// (for claim_ttl) and skips what others hold; act() refuses, with
// ConflictError, a decision on a tag another reviewer holds or that changed
// since the reviewer saw it (ReviewItem::version); undo() restores what the
// reviewer's last decisions replaced, with an audit event of its own.
//
// These are the library calls the CLI (`tagsmith review`) and the HTTP API
// share, so both follow the same rules.
#include <chrono>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::review {

enum class Order {
  kLowestConfidence,  // least sure first
  kSmallestMargin,    // top-two closest first: the most informative label
  kByAttribute,       // grouped by attribute, then lowest confidence
  kValue,             // most valuable human answer first (ReviewItem::value)
};
// "value" | "confidence" | "margin" | "attribute"; throws InputError.
Order parse_order(const std::string& text);
std::string to_string(Order order);

struct ReviewFilter {
  // The asset must carry each of these (attribute, node) — applied or pending,
  // a parent node matching its descendants. All must hold.
  std::vector<std::pair<std::string, std::string>> asset_has;
  std::vector<std::string> attributes;  // only items of these attributes (empty: all)
  bool include_flagged = true;
  bool include_suggested = true;
  bool include_audit = true;  // auto tags drawn by `audit sample`
  // Low-value suggestions (ReviewItem::low_value) are left out unless asked for.
  bool include_low_value = false;

  nlohmann::json to_json() const;
  static ReviewFilter from_json(const nlohmann::json& j);  // throws InputError
  // "season=autumn,colour_family=black,category=knitwear" (+ attribute list).
  static ReviewFilter parse(const std::vector<std::string>& conditions,
                            const std::vector<std::string>& attributes);
};

struct Alternative {
  std::string node;
  double score = 0;
  std::map<std::string, std::string> labels;  // language -> label, as the taxonomy has them
  std::string swatch;                         // "#rrggbb" for colour attributes, else ""
  // Scored above the proposal (a rule, a person or, on a multi-valued
  // attribute, another value the asset also has chose otherwise). Listed
  // after the ones below the proposal, so the first alternative is always
  // the runner-up the reason names.
  bool outranks = false;
};

// Why a human answer to an item is worth having, each part in [0, 1].
struct ItemValue {
  double uncertainty = 0;   // close to the flag threshold, or a small margin
  double disagreement = 0;  // its sources (colour analysis, model) disagree
  double rarity = 0;        // few confirmed examples of the node to learn from
  bool audit = false;       // an audit sample: measures the auto tier's precision
  double total = 0;
};

struct ReviewItem {
  store::Tag tag;
  bool audit = false;  // an auto tag drawn for auditing
  double margin = 1;   // confidence minus the best alternative's score
  // Other candidates: those scoring at most the proposal, best first, then
  // any scoring above it (outranks).
  std::vector<Alternative> alternatives;
  std::string reason;  // one line: why the machine proposed it
  std::string asset_path;
  std::string thumbnail_path;
  // The id of the last tag event on this tag when it was read: a decision
  // carries it, and is refused when the tag changed since (0: no event yet;
  // -1: not checked).
  std::int64_t version = -1;
  ItemValue value;
  // A suggestion far under the flag threshold that nothing else makes
  // interesting: kept out of the queue unless the filter asks.
  bool low_value = false;
  std::map<std::string, std::string> labels;  // the proposal's labels by language
  std::string swatch;                         // "#rrggbb" for colour attributes
  std::string claimed_by, claim_expires_at;   // set when items() claimed it
};

// What undo() did to one decision.
struct UndoneDecision {
  store::ReviewDecision decision;
  std::vector<std::int64_t> events;  // the `undone` events written
};

enum class Action { kConfirm, kReject, kCorrect, kSkip };
Action parse_action(const std::string& text);
std::string to_string(Action action);

struct BatchResult {
  std::int64_t matched = 0, changed = 0;
  std::int64_t held = 0;  // left alone: another reviewer had them open
};

class ReviewQueue {
 public:
  ReviewQueue(library::Library& lib, tagging::TagService& tagger);

  // The queue's items in `order`. With a `reviewer`, items other reviewers
  // hold are skipped and the ones returned are claimed for this reviewer
  // until now + claim_ttl (atomically in the store: two reviewers asking at
  // once get disjoint items).
  std::vector<ReviewItem> items(const ReviewFilter& filter, Order order, std::size_t limit,
                                std::size_t offset = 0, const std::string& reviewer = {});
  std::size_t count(const ReviewFilter& filter);
  // One tag as a review item (as the queue presents it), whatever its state;
  // NotFoundError when the asset has no such tag.
  ReviewItem item(store::AssetId asset, const std::string& attribute, const std::string& node);

  // One action on one item. `seconds` is how long the reviewer looked at it.
  // Correct needs `to_node`. Returns whether a tag changed (skip: never).
  // Throws ConflictError when another reviewer holds the tag (an unexpired
  // claim) or when the tag changed since item.version (-1: not checked); the
  // message names who changed or holds it and when. A decision ends the
  // reviewer's claim on the tag, and so does a skip.
  bool act(const ReviewItem& item, Action action, const std::string& reviewer, double seconds,
           const std::string& to_node = {});
  // Undoes the reviewer's last `n` decisions that changed a tag, newest
  // first: each tag gets back the rows the decision replaced (state, node,
  // confidence, tier, evidence), with one `undone` event per row whose
  // evidence names the decision's event ("undo_of"). Throws ConflictError,
  // undoing nothing more, when a tag changed since the decision; returns
  // what it undid (empty: nothing to undo).
  std::vector<UndoneDecision> undo(const std::string& reviewer, std::size_t n = 1);
  // Ends the reviewer's claims on these items (all of them when empty).
  void release(const std::string& reviewer, const std::vector<ReviewItem>& items = {});

  // How long a claim lasts, and the clock claims are measured with (tests).
  void set_claim_ttl(std::chrono::seconds ttl) { claim_ttl_ = ttl; }
  std::chrono::seconds claim_ttl() const { return claim_ttl_; }
  void set_clock(std::function<std::chrono::system_clock::time_point()> clock) {
    clock_ = std::move(clock);
  }
  // The same action on every item the filter matches (confirm/reject only),
  // except those another reviewer holds.
  BatchResult batch(const ReviewFilter& filter, Action action, const std::string& reviewer);

  // Saved filters, kept in the library's settings.
  void save_filter(const std::string& name, const ReviewFilter& filter);
  ReviewFilter load_filter(const std::string& name);  // throws NotFoundError
  std::vector<std::string> filter_names();

  // Nodes of an attribute whose id or label starts with `prefix` (case-
  // insensitive), for type-ahead correction.
  std::vector<std::string> complete(const std::string& attribute, const std::string& prefix) const;

 private:
  std::vector<ReviewItem> collect(const ReviewFilter& filter);
  void present(ReviewItem& item);  // labels, swatches, paths, version
  std::string now() const;
  std::string expiry() const;
  library::Library& lib_;
  tagging::TagService& tagger_;
  std::chrono::seconds claim_ttl_{600};
  std::function<std::chrono::system_clock::time_point()> clock_ = [] {
    return std::chrono::system_clock::now();
  };
};

// --- sample audits of the auto tier ------------------------------------------------

// Draws `n` auto-applied tags at random (seeded) into the review queue.
std::int64_t draw_audit_sample(library::Library& lib, const std::string& tier, std::size_t n,
                               unsigned seed);

struct AuditEstimate {
  std::string attribute;
  std::int64_t reviewed = 0, correct = 0, pending = 0;
  double precision = 0, low = 0, high = 0;  // Wilson 95% interval
};
// Per attribute, from the reviewed samples (confirmed = correct; rejected or
// corrected = wrong). The last row is "all".
std::vector<AuditEstimate> audit_report(library::Library& lib);

// Wilson score interval for k successes out of n at 95%.
std::pair<double, double> wilson_interval(std::int64_t k, std::int64_t n);

}  // namespace tagsmith::review
