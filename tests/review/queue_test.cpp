// The review queue over a real library: orders, filters, actions with their
// audit events and timings, batch actions, saved filters, sample audits.
#include "tagsmith/review/queue.h"

#include <gtest/gtest.h>

#include <chrono>
#include <map>
#include <set>

#include "colour_fixture.h"
#include "library_fixture.h"
#include "tagsmith/common/error.h"
#include "temp_dir.h"

namespace tagsmith::review {
namespace {

using store::AssetId;
using store::TagState;

// Scene scores per asset: a stand-in for a vision model.
class SceneScores : public tagging::ScoreProvider {
 public:
  std::string name() const override { return "scene"; }
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy&,
                                        const tagging::ScoreRequest& r) const override {
    auto it = scene.find(r.asset.id);
    if (it == scene.end()) return {};
    tagging::ScoreSet set{"model:fake@1", "scene", {}, nullptr};
    for (const auto& [node, score] : it->second) set.scores.push_back({node, score, nullptr});
    return {set};
  }
  std::map<AssetId, std::map<std::string, double>> scene;
};

class QueueTest : public ::testing::Test {
 protected:
  void SetUp() override {
    lib = library::Library::open(dir / "lib");
    auto provider = std::make_unique<SceneScores>();
    scores = provider.get();
    std::vector<std::unique_ptr<tagging::ScoreProvider>> providers;
    providers.push_back(std::move(provider));
    providers.push_back(
        std::make_unique<tagging::ColourScoreProvider>(test::decisive_colour_calibration()));
    // Assets: scene scores chosen to land in each tier (auto 0.95, flag 0.75).
    a_auto = add("black", 0.97, 0.01);       // auto
    a_flag_low = add("black", 0.76, 0.20);   // flagged, margin 0.56
    a_flag_close = add("navy", 0.80, 0.78);  // flagged, margin 0.02
    a_suggest = add("black", 0.50, 0.45);    // suggestion
    tagger = std::make_unique<tagging::TagService>(*lib, std::move(providers));
    tagger->tag_all();
    queue = std::make_unique<ReviewQueue>(*lib, *tagger);
  }

  AssetId add(const std::string& family, double studio, double flat_lay) {
    const AssetId id =
        test::FakeAsset("sha" + std::to_string(++n)).colour(family, family).add_to(lib->store());
    pending_scores[id] = {{"studio", studio}, {"flat_lay", flat_lay}};
    return id;
  }

  std::vector<ReviewItem> scene_items(Order order) {
    ReviewFilter f;
    f.attributes = {"scene"};
    return queue->items(f, order, 100);
  }

  test::TempDir dir;
  std::unique_ptr<library::Library> lib;
  SceneScores* scores = nullptr;
  std::map<AssetId, std::map<std::string, double>> scores_storage;
  std::map<AssetId, std::map<std::string, double>>& pending_scores = scores_storage;
  std::unique_ptr<tagging::TagService> tagger;
  std::unique_ptr<ReviewQueue> queue;
  AssetId a_auto = 0, a_flag_low = 0, a_flag_close = 0, a_suggest = 0;
  int n = 0;

  void TearDown() override {}
};

// The provider is created before the assets; hand it their scores.
class Queue : public QueueTest {
 protected:
  void SetUp() override {
    QueueTest::SetUp();
    scores->scene = scores_storage;
    tagger->tag_all();
  }
};

TEST_F(Queue, HoldsFlaggedAndSuggestedTagsOnly) {
  const auto items = scene_items(Order::kLowestConfidence);
  ASSERT_EQ(items.size(), 3u);
  for (const auto& i : items) {
    EXPECT_NE(i.tag.asset_id, a_auto);
    EXPECT_TRUE(i.tag.state == TagState::kFlagged || i.tag.state == TagState::kSuggested);
    EXPECT_FALSE(i.reason.empty());
    EXPECT_FALSE(i.asset_path.empty());
  }
}

TEST_F(Queue, OrdersByConfidenceAndByMargin) {
  const auto by_conf = scene_items(Order::kLowestConfidence);
  ASSERT_EQ(by_conf.size(), 3u);
  EXPECT_EQ(by_conf[0].tag.asset_id, a_suggest);
  EXPECT_EQ(by_conf[1].tag.asset_id, a_flag_low);
  EXPECT_EQ(by_conf[2].tag.asset_id, a_flag_close);
  const auto by_margin = scene_items(Order::kSmallestMargin);
  EXPECT_EQ(by_margin[0].tag.asset_id, a_flag_close);  // 0.80 vs 0.78
  EXPECT_NEAR(by_margin[0].margin, 0.02, 1e-6);
  ASSERT_FALSE(by_margin[0].alternatives.empty());
  EXPECT_EQ(by_margin[0].alternatives[0].node, "flat_lay");
}

TEST_F(Queue, FilterOnAssetTagsAndSavedFilters) {
  ReviewFilter f = ReviewFilter::parse({"colour_family=navy"}, {"scene"});
  const auto items = queue->items(f, Order::kLowestConfidence, 10);
  ASSERT_EQ(items.size(), 1u);
  EXPECT_EQ(items[0].tag.asset_id, a_flag_close);
  queue->save_filter("navy scenes", f);
  EXPECT_EQ(queue->filter_names(), std::vector<std::string>{"navy scenes"});
  EXPECT_EQ(queue->count(queue->load_filter("navy scenes")), 1u);
  EXPECT_THROW(queue->load_filter("nope"), NotFoundError);
  EXPECT_THROW(queue->items(ReviewFilter::parse({"colour_family=plaid-ish"}, {}),
                            Order::kLowestConfidence, 1),
               InputError);
}

TEST_F(Queue, EveryActionLeavesOneEventAndItsTime) {
  auto items = scene_items(Order::kLowestConfidence);
  const auto events = [&] { return lib->store().stats().tag_events; };
  auto before = events();
  EXPECT_TRUE(queue->act(items[1], Action::kConfirm, "ana", 2.5));
  EXPECT_EQ(events(), before + 1);
  before = events();
  EXPECT_TRUE(queue->act(items[2], Action::kCorrect, "ana", 4.0, "flat_lay"));
  EXPECT_EQ(events(), before + 1);
  before = events();
  EXPECT_TRUE(queue->act(items[0], Action::kReject, "bo", 1.0));
  EXPECT_EQ(events(), before + 1);
  // The events carry the reviewer; the log carries the time, skips included.
  const auto ev = lib->store().tag_events(items[1].tag.asset_id, "scene");
  EXPECT_EQ(ev.back().actor, "user:ana");
  EXPECT_EQ(ev.back().action, store::TagAction::kConfirmed);
  const auto log = lib->store().review_log("");
  ASSERT_EQ(log.size(), 3u);
  EXPECT_DOUBLE_EQ(log[0].seconds, 2.5);
  EXPECT_EQ(log[1].action, "correct");
  EXPECT_TRUE(scene_items(Order::kLowestConfidence).empty());  // all reviewed

  // A later re-tag leaves the people's decisions alone: nothing reviewed comes
  // back. (The rejected asset may get its runner-up proposed instead.)
  tagger->tag_all();
  for (const auto& i : scene_items(Order::kLowestConfidence)) {
    EXPECT_EQ(i.tag.asset_id, items[0].tag.asset_id);
    EXPECT_NE(i.tag.node, items[0].tag.node);
  }
}

TEST_F(Queue, SkipChangesNothingButIsTimed) {
  auto items = scene_items(Order::kLowestConfidence);
  const auto before = lib->store().stats().tag_events;
  EXPECT_FALSE(queue->act(items[0], Action::kSkip, "ana", 3.0));
  EXPECT_EQ(lib->store().stats().tag_events, before);
  EXPECT_EQ(lib->store().review_log("").size(), 1u);
  EXPECT_EQ(scene_items(Order::kLowestConfidence).size(), 3u);
}

TEST_F(Queue, BatchConfirmOverAFilter) {
  ReviewFilter f = ReviewFilter::parse({"colour_family=black"}, {"scene"});
  f.include_suggested = false;
  const BatchResult r = queue->batch(f, Action::kConfirm, "lead");
  EXPECT_EQ(r.matched, 1);  // only the black flagged one
  EXPECT_EQ(r.changed, 1);
  EXPECT_THROW(queue->batch(f, Action::kCorrect, "lead"), InputError);
}

TEST_F(Queue, CompletionByPrefixOfIdOrLabel) {
  const auto c = queue->complete("scene", "fl");
  EXPECT_NE(std::find(c.begin(), c.end(), "flat_lay"), c.end());
  EXPECT_TRUE(queue->complete("scene", "zzz").empty());
}

TEST_F(Queue, AuditSampleAndPrecisionReport) {
  // Make a few more auto tags: colour tags are auto at ΔE 1, share 1.
  const auto drawn = draw_audit_sample(*lib, "auto", 3, 7);
  EXPECT_EQ(drawn, 3);
  ReviewFilter f;
  f.include_flagged = f.include_suggested = false;
  auto items = queue->items(f, Order::kLowestConfidence, 10);
  ASSERT_EQ(items.size(), 3u);
  for (const auto& i : items) EXPECT_TRUE(i.audit);
  queue->act(items[0], Action::kConfirm, "ana", 1);
  queue->act(items[1], Action::kConfirm, "ana", 1);
  queue->act(items[2], Action::kReject, "ana", 1);
  const auto report = audit_report(*lib);
  const auto& all = report.back();
  EXPECT_EQ(all.attribute, "all");
  EXPECT_EQ(all.reviewed, 3);
  EXPECT_EQ(all.correct, 2);
  EXPECT_NEAR(all.precision, 2.0 / 3, 1e-9);
  EXPECT_LT(all.low, all.precision);
  EXPECT_GT(all.high, all.precision);
  EXPECT_TRUE(queue->items(f, Order::kLowestConfidence, 10).empty());  // sample cleared
}

// --- review for a team -----------------------------------------------------------

// A tag written straight into the store, with the alternatives its evidence
// names (what the engine would have stored).
void put_tag(store::Store& db, AssetId asset, const std::string& attribute, const std::string& node,
             TagState state, double confidence,
             const nlohmann::json& evidence = nlohmann::json::object()) {
  store::TagChange c;
  c.tag = {asset,          attribute,  node,
           state,          confidence, "model:fake@1",
           "fake@1",       1,          "2026-01-01T00:00:00.000Z",
           evidence.dump()};
  c.event.asset_id = asset;
  c.event.attribute = attribute;
  c.event.node = node;
  c.event.action = state == TagState::kConfirmed   ? store::TagAction::kConfirmed
                   : state == TagState::kFlagged   ? store::TagAction::kFlagged
                   : state == TagState::kSuggested ? store::TagAction::kProposed
                                                   : store::TagAction::kApplied;
  c.event.actor = c.tag.actor;
  c.event.confidence = confidence;
  c.event.at = c.tag.updated_at;
  db.apply_tag_changes(std::span(&c, 1));
}

std::set<std::tuple<AssetId, std::string, std::string>> keys(const std::vector<ReviewItem>& v) {
  std::set<std::tuple<AssetId, std::string, std::string>> out;
  for (const auto& i : v) out.emplace(i.tag.asset_id, i.tag.attribute, i.tag.node);
  return out;
}

TEST_F(Queue, TwoReviewersAreHandedDisjointItems) {
  ReviewFilter f;
  f.attributes = {"scene"};
  const auto ana = queue->items(f, Order::kValue, 2, 0, "ana");
  const auto bo = queue->items(f, Order::kValue, 10, 0, "bo");
  ASSERT_EQ(ana.size(), 2u);
  ASSERT_EQ(bo.size(), 1u);  // the one Ana does not hold
  for (const auto& k : keys(bo)) EXPECT_EQ(keys(ana).count(k), 0u);
  EXPECT_EQ(ana[0].claimed_by, "ana");
  EXPECT_FALSE(ana[0].claim_expires_at.empty());
  // Asking again gives Ana her own items back (renewed), not Bo's.
  EXPECT_EQ(keys(queue->items(f, Order::kValue, 10, 0, "ana")), keys(ana));
  // Without a reviewer the queue is only looked at: everything, nothing claimed.
  EXPECT_EQ(queue->items(f, Order::kValue, 10).size(), 3u);
  // Leaving gives them back.
  queue->release("ana");
  EXPECT_EQ(queue->items(f, Order::kValue, 10, 0, "cy").size(), 2u);
}

TEST_F(Queue, ExpiredClaimsComeBackToTheQueue) {
  auto t = std::chrono::system_clock::now();
  queue->set_clock([&t] { return t; });
  queue->set_claim_ttl(std::chrono::minutes(10));
  ReviewFilter f;
  f.attributes = {"scene"};
  ASSERT_EQ(queue->items(f, Order::kValue, 10, 0, "ana").size(), 3u);
  EXPECT_TRUE(queue->items(f, Order::kValue, 10, 0, "bo").empty());
  t += std::chrono::minutes(9);
  EXPECT_TRUE(queue->items(f, Order::kValue, 10, 0, "bo").empty());
  t += std::chrono::minutes(2);  // Ana's claims ran out
  EXPECT_EQ(queue->items(f, Order::kValue, 10, 0, "bo").size(), 3u);
}

TEST_F(Queue, ADecisionOnATagSomeoneElseHoldsOrChangedIsRefused) {
  ReviewFilter f;
  f.attributes = {"scene"};
  // Both read the same item (looking, not claiming).
  const auto seen = queue->items(f, Order::kValue, 10);
  const ReviewItem item = seen[0];
  ASSERT_GT(item.version, 0);
  EXPECT_TRUE(queue->act(item, Action::kConfirm, "ana", 1));
  const auto events = lib->store().stats().tag_events;
  try {
    queue->act(item, Action::kReject, "bo", 1);
    FAIL() << "a stale decision was taken";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find("confirmed by ana"), std::string::npos) << e.what();
  }
  EXPECT_EQ(lib->store().stats().tag_events, events);  // nothing written
  // A tag Ana has open is hers: Bo's decision is refused, naming her.
  const auto mine = queue->items(f, Order::kValue, 1, 0, "ana");
  ASSERT_EQ(mine.size(), 1u);
  try {
    queue->act(mine[0], Action::kConfirm, "bo", 1);
    FAIL() << "a held tag was decided by someone else";
  } catch (const ConflictError& e) {
    EXPECT_NE(std::string(e.what()).find("being reviewed by ana"), std::string::npos) << e.what();
  }
  EXPECT_TRUE(queue->act(mine[0], Action::kConfirm, "ana", 1));
}

TEST_F(Queue, UndoRestoresThePreviousStateWithAnEventOfItsOwn) {
  ReviewFilter f;
  f.attributes = {"scene"};
  const auto items = queue->items(f, Order::kSmallestMargin, 10, 0, "ana");
  const ReviewItem close = items[0];  // a_flag_close: studio flagged at 0.80
  ASSERT_EQ(close.tag.asset_id, a_flag_close);
  const auto before = lib->store().tags_of(a_flag_close);
  EXPECT_TRUE(queue->act(close, Action::kCorrect, "ana", 2, "flat_lay"));
  const ReviewItem other = items[1];
  EXPECT_TRUE(queue->act(other, Action::kConfirm, "ana", 2));

  // Undo the last two, newest first.
  const auto undone = queue->undo("ana", 2);
  ASSERT_EQ(undone.size(), 2u);
  EXPECT_EQ(undone[0].decision.action, "confirm");
  EXPECT_EQ(undone[1].decision.action, "correct");
  ASSERT_EQ(undone[1].events.size(), 2u);  // studio restored, flat_lay removed
  const auto after = lib->store().tags_of(a_flag_close);
  ASSERT_EQ(after.size(), before.size());
  for (std::size_t k = 0; k < after.size(); ++k) {
    EXPECT_EQ(after[k].node, before[k].node);
    EXPECT_EQ(after[k].state, before[k].state);
    EXPECT_DOUBLE_EQ(after[k].confidence, before[k].confidence);
    EXPECT_EQ(after[k].actor, before[k].actor);
  }
  const auto ev = lib->store().tag_events(a_flag_close, "scene");
  EXPECT_EQ(ev.back().action, store::TagAction::kUndone);
  EXPECT_EQ(ev.back().actor, "user:ana");
  EXPECT_NE(ev.back().evidence_json.find("undo_of"), std::string::npos);
  const auto o = lib->store().tags_of(other.tag.asset_id);
  for (const auto& t : o) {
    if (t.attribute == "scene" && t.node == other.tag.node) {
      EXPECT_EQ(t.state, other.tag.state);
    }
  }
  // Both are back in the queue, and there is nothing left to undo.
  EXPECT_EQ(queue->items(f, Order::kValue, 10).size(), 3u);
  EXPECT_TRUE(queue->undo("ana", 1).empty());
}

TEST_F(Queue, UndoIsRefusedWhenTheTagChangedSince) {
  ReviewFilter f;
  f.attributes = {"scene"};
  const auto item = queue->items(f, Order::kValue, 1, 0, "ana")[0];
  EXPECT_TRUE(queue->act(item, Action::kConfirm, "ana", 1));
  // Someone changes it afterwards (a lead, directly).
  EXPECT_TRUE(tagger->reject(item.tag.asset_id, "scene", item.tag.node, "lead"));
  EXPECT_THROW(queue->undo("ana", 1), ConflictError);
  for (const auto& t : lib->store().tags_of(item.tag.asset_id)) {
    if (t.attribute == "scene" && t.node == item.tag.node) {
      EXPECT_EQ(t.state, TagState::kRejected);  // the lead's decision stands
    }
  }
}

TEST_F(Queue, ValueOrderPutsRareAndUncertainFirstAndKeepsLowValueOut) {
  store::Store& db = lib->store();
  // "studio" is well known: 25 confirmed examples.
  for (int k = 0; k < 25; ++k) {
    const AssetId id = test::FakeAsset("ex" + std::to_string(k)).add_to(db);
    put_tag(db, id, "scene", "studio", TagState::kConfirmed, 1.0);
  }
  const nlohmann::json far_alt = {{"alternatives", {{{"node", "lifestyle"}, {"score", 0.05}}}}};
  const AssetId common = test::FakeAsset("common").add_to(db);
  put_tag(db, common, "scene", "studio", TagState::kFlagged, 0.93, far_alt);
  const AssetId rare = test::FakeAsset("rare").add_to(db);
  put_tag(db, rare, "scene", "detail", TagState::kFlagged, 0.78, far_alt);
  const AssetId low = test::FakeAsset("low").add_to(db);
  put_tag(db, low, "scene", "lifestyle", TagState::kSuggested, 0.31, far_alt);

  ReviewFilter f;
  f.attributes = {"scene"};
  auto items = queue->items(f, Order::kValue, 100);
  auto pos = [&](AssetId id) {
    for (std::size_t k = 0; k < items.size(); ++k)
      if (items[k].tag.asset_id == id) return static_cast<long>(k);
    return -1L;
  };
  ASSERT_GE(pos(rare), 0);
  ASSERT_GE(pos(common), 0);
  EXPECT_LT(pos(rare), pos(common));
  EXPECT_GT(items[static_cast<std::size_t>(pos(rare))].value.total,
            items[static_cast<std::size_t>(pos(common))].value.total);
  EXPECT_EQ(pos(low), -1);  // a suggestion at 0.31: kept out
  f.include_low_value = true;
  items = queue->items(f, Order::kValue, 100);
  ASSERT_GE(pos(low), 0);
  EXPECT_TRUE(items[static_cast<std::size_t>(pos(low))].low_value);
  // An audit sample outranks everything that is not one.
  EXPECT_EQ(draw_audit_sample(*lib, "auto", 1, 3), 1);
  ReviewFilter all;
  EXPECT_TRUE(queue->items(all, Order::kValue, 1)[0].audit);
}

TEST_F(Queue, CardShowsLabelsSwatchesAndTheRunnerUpTheReasonNames) {
  store::Store& db = lib->store();
  const AssetId id = test::FakeAsset("card").colour("navy", "navy", 1, 1, {20, 30, 90}).add_to(db);
  // An alternative scoring above the proposal (a rule chose otherwise).
  const nlohmann::json ev = {
      {"alternatives",
       {{{"node", "flat_lay"}, {"score", 0.9}}, {{"node", "lifestyle"}, {"score", 0.4}}}}};
  put_tag(db, id, "scene", "studio", TagState::kFlagged, 0.8, ev);
  const ReviewItem item = queue->item(id, "scene", "studio");
  EXPECT_EQ(item.labels.at("en"), "Studio");
  EXPECT_EQ(item.labels.at("zh"), "影棚");
  ASSERT_EQ(item.alternatives.size(), 2u);
  EXPECT_EQ(item.alternatives[0].node, "lifestyle");  // the runner-up first
  EXPECT_FALSE(item.alternatives[0].outranks);
  EXPECT_EQ(item.alternatives[0].labels.at("en"), "Lifestyle");
  EXPECT_EQ(item.alternatives[1].node, "flat_lay");
  EXPECT_TRUE(item.alternatives[1].outranks);
  EXPECT_NE(item.reason.find("runner-up lifestyle"), std::string::npos) << item.reason;
  EXPECT_NE(item.reason.find("flat_lay scored higher"), std::string::npos) << item.reason;
  EXPECT_NEAR(item.margin, 0.4, 1e-9);
  // A colour tag carries the asset's own colour as its swatch.
  put_tag(db, id, "colour_family", "navy", TagState::kFlagged, 0.8);
  EXPECT_EQ(queue->item(id, "colour_family", "navy").swatch, "#141e5a");
  EXPECT_TRUE(item.swatch.empty());
}

TEST(Wilson, KnownValues) {
  // 8 of 10: Wilson 95% interval (0.490, 0.943).
  const auto [lo, hi] = wilson_interval(8, 10);
  EXPECT_NEAR(lo, 0.4902, 1e-3);
  EXPECT_NEAR(hi, 0.9433, 1e-3);
  EXPECT_EQ(wilson_interval(0, 0), std::make_pair(0.0, 1.0));
}

}  // namespace
}  // namespace tagsmith::review
