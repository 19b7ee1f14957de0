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
// These are the library calls the CLI (`tagsmith review`) and the HTTP API share.
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
};
Order parse_order(
    const std::string& text);  // "confidence" | "margin" | "attribute"; throws InputError
std::string to_string(Order order);

struct ReviewFilter {
  // The asset must carry each of these (attribute, node) — applied or pending,
  // a parent node matching its descendants. All must hold.
  std::vector<std::pair<std::string, std::string>> asset_has;
  std::vector<std::string> attributes;  // only items of these attributes (empty: all)
  bool include_flagged = true;
  bool include_suggested = true;
  bool include_audit = true;  // auto tags drawn by `audit sample`

  nlohmann::json to_json() const;
  static ReviewFilter from_json(const nlohmann::json& j);  // throws InputError
  // "season=autumn,colour_family=black,category=knitwear" (+ attribute list).
  static ReviewFilter parse(const std::vector<std::string>& conditions,
                            const std::vector<std::string>& attributes);
};

struct Alternative {
  std::string node;
  double score = 0;
};

struct ReviewItem {
  store::Tag tag;
  bool audit = false;                     // an auto tag drawn for auditing
  double margin = 1;                      // confidence minus the best alternative's score
  std::vector<Alternative> alternatives;  // other candidates, best first
  std::string reason;                     // one line: why the machine proposed it
  std::string asset_path;
  std::string thumbnail_path;
};

enum class Action { kConfirm, kReject, kCorrect, kSkip };
Action parse_action(const std::string& text);
std::string to_string(Action action);

struct BatchResult {
  std::int64_t matched = 0, changed = 0;
};

class ReviewQueue {
 public:
  ReviewQueue(library::Library& lib, tagging::TagService& tagger);

  std::vector<ReviewItem> items(const ReviewFilter& filter, Order order, std::size_t limit,
                                std::size_t offset = 0);
  std::size_t count(const ReviewFilter& filter);

  // One action on one item. `seconds` is how long the reviewer looked at it.
  // Correct needs `to_node`. Returns whether a tag changed (skip: never).
  bool act(const ReviewItem& item, Action action, const std::string& reviewer, double seconds,
           const std::string& to_node = {});
  // The same action on every item the filter matches (confirm/reject only).
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
  library::Library& lib_;
  tagging::TagService& tagger_;
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
