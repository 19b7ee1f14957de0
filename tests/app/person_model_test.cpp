// The person model beside the encoder: found under the same model roots,
// never taken for an encoder, switched off only by --no-person-model.
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/core.hpp>

#include "tagsmith/app/context.h"
#include "tagsmith/vision/model_locator.h"
#include "temp_dir.h"

namespace tagsmith::app {
namespace {

namespace fs = std::filesystem;
const std::string kDeepLab = "deeplabv3-mnv2-pascal-quant";

// A models folder holding only a (fake) segmenter: its files exist, their
// contents are never read by the choice.
fs::path models_with_fake_segmenter(const test::TempDir& tmp) {
  const fs::path dir = tmp / "models" / kDeepLab;
  fs::create_directories(dir);
  std::ofstream(dir / "deeplabv3_mnv2_pascal_quant.tflite") << "not a model";
  std::ofstream(dir / "pascal_voc_segmentation_labels.txt") << "background\nperson\n";
  return tmp / "models";
}

TEST(ChoosePersonSegmenter, FoundUnderTheModelRootsAndOffOnlyWithItsOwnFlag) {
  test::TempDir tmp;
  ModelOptions m;
  m.models_dir = models_with_fake_segmenter(tmp).string();
  ASSERT_TRUE(choose_person_segmenter(m));
  EXPECT_EQ(choose_person_segmenter(m)->filename(), kDeepLab);
  m.disabled = true;  // --no-model turns the encoder off, not colour analysis' model
  EXPECT_TRUE(choose_person_segmenter(m));
  m.person_disabled = true;
  EXPECT_FALSE(choose_person_segmenter(m));
  test::TempDir empty;
  ModelOptions none;
  none.models_dir = empty.path().string();
  EXPECT_FALSE(choose_person_segmenter(none));
}

TEST(ChooseEncoder, ASegmenterIsNeverTheEncoder) {
  test::TempDir tmp;
  ModelOptions m;
  m.models_dir = models_with_fake_segmenter(tmp).string();
  const auto c = choose_encoder(m, nullptr);
  EXPECT_FALSE(c.dir);
  EXPECT_NE(c.notice.find("recognition is off"), std::string::npos) << c.notice;
  // Named as the encoder, it is refused for what it is.
  try {
    load_encoder(tmp / "models" / kDeepLab, 1);
    FAIL() << "a segmenter loaded as an encoder";
  } catch (const vision::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("segmenter"), std::string::npos) << e.what();
  }
}

TEST(LibraryContext, NoPersonModelNoMaskerAndNoPersonNotice) {
  test::TempDir dir, empty;
  std::vector<std::string> notices;
  OpenOptions o;
  o.library = dir / "lib";
  o.models.models_dir = empty.path().string();
  o.notices = [&](const std::string& n) { notices.push_back(n); };
  auto ctx = LibraryContext::open(o);
  EXPECT_EQ(ctx->person_masker(), nullptr);
  for (const auto& n : notices) EXPECT_EQ(n.find("person model"), std::string::npos) << n;
}

TEST(LibraryContext, APresentButBrokenPersonModelIsAModelError) {
  test::TempDir dir, tmp;
  OpenOptions o;
  o.library = dir / "lib";
  o.models.models_dir = models_with_fake_segmenter(tmp).string();
  auto ctx = LibraryContext::open(o);
  EXPECT_THROW(ctx->person_masker(), vision::ModelError);
}

TEST(PersonModelIntegration, TheContextGivesIngestTheRealSegmenterWithANotice) {
  const fs::path real = fs::path(TAGSMITH_SHARED_DIR) / "models" / kDeepLab;
  if (!fs::exists(real)) GTEST_SKIP() << "no " << real.string();
  test::TempDir dir, tmp;
  fs::create_directories(tmp / "models");
  fs::create_directory_symlink(fs::absolute(real), tmp / "models" / kDeepLab);
  std::vector<std::string> notices;
  OpenOptions o;
  o.library = dir / "lib";
  o.models.models_dir = (tmp / "models").string();
  o.models.disabled = true;  // --no-model: colour analysis still gets its person model
  o.notices = [&](const std::string& n) { notices.push_back(n); };
  auto ctx = LibraryContext::open(o);
  EXPECT_EQ(ctx->encoder(), nullptr);
  const auto masker = ctx->person_masker();
  ASSERT_NE(masker, nullptr);
  EXPECT_EQ(masker->version(), kDeepLab);
  ASSERT_EQ(notices.size(), 1u);
  EXPECT_EQ(notices[0],
            "person model: " + kDeepLab + " (colour analysis finds the product on people)");
  const cv::Mat mask = masker->person_mask(cv::Mat(60, 40, CV_8UC3, cv::Scalar(40, 90, 200)));
  EXPECT_EQ(mask.size(), cv::Size(40, 60));
  EXPECT_EQ(cv::countNonZero(mask), 0);  // a blue card is nobody
  EXPECT_NE(ctx->person_masker(), nullptr);
  EXPECT_EQ(notices.size(), 1u);  // loaded and announced once
}

}  // namespace
}  // namespace tagsmith::app
