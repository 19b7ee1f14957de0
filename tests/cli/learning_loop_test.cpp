// The learning loop end to end: ingest with a (tiny, random) CLIP
// model → zero-shot tags → a reviewer corrects at least 30 of them → train →
// promote → re-tag; the corrected classes must then be predicted better on
// held-out data and on the photos nobody reviewed.
#include <gtest/gtest.h>

#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>

#include "tagsmith/cli/app.h"
#include "tagsmith/library/library.h"
#include "tagsmith/review/queue.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith {
namespace {
namespace fs = std::filesystem;

// The ground truth the reviewer knows: the scene follows the product colour
// folder of the sample catalogue (a stand-in for any visual distinction).
std::string true_scene(const std::string& path) {
  const std::string folder = fs::path(path).parent_path().filename().string();
  for (const char* warm : {"red", "burgundy", "pink", "orange", "yellow"})
    if (folder == warm) return "studio";
  for (const char* cool : {"navy", "blue", "purple", "green"})
    if (folder == cool) return "flat_lay";
  return "detail";
}

struct CliRun {
  int rc;
  std::string out, err;
};

class LearningLoop : public ::testing::Test {
 protected:
  CliRun run(std::vector<std::string> args) {
    args.insert(args.end(),
                {"--library", lib_dir.string(), "--quiet", "--models", models, "--threads", "2"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }

  // Share of `ids` whose current scene tag (applied or suggested) is the truth.
  double scene_accuracy(library::Library& lib, const std::vector<store::AssetId>& ids) {
    int right = 0;
    for (auto id : ids) {
      const auto asset = lib.store().find_asset(id);
      for (const auto& t : lib.store().tags_of(id)) {
        if (t.attribute == "scene" && t.state != store::TagState::kRejected &&
            t.node == true_scene(asset->source_path)) {
          ++right;
          break;
        }
      }
    }
    return ids.empty() ? 0 : static_cast<double>(right) / ids.size();
  }

  test::TempDir dir;
  fs::path lib_dir = dir / "lib";
  std::string models = std::string(TAGSMITH_SOURCE_DIR) + "/tests/vision/fixtures";
};

TEST_F(LearningLoop, CorrectionsTrainAModelThatIsPromotedOnlyWhenBetter) {
  ASSERT_EQ(run({"sample-photos", (dir / "photos").string(), "--count", "120", "--size", "160"}).rc,
            0);
  const CliRun ingest = run({"ingest", (dir / "photos").string(), "--model", "tiny-clip"});
  ASSERT_EQ(ingest.rc, 3) << ingest.err;  // the sample's two broken files

  auto lib = library::Library::open_existing(lib_dir);
  const std::vector<store::AssetId> ids = lib->store().asset_ids();
  ASSERT_GE(ids.size(), 110u);
  // Reviewed: the first 90; never reviewed: the rest.
  const std::vector<store::AssetId> reviewed(ids.begin(), ids.begin() + 90),
      untouched(ids.begin() + 90, ids.end());
  const double zero_shot_untouched = scene_accuracy(*lib, untouched);

  {
    tagging::TagService tagger(*lib);  // people act: no model needed
    review::ReviewQueue queue(*lib, tagger);
    review::ReviewFilter filter;
    filter.attributes = {"scene"};
    std::map<store::AssetId, review::ReviewItem> pending;
    for (auto& item : queue.items(filter, review::Order::kSmallestMargin, 1000))
      pending[item.tag.asset_id] = item;
    int corrections = 0;
    for (auto id : reviewed) {
      const std::string truth = true_scene(lib->store().find_asset(id)->source_path);
      auto it = pending.find(id);
      if (it == pending.end()) {
        tagger.set(id, "scene", truth, "ana");  // nothing proposed (or auto): the reviewer tags it
      } else if (it->second.tag.node == truth) {
        queue.act(it->second, review::Action::kConfirm, "ana", 1.0);
      } else {
        queue.act(it->second, review::Action::kCorrect, "ana", 2.0, truth);
        ++corrections;
      }
    }
    ASSERT_GE(corrections, 30) << "the random model should get most scenes wrong";
  }

  const CliRun train =
      run({"train", "--model", "tiny-clip", "--attribute", "scene", "--promote", "--json"});
  ASSERT_EQ(train.rc, 0) << train.err;
  const auto j = nlohmann::json::parse(train.out);
  ASSERT_TRUE(j["verdict"]["promote"].get<bool>()) << train.out;
  ASSERT_TRUE(j.contains("promoted")) << train.out;
  const nlohmann::json* scene = nullptr;
  for (const auto& row : j["verdict"]["attributes"])
    if (row["attribute"] == "scene") scene = &row;
  ASSERT_NE(scene, nullptr) << train.out;
  // On the held-out reviewed photos, the trained head beats zero-shot.
  EXPECT_GT((*scene)["after"]["macro_f1"].get<double>(),
            (*scene)["before"]["macro_f1"].get<double>())
      << train.out;
  EXPECT_GT((*scene)["after"]["accuracy"].get<double>(), 0.6) << train.out;

  // The re-tag that promotion triggered reaches the photos nobody reviewed.
  lib = library::Library::open_existing(lib_dir);
  const double trained_untouched = scene_accuracy(*lib, untouched);
  EXPECT_GT(trained_untouched, zero_shot_untouched + 0.2)
      << "zero-shot " << zero_shot_untouched << " -> trained " << trained_untouched;

  // Rollback restores the zero-shot decisions.
  const CliRun rollback = run({"models", "rollback", "--model", "tiny-clip"});
  ASSERT_EQ(rollback.rc, 0) << rollback.err;
  lib = library::Library::open_existing(lib_dir);
  EXPECT_NEAR(scene_accuracy(*lib, untouched), zero_shot_untouched, 1e-9);
}

}  // namespace
}  // namespace tagsmith
