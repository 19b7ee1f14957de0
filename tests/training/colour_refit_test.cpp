// The colour feedback loop: reviewed colour tags refit the colour
// calibration, which replaces the one in use only when it is better.
#include "tagsmith/training/colour_refit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "library_fixture.h"
#include "tagsmith/store/records.h"
#include "temp_dir.h"

namespace tagsmith::training {
namespace {

// A person's colour_family label, as a confirmation would store it.
void label(store::Store& st, store::AssetId asset, const std::string& node) {
  std::vector<store::TagChange> changes(1);
  auto& t = changes[0].tag;
  t.asset_id = asset;
  t.attribute = "colour_family";
  t.node = node;
  t.state = store::TagState::kHumanSet;
  t.confidence = 1;
  t.actor = "user:test";
  t.updated_at = "2026-01-02T00:00:00.000Z";
  changes[0].event = {0,
                      asset,
                      "colour_family",
                      node,
                      store::TagAction::kCorrected,
                      "user:test",
                      1,
                      "",
                      0,
                      "2026-01-02T00:00:00.000Z",
                      "{}",
                      ""};
  st.apply_tag_changes(changes);
}

class ColourRefitTest : public ::testing::Test {
 protected:
  void SetUp() override { lib = library::Library::open(dir / "lib"); }
  // A catalogue where the analysis names the main colour "grey" at a loose
  // ΔE 9 but people call those products blue (faded denim): the shipped
  // calibration cannot know that, a refit learns it.
  void add_catalogue(int n) {
    for (int i = 0; i < n; ++i) {
      test::FakeAsset a("refit-" + std::to_string(i));
      const bool denim = i % 2 == 0;
      if (denim)
        a.colour("grey", "slate", 9, 0.9, {0x70, 0x80, 0x90}).runner_up("blue", 10);
      else
        a.colour("red", "red", 1.5, 0.9, {0xc0, 0x20, 0x30}).runner_up("pink", 12);
      a.colour("white", "white", 1, 0.1).runner_up("cream", 5);
      const auto id = a.add_to(lib->store());
      label(lib->store(), id, denim ? "blue" : "red");
    }
  }
  test::TempDir dir;
  std::unique_ptr<library::Library> lib;
};

TEST_F(ColourRefitTest, TooFewReviewedPhotosChangeNothing) {
  add_catalogue(10);
  const auto r = refit_colour_calibration(*lib);
  EXPECT_FALSE(r.promoted);
  EXPECT_TRUE(r.candidate.empty());
  EXPECT_NE(r.reason.find("10 reviewed colour_family photos"), std::string::npos) << r.reason;
  EXPECT_EQ(active_colour_calibration(*lib).version, tagging::ColourCalibration::builtin().version);
}

TEST_F(ColourRefitTest, ARefitThatPredictsHeldOutPhotosBetterBecomesActive) {
  add_catalogue(120);
  const auto r = refit_colour_calibration(*lib);
  ASSERT_TRUE(r.promoted) << r.reason;
  EXPECT_EQ(r.examples, 120u);
  EXPECT_GT(r.holdout, 10u);
  EXPECT_LT(r.candidate_loss, r.current_loss);
  EXPECT_EQ(r.current, tagging::ColourCalibration::builtin().version);

  const auto active = active_colour_calibration(*lib);
  EXPECT_EQ(active.version, r.candidate);
  const auto v = lib->store().model_version(r.candidate);
  ASSERT_TRUE(v);
  EXPECT_EQ(v->kind, store::ModelKind::kColourCalibration);
  EXPECT_EQ(v->status, store::ModelStatus::kActive);
  EXPECT_TRUE(std::filesystem::exists(lib->dir() / v->artifact_path));

  // The refit now says blue for the loose grey, as the reviewers did.
  const auto asset = lib->store().find_asset(1);
  ASSERT_TRUE(asset);
  const auto candidates = tagging::colour_candidates(asset->colours);
  const auto p = active.probabilities(candidates);
  std::string best;
  double top = -1;
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i] > top) top = p[i], best = candidates[i].family;
  EXPECT_EQ(best, "blue");

  // A second refit on the same labels is no better: the first stays active.
  const auto again = refit_colour_calibration(*lib);
  EXPECT_FALSE(again.promoted);
  EXPECT_EQ(active_colour_calibration(*lib).version, r.candidate);
}

}  // namespace
}  // namespace tagsmith::training
