// The shipped default taxonomy: it validates, every node speaks English and
// Chinese, colours come from the palette, and search finds nodes by any name.
#include <gtest/gtest.h>

#include "tagsmith/image/colour.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::taxonomy {
namespace {

const Taxonomy& builtin() {
  static const Taxonomy t = Taxonomy::builtin();
  return t;
}

TEST(DefaultTaxonomy, Validates) {
  EXPECT_NO_THROW(Taxonomy::builtin());
  EXPECT_FALSE(Taxonomy::builtin_yaml().empty());
}

TEST(DefaultTaxonomy, HasTheExpectedAttributes) {
  for (const char* id :
       {"category", "garment_type", "colour_family", "colour_shade", "material", "pattern",
        "neckline", "sleeve_length", "style", "season", "scene", "subjects"})
    EXPECT_NE(builtin().attribute(id), nullptr) << id;
  EXPECT_FALSE(builtin().attribute("category")->multi());
  EXPECT_TRUE(builtin().attribute("colour_shade")->multi());
}

TEST(DefaultTaxonomy, EveryNodeHasEnglishAndChineseLabelsAndAPrompt) {
  std::size_t nodes = 0;
  for (const auto& a : builtin().attributes()) {
    EXPECT_FALSE(a.nodes.empty()) << a.id;
    for (const auto& n : a.nodes) {
      ++nodes;
      EXPECT_FALSE(n.labels.count("en") == 0 || n.labels.at("en").empty()) << a.id << "/" << n.id;
      EXPECT_FALSE(n.labels.count("zh") == 0 || n.labels.at("zh").empty()) << a.id << "/" << n.id;
      EXPECT_FALSE(n.prompts.empty()) << a.id << "/" << n.id;
    }
  }
  EXPECT_GT(nodes, 200u);
}

TEST(DefaultTaxonomy, CategoryTreeCoversRetail) {
  const Attribute& c = *builtin().attribute("category");
  for (const char* id : {"tops", "dresses", "bottoms", "outerwear", "knitwear"})
    EXPECT_EQ(c.node(id)->parent, "apparel") << id;
  for (const char* id :
       {"apparel", "footwear", "bags", "accessories", "jewellery", "home", "electronics", "beauty"})
    EXPECT_EQ(c.node(id)->parent, "") << id;
}

TEST(DefaultTaxonomy, EveryGarmentTypeMapsToACategory) {
  const Attribute& g = *builtin().attribute("garment_type");
  for (const auto& n : g.nodes) {
    // Either directly, or through an ancestor that does (longline_cardigan -> cardigan).
    bool mapped = n.implies.count("category") > 0;
    for (const auto& anc : g.ancestors(n.id)) mapped |= g.node(anc)->implies.count("category") > 0;
    EXPECT_TRUE(mapped) << n.id;
  }
  EXPECT_EQ(g.node("shirt")->implies.at("category"), std::vector<std::string>{"tops"});
}

TEST(DefaultTaxonomy, GarmentTypesHaveTheParentsRealCataloguesLabel) {
  // Catalogues label "outerwear", "shoes" and "long-sleeve tops" as one
  // class each (clothing-small's map.yaml does); the specific kinds sit below.
  const Attribute& g = *builtin().attribute("garment_type");
  for (const char* id : {"coat", "jacket", "blazer"})
    EXPECT_EQ(g.node(id)->parent, "outerwear") << id;
  EXPECT_TRUE(g.within("trench_coat", "outerwear"));
  EXPECT_TRUE(g.within("puffer_jacket", "outerwear"));
  for (const char* id : {"sneakers", "boots", "sandals", "heels", "loafers", "slippers"})
    EXPECT_EQ(g.node(id)->parent, "shoes") << id;
  EXPECT_EQ(g.node("sweatshirt")->parent, "long_sleeve_top");
  EXPECT_TRUE(g.within("hoodie", "long_sleeve_top"));
  for (const char* id : {"outerwear", "shoes", "long_sleeve_top"})
    EXPECT_EQ(g.node(id)->parent, "") << id;
  EXPECT_EQ(g.node("outerwear")->implies.at("category"), std::vector<std::string>{"outerwear"});
  EXPECT_EQ(g.node("shoes")->implies.at("category"), std::vector<std::string>{"footwear"});
  EXPECT_EQ(g.node("long_sleeve_top")->implies.at("category"), std::vector<std::string>{"tops"});
  EXPECT_EQ(g.node("long_sleeve_top")->label("zh"), "长袖上衣");
  auto refs = builtin().lookup_label("longsleeve");
  ASSERT_EQ(refs.size(), 1u);
  EXPECT_EQ(refs[0], (NodeRef{"garment_type", "long_sleeve_top"}));
  // The category of the same name stays where it was.
  EXPECT_EQ(builtin().attribute("category")->node("outerwear")->parent, "apparel");
}

TEST(DefaultTaxonomy, ColoursComeFromThePalette) {
  auto palette = image::Palette::builtin();
  const Attribute& fam = *builtin().attribute("colour_family");
  const Attribute& shade = *builtin().attribute("colour_shade");
  EXPECT_EQ(fam.nodes.size(), palette.families().size());
  EXPECT_EQ(shade.nodes.size(), palette.shades().size());
  for (const auto& s : palette.shades()) {
    const Node* n = shade.node(s.id);
    ASSERT_NE(n, nullptr) << s.id;
    EXPECT_EQ(n->family, s.family);
    EXPECT_EQ(n->implies.at("colour_family"), std::vector<std::string>{s.family});
    EXPECT_EQ(n->label("zh"), s.name_zh);
  }
}

TEST(DefaultTaxonomy, ColourNodesFollowACustomPalette) {
  auto palette = image::Palette::parse(R"(version: 1
families:
  - {id: blue, name: Blue, name_zh: 蓝色}
shades:
  - {id: blue, name: Blue, name_zh: 蓝色, family: blue, hex: "#0000FF"}
  - {id: midnight, name: Midnight, name_zh: 午夜蓝, family: blue, hex: "#191970"}
)",
                                       "p.yaml");
  auto t = Taxonomy::builtin(&palette);
  EXPECT_EQ(t.attribute("colour_shade")->nodes.size(), 2u);
  EXPECT_NE(t.node("colour_shade", "midnight"), nullptr);
}

TEST(DefaultTaxonomy, SynonymsResolveToTheirNode) {
  const NodeRef shirt{"garment_type", "shirt"};
  for (const char* text : {"shirt", "Blouse", "  formal   TOP ", "ＢＬＯＵＳＥ", "衬衫"}) {
    auto refs = builtin().lookup_label(text);
    ASSERT_EQ(refs.size(), 1u) << text;
    EXPECT_EQ(refs[0], shirt) << text;
  }
  EXPECT_TRUE(builtin().lookup_label("no such thing").empty());
  // The same word can name nodes of different attributes.
  auto linen = builtin().lookup_label("linen");
  EXPECT_NE(std::find(linen.begin(), linen.end(), NodeRef{"material", "linen"}), linen.end());
}

TEST(DefaultTaxonomy, ResolvesQualifiedAndBareReferences) {
  EXPECT_EQ(builtin().resolve("tops", "category"), (NodeRef{"category", "tops"}));
  EXPECT_EQ(builtin().resolve("neckline/v_neck", "category"), (NodeRef{"neckline", "v_neck"}));
  EXPECT_FALSE(builtin().resolve("neckline/zzz", "category"));
}

TEST(DefaultTaxonomy, NecklineAppliesToTopsAndDresses) {
  const Attribute& n = *builtin().attribute("neckline");
  EXPECT_EQ(n.applies_to, (std::vector<NodeRef>{{"category", "tops"}, {"category", "dresses"}}));
}

TEST(DefaultTaxonomy, ShipsTheSeasonalCardiganRule) {
  int found = 0;
  for (const auto& r : builtin().rules())
    if (r.id.rfind("longline_cardigan_", 0) == 0) ++found;
  EXPECT_EQ(found, 2);
}

TEST(DefaultTaxonomy, CategoryIsDecidedBeforeDependentAttributes) {
  const auto& order = builtin().evaluation_order();
  auto pos = [&](const char* id) {
    auto i = *builtin().attribute_index(id);
    return std::find(order.begin(), order.end(), i) - order.begin();
  };
  EXPECT_LT(pos("garment_type"), pos("category"));  // garment types imply categories
  EXPECT_LT(pos("season"), pos("category"));        // seasonal rule
  EXPECT_LT(pos("category"), pos("neckline"));      // applicability
  EXPECT_LT(pos("colour_shade"), pos("colour_family"));
  EXPECT_LT(pos("scene"), pos("subjects"));  // flat lays have no people
}

}  // namespace
}  // namespace tagsmith::taxonomy
