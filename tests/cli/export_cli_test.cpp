// `tagsmith export` and keyword import on `tagsmith ingest`, through the CLI:
// keywords in sidecars arrive as import:xmp tags and are reported; exports
// write what the search selects and are audited.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/common/files.h"
#include "tagsmith/image/xmp.h"
#include "tagsmith/library/library.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;
using ::testing::HasSubstr;

struct Result {
  int rc;
  std::string out, err;
};

class ExportCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(photos);
    test::write_jpeg(photos / "a.jpg", test::synthetic_product(160, 200, 1, {240, 240, 240}));
    test::write_jpeg(photos / "b.jpg", test::synthetic_product(160, 200, 2, {25, 35, 90}));
    image::write_sidecar(photos / "a.xmp",
                         {{"Maxi dress", "Summer", "Unicorn"}, {"Material|Linen"}});
    image::write_sidecar(photos / "b.jpg.xmp", {{"T恤"}, {}});
  }

  Result run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", lib.string(), "--quiet"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }

  test::TempDir dir;
  fs::path photos = dir / "photos";
  fs::path lib = dir / "lib";
};

TEST_F(ExportCliTest, IngestImportsSidecarKeywordsAndExportsAreAudited) {
  auto r = run({"ingest", photos.string(), "--no-model", "--no-person-model", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const json report = json::parse(r.out);
  EXPECT_EQ(report["keywords"]["photos"], 2);
  EXPECT_EQ(report["keywords"]["imported_tags"], 4);  // maxi_dress, summer, linen, t_shirt
  EXPECT_EQ(report["keywords"]["not_imported"], 1);
  EXPECT_EQ(report["keywords"]["not_imported_keywords"][0]["keyword"], "Unicorn");

  // CSV of a search to a file.
  const fs::path csv = dir / "dresses.csv";
  r = run({"export", "maxi dress", "--format", "csv", "--out", csv.string()});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("exported 1 assets"));
  const std::string text = read_file_text(csv);
  EXPECT_THAT(text, HasSubstr("a.jpg"));
  EXPECT_THAT(text, HasSubstr("maxi_dress,Maxi dress,Product type|Dress|Maxi dress,human_set"));
  EXPECT_THAT(text, ::testing::Not(HasSubstr("b.jpg")));
  EXPECT_FALSE(fs::exists(csv.string() + ".tmp"));

  // JSON Lines to stdout: every asset, Chinese labels.
  r = run({"export", "--format", "jsonl", "--lang", "zh"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_THAT(r.out, HasSubstr("\"label\":\"T恤\""));

  // XMP sidecars under a folder: people's tags only (colour analysis tagged too).
  const fs::path out = dir / "xmp";
  r = run({"export", "--facet", "garment_type=t_shirt", "--format", "xmp", "--out", out.string(),
           "--tiers", "human_set"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto back = image::read_keywords(out / "b.xmp");
  EXPECT_EQ(back.subjects, std::vector<std::string>{"T-shirt"});
  EXPECT_EQ(back.hierarchical, std::vector<std::string>{"Product type|T-shirt"});

  // Words that only rank select nothing: refused, not the whole library.
  r = run({"export", "something flowy", "--format", "csv"});
  EXPECT_EQ(r.rc, 2);
  EXPECT_THAT(r.err, HasSubstr("names a taxonomy value"));

  auto library = library::Library::open_existing(lib.string());
  const auto records = library->store().export_records(10);
  ASSERT_EQ(records.size(), 3u) << "the refused export is not on record";
  EXPECT_EQ(records[0].format, "csv");
  EXPECT_EQ(records[0].query, "\"maxi dress\"");
  EXPECT_EQ(records[0].assets, 1);
  EXPECT_EQ(records[0].destination, csv.string());
  EXPECT_EQ(records[0].actor.rfind("cli:", 0), 0u) << records[0].actor;
  EXPECT_EQ(records[1].format, "jsonl");
  EXPECT_EQ(records[1].destination, "stdout");
  EXPECT_EQ(records[2].format, "xmp");
  EXPECT_EQ(records[2].query, "--facet garment_type=t_shirt");
}

TEST_F(ExportCliTest, NoKeywordsFlagSkipsTheImportAndImportKeywordsCatchesUp) {
  auto r = run(
      {"ingest", photos.string(), "--no-model", "--no-person-model", "--no-keywords", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_EQ(json::parse(r.out)["keywords"]["photos"], 0);
  // Later (or for a sidecar written after ingest): the same keywords, once.
  r = run({"tags", "import-keywords", "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  json j = json::parse(r.out);
  EXPECT_EQ(j["photos_with_keywords"], 2);
  EXPECT_EQ(j["set"], 4);
  EXPECT_EQ(j["not_imported"], 1);
  r = run({"tags", "import-keywords", (photos / "a.jpg").string(), "--json"});
  ASSERT_EQ(r.rc, 0) << r.err;
  j = json::parse(r.out);
  EXPECT_EQ(j["set"], 0) << "idempotent";
  EXPECT_EQ(j["unchanged"], 3);
}

}  // namespace
}  // namespace tagsmith::cli
