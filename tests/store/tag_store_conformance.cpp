// TagStore: tags change only together with their audit events, the trail is
// append-only, and the review log and audit samples keep their order.
#include <fmt/format.h>

#include <algorithm>

#include "conformance.h"

namespace tagsmith::store::conformance {
namespace {

TEST_P(TagStoreConformance, TagChangesAndEventsCommitTogether) {
  const AssetId id = add_asset("ccc");
  TagChange c = tag_change(id, "colour_family", "red", TagState::kAuto, TagAction::kApplied, 0.97);
  c.tag.evidence_json = R"({"delta_e":1.5})";
  c.event.evidence_json = c.tag.evidence_json;
  tags().apply_tag_changes(std::span(&c, 1));
  const auto now = tags().tags_of(id);
  ASSERT_EQ(now.size(), 1u);
  EXPECT_EQ(now[0].state, TagState::kAuto);
  EXPECT_DOUBLE_EQ(now[0].confidence, 0.97);
  EXPECT_EQ(now[0].actor, "model:m@1");
  EXPECT_EQ(now[0].evidence_json, R"({"delta_e":1.5})");
  const auto events = tags().tag_events(id);
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].action, TagAction::kApplied);
  EXPECT_EQ(events[0].evidence_json, R"({"delta_e":1.5})");
  EXPECT_GT(events[0].id, 0);

  TagChange r = c;
  r.kind = TagChange::Kind::kRemove;
  r.event.action = TagAction::kRemoved;
  tags().apply_tag_changes(std::span(&r, 1));
  EXPECT_TRUE(tags().tags_of(id).empty());
  EXPECT_EQ(tags().tag_events(id, "colour_family").size(), 2u);
  EXPECT_TRUE(tags().tag_events(id, "season").empty());
}

// A tag's evidence is kept once, on the event that set it; a row whose
// evidence is not its event's (a confirm keeps the machine's evidence, its
// event records what it confirmed) keeps its own. Either reads back whole,
// one tag at a time and in bulk, and a later change brings its new evidence.
TEST_P(TagStoreConformance, ATagReadsBackTheEvidenceOfTheChangeThatSetIt) {
  const AssetId id = add_asset("evidence");
  TagChange set = tag_change(id, "scene", "studio", TagState::kFlagged, TagAction::kFlagged, 0.8);
  set.tag.evidence_json = R"({"alternatives":[{"node":"studio","score":0.8}]})";
  set.event.evidence_json = set.tag.evidence_json;
  tags().apply_tag_changes(std::span(&set, 1));
  EXPECT_EQ(tags().tags_of(id).at(0).evidence_json, set.tag.evidence_json);

  TagChange confirm = set;
  confirm.tag.state = TagState::kConfirmed;
  confirm.event.action = TagAction::kConfirmed;
  confirm.event.evidence_json = R"({"previous_tier":"flagged"})";
  tags().apply_tag_changes(std::span(&confirm, 1));
  const std::vector<AssetId> ids{id};
  for (const auto& t : {tags().tags_of(id).at(0), tags().tags_of_assets(ids, true).at(0)})
    EXPECT_EQ(t.evidence_json, set.tag.evidence_json);  // the machine's, not the confirm's
  EXPECT_EQ(tags().tags_of_assets(ids, false).at(0).evidence_json, "{}");

  TagChange again = set;
  again.tag.confidence = again.event.confidence = 0.9;
  again.tag.evidence_json = again.event.evidence_json = R"({"alternatives":[]})";
  tags().apply_tag_changes(std::span(&again, 1), ids);
  EXPECT_EQ(tags().tags_of(id).at(0).evidence_json, R"({"alternatives":[]})");
  const auto events = tags().tag_events(id);
  ASSERT_EQ(events.size(), 3u);
  EXPECT_EQ(events[1].evidence_json, R"({"previous_tier":"flagged"})");
  EXPECT_EQ(events[2].evidence_json, R"({"alternatives":[]})");
  EXPECT_LT(events[1].id, events[2].id);
}

TEST_P(TagStoreConformance, BulkTagReadsMatchTagsOf) {
  std::vector<AssetId> ids;
  for (int i = 0; i < 12; ++i) ids.push_back(add_asset("bulk" + std::to_string(i)));
  std::vector<TagChange> changes;
  for (int i = 0; i < 12; i += 2) {
    changes.push_back(
        tag_change(ids[i], "season", "winter", TagState::kSuggested, TagAction::kProposed, 0.4));
    changes.push_back(
        tag_change(ids[i], "season", "autumn", TagState::kFlagged, TagAction::kFlagged, 0.8));
    changes.push_back(tag_change(ids[i], "colour", "red", TagState::kAuto, TagAction::kApplied));
    changes.back().tag.evidence_json = R"({"share":0.5})";
  }
  tags().apply_tag_changes(changes);
  const std::vector<AssetId> asked{ids[11], ids[0], ids[4], ids[4], ids[5], ids[10]};
  const auto bulk = tags().tags_of_assets(asked, true);
  std::vector<Tag> expected;
  for (AssetId id : {ids[0], ids[4], ids[5], ids[10], ids[11]})
    for (auto& t : tags().tags_of(id)) expected.push_back(t);
  ASSERT_EQ(bulk.size(), expected.size());
  ASSERT_EQ(bulk.size(), 9u);
  for (std::size_t i = 0; i < bulk.size(); ++i) {
    EXPECT_EQ(bulk[i].asset_id, expected[i].asset_id);
    EXPECT_EQ(bulk[i].attribute + "=" + bulk[i].node,
              expected[i].attribute + "=" + expected[i].node);
    EXPECT_EQ(bulk[i].state, expected[i].state);
    EXPECT_DOUBLE_EQ(bulk[i].confidence, expected[i].confidence);
    EXPECT_EQ(bulk[i].evidence_json, expected[i].evidence_json);
  }
  for (const auto& t : tags().tags_of_assets(asked, false)) EXPECT_EQ(t.evidence_json, "{}");

  // Summaries: the same tags, by asset id.
  std::vector<std::string> summaries, full;
  AssetId last = 0;
  tags().visit_tag_summaries(asked, [&](TagSummary& t) {
    EXPECT_GE(t.asset_id, last);
    last = t.asset_id;
    summaries.push_back(fmt::format("{} {}={} {} {:.3f} {}", t.asset_id, t.attribute, t.node,
                                    to_string(t.state), t.confidence, t.actor));
  });
  for (const auto& t : bulk)
    full.push_back(fmt::format("{} {}={} {} {:.3f} {}", t.asset_id, t.attribute, t.node,
                               to_string(t.state), t.confidence, t.actor));
  std::sort(summaries.begin(), summaries.end());
  std::sort(full.begin(), full.end());
  EXPECT_EQ(summaries, full);
  int visits = 0;
  tags().visit_tag_summaries({}, [&](TagSummary&) { ++visits; });
  EXPECT_EQ(visits, 0);
}

TEST_P(TagStoreConformance, ACorrectionWritesItsCoveredRowsUnderOneEvent) {
  const AssetId id = add_asset("ddd");
  TagChange first = tag_change(id, "colour", "navy", TagState::kAuto, TagAction::kApplied);
  tags().apply_tag_changes(std::span(&first, 1));
  TagChange fix =
      tag_change(id, "colour", "black", TagState::kHumanSet, TagAction::kCorrected, 1.0, "t2");
  fix.event.previous_node = "navy";
  Tag old = first.tag;
  old.state = TagState::kRejected;
  fix.covered.push_back(old);
  tags().apply_tag_changes(std::span(&fix, 1));
  const auto now = tags().tags_of(id);
  ASSERT_EQ(now.size(), 2u);
  EXPECT_EQ(now[0].node, "black");  // higher confidence first
  EXPECT_EQ(now[0].state, TagState::kHumanSet);
  EXPECT_EQ(now[1].node, "navy");
  EXPECT_EQ(now[1].state, TagState::kRejected);
  const auto events = tags().tag_events(id);
  ASSERT_EQ(events.size(), 2u);
  EXPECT_EQ(events[1].action, TagAction::kCorrected);
  EXPECT_EQ(events[1].previous_node, "navy");
}

TEST_P(TagStoreConformance, TagsAreListedByStateAndInStableOrder) {
  const AssetId a = add_asset("a1"), b = add_asset("b1");
  std::vector<TagChange> changes{
      tag_change(b, "season", "summer", TagState::kSuggested, TagAction::kProposed),
      tag_change(a, "scene", "studio", TagState::kFlagged, TagAction::kFlagged),
      tag_change(a, "colour", "red", TagState::kAuto, TagAction::kApplied),
      tag_change(a, "season", "winter", TagState::kConfirmed, TagAction::kConfirmed),
  };
  tags().apply_tag_changes(changes);
  const auto review = tags().tags_in_states({TagState::kFlagged, TagState::kSuggested});
  ASSERT_EQ(review.size(), 2u);
  EXPECT_EQ(review[0].asset_id, a);
  EXPECT_EQ(review[0].node, "studio");
  EXPECT_EQ(review[1].asset_id, b);
  EXPECT_TRUE(tags().tags_in_states({}).empty());
  std::vector<std::string> all;
  tags().for_each_tag([&](const Tag& t) { all.push_back(t.attribute + "=" + t.node); });
  EXPECT_EQ(all, (std::vector<std::string>{"colour=red", "scene=studio", "season=winter",
                                           "season=summer"}));
}

TEST_P(TagStoreConformance, RecentEventsPageNewestFirst) {
  const AssetId id = add_asset("eee");
  for (int i = 0; i < 5; ++i) {
    TagChange c = tag_change(id, "n", std::to_string(i), TagState::kAuto, TagAction::kApplied);
    tags().apply_tag_changes(std::span(&c, 1));
  }
  const auto first = tags().recent_tag_events(0, 3);
  ASSERT_EQ(first.size(), 3u);
  EXPECT_EQ(first[0].node, "4");
  EXPECT_EQ(first[2].node, "2");
  const auto next = tags().recent_tag_events(first.back().id, 3);
  ASSERT_EQ(next.size(), 2u);
  EXPECT_EQ(next[0].node, "1");
  EXPECT_EQ(next[1].node, "0");
}

TEST_P(TagStoreConformance, ReviewLogIsReadFromATimeOnwardsOldestFirst) {
  const AssetId id = add_asset("fff");
  tags().add_review_log({0, id, "scene", "studio", "confirm", "ada", 2.5, "2026-01-01T10:00:00Z"});
  tags().add_review_log({0, id, "scene", "studio", "skip", "ada", 1.0, "2026-01-02T10:00:00Z"});
  tags().add_review_log({0, id, "colour", "red", "reject", "bob", 4.0, "2026-01-03T10:00:00Z"});
  const auto since = tags().review_log("2026-01-02T00:00:00Z");
  ASSERT_EQ(since.size(), 2u);
  EXPECT_EQ(since[0].action, "skip");
  EXPECT_EQ(since[1].reviewer, "bob");
  EXPECT_DOUBLE_EQ(since[1].seconds, 4.0);
  EXPECT_EQ(tags().review_log("").size(), 3u);
}

TEST_P(TagStoreConformance, AuditSamplesComeInBatchesAndAreResolvedOnce) {
  const AssetId id = add_asset("ggg");
  AuditSample s;
  s.asset_id = id;
  s.attribute = "scene";
  s.node = "studio";
  s.tier = "auto";
  s.confidence = 0.97;
  s.created_at = "t";
  const auto b1 = tags().add_audit_samples({s});
  s.node = "flat_lay";
  const auto b2 = tags().add_audit_samples({s, s});
  EXPECT_EQ(b2, b1 + 1);
  ASSERT_EQ(tags().audit_samples(true).size(), 3u);
  tags().resolve_audit_samples(id, "scene", "flat_lay", "rejected", "ada", "t2");
  const auto pending = tags().audit_samples(true);
  ASSERT_EQ(pending.size(), 1u);
  EXPECT_EQ(pending[0].node, "studio");
  EXPECT_EQ(pending[0].batch, b1);
  const auto all = tags().audit_samples(false);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[2].outcome, "rejected");
  EXPECT_EQ(all[2].reviewer, "ada");
  EXPECT_EQ(all[2].reviewed_at, "t2");
  // Already resolved: a second outcome does not overwrite the first.
  tags().resolve_audit_samples(id, "scene", "flat_lay", "confirmed", "bob", "t3");
  EXPECT_EQ(tags().audit_samples(false)[2].outcome, "rejected");
}

// Workers that both tagged an asset (one's lease ran out while it worked)
// apply the same decision twice: the second changes nothing and the audit
// keeps one event. People's edits (no decided assets) are always recorded.
TEST_P(TagStoreConformance, ATaggingDecisionAlreadyInEffectIsNotRecordedAgain) {
  const AssetId id = add_asset("hhh");
  const std::vector<AssetId> decided = {id};
  const auto apply = tag_change(id, "colour_family", "red", TagState::kAuto, TagAction::kApplied);
  tags().apply_tag_changes(std::span(&apply, 1), decided);
  tags().apply_tag_changes(std::span(&apply, 1), decided);
  ASSERT_EQ(tags().tag_events(id).size(), 1u);

  auto remove = tag_change(id, "colour_family", "red", TagState::kAuto, TagAction::kRemoved);
  remove.kind = TagChange::Kind::kRemove;
  tags().apply_tag_changes(std::span(&remove, 1), decided);
  tags().apply_tag_changes(std::span(&remove, 1), decided);
  EXPECT_EQ(tags().tag_events(id).size(), 2u);
  EXPECT_TRUE(tags().tags_of(id).empty());

  // A different decision (another tier) is a change.
  tags().apply_tag_changes(std::span(&apply, 1), decided);
  const auto flag = tag_change(id, "colour_family", "red", TagState::kFlagged, TagAction::kFlagged);
  tags().apply_tag_changes(std::span(&flag, 1), decided);
  EXPECT_EQ(tags().tag_events(id).size(), 4u);

  const auto confirm =
      tag_change(id, "colour_family", "red", TagState::kConfirmed, TagAction::kConfirmed);
  tags().apply_tag_changes(std::span(&confirm, 1));
  tags().apply_tag_changes(std::span(&confirm, 1));
  EXPECT_EQ(tags().tag_events(id).size(), 6u);
}

// Review claims: a tag held by one reviewer is not granted to another until
// the claim expires; the holder may renew it; releasing frees it.
TEST_P(TagStoreConformance, ReviewClaimsAreExclusiveUntilTheyExpire) {
  const AssetId id = add_asset("claims");
  const std::string t0 = "2026-03-01T10:00:00.000Z", t5 = "2026-03-01T10:05:00.000Z",
                    t10 = "2026-03-01T10:10:00.000Z", t11 = "2026-03-01T10:11:00.000Z";
  std::vector<ReviewClaim> ana = {{id, "scene", "studio", "ana", t10},
                                  {id, "scene", "flat_lay", "ana", t10}};
  EXPECT_EQ(tags().claim_for_review(ana, t0).size(), 2u);
  // Bo asks for one of Ana's and a free one: only the free one.
  std::vector<ReviewClaim> bo = {{id, "scene", "studio", "bo", t11},
                                 {id, "colour", "red", "bo", t11}};
  const auto granted = tags().claim_for_review(bo, t5);
  ASSERT_EQ(granted.size(), 1u);
  EXPECT_EQ(granted[0].node, "red");
  // Ana renews her own claim.
  EXPECT_EQ(tags().claim_for_review(std::span(&ana[0], 1), t5).size(), 1u);
  auto held = tags().review_claims(t5);
  ASSERT_EQ(held.size(), 3u);
  EXPECT_EQ(held[0].attribute, "colour");
  EXPECT_EQ(held[0].reviewer, "bo");
  // After expiry (t10 <= now) Bo gets it.
  EXPECT_EQ(tags().review_claims(t10).size(), 1u);  // only Bo's red (until t11)
  EXPECT_EQ(tags().claim_for_review(std::span(&bo[0], 1), t10).size(), 1u);
  // Release: Bo's named one, then all of Ana's.
  tags().release_review_claims("bo", std::span(&bo[0], 1));
  ReviewClaim again = ana[0];
  again.expires_at = t11;
  EXPECT_EQ(tags().claim_for_review(std::span(&again, 1), t10).size(), 1u);  // free again
  tags().release_review_claims("ana", {});
  held = tags().review_claims(t0);
  ASSERT_EQ(held.size(), 1u);
  EXPECT_EQ(held[0].reviewer, "bo");
}

TEST_P(TagStoreConformance, ReviewDecisionsNewestFirstUntilUndone) {
  const AssetId id = add_asset("decisions");
  ReviewDecision d;
  d.reviewer = "ana";
  d.asset_id = id;
  d.attribute = "scene";
  d.node = "studio";
  d.action = "confirm";
  d.event_id = 41;
  d.before_json = R"([{"node":"studio","state":"flagged"}])";
  d.at = "2026-03-01T10:00:00.000Z";
  const auto first = tags().add_review_decision(d);
  d.node = "flat_lay";
  d.event_id = 42;
  const auto second = tags().add_review_decision(d);
  d.reviewer = "bo";
  tags().add_review_decision(d);
  EXPECT_GT(second, first);
  auto mine = tags().review_decisions("ana", 10);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].id, second);
  EXPECT_EQ(mine[0].event_id, 42);
  EXPECT_EQ(mine[1].before_json, R"([{"node":"studio","state":"flagged"}])");
  EXPECT_TRUE(tags().mark_review_decision_undone(second, "2026-03-01T10:01:00.000Z"));
  EXPECT_FALSE(tags().mark_review_decision_undone(second, "2026-03-01T10:02:00.000Z"));
  mine = tags().review_decisions("ana", 10);
  ASSERT_EQ(mine.size(), 1u);
  EXPECT_EQ(mine[0].id, first);
  EXPECT_EQ(tags().review_decisions("ana", 0).size(), 0u);
}

}  // namespace
}  // namespace tagsmith::store::conformance
