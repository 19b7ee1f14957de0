// The review queue over a real library: orders, filters, actions with their
// audit events and timings, batch actions, saved filters, sample audits.
#include "tagsmith/review/queue.h"

#include <gtest/gtest.h>

#include <map>

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

TEST(Wilson, KnownValues) {
  // 8 of 10: Wilson 95% interval (0.490, 0.943).
  const auto [lo, hi] = wilson_interval(8, 10);
  EXPECT_NEAR(lo, 0.4902, 1e-3);
  EXPECT_NEAR(hi, 0.9433, 1e-3);
  EXPECT_EQ(wilson_interval(0, 0), std::make_pair(0.0, 1.0));
}

}  // namespace
}  // namespace tagsmith::review
