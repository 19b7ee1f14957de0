#include "tagsmith/vision/preprocess.h"

#include <gtest/gtest.h>

#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"
#include "tagsmith/common/hash.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

// Crops are compared byte for byte (by sha256) with PIL + CLIPImageProcessor
// run by make_fixtures.py: downscaling by up to 9x, upscaling, odd sizes.
TEST(ClipPreprocess, CropsMatchPilAndHuggingFaceExactly) {
  auto cases = test::read_json(test::vision_fixtures() / "preprocess.json")["cases"];
  ASSERT_GE(cases.size(), 8u);
  for (const auto& c : cases) {
    cv::Mat img = test::synth_image(c["width"], c["height"], c["seed"], c["mode"]);
    cv::Mat crop = clip_resize_crop(img, c["size"]);
    ASSERT_EQ(crop.rows, c["size"].get<int>());
    ASSERT_EQ(crop.cols, c["size"].get<int>());
    ASSERT_TRUE(crop.isContinuous());
    std::span<const std::uint8_t> bytes(crop.data, crop.total() * 3);
    long sum = 0;
    for (auto b : bytes) sum += b;
    EXPECT_EQ(sum, c["crop_sum"].get<long>()) << c.dump();
    EXPECT_EQ(sha256_hex(bytes), c["crop_sha256"]) << c.dump();
  }
}

TEST(ClipPreprocess, DiffersFromOpenCvCubic) {
  // The reason for the PIL port: OpenCV's cubic is not what CLIP saw.
  cv::Mat img = test::synth_image(640, 480, 1, 0);
  cv::Mat ours = resize_bicubic_pil(img, 298, 224);
  cv::Mat cv2;
  cv::resize(img, cv2, {298, 224}, 0, 0, cv::INTER_CUBIC);
  EXPECT_GT(cv::norm(ours, cv2, cv::NORM_INF), 10);
}

TEST(ClipPreprocess, NormalisesWithClipMeanAndStd) {
  cv::Mat crop(2, 2, CV_8UC3, cv::Scalar(0, 128, 255));
  std::vector<float> chw(12);
  clip_normalize(crop, chw);
  EXPECT_FLOAT_EQ(chw[0], (0.0f - kClipMean[0]) / kClipStd[0]);
  EXPECT_NEAR(chw[4], (128 / 255.0 - kClipMean[1]) / kClipStd[1], 1e-6);
  EXPECT_NEAR(chw[11], (1.0 - kClipMean[2]) / kClipStd[2], 1e-6);
  EXPECT_EQ(clip_preprocess(test::synth_image(50, 40, 1, 1), 32).size(), 3u * 32 * 32);
}

TEST(ClipPreprocess, RejectsWhatIsNotRgb8) {
  EXPECT_THROW(clip_resize_crop(cv::Mat(), 224), InputError);
  EXPECT_THROW(clip_resize_crop(cv::Mat(4, 4, CV_32FC3), 224), InputError);
  EXPECT_THROW(clip_resize_crop(cv::Mat(4, 4, CV_8UC4), 224), InputError);
}

TEST(ClipPreprocess, SameSizeIsIdentity) {
  cv::Mat img = test::synth_image(33, 21, 3, 0);
  EXPECT_EQ(cv::norm(resize_bicubic_pil(img, 33, 21), img, cv::NORM_INF), 0);
}

}  // namespace
}  // namespace tagsmith::vision

namespace tagsmith::vision {
namespace {

TEST(ResizeBilinearPil, DownscaleUsesTheWidenedTriangleFilter) {
  // 4 -> 2 columns: PIL's tent of support 2 (1 x scale 2) centred at input
  // 1.0 and 3.0 weighs pixels {0, 1, 2} by {3, 3, 1} / 7 and {1, 2, 3} by
  // {1, 3, 3} / 7: 400/7 = 57.1 and 1280/7 = 182.9 before rounding.
  cv::Mat row(1, 4, CV_8UC3);
  const int v[] = {0, 80, 160, 240};
  for (int x = 0; x < 4; ++x) row.at<cv::Vec3b>(0, x) = cv::Vec3b(v[x], v[x], 255 - v[x]);
  const cv::Mat out = resize_bilinear_pil(row, 2, 1);
  ASSERT_EQ(out.cols, 2);
  EXPECT_EQ(out.at<cv::Vec3b>(0, 0), cv::Vec3b(57, 57, 198));
  EXPECT_EQ(out.at<cv::Vec3b>(0, 1), cv::Vec3b(183, 183, 72));
}

TEST(ResizeBilinearPil, ClassifierCropIsTheCentreOfTheShortSideResize) {
  cv::Mat img(341, 512, CV_8UC3, cv::Scalar(10, 20, 30));
  const cv::Mat crop = classifier_resize_crop(img, 224);
  EXPECT_EQ(crop.rows, 224);
  EXPECT_EQ(crop.cols, 224);
  EXPECT_EQ(crop.at<cv::Vec3b>(100, 100), cv::Vec3b(10, 20, 30));  // flat stays flat
  EXPECT_THROW(classifier_resize_crop(cv::Mat(), 224), InputError);
}

}  // namespace
}  // namespace tagsmith::vision
