// The shipped ImageNet map (data/imagenet_map.yaml, compiled in) against the
// real MobileNetV2 label file and the default taxonomy: every label it names
// exists, every node too. Skipped when ../shared is absent.
#include <gtest/gtest.h>

#include <filesystem>
#include <set>

#include "tagsmith/common/files.h"
#include "tagsmith/tagging/label_map.h"
#include "tagsmith/taxonomy/validation.h"

namespace tagsmith::tagging {
namespace {

namespace fs = std::filesystem;

fs::path label_file() {
  return fs::path(TAGSMITH_SOURCE_DIR) / ".." / "shared" / "models" / "mobilenet-v2-1.0-224-quant" /
         "imagenet_labels.txt";
}

TEST(ImageNetMap, LoadsAgainstTheRealLabelsAndTheDefaultTaxonomy) {
  if (!fs::exists(label_file())) GTEST_SKIP() << "no ../shared MobileNetV2 label file";
  const auto labels = LabelMap::parse_label_list(read_file_text(label_file()));
  ASSERT_EQ(labels.size(), 1001u);
  const auto tax = taxonomy::Taxonomy::builtin();
  try {
    const auto map =
        LabelMap::load(LabelMap::builtin_imagenet_yaml(), "imagenet_map.yaml", labels, tax);
    EXPECT_EQ(map.classifier(), "ImageNet");
    // The products the issue names are all there.
    std::map<std::string, std::set<std::string>> nodes_of;
    for (const auto& r : map.rules())
      for (const auto& t : r.targets) nodes_of[r.label].insert(t.attribute + "/" + t.node);
    EXPECT_TRUE(nodes_of["jersey, T-shirt, tee shirt"].count("garment_type/t_shirt"));
    EXPECT_TRUE(nodes_of["miniskirt, mini"].count("garment_type/skirt"));
    EXPECT_TRUE(nodes_of["running shoe"].count("garment_type/sneakers"));
    EXPECT_TRUE(nodes_of["sunglasses, dark glasses, shades"].count("garment_type/sunglasses"));
    EXPECT_TRUE(nodes_of["backpack, back pack, knapsack, packsack, rucksack, haversack"].count(
        "garment_type/backpack"));
    EXPECT_TRUE(nodes_of["wallet, billfold, notecase, pocketbook"].count("garment_type/wallet"));
    EXPECT_TRUE(nodes_of["digital watch"].count("garment_type/watch"));
    EXPECT_GT(map.rules().size(), 500u);

    // A running shoe at 0.74 scores sneakers 0.74.
    std::vector<float> p(labels.size(), 0.0f);
    p[771] = 0.74f;  // running shoe
    p[0] = 0.26f;
    ASSERT_EQ(labels[771], "running shoe");
    bool found = false;
    for (const auto& set : map.scores(p))
      for (const auto& s : set.scores)
        if (set.attribute == "garment_type" && s.node == "sneakers") {
          EXPECT_NEAR(s.score, 0.74, 1e-6);
          found = true;
        }
    EXPECT_TRUE(found);
  } catch (const taxonomy::ValidationError& e) {
    FAIL() << e.what();
  }
}

}  // namespace
}  // namespace tagsmith::tagging
