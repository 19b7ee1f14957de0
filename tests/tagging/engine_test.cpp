#include "tagsmith/tagging/engine.h"

#include <gtest/gtest.h>

#include "tagsmith/image/colour.h"
#include "test_taxonomy.h"

namespace tagsmith::tagging {
namespace {

using test::test_taxonomy;

ScoreSet scores(std::string attribute, std::vector<NodeScore> s,
                std::string source = "model:zs-1") {
  return {std::move(source), std::move(attribute), std::move(s), nullptr};
}

ExistingTag human_tag(std::string attribute, std::string node) {
  ExistingTag t;
  t.attribute = std::move(attribute);
  t.node = std::move(node);
  t.tier = Tier::kAuto;
  t.confidence = 1.0;
  t.actor = "user:ana";
  t.human = true;
  return t;
}

std::vector<Decision> of(const std::vector<Decision>& ds, const std::string& attribute) {
  std::vector<Decision> out;
  for (const auto& d : ds)
    if (d.attribute == attribute) out.push_back(d);
  return out;
}

const Decision* find(const std::vector<Decision>& ds, const std::string& attribute,
                     const std::string& node) {
  for (const auto& d : ds)
    if (d.attribute == attribute && d.node == node) return &d;
  return nullptr;
}

Tier tier_of_scene_score(double score) {
  AssetInput in;
  in.scores.push_back(scores("scene", {{"studio", score}}));
  auto ds = decide(test_taxonomy(), in);
  EXPECT_EQ(ds.size(), 1u);
  return ds.empty() ? Tier::kSuggested : ds[0].tier;
}

TEST(TaggingEngine, TiersAtTheExactBoundaries) {
  EXPECT_EQ(tier_of_scene_score(1.0), Tier::kAuto);
  EXPECT_EQ(tier_of_scene_score(0.95), Tier::kAuto);
  EXPECT_EQ(tier_of_scene_score(0.9499), Tier::kFlagged);
  EXPECT_EQ(tier_of_scene_score(0.75), Tier::kFlagged);
  EXPECT_EQ(tier_of_scene_score(0.7499), Tier::kSuggested);
  EXPECT_EQ(tier_of_scene_score(0.30), Tier::kSuggested);
}

TEST(TaggingEngine, BelowTheSuggestFloorNothingIsDecided) {
  AssetInput in;
  in.scores.push_back(scores("scene", {{"studio", 0.2999}}));
  EXPECT_TRUE(decide(test_taxonomy(), in).empty());
}

TEST(TaggingEngine, PerNodeThresholdOverrides) {
  // on_model: auto 0.9, flag 0.6; siblings use the defaults 0.95 / 0.75.
  AssetInput in;
  in.scores.push_back(scores("scene", {{"on_model", 0.9}}));
  EXPECT_EQ(decide(test_taxonomy(), in).at(0).tier, Tier::kAuto);
  in.scores = {scores("scene", {{"on_model", 0.6}})};
  EXPECT_EQ(decide(test_taxonomy(), in).at(0).tier, Tier::kFlagged);
  in.scores = {scores("scene", {{"studio", 0.6}})};
  EXPECT_EQ(decide(test_taxonomy(), in).at(0).tier, Tier::kSuggested);
  in.scores = {scores("scene", {{"studio", 0.9}})};
  EXPECT_EQ(decide(test_taxonomy(), in).at(0).tier, Tier::kFlagged);
}

TEST(TaggingEngine, TierForIsInclusive) {
  taxonomy::Thresholds t;
  EXPECT_EQ(tier_for(0.95, t), Tier::kAuto);
  EXPECT_EQ(tier_for(0.75, t), Tier::kFlagged);
  EXPECT_EQ(to_string(Tier::kAuto), "auto");
  EXPECT_EQ(parse_tier("flagged"), Tier::kFlagged);
}

TEST(TaggingEngine, SingleValuedAttributeKeepsOneValueWithAlternativesInEvidence) {
  AssetInput in;
  in.scores.push_back(scores("scene", {{"studio", 0.96}, {"flat_lay", 0.97}, {"on_model", 0.5}}));
  auto ds = decide(test_taxonomy(), in);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].node, "flat_lay");
  EXPECT_EQ(ds[0].actor, "model:zs-1");
  ASSERT_EQ(ds[0].evidence["alternatives"].size(), 3u);
  EXPECT_EQ(ds[0].evidence["alternatives"][1]["node"], "studio");
  EXPECT_EQ(ds[0].evidence["alternatives"][1]["score"], 0.96);
}

TEST(TaggingEngine, MultiValuedAttributeKeepsEachAboveTheFloor) {
  AssetInput in;
  in.scores.push_back(scores("season", {{"spring", 0.96}, {"summer", 0.8}, {"winter", 0.1}}));
  auto ds = decide(test_taxonomy(), in);
  ASSERT_EQ(ds.size(), 2u);
  EXPECT_EQ(ds[0].node, "spring");
  EXPECT_EQ(ds[0].tier, Tier::kAuto);
  EXPECT_EQ(ds[1].node, "summer");
  EXPECT_EQ(ds[1].tier, Tier::kFlagged);
}

TEST(TaggingEngine, BestScoreOverSourcesWins) {
  AssetInput in;
  in.scores.push_back(scores("scene", {{"studio", 0.8}}, "model:zs-1"));
  in.scores.push_back(scores("scene", {{"studio", 0.97}}, "model:head-3"));
  auto ds = decide(test_taxonomy(), in);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].confidence, 0.97);
  EXPECT_EQ(ds[0].actor, "model:head-3");
  EXPECT_EQ(ds[0].evidence["sources"]["model:zs-1"], 0.8);
}

TEST(TaggingEngine, ChildImpliesParentWithAtLeastItsConfidence) {
  AssetInput in;
  in.scores.push_back(scores("category", {{"tops", 0.96}, {"apparel", 0.5}}));
  auto ds = decide(test_taxonomy(), in);
  const Decision* parent = find(ds, "category", "apparel");
  ASSERT_NE(parent, nullptr);
  EXPECT_EQ(parent->confidence, 0.96);
  EXPECT_EQ(parent->tier, Tier::kAuto);
  EXPECT_EQ(parent->evidence["child"], "tops");
  EXPECT_EQ(of(ds, "category").size(), 2u);
}

TEST(TaggingEngine, SynonymsInScoresResolveToTheNode) {
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"Blouse", 0.97}}));
  auto ds = decide(test_taxonomy(), in);
  ASSERT_NE(find(ds, "garment_type", "shirt"), nullptr);
  // ... and the garment type implies its category.
  const Decision* cat = find(ds, "category", "tops");
  ASSERT_NE(cat, nullptr);
  EXPECT_EQ(cat->confidence, 0.97);
  EXPECT_EQ(cat->evidence["implied_by"], "garment_type/shirt");
}

TEST(TaggingEngine, InapplicableAttributesAreNotTagged) {
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"sneakers", 0.99}}));
  in.scores.push_back(scores("neckline", {{"v_neck", 0.99}}));
  auto ds = decide(test_taxonomy(), in);
  EXPECT_NE(find(ds, "category", "footwear"), nullptr);
  EXPECT_TRUE(of(ds, "neckline").empty());

  // Same neckline scores on a shirt: tagged.
  in.scores[0] = scores("garment_type", {{"shirt", 0.99}});
  ds = decide(test_taxonomy(), in);
  ASSERT_EQ(of(ds, "neckline").size(), 1u);
  EXPECT_EQ(of(ds, "neckline")[0].node, "v_neck");
}

TEST(TaggingEngine, ApplicabilityNeedsAnAppliedCategoryNotASuggestion) {
  AssetInput in;
  in.scores.push_back(scores("category", {{"tops", 0.5}}));  // suggestion only
  in.scores.push_back(scores("neckline", {{"v_neck", 0.99}}));
  EXPECT_TRUE(of(decide(test_taxonomy(), in), "neckline").empty());
  // A human-set category counts as a known fact.
  in.existing.push_back(human_tag("category", "dresses"));
  auto ds = decide(test_taxonomy(), in);
  EXPECT_EQ(of(ds, "neckline").size(), 1u);
  EXPECT_TRUE(of(ds, "category").empty());  // the human value stands
}

TEST(TaggingEngine, SeasonalBrandRuleSpringSummerMakesOuterwear) {
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"longline_cardigan", 0.97}}));
  in.existing.push_back(human_tag("season", "summer"));
  auto ds = decide(test_taxonomy(), in);
  auto cat = of(ds, "category");
  const Decision* outer = find(ds, "category", "outerwear");
  ASSERT_NE(outer, nullptr);
  EXPECT_EQ(outer->actor, "rule:cardigan_ss");
  EXPECT_EQ(outer->evidence["rule"]["id"], "cardigan_ss");
  // The weakest fact the rule relied on: the garment type at 0.97.
  EXPECT_EQ(outer->confidence, 0.97);
  EXPECT_EQ(outer->tier, Tier::kAuto);
  EXPECT_EQ(find(ds, "category", "knitwear"), nullptr);  // exclusive siblings
  EXPECT_NE(find(ds, "category", "apparel"), nullptr);
}

TEST(TaggingEngine, SeasonalBrandRuleAutumnWinterMakesKnitwear) {
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"longline_cardigan", 0.97}}));
  in.scores.push_back(scores("category", {{"outerwear", 0.99}}));  // the model disagrees
  in.existing.push_back(human_tag("season", "winter"));
  auto ds = decide(test_taxonomy(), in);
  const Decision* knit = find(ds, "category", "knitwear");
  ASSERT_NE(knit, nullptr);
  EXPECT_EQ(knit->actor, "rule:cardigan_aw");
  EXPECT_EQ(find(ds, "category", "outerwear"), nullptr);
  EXPECT_EQ(knit->evidence["alternatives"][0]["node"], "outerwear");  // what the model said
}

TEST(TaggingEngine, RuleDoesNotFireOnSuggestedFacts) {
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"longline_cardigan", 0.97}}));
  in.scores.push_back(scores("season", {{"spring", 0.5}}));  // suggestion: not a fact
  auto ds = decide(test_taxonomy(), in);
  // Without a known season the cardigan's own mapping applies (cardigan -> knitwear).
  const Decision* knit = find(ds, "category", "knitwear");
  ASSERT_NE(knit, nullptr);
  EXPECT_EQ(knit->evidence["implied_by"], "garment_type/cardigan");
  EXPECT_EQ(knit->tier, Tier::kAuto);  // knitwear's own auto threshold is 0.9
}

TEST(TaggingEngine, IgnoreRuleSuppressesNodeAndDescendants) {
  AssetInput in;
  in.scores.push_back(scores("subjects", {{"woman", 0.9}, {"hand", 0.9}}));
  in.scores.push_back(scores("scene", {{"flat_lay", 0.99}}));
  auto ds = decide(test_taxonomy(), in);
  EXPECT_EQ(find(ds, "subjects", "woman"), nullptr);
  EXPECT_EQ(find(ds, "subjects", "person"), nullptr);
  EXPECT_NE(find(ds, "subjects", "hand"), nullptr);

  in.scores[1] = scores("scene", {{"on_model", 0.99}});
  ds = decide(test_taxonomy(), in);
  EXPECT_NE(find(ds, "subjects", "woman"), nullptr);
  EXPECT_NE(find(ds, "subjects", "person"), nullptr);
}

TEST(TaggingEngine, HumanTagsAreNeverOverwritten) {
  AssetInput in;
  in.existing.push_back(human_tag("category", "dresses"));
  in.existing.push_back(human_tag("season", "spring"));
  in.scores.push_back(scores("category", {{"tops", 0.99}}));
  in.scores.push_back(scores("season", {{"spring", 0.4}, {"winter", 0.96}}));
  auto ds = decide(test_taxonomy(), in);
  EXPECT_TRUE(of(ds, "category").empty());
  EXPECT_EQ(find(ds, "season", "spring"), nullptr);  // human's own; not re-decided
  EXPECT_NE(find(ds, "season", "winter"), nullptr);  // multi-valued: others still proposed
}

TEST(TaggingEngine, RejectedNodesAreNotProposedAgain) {
  AssetInput in;
  ExistingTag rejected = human_tag("scene", "studio");
  rejected.rejected = true;
  in.existing.push_back(rejected);
  in.scores.push_back(scores("scene", {{"studio", 0.99}, {"flat_lay", 0.8}}));
  auto ds = decide(test_taxonomy(), in);
  ASSERT_EQ(ds.size(), 1u);
  EXPECT_EQ(ds[0].node, "flat_lay");
}

TEST(TaggingEngine, UnknownAttributesAndNodesInScoresAreIgnored) {
  AssetInput in;
  in.scores.push_back(scores("gone", {{"x", 0.99}}));
  in.scores.push_back(scores("scene", {{"zzz", 0.99}}));
  EXPECT_TRUE(decide(test_taxonomy(), in).empty());
}

TEST(ColourConfidence, Formula) {
  EXPECT_DOUBLE_EQ(colour_confidence(0.4, 0.0, kShadeTolerance), 1.0);
  EXPECT_DOUBLE_EQ(colour_confidence(0.8, 0.0, kShadeTolerance), 1.0);
  EXPECT_DOUBLE_EQ(colour_confidence(0.2, 0.0, kShadeTolerance), 0.5);
  EXPECT_DOUBLE_EQ(colour_confidence(1.0, 10.0, kShadeTolerance), 0.5);
  EXPECT_DOUBLE_EQ(colour_confidence(1.0, 10.0, kFamilyTolerance), 0.8);
  EXPECT_GE(colour_confidence(0.6, 2.29, kShadeTolerance), 0.95);
}

TEST(TaggingEngine, ColourTagsWithoutAnyVisionModel) {
  image::ColourAnalysis ca;
  image::DominantColour navy;
  navy.share = 0.7;
  navy.family = "blue";
  navy.shade = "navy";
  navy.delta_e = 1.5;
  image::DominantColour burgundy;
  burgundy.share = 0.3;
  burgundy.family = "red";
  burgundy.shade = "burgundy";
  burgundy.delta_e = 12.0;
  ca.colours = {navy, burgundy};
  AssetInput in;
  in.colours = &ca;
  auto ds = decide(test_taxonomy(), in);

  // Families carry the calibrated probabilities of colour_scores().
  const auto sets = colour_scores(test_taxonomy(), ca);
  auto score_of = [&](const std::string& attribute, const std::string& node) {
    for (const auto& set : sets)
      if (set.attribute == attribute)
        for (const auto& s : set.scores)
          if (s.node == node) return s.score;
    return -1.0;
  };
  const Decision* blue = find(ds, "colour_family", "blue");
  ASSERT_NE(blue, nullptr);
  EXPECT_EQ(blue->actor, "colour");
  EXPECT_DOUBLE_EQ(blue->confidence, score_of("colour_family", "blue"));
  // 70% and a close match vs 30% and a loose one: red is at most a suggestion.
  EXPECT_GT(blue->confidence, score_of("colour_family", "red"));
  if (const Decision* red = find(ds, "colour_family", "red"))
    EXPECT_EQ(red->tier, Tier::kSuggested);

  // A shade is its family's probability times how well it matches.
  const Decision* n = find(ds, "colour_shade", "navy");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->actor, "colour");
  EXPECT_DOUBLE_EQ(n->confidence, blue->confidence * colour_confidence(1.0, 1.5, kShadeTolerance));
  EXPECT_DOUBLE_EQ(n->evidence["detail"]["delta_e"].get<double>(), 1.5);
  // 30% and a loose match: at most a suggestion.
  if (const Decision* b = find(ds, "colour_shade", "burgundy"))
    EXPECT_EQ(b->tier, Tier::kSuggested);
}

TEST(TaggingEngine, ClustersNamingTheSameShadePool) {
  image::ColourAnalysis ca;
  image::DominantColour a, b;
  a.share = 0.25;
  a.family = b.family = "blue";
  a.shade = b.shade = "navy";
  a.delta_e = 2.0;
  b.share = 0.25;
  b.delta_e = 4.0;
  ca.colours = {a, b};
  auto sets = colour_scores(test_taxonomy(), ca);
  ASSERT_EQ(sets.size(), 2u);
  const ScoreSet& shade = sets[0].attribute == "colour_shade" ? sets[0] : sets[1];
  const ScoreSet& family = sets[0].attribute == "colour_shade" ? sets[1] : sets[0];
  ASSERT_EQ(shade.scores.size(), 1u);
  ASSERT_EQ(family.scores.size(), 1u);  // one family: no "multi" candidate
  EXPECT_DOUBLE_EQ(shade.scores[0].evidence["share"].get<double>(), 0.5);
  EXPECT_DOUBLE_EQ(shade.scores[0].evidence["delta_e"].get<double>(), 3.0);
  EXPECT_DOUBLE_EQ(shade.scores[0].score,
                   family.scores[0].score * colour_confidence(1.0, 3.0, kShadeTolerance));
}

// EvidenceForm::kText writes the same evidence as text: rules, ancestors,
// several sources, implied nodes, colour detail and names that need escaping.
TEST(TaggingEngine, EvidenceAsTextReadsBackAsTheEvidenceObject) {
  image::ColourAnalysis ca;
  image::DominantColour navy;
  navy.share = 0.8;
  navy.family = "blue";
  navy.shade = "navy";
  navy.delta_e = 1.5;
  ca.colours = {navy};
  AssetInput in;
  in.colours = &ca;
  in.scores.push_back(scores("garment_type", {{"longline_cardigan", 0.97}}));
  in.scores.push_back(scores("scene", {{"studio", 0.62}, {"on_model", 0.3}}));
  in.scores.push_back(scores("scene", {{"studio", 0.7}}, "model:\"quoted\"\\path\n"));
  in.scores.push_back(scores("season", {{"summer", 0.9}, {"spring", 0.85}}));
  in.existing.push_back(human_tag("season", "summer"));
  const auto as_object = decide(test_taxonomy(), in);
  const auto as_text = decide(
      test_taxonomy(), in, [](const Decision&) { return true; }, EvidenceForm::kText);
  ASSERT_EQ(as_object.size(), as_text.size());
  ASSERT_GE(as_object.size(), 5u);
  bool rule = false, child = false, detail = false;
  for (std::size_t i = 0; i < as_object.size(); ++i) {
    SCOPED_TRACE(as_object[i].attribute + "/" + as_object[i].node);
    EXPECT_TRUE(as_text[i].evidence.is_null());
    EXPECT_TRUE(as_object[i].evidence_text.empty());
    const auto parsed = nlohmann::json::parse(as_text[i].evidence_text);
    EXPECT_EQ(parsed, as_object[i].evidence) << as_text[i].evidence_text;
    rule |= parsed.contains("rule");
    child |= parsed.contains("child");
    detail |= parsed.contains("detail");
  }
  EXPECT_TRUE(rule);
  EXPECT_TRUE(child);
  EXPECT_TRUE(detail);
  // Not wanted: neither form.
  for (const auto& d : decide(
           test_taxonomy(), in, [](const Decision&) { return false; }, EvidenceForm::kText))
    EXPECT_TRUE(d.evidence_text.empty() && d.evidence.is_null());
}

TEST(TaggingEngine, DefaultTaxonomyEndToEnd) {
  auto tax = taxonomy::Taxonomy::builtin();
  AssetInput in;
  in.scores.push_back(scores("garment_type", {{"shirt", 0.98}, {"t_shirt", 0.4}}));
  in.scores.push_back(scores("neckline", {{"collared", 0.96}}));
  auto ds = decide(tax, in);
  EXPECT_NE(find(ds, "category", "tops"), nullptr);
  EXPECT_NE(find(ds, "category", "apparel"), nullptr);
  EXPECT_NE(find(ds, "neckline", "collared"), nullptr);

  in.scores = {scores("garment_type", {{"boots", 0.98}}), scores("neckline", {{"collared", 0.96}})};
  ds = decide(tax, in);
  EXPECT_NE(find(ds, "category", "footwear"), nullptr);
  EXPECT_TRUE(of(ds, "neckline").empty());
}

}  // namespace
}  // namespace tagsmith::tagging
