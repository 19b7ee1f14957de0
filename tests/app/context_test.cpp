// The application layer decides, once for every command and the server,
// which encoder a library uses and what tagging gets from it.
#include "tagsmith/app/context.h"

#include <gtest/gtest.h>

#include "tagsmith/common/error.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/vision/model_locator.h"
#include "temp_dir.h"

namespace tagsmith::app {
namespace {

const std::filesystem::path kFixtures = TAGSMITH_VISION_FIXTURES;

ModelOptions fixtures_model(const std::string& name = "tiny-clip") {
  ModelOptions m;
  m.models_dir = kFixtures.string();
  m.name = name;
  m.threads = 1;
  return m;
}

std::unique_ptr<LibraryContext> open_in(const test::TempDir& dir, ModelOptions models,
                                        std::vector<std::string>* notices = nullptr) {
  OpenOptions o;
  o.library = dir / "lib";
  o.models = std::move(models);
  if (notices) o.notices = [notices](const std::string& n) { notices->push_back(n); };
  return LibraryContext::open(o);
}

TEST(ChooseEncoder, DisabledChoosesNothingAndSaysNothing) {
  ModelOptions m = fixtures_model();
  m.disabled = true;
  const auto c = choose_encoder(m, nullptr);
  EXPECT_FALSE(c.dir);
  EXPECT_TRUE(c.notice.empty());
}

TEST(ChooseEncoder, NoModelAnywhereGivesANoticeOnHowToEnableOne) {
  test::TempDir empty;
  ModelOptions m;
  m.models_dir = empty.path().string();
  const auto c = choose_encoder(m, nullptr);
  EXPECT_FALSE(c.dir);
  EXPECT_NE(c.notice.find("recognition is off"), std::string::npos) << c.notice;
  EXPECT_NE(c.notice.find("fetch-models"), std::string::npos) << c.notice;
}

TEST(ChooseEncoder, ANamedModelThatIsMissingIsAnError) {
  EXPECT_THROW(choose_encoder(fixtures_model("no-such-model"), nullptr), vision::ModelError);
}

TEST(ChooseEncoder, TheLibraryRemembersItsEncoder) {
  test::TempDir dir;
  {
    auto ctx = open_in(dir, fixtures_model());
    ASSERT_TRUE(ctx->adopt_encoder());
  }
  // No name given: the library's own encoder is found again under --models.
  ModelOptions unnamed = fixtures_model("");
  auto ctx = open_in(dir, unnamed);
  const auto c = choose_encoder(unnamed, &ctx->library());
  ASSERT_TRUE(c.dir);
  EXPECT_EQ(c.dir->filename(), "tiny-clip");
}

TEST(LibraryContext, WithoutAModelTaggingHasColourOnlyAndTheNoticeIsSaidOnce) {
  test::TempDir dir, empty;
  std::vector<std::string> notices;
  ModelOptions m;
  m.models_dir = empty.path().string();
  auto ctx = open_in(dir, m, &notices);
  EXPECT_EQ(ctx->encoder(), nullptr);
  EXPECT_EQ(ctx->encoder(), nullptr);  // asked twice, looked for once
  EXPECT_EQ(notices.size(), 1u);
  EXPECT_EQ(ctx->embedder(), nullptr);
  EXPECT_EQ(ctx->text_encoder(), nullptr);
  EXPECT_EQ(ctx->image_encoder(), nullptr);
  EXPECT_FALSE(ctx->adopt_encoder());
  EXPECT_EQ(ctx->embedding_version(), "");
  EXPECT_NE(ctx->tag_service(), nullptr);
}

TEST(LibraryContext, ExistingModeRefusesAMissingLibrary) {
  test::TempDir dir;
  OpenOptions o;
  o.library = dir / "nothing-here";
  o.create = false;
  EXPECT_THROW(LibraryContext::open(o), NotFoundError);
}

TEST(LibraryContext, AClipEncoderServesIngestSearchAndTraining) {
  test::TempDir dir;
  auto ctx = open_in(dir, fixtures_model());
  const auto e = ctx->encoder();
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->family(), EncoderFamily::kClip);
  EXPECT_TRUE(e->has_text());
  // Loading registers the version; the vectors are unit length.
  EXPECT_TRUE(ctx->store().model_version(e->version()));
  const auto text = ctx->text_encoder()->encode_text("a red dress");
  ASSERT_EQ(static_cast<int>(text.size()), e->embedding_dim());
  double norm = 0;
  for (float v : text) norm += v * v;
  EXPECT_NEAR(norm, 1.0, 1e-4);
  auto embedder = ctx->embedder();
  ASSERT_NE(embedder, nullptr);
  EXPECT_EQ(embedder->version(), e->version());
  const auto rows = embedder->embed({cv::Mat(64, 48, CV_8UC3, cv::Scalar(200, 30, 40))});
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(static_cast<int>(rows[0].size()), e->embedding_dim());
}

TEST(LibraryContext, AdoptingAnEncoderRetiresTheOtherActiveOnes) {
  test::TempDir dir;
  auto ctx = open_in(dir, fixtures_model());
  store::ModelVersion old;
  old.version = "older-encoder@0000";
  old.kind = store::ModelKind::kEncoder;
  old.status = store::ModelStatus::kActive;
  ctx->store().add_model_version(old);
  ASSERT_TRUE(ctx->adopt_encoder());
  const auto active = training::active_encoder(ctx->store());
  ASSERT_TRUE(active);
  EXPECT_EQ(active->version, ctx->encoder()->version());
  EXPECT_EQ(ctx->store().model_version("older-encoder@0000")->status, store::ModelStatus::kRetired);
}

}  // namespace
}  // namespace tagsmith::app
