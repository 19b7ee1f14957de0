// `tagsmith tags import`: a catalogue's labels become human tags through the
// CLI, audited under actor import:<file>, idempotent, with bad rows reported
// by CSV line (exit status 3).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Result {
  int rc;
  std::string out, err;
};

class TagsImportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(images);
    test::write_jpeg(images / "a.jpg", test::synthetic_product(200, 240, 1, {200, 20, 30}));
    test::write_jpeg(images / "b.jpg", test::synthetic_product(200, 240, 2, {240, 240, 240}));
    test::write_jpeg(images / "c.jpg", test::synthetic_product(200, 240, 3, {25, 35, 90}));
    test::write_jpeg(images / "d.jpg", test::synthetic_product(200, 240, 4, {25, 35, 90}));
    EXPECT_EQ(run({"ingest", images.string()}).rc, 0);
    // A photo that exists but was never ingested.
    test::write_jpeg(images / "new.jpg", test::synthetic_product(200, 240, 5, {200, 20, 30}));
    std::ofstream(catalogue / "map.yaml") << "type:\n  attribute: garment_type\n"
                                             "  values: {Dress: dress, Tee: t_shirt, Hoodie: "
                                             "hoodie}\ncolour:\n  attribute: colour_family\n"
                                             "  values: {Red: red, Navy: navy}\n";
    write_csv("images/a.jpg,Dress,Red\n");
  }

  void write_csv(const std::string& first_row) {
    std::ofstream(catalogue / "labels.csv") << "image,type,colour\n"
                                            << first_row                      // line 2
                                            << "images/b.jpg,Tee,\n"          // 3: blank colour
                                            << "images/c.jpg,Parka,Navy\n"    // 4: Parka unmapped
                                            << "images/new.jpg,Dress,Red\n"   // 5: not ingested
                                            << "images/gone.jpg,Tee,Red\n"    // 6: no such file
                                            << "images/d.jpg,Hoodie,Navy\n";  // 7
  }

  Result run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", lib.string(), "--quiet"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }
  Result import(std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"tags", "import", (catalogue / "labels.csv").string(), "--map",
                                     (catalogue / "map.yaml").string()};
    args.insert(args.end(), extra.begin(), extra.end());
    return run(args);
  }
  nlohmann::json import_json() {
    const auto r = import({"--json"});
    EXPECT_EQ(r.rc, 3) << r.err;  // some rows are bad, the rest imported
    return nlohmann::json::parse(r.out);
  }

  std::optional<store::Tag> tag(const std::string& image, const std::string& attribute) {
    auto library = library::Library::open_existing(lib);
    const auto asset = library->store().find_asset_by_path((images / image).string());
    if (!asset) return std::nullopt;
    for (auto& t : library->store().tags_of(asset->id))
      if (t.attribute == attribute &&
          (t.state == store::TagState::kHumanSet || t.state == store::TagState::kConfirmed))
        return t;
    return std::nullopt;
  }
  std::int64_t events() { return library::Library::open_existing(lib)->store().stats().tag_events; }

  test::TempDir dir;
  fs::path catalogue = dir / "catalogue";
  fs::path images = catalogue / "images";
  fs::path lib = dir / "lib";
};

TEST_F(TagsImportCliTest, RecordsLabelsAsAuditedHumanTagsAndReportsBadRows) {
  const std::int64_t before = events();
  const auto j = import_json();
  EXPECT_EQ(j["actor"], "import:labels.csv");
  EXPECT_EQ(j["rows"], 6);
  EXPECT_EQ(j["labels"], 6);  // a: 2, b: 1, c: 1 (its colour), d: 2
  EXPECT_EQ(j["set"], 6);
  EXPECT_EQ(j["events"], 6);
  EXPECT_EQ(j["assets"], 4);
  EXPECT_EQ(j["blank"], 1);
  ASSERT_EQ(j["problems"].size(), 3u) << j.dump(2);
  EXPECT_EQ(j["problems"][0]["line"], 4);
  EXPECT_THAT(j["problems"][0]["reason"].get<std::string>(), HasSubstr("'Parka'"));
  EXPECT_EQ(j["problems"][1]["line"], 5);
  EXPECT_THAT(j["problems"][1]["reason"].get<std::string>(), HasSubstr("not in the library"));
  EXPECT_EQ(j["problems"][2]["line"], 6);
  EXPECT_THAT(j["problems"][2]["reason"].get<std::string>(), HasSubstr("no such image file"));
  EXPECT_EQ(events(), before + 6);  // one audit event per tag

  const auto dress = tag("a.jpg", "garment_type");
  ASSERT_TRUE(dress);
  EXPECT_EQ(dress->node, "dress");
  EXPECT_EQ(dress->state, store::TagState::kHumanSet);
  EXPECT_EQ(dress->actor, "import:labels.csv");
  EXPECT_EQ(tag("c.jpg", "colour_family")->node, "navy");
  EXPECT_FALSE(tag("c.jpg", "garment_type"));
  EXPECT_EQ(tag("d.jpg", "garment_type")->node, "hoodie");
  {
    auto library = library::Library::open_existing(lib);
    const auto a = library->store().find_asset_by_path((images / "a.jpg").string());
    const auto history = library->store().tag_events(a->id, "garment_type");
    ASSERT_FALSE(history.empty());
    EXPECT_EQ(history.back().actor, "import:labels.csv");
    EXPECT_EQ(history.back().action, store::TagAction::kApplied);
  }
  // `why` says who set it.
  const auto why = run({"why", (images / "a.jpg").string(), "garment_type"});
  EXPECT_THAT(why.out, HasSubstr("set by import:labels.csv"));

  // The same import again changes nothing and writes no events.
  const auto again = import_json();
  EXPECT_EQ(again["set"], 0);
  EXPECT_EQ(again["unchanged"], 6);
  EXPECT_EQ(again["events"], 0);
  EXPECT_EQ(events(), before + 6);
  // Re-tagging does not touch the imported facts.
  EXPECT_EQ(run({"retag"}).rc, 0);
  EXPECT_EQ(tag("a.jpg", "garment_type")->node, "dress");
}

TEST_F(TagsImportCliTest, TextOutputListsBadRowsByLine) {
  const auto r = import();
  EXPECT_EQ(r.rc, 3) << r.err;
  EXPECT_THAT(r.out, HasSubstr("Imported 6 labels of 4 assets from labels.csv as "
                               "import:labels.csv: 6 set"));
  EXPECT_THAT(r.out, HasSubstr("3 rows not imported"));
  EXPECT_THAT(r.out, HasSubstr("labels.csv:4: images/c.jpg: value 'Parka' of column 'type'"));
  EXPECT_THAT(r.out, HasSubstr("labels.csv:5: images/new.jpg: "));
  EXPECT_THAT(r.out, HasSubstr("labels.csv:6: images/gone.jpg: no such image file"));
}

TEST_F(TagsImportCliTest, ACorrectedCatalogueUpdatesItsOwnLabelsButNotAPersons) {
  import_json();
  // Somebody corrects b by hand; the catalogue is fixed for a.
  {
    auto library = library::Library::open_existing(lib);
    tagging::TagService service(*library);
    const auto b = library->store().find_asset_by_path((images / "b.jpg").string());
    ASSERT_TRUE(service.correct(b->id, "garment_type", "t_shirt", "shirt", "ann"));
  }
  write_csv("images/a.jpg,Tee,Red\n");
  const std::int64_t before = events();
  const auto j = import_json();
  EXPECT_EQ(j["corrected"], 1);
  EXPECT_EQ(j["set"], 0);
  EXPECT_EQ(events(), before + 1);
  EXPECT_EQ(tag("a.jpg", "garment_type")->node, "t_shirt");
  EXPECT_EQ(tag("b.jpg", "garment_type")->node, "shirt");  // the person's value stands
  bool reported = false;
  for (const auto& p : j["problems"])
    reported |=
        p["line"] == 3 && p["reason"].get<std::string>().find("user:ann") != std::string::npos;
  EXPECT_TRUE(reported) << j.dump(2);
}

TEST_F(TagsImportCliTest, RowsDisagreeingAboutOneImageAreReported) {
  std::ofstream(catalogue / "labels.csv")
      << "image,type,colour\nimages/a.jpg,Dress,Red\nimages/a.jpg,Tee,Red\n";
  const auto j = import_json();
  EXPECT_EQ(j["set"], 2);        // dress and red, from line 2
  EXPECT_EQ(j["unchanged"], 1);  // red again on line 3
  ASSERT_EQ(j["problems"].size(), 1u);
  EXPECT_EQ(j["problems"][0]["line"], 3);
  EXPECT_THAT(j["problems"][0]["reason"].get<std::string>(), HasSubstr("dress on line 2"));
}

TEST_F(TagsImportCliTest, UsageErrors) {
  std::ofstream(catalogue / "bad.yaml") << "type:\n  attribute: garment_type\n  values: {Dress: "
                                           "gown}\n";
  const auto bad = run({"tags", "import", (catalogue / "labels.csv").string(), "--map",
                        (catalogue / "bad.yaml").string()});
  EXPECT_EQ(bad.rc, 2);  // the mapping is checked before anything is written
  EXPECT_THAT(bad.err, HasSubstr("'gown', which is not a node of 'garment_type'"));
  EXPECT_FALSE(tag("a.jpg", "garment_type"));
  EXPECT_EQ(run({"tags"}).rc, 2);
  EXPECT_EQ(run({"tags", "import", (catalogue / "labels.csv").string()}).rc, 2);  // no --map
  EXPECT_EQ(run({"tags", "1", "--json"}).rc, 0);  // `tags ASSET` still works
}

}  // namespace
}  // namespace tagsmith::cli
