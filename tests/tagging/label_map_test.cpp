// Classifier labels mapped onto the taxonomy: parsing and validation (every
// error with file:line:column), scoring (weights, floors, hierarchy,
// competition), and the evidence reaching `why`. A made-up label list and
// taxonomy; the real ImageNet map is checked in label_map_imagenet_test.cpp.
#include "tagsmith/tagging/label_map.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "tagsmith/tagging/explain.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/taxonomy/validation.h"
#include "temp_dir.h"

namespace tagsmith::tagging {
namespace {

using ::testing::HasSubstr;

const taxonomy::Taxonomy& tax() {
  static const taxonomy::Taxonomy t = taxonomy::Taxonomy::parse(R"(version: 1
attributes:
  - id: garment_type
    kind: single
    nodes:
      - {id: t_shirt}
      - {id: jeans}
      - id: shoes
        children: [{id: sneakers}, {id: sandals}]
      - id: outerwear
        children:
          - id: coat
            children: [{id: trench_coat}]
          - {id: blazer}
      - {id: swimsuit}
  - id: material
    kind: multi
    nodes: [{id: denim}, {id: wool}]
  - id: subjects
    kind: multi
    nodes: [{id: animal}]
)",
                                                                "tax.yaml");
  return t;
}

// Index = class; 0 is the background class as in MobileNet's label file.
const std::vector<std::string> kLabels = {
    "background",                  // 0
    "running shoe",                // 1
    "sandal",                      // 2
    "trench coat",                 // 3
    "fur coat",                    // 4
    "suit, suit of clothes",       // 5
    "jersey, T-shirt, tee shirt",  // 6
    "crane",                       // 7
    "crane",                       // 8
    "tabby, tabby cat",            // 9
    "jean, blue jean, denim",      // 10
    "maillot",                     // 11
    "maillot, tank suit",          // 12
    "toaster",                     // 13
};

const char* kMap = R"(format: 1
classifier: ImageNet
defaults: {min_probability: 0.0}
labels:
  running shoe: {garment_type: sneakers}
  sandal: {garment_type: {node: sandals, min_probability: 0.1}}
  trench coat: {garment_type: trench_coat}
  fur coat: {garment_type: coat}
  suit: {garment_type: {node: blazer, weight: 0.5}}
  jersey: {garment_type: t_shirt}
  tabby: {subjects: animal}
  jean: {garment_type: {node: jeans, weight: 0.6}, material: {node: denim, weight: 0.8}}
  maillot: {garment_type: swimsuit}
  "maillot, tank suit": {garment_type: swimsuit}
)";

LabelMap load(const std::string& yaml = kMap) {
  return LabelMap::load(yaml, "map.yaml", kLabels, tax());
}

std::vector<float> probs(std::initializer_list<std::pair<std::size_t, float>> given) {
  std::vector<float> p(kLabels.size(), 0.0f);
  float sum = 0;
  for (auto [i, v] : given) {
    p[i] = v;
    sum += v;
  }
  p[0] += 1.0f - sum;  // the rest is background: unmapped
  return p;
}

const ScoreSet* set_for(const std::vector<ScoreSet>& sets, const std::string& attribute) {
  for (const auto& s : sets)
    if (s.attribute == attribute) return &s;
  return nullptr;
}

std::optional<double> score_of(const std::vector<ScoreSet>& sets, const std::string& attribute,
                               const std::string& node) {
  if (const auto* s = set_for(sets, attribute))
    for (const auto& n : s->scores)
      if (n.node == node) return n.score;
  return std::nullopt;
}

const NodeScore* node_of(const std::vector<ScoreSet>& sets, const std::string& attribute,
                         const std::string& node) {
  if (const auto* s = set_for(sets, attribute))
    for (const auto& n : s->scores)
      if (n.node == node) return &n;
  return nullptr;
}

// All diagnostics of a map that must not load, as "line:column: message".
std::vector<std::string> errors_of(const std::string& yaml) {
  try {
    load(yaml);
  } catch (const taxonomy::ValidationError& e) {
    std::vector<std::string> out;
    for (const auto& d : e.errors())
      out.push_back(std::to_string(d.line) + ":" + std::to_string(d.column) + ": " + d.message);
    return out;
  }
  ADD_FAILURE() << "the map loaded:\n" << yaml;
  return {};
}

TEST(LabelMap, ResolvesLabelsByTextOrUniqueFirstName) {
  const LabelMap m = load();
  EXPECT_EQ(m.classes(), kLabels.size());
  EXPECT_EQ(m.classifier(), "ImageNet");
  std::map<std::string, std::size_t> index;
  for (const auto& r : m.rules()) index[r.label] = r.index;
  EXPECT_EQ(index.at("jersey, T-shirt, tee shirt"), 6u);  // by first name
  EXPECT_EQ(index.at("suit, suit of clothes"), 5u);
  EXPECT_EQ(index.at("maillot"), 11u);  // the exact line wins over the shared first name
  EXPECT_EQ(index.at("maillot, tank suit"), 12u);
  EXPECT_EQ(m.rules().size(), 10u);
}

TEST(LabelMap, ScoresAreTheMappedProbabilityWithItsEvidence) {
  const auto sets = load().scores(probs({{1, 0.74f}, {2, 0.12f}, {13, 0.05f}}), "model:mnv2@x");
  ASSERT_NE(set_for(sets, "garment_type"), nullptr);
  EXPECT_EQ(set_for(sets, "garment_type")->source, "model:mnv2@x");
  EXPECT_NEAR(*score_of(sets, "garment_type", "sneakers"), 0.74, 1e-6);
  EXPECT_NEAR(*score_of(sets, "garment_type", "sandals"), 0.12, 1e-6);
  // sneakers holds 0.74 / 0.86 of the shoes evidence: the tag is sneakers,
  // and `shoes` is left to the hierarchy.
  EXPECT_FALSE(score_of(sets, "garment_type", "shoes"));
  EXPECT_FALSE(set_for(sets, "material"));  // no evidence, no set
  const NodeScore* s = node_of(sets, "garment_type", "sneakers");
  ASSERT_NE(s, nullptr);
  EXPECT_EQ(s->evidence["classifier"], "ImageNet");
  ASSERT_EQ(s->evidence["labels"].size(), 1u);
  EXPECT_EQ(s->evidence["labels"][0]["label"], "running shoe");
  EXPECT_NEAR(s->evidence["labels"][0]["probability"].get<double>(), 0.74, 1e-6);
  EXPECT_EQ(load().scores(probs({{1, 0.5f}}))[0].source, load().default_source());
}

TEST(LabelMap, WeightsScaleTheEvidenceAndOneLabelFeedsSeveralAttributes) {
  const auto sets = load().scores(probs({{10, 0.5f}}));
  EXPECT_NEAR(*score_of(sets, "garment_type", "jeans"), 0.6 * 0.5, 1e-6);
  EXPECT_NEAR(*score_of(sets, "material", "denim"), 0.8 * 0.5, 1e-6);
  const auto both = load().scores(probs({{10, 0.3f}, {6, 0.4f}}));
  EXPECT_NEAR(*score_of(both, "garment_type", "t_shirt"), 0.4, 1e-6);
  EXPECT_NEAR(*score_of(both, "garment_type", "jeans"), 0.18, 1e-6);
}

TEST(LabelMap, ClassesBelowTheirMinimumProbabilityAddNothing) {
  EXPECT_FALSE(score_of(load().scores(probs({{2, 0.09f}})), "garment_type", "sandals"));
  EXPECT_NEAR(*score_of(load().scores(probs({{2, 0.1f}})), "garment_type", "sandals"), 0.1, 1e-6);
  // A file-wide floor applies to every class without its own.
  std::string floored = kMap;
  floored.replace(floored.find("min_probability: 0.0"), 20, "min_probability: 0.3");
  EXPECT_FALSE(score_of(load(floored).scores(probs({{1, 0.29f}})), "garment_type", "sneakers"));
  EXPECT_TRUE(score_of(load(floored).scores(probs({{1, 0.31f}})), "garment_type", "sneakers"));
}

TEST(LabelMap, SpreadEvidenceAddsUpInTheParent) {
  // trench 0.3 + fur 0.2 (coat) + suit 0.5 x 0.5 (blazer): no single kind is
  // sure, but it is certainly outerwear.
  const auto sets = load().scores(probs({{3, 0.3f}, {4, 0.2f}, {5, 0.5f}}));
  EXPECT_NEAR(*score_of(sets, "garment_type", "outerwear"), 0.75, 1e-6);
  EXPECT_NEAR(*score_of(sets, "garment_type", "coat"), 0.5, 1e-6);  // trench holds only 60 %
  EXPECT_NEAR(*score_of(sets, "garment_type", "trench_coat"), 0.3, 1e-6);
  EXPECT_NEAR(*score_of(sets, "garment_type", "blazer"), 0.25, 1e-6);
  const NodeScore* o = node_of(sets, "garment_type", "outerwear");
  ASSERT_EQ(o->evidence["labels"].size(), 3u);
  EXPECT_EQ(o->evidence["labels"][0]["label"], "trench coat");  // largest contribution first
  EXPECT_EQ(o->evidence["labels"][0]["node"], "trench_coat");

  // The engine then tags the parent: the most specific node it is sure of.
  AssetInput in;
  in.scores = sets;
  const auto decisions = decide(tax(), in);
  ASSERT_EQ(decisions.size(), 1u);
  EXPECT_EQ(decisions[0].node, "outerwear");
  EXPECT_NEAR(decisions[0].confidence, 0.75, 1e-6);
  EXPECT_EQ(decisions[0].evidence["detail"]["labels"].size(), 3u);
}

TEST(LabelMap, ASpecificShareCloseToOneKeepsParentsScored) {
  std::string yaml = kMap;
  yaml.replace(yaml.find("defaults: {"), 11, "defaults: {specific_share: 1.0, ");
  const auto sets = load(yaml).scores(probs({{1, 0.74f}, {2, 0.12f}}));
  EXPECT_NEAR(*score_of(sets, "garment_type", "shoes"), 0.86, 1e-6);
}

TEST(LabelMap, UnrelatedTopClassesGiveLowScores) {
  // The photo is a toaster: 0.9 unmapped.
  const auto sets = load().scores(probs({{13, 0.9f}, {1, 0.05f}, {6, 0.05f}}));
  EXPECT_NEAR(*score_of(sets, "garment_type", "sneakers"), 0.05, 1e-6);
  AssetInput in;
  in.scores = sets;
  EXPECT_TRUE(decide(tax(), in).empty());  // below the default suggest floor
}

TEST(LabelMap, UnmappedWeightSetsHowMuchUnrelatedClassesCountAgainst) {
  auto with_unmapped = [](double w) {
    std::string yaml = kMap;
    yaml.insert(yaml.find("labels:"),
                "attributes:\n  garment_type: {unmapped_weight: " + std::to_string(w) + "}\n");
    return load(yaml);
  };
  const auto p = probs({{13, 0.6f}, {1, 0.3f}, {6, 0.1f}});
  // mapped = 0.4, unmapped = 0.6: score = mass / (0.4 + w * 0.6).
  EXPECT_NEAR(*score_of(with_unmapped(1.0).scores(p), "garment_type", "sneakers"), 0.3, 1e-6);
  EXPECT_NEAR(*score_of(with_unmapped(0.5).scores(p), "garment_type", "sneakers"), 0.3 / 0.7, 1e-6);
  EXPECT_NEAR(*score_of(with_unmapped(0.0).scores(p), "garment_type", "sneakers"), 0.75, 1e-6);
  EXPECT_NEAR(*score_of(with_unmapped(0.0).scores(p), "garment_type", "t_shirt"), 0.25, 1e-6);
  // Multi-valued attributes do not compete: each node is its own evidence.
  const auto m = with_unmapped(0.0).scores(probs({{13, 0.6f}, {9, 0.4f}}));
  EXPECT_NEAR(*score_of(m, "subjects", "animal"), 0.4, 1e-6);
}

TEST(LabelMap, RejectsProbabilityVectorsOfTheWrongSize) {
  std::vector<float> p(5, 0.2f);
  EXPECT_THROW(load().scores(p), InputError);
  EXPECT_TRUE(load().scores(std::vector<float>(kLabels.size(), 0.0f)).empty());
}

TEST(LabelMap, VersionIsTheTextsHash) {
  EXPECT_EQ(load().version().size(), 64u);
  EXPECT_EQ(load().version(), load().version());
  EXPECT_NE(load().version(), load(std::string(kMap) + "# edited\n").version());
  EXPECT_EQ(load().default_source(), "labels:" + load().version().substr(0, 12));
}

TEST(LabelMap, ParsesLabelFiles) {
  EXPECT_EQ(LabelMap::parse_label_list("background\r\ntench, Tinca tinca\r\ngoldfish\n"),
            (std::vector<std::string>{"background", "tench, Tinca tinca", "goldfish"}));
  EXPECT_EQ(LabelMap::parse_label_list("a\nb"), (std::vector<std::string>{"a", "b"}));
  EXPECT_TRUE(LabelMap::parse_label_list("").empty());
}

TEST(LabelMapValidation, ReportsEveryProblemWithLineAndColumn) {
  const auto errors = errors_of(R"(format: 1
colour: blue
labels:
  running shoe: {garment_type: sneakers}
  runing shoe: {garment_type: sneakers}
  crane: {subjects: animal}
  sandal: {garment_typ: sandals}
  trench coat: {garment_type: parka}
  fur coat: {garment_type: {node: coat, weight: 1.5}}
  jersey: {garment_type: {node: t_shirt, weight: 0}}
  tabby: {subjects: {node: animal, min_probability: 1}}
  running shoe: {garment_type: sneakers}
  "jersey, T-shirt, tee shirt": {garment_type: t_shirt}
  suit: {garment_type: [{node: blazer, weight: 0.7}, {node: coat, weight: 0.6}]}
  jean: {garment_type: {node: jeans, wieght: 0.5}}
  toaster:
)");
  const std::vector<std::string> expected = {
      "2:1: unknown key 'colour'",
      "5:3: unknown classifier label 'runing shoe' (not in the label list of 14 classes)",
      "6:3: classifier label 'crane' names several classes (lines 7, 8",
      "7:12: unknown attribute 'garment_typ' (the taxonomy has: garment_type, material, subjects)",
      "8:31: unknown node 'parka' in attribute 'garment_type'",
      "9:49: weight 1.5 is out of range (0, 1]",
      "10:50: weight 0 is out of range (0, 1]",
      "11:53: min_probability 1 is out of range [0, 1)",
      "12:3: label 'running shoe' repeated (first at line 4)",
      "13:3: 'jersey, T-shirt, tee shirt' and 'jersey' (line 10) name the same class",
      "14:3: the weights of 'suit' on single-valued attribute 'garment_type' add up to 1.3, over 1",
      "15:38: unknown key 'wieght'",
      "16:3: label 'toaster' must map to {attribute: node, ...}",
  };
  ASSERT_EQ(errors.size(), expected.size()) << ::testing::PrintToString(errors);
  for (std::size_t i = 0; i < expected.size(); ++i)
    EXPECT_THAT(errors[i], HasSubstr(expected[i])) << i;
}

TEST(LabelMapValidation, TextThatIsNotUtf8IsRefusedWhereTheByteIs) {
  const auto errors =
      errors_of("format: 1\nlabels:\n  jersey: {garment_type: t_shirt}\n  \xff: {}\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_EQ(errors[0], "4:3: byte 0xFF is not UTF-8; save the file as UTF-8");
}

TEST(LabelMapValidation, ClassifierNameAppearsInMessagesAndTheFileIsNamed) {
  try {
    LabelMap::load("format: 1\nclassifier: Places365\nlabels:\n  beach: {subjects: animal}\n",
                   "places.yaml", kLabels, tax());
    FAIL() << "loaded";
  } catch (const taxonomy::ValidationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("places.yaml:4:3: unknown Places365 label 'beach'"));
  }
}

TEST(LabelMapValidation, SyntaxErrorsAndMissingSectionsAreLocated) {
  EXPECT_THAT(errors_of("format: 1\nlabels:\n  jersey: {garment_type: t_shirt\n")[0],
              HasSubstr("4:1: "));
  EXPECT_THAT(errors_of("format: 2\nlabels: {}\n")[0], HasSubstr("1:9: unsupported format"));
  EXPECT_THAT(errors_of("format: 1\n")[0], HasSubstr("1:1: missing `labels:`"));
  EXPECT_THAT(errors_of("labels: {}\n")[0], HasSubstr("1:1: missing `format: 1`"));
  EXPECT_THAT(errors_of("format: 1\nattributes: {colour: {unmapped_weight: 0.5}}\nlabels: {}\n")[0],
              HasSubstr("2:14: unknown attribute 'colour'"));
  EXPECT_THAT(
      errors_of("format: 1\nattributes: {garment_type: {unmapped_weight: 2}}\nlabels: {}\n")[0],
      HasSubstr("2:46: unmapped_weight 2 is out of range [0, 1]"));
  EXPECT_THAT(errors_of("format: 1\ndefaults: {specific_share: 0.5}\nlabels: {}\n")[0],
              HasSubstr("2:28: specific_share 0.5 is out of range (0.5, 1]"));
}

// --- the evidence in `tagsmith why` ----------------------------------------------

class FixedProbabilities : public ScoreProvider {
 public:
  FixedProbabilities(LabelMap map, std::vector<float> p) : map_(std::move(map)), p_(std::move(p)) {}
  std::string name() const override { return "label-map"; }
  std::vector<ScoreSet> scores(const taxonomy::Taxonomy&, const ScoreRequest&) const override {
    return map_.scores(p_, "model:mobilenet@test");
  }

 private:
  LabelMap map_;
  std::vector<float> p_;
};

TEST(LabelMapExplain, WhyNamesTheClassifierLabelsAndTheirProbabilities) {
  test::TempDir dir;
  auto lib = library::Library::open(dir / "lib");
  store::AssetRecord a;
  a.sha256 = "sha1";
  a.source_path = "/photos/shoe.jpg";
  a.width = a.height = 100;
  a.format = "jpeg";
  a.ingested_at = "2026-01-01T00:00:00.000Z";
  store::PathRecord path;
  path.path = a.source_path;
  const auto id = lib->store().add_asset(a, path);

  const std::vector<std::string> labels = {"background", "running shoe", "sandal", "Loafer"};
  const auto builtin = current_taxonomy(*lib);
  auto map = LabelMap::load(
      "format: 1\nclassifier: ImageNet\nlabels:\n  running shoe: {garment_type: sneakers}\n"
      "  sandal: {garment_type: sandals}\n  Loafer: {garment_type: loafers}\n",
      "m.yaml", labels, builtin.taxonomy);
  std::vector<std::unique_ptr<ScoreProvider>> providers;
  providers.push_back(std::make_unique<FixedProbabilities>(
      std::move(map), std::vector<float>{0.08f, 0.81f, 0.07f, 0.04f}));
  TagService service(*lib, std::move(providers));
  const std::vector<store::AssetId> ids{id};
  service.tag(ids);

  const auto why = explain(*lib, id, "garment_type");
  EXPECT_THAT(why.text, HasSubstr("is tagged sneakers (garment_type) — applied and flagged for "
                                  "review at 0.81"));
  EXPECT_THAT(why.text, HasSubstr("from ImageNet 'running shoe' 0.81"));
  EXPECT_THAT(why.text, HasSubstr("alternatives: sandals 0.07, loafers 0.04"));
  // The footwear parent follows from the hierarchy.
  const auto shoes = explain(*lib, id, "category");
  EXPECT_THAT(shoes.text, HasSubstr("footwear"));
}

}  // namespace
}  // namespace tagsmith::tagging
