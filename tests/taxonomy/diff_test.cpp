#include "tagsmith/taxonomy/diff.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace tagsmith::taxonomy {
namespace {

using ::testing::HasSubstr;

const char* kBefore = R"(attributes:
  - id: category
    thresholds: {auto: 0.95, flag: 0.75}
    nodes:
      - id: apparel
        labels: {en: Apparel}
        children:
          - {id: tops, labels: {en: Tops}, synonyms: [shirts]}
          - {id: knitwear, labels: {en: Knitwear}}
      - {id: outerwear, labels: {en: Outerwear}}
      - {id: hats, labels: {en: Hats}}
  - id: season
    kind: multi
    nodes: [{id: spring}, {id: autumn}]
rules:
  - id: r1
    when: {season: spring}
    then: {category: outerwear}
  - id: r2
    ignore: [category/hats]
)";

const char* kAfter = R"(attributes:
  - id: category
    thresholds: {auto: 0.9, flag: 0.75}
    nodes:
      - id: apparel
        labels: {en: Apparel, zh: 服装}
        children:
          - {id: tops, labels: {en: Tops & shirts}, synonyms: [blouses]}
          - {id: knitwear, labels: {en: Knitwear}, thresholds: {auto: 0.97}}
          - {id: outerwear, labels: {en: Outerwear}}
      - {id: bags, labels: {en: Bags}}
  - id: season
    kind: multi
    nodes: [{id: spring}, {id: autumn}]
rules:
  - id: r1
    when: {season: [spring, autumn]}
    then: {category: outerwear}
  - id: r3
    ignore: [category/bags]
)";

TEST(TaxonomyDiff, IdenticalTaxonomiesHaveNoDifferences) {
  auto a = Taxonomy::parse(kBefore, "a");
  auto d = diff(a, a);
  EXPECT_TRUE(d.empty());
  EXPECT_EQ(render_text(d), "no differences\n");
}

TEST(TaxonomyDiff, DetectsEveryKindOfChange) {
  auto d = diff(Taxonomy::parse(kBefore, "a"), Taxonomy::parse(kAfter, "b"));
  EXPECT_EQ(d.added, (std::vector<NodeRef>{{"category", "bags"}}));
  EXPECT_EQ(d.removed, (std::vector<NodeRef>{{"category", "hats"}}));

  ASSERT_EQ(d.renamed.size(), 2u);  // tops relabelled, apparel gained a zh label
  EXPECT_EQ(d.renamed[0].node, (NodeRef{"category", "apparel"}));
  EXPECT_EQ(d.renamed[0].language, "zh");
  EXPECT_EQ(d.renamed[1].node, (NodeRef{"category", "tops"}));
  EXPECT_EQ(d.renamed[1].before, "Tops");
  EXPECT_EQ(d.renamed[1].after, "Tops & shirts");

  ASSERT_EQ(d.moved.size(), 1u);
  EXPECT_EQ(d.moved[0].node, (NodeRef{"category", "outerwear"}));
  EXPECT_EQ(d.moved[0].before, "");
  EXPECT_EQ(d.moved[0].after, "apparel");

  ASSERT_EQ(d.thresholds.size(), 2u);
  EXPECT_EQ(d.thresholds[0].attribute, "category");
  EXPECT_EQ(d.thresholds[0].node, "");
  EXPECT_EQ(d.thresholds[0].which, "auto");
  EXPECT_EQ(d.thresholds[0].before, 0.95);
  EXPECT_EQ(d.thresholds[0].after, 0.9);
  EXPECT_EQ(d.thresholds[1].node, "knitwear");
  EXPECT_EQ(d.thresholds[1].before, std::nullopt);
  EXPECT_EQ(d.thresholds[1].after, 0.97);

  ASSERT_EQ(d.synonyms.size(), 1u);
  EXPECT_EQ(d.synonyms[0].added, std::vector<std::string>{"blouses"});
  EXPECT_EQ(d.synonyms[0].removed, std::vector<std::string>{"shirts"});

  ASSERT_EQ(d.rules.size(), 3u);  // r1 changed, r2 removed, r3 added
  EXPECT_EQ(d.rules[0].id, "r1");
  EXPECT_THAT(d.rules[0].after, HasSubstr("season=spring|autumn"));
  EXPECT_EQ(d.rules[1].id, "r2");
  EXPECT_EQ(d.rules[1].after, "");
  EXPECT_EQ(d.rules[2].id, "r3");
  EXPECT_EQ(d.rules[2].before, "");
}

TEST(TaxonomyDiff, RendersTextAndJson) {
  auto d = diff(Taxonomy::parse(kBefore, "a"), Taxonomy::parse(kAfter, "b"));
  std::string text = render_text(d);
  EXPECT_THAT(text, HasSubstr("+ category/bags\n"));
  EXPECT_THAT(text, HasSubstr("- category/hats\n"));
  EXPECT_THAT(text, HasSubstr("~ category/tops renamed (en): \"Tops\" -> \"Tops & shirts\""));
  EXPECT_THAT(text, HasSubstr("~ category/outerwear moved: (root) -> apparel"));
  EXPECT_THAT(text, HasSubstr("~ category auto threshold: 0.95 -> 0.9"));
  EXPECT_THAT(text, HasSubstr("~ category/knitwear auto threshold: - -> 0.97"));

  auto j = to_json(d);
  EXPECT_EQ(j["added"][0], "category/bags");
  EXPECT_EQ(j["removed"][0], "category/hats");
  EXPECT_EQ(j["moved"][0]["after"], "apparel");
  EXPECT_TRUE(j["moved"][0]["before"].is_null());
  EXPECT_EQ(j["thresholds"][1]["after"], 0.97);
  EXPECT_EQ(j["rules"].size(), 3u);
}

TEST(TaxonomyDiff, AttributeAddedRemovedAndChanged) {
  auto a = Taxonomy::parse("attributes:\n  - id: x\n    nodes: [{id: n1}]\n", "a");
  auto b = Taxonomy::parse(
      "attributes:\n  - id: x\n    kind: multi\n    nodes: [{id: n1}]\n  - id: y\n    nodes: "
      "[{id: m1}]\n",
      "b");
  auto d = diff(a, b);
  EXPECT_EQ(d.attributes_added, std::vector<std::string>{"y"});
  EXPECT_EQ(d.added, (std::vector<NodeRef>{{"y", "m1"}}));
  ASSERT_EQ(d.attributes_changed.size(), 1u);
  EXPECT_EQ(d.attributes_changed[0].field, "kind");
  auto back = diff(b, a);
  EXPECT_EQ(back.attributes_removed, std::vector<std::string>{"y"});
  EXPECT_EQ(back.removed, (std::vector<NodeRef>{{"y", "m1"}}));
}

}  // namespace
}  // namespace tagsmith::taxonomy
