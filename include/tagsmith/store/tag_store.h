#pragma once
// TagStore: the current tag decisions, the audit trail that explains them,
// and the review work done on them (the review log and audit samples).
//
// The audit trail is append-only by contract: there is no call that updates
// or deletes a TagEvent, and a tag never changes without its event (both are
// written by apply_tag_changes in one transaction). Implementations are safe
// to call from several threads.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

class TagStore {
 public:
  virtual ~TagStore() = default;

  // --- tags and their audit trail ------------------------------------------
  // By attribute, then confidence descending, then node.
  virtual std::vector<Tag> tags_of(AssetId id) = 0;
  // The tags of every asset among `ids` (any order, duplicates ignored), by
  // asset id, then as tags_of(); read like AssetStore::find_assets(). Without
  // evidence, evidence_json is left "{}": what deciding needs, at a fraction
  // of the bytes.
  virtual std::vector<Tag> tags_of_assets(std::span<const AssetId> ids, bool with_evidence) = 0;
  // Calls `fn` with a summary (records.h) of each tag of the assets among
  // `ids`, by asset id, each asset's tags in any order; `fn` may move from
  // it. What a tagging run reads: rows go straight to their asset, with no
  // list of a batch's hundred thousand tags in between.
  virtual void visit_tag_summaries(std::span<const AssetId> ids,
                                   const std::function<void(TagSummary&)>& fn) = 0;
  // Applies all changes and appends their events, and settles the pending
  // WorkStep::kTag of the `decided` assets (work_queue.h), in one
  // transaction: a tagging job's progress is exactly what it has committed.
  virtual void apply_tag_changes(std::span<const TagChange> changes,
                                 std::span<const AssetId> decided = {}) = 0;
  // Oldest first; `attribute` empty: every attribute.
  virtual std::vector<TagEvent> tag_events(AssetId id, const std::string& attribute = {}) = 0;
  // The newest audit events across all assets, id < before_id (0: no bound),
  // newest first.
  virtual std::vector<TagEvent> recent_tag_events(std::int64_t before_id, std::size_t limit) = 0;
  virtual void for_each_tag(const std::function<void(const Tag&)>& fn) = 0;
  // By asset, attribute, node.
  virtual std::vector<Tag> tags_in_states(const std::vector<TagState>& states) = 0;

  // --- review log and audit samples -------------------------------------------
  virtual void add_review_log(const ReviewLogEntry& entry) = 0;
  // Entries at or after `since` (ISO-8601), oldest first.
  virtual std::vector<ReviewLogEntry> review_log(const std::string& since) = 0;
  // Inserts the samples as a new batch; returns the batch number.
  virtual std::int64_t add_audit_samples(const std::vector<AuditSample>& samples) = 0;
  virtual std::vector<AuditSample> audit_samples(bool pending_only) = 0;
  // Records the outcome on every pending sample of (asset, attribute, node).
  virtual void resolve_audit_samples(AssetId asset, const std::string& attribute,
                                     const std::string& node, const std::string& outcome,
                                     const std::string& reviewer, const std::string& at) = 0;

  // --- review claims and undoable decisions ------------------------------------
  // Claims each tag of `wanted` for its reviewer until its expires_at, where
  // the tag is unclaimed, its claim has expired (expires_at <= now) or is the
  // same reviewer's already. One atomic statement per tag, so two reviewers
  // racing for a tag never both get it. Returns the claims granted.
  virtual std::vector<ReviewClaim> claim_for_review(std::span<const ReviewClaim> wanted,
                                                    const std::string& now) = 0;
  // Claims not expired at `now` (expires_at > now), by asset, attribute, node.
  virtual std::vector<ReviewClaim> review_claims(const std::string& now) = 0;
  // Drops the reviewer's claims on these tags (only asset/attribute/node are
  // read); an empty span drops all of the reviewer's claims.
  virtual void release_review_claims(const std::string& reviewer,
                                     std::span<const ReviewClaim> which) = 0;
  // Records a decision; returns its id.
  virtual std::int64_t add_review_decision(const ReviewDecision& decision) = 0;
  // The reviewer's decisions not undone yet, newest first.
  virtual std::vector<ReviewDecision> review_decisions(const std::string& reviewer,
                                                       std::size_t limit) = 0;
  // Marks a decision undone (at `at`); false when it already was.
  virtual bool mark_review_decision_undone(std::int64_t id, const std::string& at) = 0;
};

}  // namespace tagsmith::store
