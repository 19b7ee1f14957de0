// End to end through cli::run: ingest a small folder of synthetic photos (no
// vision model), then tag, why, retag and the taxonomy commands.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/common/files.h"
#include "tagsmith/library/library.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;

struct Result {
  int rc;
  std::string out, err;
};

class TaggingCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(photos);
    // Known product colours: a navy, a red and a green product.
    test::write_jpeg(photos / "navy.jpg", test::synthetic_product(300, 360, 1, {25, 35, 90}));
    test::write_jpeg(photos / "red.jpg", test::synthetic_product(300, 360, 2, {200, 20, 30}));
    test::write_png(photos / "green.png", test::synthetic_product(320, 300, 3, {30, 140, 40}));
  }

  Result run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", lib.string(), "--quiet"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    Result r{rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
    return r;
  }
  nlohmann::json run_json(std::vector<std::string> args) {
    args.push_back("--json");
    const auto r = run(args);
    EXPECT_EQ(r.rc, 0) << r.err;
    return nlohmann::json::parse(r.out);
  }
  std::int64_t versions() {
    return library::Library::open_existing(lib)->store().taxonomy_versions().size();
  }

  std::string taxonomy_with_family_thresholds(const std::string& thresholds) {
    std::string yaml(taxonomy::Taxonomy::builtin_yaml());
    const std::string key = "    palette: families\n";
    const auto pos = yaml.find(key);
    // The colour_family's own thresholds line (the first after the key) is replaced.
    const std::string own = "    thresholds: {auto: 0.95, flag: 0.5}\n";
    const auto line = yaml.find(own, pos);
    EXPECT_NE(line, std::string::npos);
    yaml.erase(line, own.size());
    yaml.insert(pos + key.size(), "    thresholds: " + thresholds + "\n");
    return yaml;
  }

  test::TempDir dir;
  fs::path photos = dir / "photos";
  fs::path lib = dir / "lib";
};

TEST_F(TaggingCliTest, IngestTagsColoursWithoutAModelAndWhyExplainsThem) {
  const auto ingest = run_json({"ingest", photos.string()});
  EXPECT_EQ(ingest["ingested"], 3);
  EXPECT_EQ(ingest["tagging"]["assets"], 3);
  EXPECT_GT(ingest["tagging"]["added"].get<int>(), 3);

  // The navy photo carries a navy colour family tag.
  const auto tags = run_json({"tags", (photos / "navy.jpg").string()});
  bool navy = false;
  for (const auto& t : tags["tags"])
    if (t["attribute"] == "colour_family" && t["node"] == "navy") navy = t["state"] != "suggested";
  EXPECT_TRUE(navy) << tags.dump(2);

  const auto why = run({"why", (photos / "navy.jpg").string(), "colour_family"});
  EXPECT_EQ(why.rc, 0) << why.err;
  EXPECT_NE(why.out.find("is tagged navy (colour_family)"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("by colour analysis"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("from the shade"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("ΔE"), std::string::npos) << why.out;
  EXPECT_NE(why.out.find("taxonomy v1"), std::string::npos) << why.out;

  // Tagging again changes nothing and writes no events.
  const auto again = run_json({"tag", "--all"});
  EXPECT_EQ(again["changed"], 0);
  EXPECT_EQ(again["events"], 0);
  EXPECT_EQ(run({"why", "1", "no_such_attribute"}).rc, 2);
  EXPECT_EQ(run({"tag"}).rc, 2);
}

TEST_F(TaggingCliTest, IngestNoTagLeavesAssetsUntaggedUntilTag) {
  EXPECT_EQ(run_json({"ingest", photos.string(), "--no-tag"})["tagging"], nullptr);
  EXPECT_TRUE(run_json({"tags", "1"})["tags"].empty());
  const auto r = run_json({"tag", "1", "2"});
  EXPECT_EQ(r["assets"], 2);
  EXPECT_FALSE(run_json({"tags", "1"})["tags"].empty());
  EXPECT_EQ(run_json({"stats"})["pending"]["tagging"], 1);  // asset 3
}

// What a killed ingest leaves (assets committed, tagging not reached) is what
// --no-tag leaves: a re-run of the same ingest must finish the tagging, not
// skip the assets as "already present" and leave them untagged.
TEST_F(TaggingCliTest, ReRunOfAnIngestTagsWhatTheFirstRunLeftUntagged) {
  run_json({"ingest", photos.string(), "--no-tag"});
  EXPECT_EQ(run_json({"stats"})["pending"]["tagging"], 3);
  const auto again = run_json({"ingest", photos.string()});
  EXPECT_EQ(again["ingested"], 0);
  EXPECT_EQ(again["skipped"], 3);
  EXPECT_EQ(again["tagging"]["assets"], 3);
  EXPECT_EQ(again["pending_tagging"], 0);
  EXPECT_EQ(run_json({"stats"})["pending"]["tagging"], 0);
  for (const char* id : {"1", "2", "3"}) EXPECT_FALSE(run_json({"tags", id})["tags"].empty()) << id;
  // Nothing pending: the next run tags nothing.
  EXPECT_EQ(run_json({"ingest", photos.string()})["tagging"], nullptr);
}

TEST_F(TaggingCliTest, TagPendingFinishesAnInterruptedRetag) {
  run_json({"ingest", photos.string()});
  // A re-tag queues the whole catalogue before it starts; simulate one killed
  // after queueing by queueing directly.
  library::Library::open_existing(lib)->store().queue_work_for_all(store::WorkStep::kTag);
  const auto stats = run({"stats"});
  EXPECT_NE(stats.out.find("pending tagging     3 (run `tagsmith tag --pending`)"),
            std::string::npos)
      << stats.out;
  const auto r = run_json({"tag", "--pending"});
  EXPECT_EQ(r["assets"], 3);
  EXPECT_EQ(r["changed"], 0);  // the tags were already right
  EXPECT_EQ(run_json({"stats"})["pending"]["tagging"], 0);
  EXPECT_EQ(run_json({"tag", "--pending"})["assets"], 0);
  EXPECT_EQ(run({"tag", "--all", "--pending"}).rc, 2);
}

TEST_F(TaggingCliTest, BadTaxonomyIsRejectedWithLineAndColumnAndChangesNothing) {
  run({"ingest", photos.string()});
  EXPECT_EQ(versions(), 1);
  write_file_atomic(
      dir / "bad.yaml",
      "attributes:\n  - id: category\n    nodes:\n      - id: tops\n      - id: tops\n");
  const auto v = run({"taxonomy", "validate", (dir / "bad.yaml").string()});
  EXPECT_EQ(v.rc, 2);
  EXPECT_NE(v.err.find("bad.yaml:5:13: duplicate node id 'tops'"), std::string::npos) << v.err;
  const auto imp = run({"taxonomy", "import", (dir / "bad.yaml").string()});
  EXPECT_EQ(imp.rc, 2);
  EXPECT_NE(imp.err.find("bad.yaml:5:13:"), std::string::npos) << imp.err;
  EXPECT_EQ(versions(), 1);
  const auto j = run({"taxonomy", "validate", (dir / "bad.yaml").string(), "--json"});
  EXPECT_EQ(j.rc, 2);
  EXPECT_EQ(nlohmann::json::parse(j.out)["errors"][0]["line"], 5);
}

TEST_F(TaggingCliTest, ImportDiffShowAndRetagAfterAThresholdChange) {
  run({"ingest", photos.string()});
  const auto before = run_json({"stats"});

  // Make every colour family decision an automatic one.
  write_file_atomic(dir / "t.yaml",
                    taxonomy_with_family_thresholds("{auto: 0.3, flag: 0.2, suggest: 0.1}"));
  const auto imp = run({"taxonomy", "import", (dir / "t.yaml").string()});
  EXPECT_EQ(imp.rc, 0) << imp.err;
  EXPECT_NE(imp.out.find("taxonomy v2"), std::string::npos) << imp.out;
  EXPECT_NE(imp.out.find("colour_family auto threshold: 0.95 -> 0.3"), std::string::npos)
      << imp.out;
  EXPECT_NE(imp.out.find("tagsmith retag"), std::string::npos) << imp.out;
  EXPECT_EQ(run_json({"taxonomy", "import", (dir / "t.yaml").string()})["stored"], false);
  EXPECT_EQ(versions(), 2);

  const auto list = run_json({"taxonomy", "versions"});
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0]["source"], "builtin");
  EXPECT_EQ(list[1]["current"], true);
  const auto diff = run({"taxonomy", "diff", "1", "2"});
  EXPECT_EQ(diff.rc, 0) << diff.err;
  EXPECT_NE(diff.out.find("colour_family auto threshold"), std::string::npos) << diff.out;
  // A file compares like the version it became.
  std::string expected = diff.out;
  expected.replace(expected.find("v2"), 2, (dir / "t.yaml").string());
  EXPECT_EQ(run({"taxonomy", "diff", "1", (dir / "t.yaml").string()}).out, expected);
  const auto show = run({"taxonomy", "show", "--attribute", "category"});
  EXPECT_NE(show.out.find("apparel  Apparel / 服装"), std::string::npos) << show.out;
  EXPECT_NE(show.out.find("thresholds: auto 0.95 flag 0.75"), std::string::npos) << show.out;
  EXPECT_EQ(run_json({"taxonomy", "show", "--version", "2", "--attribute",
                      "colour_family"})["attributes"][0]["thresholds"]["auto"],
            0.3);

  const auto r = run_json({"retag"});
  EXPECT_EQ(r["assets"], 3);
  EXPECT_EQ(r["taxonomy_version"], 2);
  EXPECT_GT(r["tier_changed"].get<int>() + r["added"].get<int>(), 0);
  const auto after = run_json({"stats"});
  EXPECT_GT(after["tags"]["auto"].get<int>(), before["tags"]["auto"].get<int>());
  EXPECT_EQ(after["tag_events"].get<int>() - before["tag_events"].get<int>(),
            r["events"].get<int>());
}

}  // namespace
}  // namespace tagsmith::cli
