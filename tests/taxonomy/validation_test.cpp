// Validation: every error class is reported with the exact 1-based line and
// column of the offending YAML, and all errors are collected in one pass.
#include "tagsmith/taxonomy/validation.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>

#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/taxonomy/text.h"
#include "temp_dir.h"

namespace tagsmith::taxonomy {
namespace {

using ::testing::HasSubstr;

std::vector<Diagnostic> errors_of(const std::string& yaml) {
  try {
    Taxonomy::parse(yaml, "test.yaml");
  } catch (const ValidationError& e) {
    return e.errors();
  }
  ADD_FAILURE() << "expected a ValidationError for:\n" << yaml;
  return {};
}

// Asserts that exactly one diagnostic sits at line:column and mentions `what`.
void expect_error_at(const std::vector<Diagnostic>& errors, int line, int column,
                     const std::string& what) {
  int found = 0;
  for (const auto& e : errors)
    if (e.line == line && e.column == column && e.message.find(what) != std::string::npos) ++found;
  std::string all;
  for (const auto& e : errors)
    all += std::to_string(e.line) + ":" + std::to_string(e.column) + ": " + e.message + "\n";
  EXPECT_EQ(found, 1) << "wanted " << line << ":" << column << " '" << what << "' in:\n" << all;
}

TEST(TaxonomyValidation, MinimalFileParses) {
  auto t = Taxonomy::parse(R"(version: 1
attributes:
  - id: category
    kind: single
    nodes:
      - id: tops
        labels: {en: Tops}
)",
                           "ok.yaml");
  ASSERT_EQ(t.attributes().size(), 1u);
  EXPECT_EQ(t.attributes()[0].nodes[0].id, "tops");
  // A node without prompts gets one from the template.
  EXPECT_EQ(t.attributes()[0].nodes[0].prompts.at(0), "a product photo of Tops");
}

TEST(TaxonomyValidation, UnknownKeysAreAllReportedWithLineAndColumn) {
  auto errors = errors_of(R"(version: 1
attributes:
  - id: category
    kind: single
    colour: red
    nodes:
      - id: tops
        lables: {en: Tops}
)");
  ASSERT_EQ(errors.size(), 2u);
  expect_error_at(errors, 5, 5, "unknown key 'colour'");
  expect_error_at(errors, 8, 9, "unknown key 'lables'");
}

TEST(TaxonomyValidation, MessageNamesFileLineAndColumn) {
  try {
    Taxonomy::parse("attributes:\n  - id: a\n    bogus: 1\n", "my/tax.yaml");
    FAIL() << "expected an error";
  } catch (const ValidationError& e) {
    EXPECT_THAT(e.what(), HasSubstr("my/tax.yaml:3:5: unknown key 'bogus'"));
    // It is an InputError, so the CLI exits with status 2.
    EXPECT_NE(dynamic_cast<const InputError*>(&e), nullptr);
  }
}

// Found by fuzz/taxonomy_yaml: a label with bytes that are not UTF-8 parsed,
// and the taxonomy then broke every JSON view of it (diff --json, the API).
TEST(TaxonomyValidation, TextThatIsNotUtf8IsRefusedWhereTheByteIs) {
  auto errors = errors_of(
      "version: 1\nattributes:\n  - id: category\n    nodes:\n"
      "      - id: tops\n        labels: {en\xfe\xff: Tops}\n");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 6, 20, "byte 0xFE is not UTF-8");
  // Well-formed multi-byte text is fine; a truncated sequence or a UTF-16
  // surrogate encoded as UTF-8 is not.
  EXPECT_NO_THROW(Taxonomy::parse(
      "version: 1\nattributes:\n  - id: a\n    nodes:\n      - {id: b, labels: {zh: 上衣}}\n",
      "ok.yaml"));
  expect_error_at(errors_of("name: \xe4\xb8\n"), 1, 7, "byte 0xE4 is not UTF-8");
  expect_error_at(errors_of("# ok\nname: \xed\xa0\x80\n"), 2, 7, "byte 0xED is not UTF-8");
}

TEST(TaxonomyValidation, DuplicateNodeId) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: tops
      - id: dresses
      - id: tops
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 6, 13, "duplicate node id 'tops'");
  EXPECT_THAT(errors[0].message, HasSubstr("line 4"));
}

TEST(TaxonomyValidation, DuplicateIdAcrossNesting) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: apparel
        children:
          - {id: tops}
      - {id: tops}
)");
  expect_error_at(errors, 7, 14, "duplicate node id 'tops'");
}

TEST(TaxonomyValidation, SameIdInDifferentAttributesIsFine) {
  EXPECT_NO_THROW(Taxonomy::parse(R"(attributes:
  - id: material
    nodes: [{id: gold}]
  - id: colour
    nodes: [{id: gold}]
)",
                                  "ok.yaml"));
}

TEST(TaxonomyValidation, DuplicateAttributeId) {
  auto errors = errors_of(R"(attributes:
  - id: category
  - id: category
)");
  expect_error_at(errors, 3, 9, "duplicate attribute id 'category'");
}

TEST(TaxonomyValidation, SynonymClaimedByTwoNodesAfterNormalisation) {
  auto errors = errors_of(R"(attributes:
  - id: garment_type
    nodes:
      - id: shirt
        synonyms: [Blouse, formal top]
      - id: top
        synonyms: [formal  TOP]
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 7, 20,
                  "synonym 'formal  TOP' of garment_type/top is already claimed by "
                  "garment_type/shirt");
}

TEST(TaxonomyValidation, SynonymEqualToAnotherNodesLabel) {
  auto errors = errors_of(R"(attributes:
  - id: garment_type
    nodes:
      - {id: shirt, labels: {en: Shirt}}
      - id: top
        synonyms:
          - " shirt "
)");
  expect_error_at(errors, 7, 13, "is the name of garment_type/shirt");
}

TEST(TaxonomyValidation, SameSynonymInDifferentAttributesIsFine) {
  EXPECT_NO_THROW(Taxonomy::parse(R"(attributes:
  - id: a
    nodes: [{id: x, synonyms: [gold]}]
  - id: b
    nodes: [{id: y, synonyms: [gold]}]
)",
                                  "ok.yaml"));
}

TEST(TaxonomyValidation, CycleInParentLinks) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: a
        parent: c
      - id: b
        parent: a
      - id: c
        parent: b
      - id: d
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 5, 17, "cycle in parent links of attribute 'category': a -> c -> b -> a");
}

TEST(TaxonomyValidation, SelfParentIsACycle) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: a
        parent: a
)");
  expect_error_at(errors, 5, 17, "cycle");
}

TEST(TaxonomyValidation, UnknownParent) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: a
        parent: zzz
)");
  expect_error_at(errors, 5, 17, "parent 'zzz' of node 'a' is not a node");
}

TEST(TaxonomyValidation, ThresholdsOutOfOrderAtAttributeLevel) {
  auto errors = errors_of(R"(attributes:
  - id: category
    thresholds: {auto: 0.8, flag: 0.9}
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 3, 17, "flag threshold 0.9 is above auto threshold 0.8");
}

TEST(TaxonomyValidation, ThresholdOutsideUnitInterval) {
  auto errors = errors_of(R"(attributes:
  - id: category
    thresholds:
      auto: 1.5
      flag: -0.1
)");
  expect_error_at(errors, 4, 13, "auto threshold must lie in [0, 1]");
  expect_error_at(errors, 5, 13, "flag threshold must lie in [0, 1]");
}

TEST(TaxonomyValidation, NodeOverrideOutOfOrderAgainstAttribute) {
  // flag 0.96 on the node is above the attribute's (default) auto 0.95.
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: tops
        thresholds: {flag: 0.96}
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 5, 21, "node category/tops: flag threshold 0.96 is above auto");
}

TEST(TaxonomyValidation, SuggestAboveFlag) {
  auto errors = errors_of(R"(defaults:
  thresholds: {suggest: 0.8}
attributes:
  - id: a
)");
  expect_error_at(errors, 2, 15, "suggest threshold 0.8 is above flag threshold 0.75");
}

TEST(TaxonomyValidation, RulesNamingUnknownAttributesAndNodes) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes:
      - id: tops
rules:
  - id: r1
    when: {colour: red}
    then: {category: shoes}
  - id: r2
    ignore: [category/hats, pattern]
)");
  ASSERT_EQ(errors.size(), 4u);
  expect_error_at(errors, 7, 12, "unknown attribute 'colour'");
  expect_error_at(errors, 8, 22, "unknown node 'shoes' of attribute 'category'");
  expect_error_at(errors, 10, 14, "unknown node 'hats'");
  expect_error_at(errors, 10, 29, "unknown attribute 'pattern'");
}

TEST(TaxonomyValidation, ImpliesAndAppliesToNamingUnknownNodes) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes: [{id: tops}]
  - id: garment_type
    nodes:
      - {id: shirt, implies: {category: topz}}
  - id: neckline
    applies_to: [tops, dresses]
)");
  expect_error_at(errors, 6, 41, "implies unknown node 'topz'");
  expect_error_at(errors, 8, 24, "unknown node 'dresses' of attribute 'category'");
}

TEST(TaxonomyValidation, RuleShapeErrors) {
  auto errors = errors_of(R"(attributes:
  - id: category
    nodes: [{id: tops}, {id: dresses}]
rules:
  - id: r1
    then: {category: tops}
  - id: r2
    when: {category: tops}
  - id: r1
    when: {category: tops}
    then: {category: [tops, dresses]}
)");
  expect_error_at(errors, 6, 11, "mapping rule 'r1' needs when:");
  expect_error_at(errors, 7, 5, "rule 'r2' needs then: or ignore:");
  expect_error_at(errors, 9, 9, "duplicate rule id 'r1'");
  expect_error_at(errors, 11, 22, "sets 2 nodes of single-valued attribute 'category'");
}

TEST(TaxonomyValidation, MissingRequiredLanguage) {
  auto errors = errors_of(R"(languages: [en, zh]
attributes:
  - id: category
    nodes:
      - {id: tops, labels: {en: Tops, zh: 上衣}}
      - {id: dresses, labels: {en: Dresses}}
)");
  ASSERT_EQ(errors.size(), 1u);
  expect_error_at(errors, 6, 14, "node category/dresses has no 'zh' label");
}

TEST(TaxonomyValidation, YamlSyntaxError) {
  auto errors = errors_of("attributes:\n  - id: [unclosed\n");
  ASSERT_EQ(errors.size(), 1u);
  EXPECT_THAT(errors[0].message, HasSubstr("YAML syntax error"));
  EXPECT_GT(errors[0].line, 0);
}

TEST(TaxonomyValidation, BadFileLeavesTheCurrentTaxonomyUntouched) {
  Taxonomy current = Taxonomy::parse("attributes:\n  - id: a\n    nodes: [{id: x}]\n", "v1.yaml");
  try {
    current = Taxonomy::parse("attributes:\n  - id: a\n    nodez: []\n", "v2.yaml");
    FAIL() << "expected an error";
  } catch (const ValidationError&) {
  }
  EXPECT_EQ(current.source_name(), "v1.yaml");
  EXPECT_NE(current.node("a", "x"), nullptr);
}

TEST(TaxonomyValidation, LoadReadsAFile) {
  test::TempDir dir;
  std::ofstream(dir / "t.yaml") << "attributes:\n  - id: a\n    nodes: [{id: x}]\n";
  auto t = Taxonomy::load(dir / "t.yaml");
  EXPECT_EQ(t.yaml_text(), "attributes:\n  - id: a\n    nodes: [{id: x}]\n");
}

TEST(TaxonomyModel, ExplicitParentsHierarchyAndThresholdInheritance) {
  auto t = Taxonomy::parse(R"(attributes:
  - id: category
    thresholds: {auto: 0.9, flag: 0.7}
    nodes:
      - {id: tops, parent: apparel}
      - id: apparel
        thresholds: {auto: 0.8}
)",
                           "t.yaml");
  const Attribute& a = *t.attribute("category");
  // Parents come before children regardless of file order.
  EXPECT_EQ(a.nodes[0].id, "apparel");
  EXPECT_EQ(a.nodes[1].id, "tops");
  EXPECT_EQ(a.nodes[1].depth, 1);
  EXPECT_EQ(a.ancestors("tops"), std::vector<std::string>{"apparel"});
  EXPECT_TRUE(a.within("tops", "apparel"));
  EXPECT_FALSE(a.within("apparel", "tops"));
  EXPECT_DOUBLE_EQ(a.thresholds_for("tops").auto_apply, 0.8);  // inherited from apparel
  EXPECT_DOUBLE_EQ(a.thresholds_for("tops").flag, 0.7);        // from the attribute
  // The same by position, precomputed for the engine.
  EXPECT_EQ(a.parent_index(0), std::nullopt);
  EXPECT_EQ(a.parent_index(1), std::optional<std::size_t>(0));
  EXPECT_DOUBLE_EQ(a.thresholds_at(1).auto_apply, 0.8);
  EXPECT_DOUBLE_EQ(a.thresholds_at(1).flag, 0.7);
  EXPECT_DOUBLE_EQ(a.thresholds_at(0).auto_apply, 0.8);
}

TEST(TaxonomyModel, NodePositionsAgreeWithLookupsByIdAcrossTheBuiltinTaxonomy) {
  const Taxonomy t = Taxonomy::builtin();
  std::size_t checked = 0;
  for (const Attribute& a : t.attributes()) {
    for (std::size_t i = 0; i < a.nodes.size(); ++i) {
      const Node& n = a.nodes[i];
      const auto parent = a.parent_index(i);
      EXPECT_EQ(parent.has_value(), !n.parent.empty()) << a.id << "/" << n.id;
      if (parent) EXPECT_EQ(a.nodes[*parent].id, n.parent) << a.id << "/" << n.id;
      const Thresholds by_id = a.thresholds_for(n.id);
      EXPECT_DOUBLE_EQ(a.thresholds_at(i).auto_apply, by_id.auto_apply);
      EXPECT_DOUBLE_EQ(a.thresholds_at(i).flag, by_id.flag);
      EXPECT_DOUBLE_EQ(a.thresholds_at(i).suggest, by_id.suggest);
      EXPECT_EQ(a.index_of(std::string_view(n.id)), std::optional<std::size_t>(i));
      ++checked;
    }
  }
  EXPECT_GT(checked, 100u);
}

TEST(TaxonomyText, NormalisationFoldsCaseWidthAndSpace) {
  EXPECT_EQ(normalise_text("  Formal   TOP "), "formal top");
  EXPECT_EQ(normalise_text("ＢＬＯＵＳＥ"), "blouse");  // full-width (NFKC)
  EXPECT_EQ(normalise_text("Straße"), "strasse");       // full case folding
  EXPECT_EQ(normalise_text("衬衫"), "衬衫");
}

}  // namespace
}  // namespace tagsmith::taxonomy
