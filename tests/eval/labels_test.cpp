// CSV and mapping parsing, and the join that counts what it cannot use.
#include "tagsmith/eval/labels.h"

#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <set>

#include "tagsmith/common/error.h"
#include "tagsmith/eval/harness.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "temp_dir.h"

namespace tagsmith::eval {
namespace {

std::string error_of(const std::function<void()>& fn) {
  try {
    fn();
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Csv, QuotedFieldsCommasQuotesAndNewlines) {
  const auto t = parse_csv(
      "image,name,note\r\na.jpg,\"Shirt, blue\",\"say \"\"hi\"\"\"\n\nb.jpg,x,\"two\nlines\"\n");
  ASSERT_EQ(t.header, (std::vector<std::string>{"image", "name", "note"}));
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "Shirt, blue");
  EXPECT_EQ(t.rows[0][2], "say \"hi\"");
  EXPECT_EQ(t.rows[1][2], "two\nlines");
  EXPECT_EQ(t.lines, (std::vector<int>{2, 4}));
  EXPECT_EQ(t.column("note"), 2);
  EXPECT_EQ(t.column("nope"), -1);
}

TEST(Csv, EmptyTrailingFieldsAndNoFinalNewline) {
  const auto t = parse_csv("\xEF\xBB\xBFimage,a\nx.jpg,\ny.jpg,1");
  EXPECT_EQ(t.header[0], "image");  // BOM stripped
  ASSERT_EQ(t.rows.size(), 2u);
  EXPECT_EQ(t.rows[0][1], "");
  EXPECT_EQ(t.rows[1][1], "1");
}

TEST(Csv, MalformedFilesNameTheLine) {
  EXPECT_EQ(error_of([] { parse_csv("image,a\nx.jpg,1\ny.jpg\n", "l.csv"); }),
            "l.csv:3: 1 fields, but the header has 2");
  EXPECT_EQ(error_of([] { parse_csv("image,a\nx.jpg,\"open\n", "l.csv"); }),
            "l.csv:2: unterminated quoted field");
  EXPECT_EQ(error_of([] { parse_csv("image,a\nx.jpg,ab\"c\n", "l.csv"); }),
            "l.csv:2: a quote inside an unquoted field (quote the whole field)");
  EXPECT_EQ(error_of([] { parse_csv("image,a\n\"x\"y,1\n", "l.csv"); }),
            "l.csv:2: text after a closing quote");
  EXPECT_EQ(error_of([] { parse_csv("", "l.csv"); }),
            "l.csv: empty file (a header row is required)");
}

TEST(Mapping, ParsesColumnsAttributesAndValues) {
  const auto m = parse_mapping(
      "articleType:\n  attribute: garment_type\n  values: {Tshirts: t-shirt, Shirts: shirt}\n"
      "baseColour:\n  attribute: colour_family\n  values:\n    Navy Blue: navy\n");
  ASSERT_EQ(m.size(), 2u);
  EXPECT_EQ(m[0].column, "articleType");
  EXPECT_EQ(m[0].attribute, "garment_type");
  EXPECT_EQ(m[0].values.at("Tshirts"), "t-shirt");
  EXPECT_EQ(m[1].values.at("Navy Blue"), "navy");
  EXPECT_EQ(m[1].line, 4);
}

TEST(Mapping, TextThatIsNotUtf8IsRefusedWhereTheByteIs) {
  EXPECT_EQ(error_of([] {
              parse_mapping("a:\n  attribute: colour\n  values: {Bleu fonc\xe9: navy}\n", "m.yaml");
            }),
            "m.yaml:3:21: byte 0xE9 is not UTF-8; save the file as UTF-8");
}

// Found by fuzz/labels_csv: a YAML key that is a mapping ("? {a: b}") threw
// yaml-cpp's BadConversion out of parse_mapping instead of an InputError.
TEST(Mapping, KeysThatAreNotTextAreRefusedWithTheirLine) {
  EXPECT_EQ(error_of([] { parse_mapping("? articleType:\n  at\n", "m.yaml"); }),
            "m.yaml:1: a column name must be plain text, not a mapping");
  EXPECT_EQ(
      error_of([] { parse_mapping("a:\n  attribute: scene\n  values: {[x, y]: z}\n", "m.yaml"); }),
      "m.yaml:3: a value of column 'a' must be plain text, not a list");
}

TEST(Mapping, MalformedMappingsNameTheLine) {
  EXPECT_EQ(error_of([] { parse_mapping("a:\n  values: {x: y}\n", "m.yaml"); }),
            "m.yaml:1: column 'a' needs `attribute: <taxonomy attribute>`");
  EXPECT_EQ(error_of([] { parse_mapping("a:\n  attribute: scene\n  values: [x, y]\n", "m.yaml"); }),
            "m.yaml:3: `values` of column 'a' must be a map {csv value: node}");
  EXPECT_EQ(error_of([] { parse_mapping("- a\n- b\n", "m.yaml"); }),
            "m.yaml: expected a map of CSV column -> {attribute, values}");
  EXPECT_NE(error_of([] { parse_mapping("a: [unclosed\n", "m.yaml"); }).find("m.yaml:"),
            std::string::npos);
}

TEST(Mapping, ValidatedAgainstTheTaxonomy) {
  const auto tax = taxonomy::Taxonomy::builtin();
  EXPECT_NO_THROW(
      validate_mapping(parse_mapping("s:\n  attribute: scene\n  values: {a: studio}\n"), tax));
  const std::string e = error_of([&] {
    validate_mapping(
        parse_mapping(
            "s:\n  attribute: scene\n  values: {a: moon}\nt:\n  attribute: nope\n  values: {}\n"),
        tax);
  });
  EXPECT_NE(e.find("'moon', which is not a node of 'scene'"), std::string::npos) << e;
  EXPECT_NE(e.find("unknown attribute 'nope'"), std::string::npos) << e;
}

TEST(LabelledSet, CountsUnmappedBlankAndMissing) {
  test::TempDir dir;
  for (const char* f : {"a.jpg", "b.jpg", "c.jpg", "d.jpg"}) std::ofstream(dir / f) << "x";
  const auto csv = parse_csv(
      "image,colour,gender\na.jpg,Red,f\nb.jpg,Teal,m\nc.jpg,,f\nd.jpg,Teal,m\ngone.jpg,Red,f\n");
  const auto map = parse_mapping("colour:\n  attribute: colour_family\n  values: {Red: red}\n");
  const auto set = build_labelled_set(csv, map, dir.path(), "image", "gender");
  EXPECT_EQ(set.rows, 5u);
  ASSERT_EQ(set.items.size(), 4u);
  EXPECT_EQ(set.items[0].labels.at("colour_family"), "red");
  EXPECT_EQ(set.items[0].segment, "f");
  EXPECT_TRUE(set.items[1].labels.empty());
  EXPECT_EQ(set.unmapped.at("colour").at("Teal"), 2u);
  EXPECT_EQ(set.unmapped_rows("colour"), 2u);
  EXPECT_EQ(set.blank.at("colour"), 1u);
  EXPECT_EQ(set.mapped.at("colour_family"), 1u);
  ASSERT_EQ(set.missing_images.size(), 1u);
  EXPECT_EQ(set.missing_images[0].line, 6);
  EXPECT_EQ(set.missing_images[0].image, "gone.jpg");
  EXPECT_EQ(error_of([&] { build_labelled_set(csv, map, dir.path(), "file"); }).substr(0, 38),
            "the labels have no image column 'file'");
  EXPECT_EQ(error_of([&] { build_labelled_set(csv, map, dir.path(), "image", "age"); }),
            "--segment-by: the labels have no column 'age'");
}

TEST(LabelledSet, KeepsThePublishedSplitAndLocatesUnmappedCells) {
  test::TempDir dir;
  for (const char* f : {"a.jpg", "b.jpg", "c.jpg"}) std::ofstream(dir / f) << "x";
  const auto csv = parse_csv(
      "image,colour,split\na.jpg,Red,train\nb.jpg,Teal,validation\n"
      "c.jpg,Red, validation \n");
  const auto map = parse_mapping("colour:\n  attribute: colour_family\n  values: {Red: red}\n");
  const auto set = build_labelled_set(csv, map, dir.path(), "image", "", "split");
  ASSERT_EQ(set.items.size(), 3u);
  EXPECT_EQ(set.items[0].split, "train");
  EXPECT_EQ(set.items[2].split, "validation");  // trimmed
  ASSERT_EQ(set.unmapped_cells.size(), 1u);
  EXPECT_EQ(set.unmapped_cells[0].line, 3);
  EXPECT_EQ(set.unmapped_cells[0].column, "colour");
  EXPECT_EQ(set.unmapped_cells[0].value, "Teal");
  EXPECT_EQ(error_of([&] {
              build_labelled_set(csv, map, dir.path(), "image", "", "fold");
            }).substr(0, 51),
            "--split-column: the labels have no column 'fold' (c");
}

TEST(Split, APublishedSplitDecidesTheTestRows) {
  LabelledSet set;
  for (int i = 0; i < 30; ++i) {
    LabelledItem item{
        "img" + std::to_string(i), {}, i + 2, {{"scene", i % 3 ? "studio" : "flat_lay"}}, ""};
    item.split = i % 5 == 0 ? "validation" : (i % 5 == 1 ? "test" : "train");
    set.items.push_back(item);
  }
  const auto a = split_attribute_by_value(set, "scene", "validation", 7);
  ASSERT_EQ(a.size(), 30u);
  std::map<std::string, std::string> split_of;
  for (const auto& item : set.items) split_of[item.image] = item.split;
  std::size_t tests = 0;
  for (const auto& row : a) {
    EXPECT_EQ(row.test, split_of[row.image] == "validation") << row.image;
    tests += row.test;
  }
  EXPECT_EQ(tests, 6u);  // every 5th row, whatever its class: "test" rows train here
  // Train ranks are 0..n-1 per class (k-shot takes rank < k), and the order
  // does not depend on the CSV's.
  std::map<std::string, std::set<int>> ranks;
  for (const auto& row : a)
    if (!row.test) ranks[row.node].insert(row.rank);
  for (const auto& [node, r] : ranks) EXPECT_EQ(*r.rbegin(), static_cast<int>(r.size()) - 1);
  std::reverse(set.items.begin(), set.items.end());
  const auto b = split_attribute_by_value(set, "scene", "validation", 7);
  ASSERT_EQ(b.size(), a.size());
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].image, b[i].image);
    EXPECT_EQ(a[i].rank, b[i].rank);
  }
  // Nothing matches: no test rows at all.
  for (const auto& row : split_attribute_by_value(set, "scene", "holdout", 7))
    EXPECT_FALSE(row.test);
}

TEST(Mapping, ClothingSmallResolvesAgainstTheDefaultTaxonomy) {
  const std::filesystem::path map = std::filesystem::path(TAGSMITH_SOURCE_DIR) / ".." / "shared" /
                                    "datasets" / "clothing-small" / "map.yaml";
  if (!std::filesystem::exists(map)) GTEST_SKIP() << "no ../shared clothing-small dataset";
  EXPECT_NO_THROW(validate_mapping(read_mapping(map), taxonomy::Taxonomy::builtin()));
}

TEST(Split, StratifiedDeterministicAndOrderIndependent) {
  LabelledSet set;
  for (int i = 0; i < 20; ++i)
    set.items.push_back(
        {"img" + std::to_string(i), {}, i + 2, {{"scene", i % 2 ? "studio" : "flat_lay"}}, ""});
  const auto a = split_attribute(set, "scene", 0.3, 7);
  std::reverse(set.items.begin(), set.items.end());
  const auto b = split_attribute(set, "scene", 0.3, 7);
  ASSERT_EQ(a.size(), 20u);
  std::map<std::string, int> tests;
  for (std::size_t i = 0; i < a.size(); ++i) {
    EXPECT_EQ(a[i].image, b[i].image);
    EXPECT_EQ(a[i].test, b[i].test);
    tests[a[i].node] += a[i].test;
  }
  EXPECT_EQ(tests["studio"], 3);  // round(10 * 0.3) per class
  EXPECT_EQ(tests["flat_lay"], 3);
  const auto c = split_attribute(set, "scene", 0.3, 8);
  bool differs = false;
  for (std::size_t i = 0; i < a.size(); ++i) differs |= a[i].image != c[i].image;
  EXPECT_TRUE(differs) << "another seed should give another order";
}

}  // namespace
}  // namespace tagsmith::eval
