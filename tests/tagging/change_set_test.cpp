#include <gtest/gtest.h>

#include "tagsmith/tagging/engine.h"
#include "test_taxonomy.h"

namespace tagsmith::tagging {
namespace {

using test::test_taxonomy;
using Kind = TagDelta::Kind;

ExistingTag tag(std::string attr, std::string node, Tier tier, double conf, bool human = false) {
  ExistingTag t;
  t.attribute = std::move(attr);
  t.node = std::move(node);
  t.tier = tier;
  t.confidence = conf;
  t.actor = human ? "user:ana" : "model:zs-1";
  t.human = human;
  return t;
}

Decision decision(std::string attr, std::string node, Tier tier, double conf) {
  return {std::move(attr), std::move(node), tier, conf, "model:zs-2", nlohmann::json::object()};
}

TEST(ChangeSet, NothingChangesWhenDecisionsMatch) {
  std::vector<ExistingTag> existing{tag("scene", "studio", Tier::kAuto, 0.97)};
  std::vector<Decision> ds{decision("scene", "studio", Tier::kAuto, 0.97)};
  EXPECT_TRUE(change_set(test_taxonomy(), existing, ds).empty());
}

TEST(ChangeSet, AddUpdateReplaceRemove) {
  std::vector<ExistingTag> existing{
      tag("scene", "studio", Tier::kAuto, 0.97),
      tag("season", "spring", Tier::kFlagged, 0.8),
      tag("season", "winter", Tier::kSuggested, 0.4),
  };
  std::vector<Decision> ds{
      decision("scene", "flat_lay", Tier::kAuto, 0.96),
      decision("season", "spring", Tier::kAuto, 0.96),
      decision("season", "summer", Tier::kSuggested, 0.5),
  };
  auto cs = change_set(test_taxonomy(), existing, ds);
  ASSERT_EQ(cs.size(), 4u);
  // Taxonomy attribute order: scene before season.
  EXPECT_EQ(cs[0].kind, Kind::kReplace);  // single-valued: studio -> flat_lay
  EXPECT_EQ(cs[0].before->node, "studio");
  EXPECT_EQ(cs[0].after->node, "flat_lay");
  EXPECT_FALSE(cs[0].tier_changed());
  int update = 0, add = 0, remove = 0;
  for (const auto& c : cs) {
    if (c.kind == Kind::kUpdate) {
      ++update;
      EXPECT_EQ(c.after->node, "spring");
      EXPECT_TRUE(c.tier_changed());
    }
    if (c.kind == Kind::kAdd) {
      ++add;
      EXPECT_EQ(c.after->node, "summer");
    }
    if (c.kind == Kind::kRemove) {
      ++remove;
      EXPECT_EQ(c.before->node, "winter");
    }
  }
  EXPECT_EQ(update, 1);
  EXPECT_EQ(add, 1);
  EXPECT_EQ(remove, 1);
}

TEST(ChangeSet, ReplacePairsTheDeepestNodes) {
  std::vector<ExistingTag> existing{tag("category", "apparel", Tier::kAuto, 0.97),
                                    tag("category", "tops", Tier::kAuto, 0.97)};
  std::vector<Decision> ds{decision("category", "apparel", Tier::kAuto, 0.97),
                           decision("category", "dresses", Tier::kAuto, 0.97)};
  auto cs = change_set(test_taxonomy(), existing, ds);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].kind, Kind::kReplace);
  EXPECT_EQ(cs[0].before->node, "tops");
  EXPECT_EQ(cs[0].after->node, "dresses");
}

TEST(ChangeSet, HumanConfirmedTagSurvivesARetag) {
  // A person confirmed "dresses"; the new model is sure it is a top.
  std::vector<ExistingTag> existing{tag("category", "dresses", Tier::kAuto, 1.0, true),
                                    tag("category", "apparel", Tier::kAuto, 0.9)};
  AssetInput in;
  in.existing = existing;
  in.scores.push_back({"model:zs-2", "category", {{"tops", 0.99}}, nullptr});
  auto ds = decide(test_taxonomy(), in);
  auto cs = change_set(test_taxonomy(), existing, ds);
  for (const auto& c : cs) {
    if (c.before) {
      EXPECT_FALSE(c.before->human);
    }
    if (c.after) {
      EXPECT_NE(c.after->node, "tops");
    }
  }
  // Even a decision aimed at the human's node is not applied over it.
  std::vector<Decision> forced{decision("category", "dresses", Tier::kSuggested, 0.3)};
  for (const auto& c : change_set(test_taxonomy(), existing, forced))
    EXPECT_FALSE(c.after && c.after->node == "dresses");
}

TEST(ChangeSet, SmallConfidenceMovesWithinATierAreIgnored) {
  std::vector<ExistingTag> existing{tag("scene", "studio", Tier::kAuto, 0.97)};
  std::vector<Decision> ds{decision("scene", "studio", Tier::kAuto, 0.9700000001)};
  EXPECT_TRUE(change_set(test_taxonomy(), existing, ds).empty());
  ds[0].confidence = 0.98;
  auto cs = change_set(test_taxonomy(), existing, ds);
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].kind, Kind::kUpdate);
  EXPECT_FALSE(cs[0].tier_changed());
}

TEST(ChangeSet, TagsOfRemovedAttributesAreRemoved) {
  std::vector<ExistingTag> existing{tag("gone", "x", Tier::kAuto, 0.97)};
  auto cs = change_set(test_taxonomy(), existing, {});
  ASSERT_EQ(cs.size(), 1u);
  EXPECT_EQ(cs[0].kind, Kind::kRemove);
}

}  // namespace
}  // namespace tagsmith::tagging
