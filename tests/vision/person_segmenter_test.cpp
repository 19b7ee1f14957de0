// PersonSegmenter on tiny segmentation graphs written by the test (a 1x1
// convolution to per-class scores, then ARG_MAX, as DeepLab ends), and on the
// real DeepLab v3 with grace_hopper.bmp when ../shared holds them.
#include "tagsmith/vision/person_segmenter.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"
#include "tagsmith/vision/tflite_reader.h"
#include "temp_dir.h"
#include "tflite_builder.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

namespace fs = std::filesystem;
namespace op = tflite::builtin;
using testing::GraphBuilder;
using ::testing::HasSubstr;
using testing::i32;
using testing::i8;

// An 8x8 float-input "segmenter" with `classes` class scores per pixel:
// class `person` scores the red channel, class 0 the blue one, the others
// nothing (bias -1000). Red pixels are people, blue ones background.
std::vector<std::uint8_t> toy_segmenter(int classes, int person = 15) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 8, 8, 3});
  std::vector<float> w(static_cast<std::size_t>(classes) * 3, 0.0f), b(classes, -1000.0f);
  w[0 * 3 + 2] = 1, b[0] = 0;            // background <- blue
  w[person * 3 + 0] = 1, b[person] = 0;  // person <- red
  const int wt = g.floats("w", {classes, 1, 1, 3}, w);
  const int bias = g.floats("b", {classes}, b);
  const int scores = g.tensor("scores", {1, 8, 8, classes});
  g.op(op::kConv2d, {in, wt, bias}, {scores}, testing::kConv2dOptions,
       {i8(0, 1 /* VALID */), i32(1, 1), i32(2, 1), i8(3, 0), i32(4, 1), i32(5, 1)});
  const int axis = g.ints("axis", {1}, {3});
  const int out = g.tensor("classes", {1, 8, 8}, testing::kInt64);
  g.op(op::kArgMax, {scores, axis}, {out}, testing::kArgMaxOptions, {i8(0, testing::kInt64)});
  return g.finish({in}, {out});
}

void write_model(const fs::path& dir, const std::vector<std::uint8_t>& bytes,
                 const std::string& labels = "") {
  fs::create_directories(dir);
  std::ofstream(dir / "seg.tflite", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  if (!labels.empty()) std::ofstream(dir / "seg_labels.txt") << labels;
}

std::string pascal_labels() {
  return "background\naeroplane\nbicycle\nbird\nboat\nbottle\nbus\ncar\ncat\nchair\ncow\n"
         "diningtable\ndog\nhorse\nmotorbike\nperson\npottedplant\nsheep\nsofa\ntrain\n"
         "tvmonitor\n\nand 255 is the ignore label\n";
}

// Left `person_cols` of `w` columns red, the rest blue.
cv::Mat red_left(int w, int h, int person_cols) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(0, 0, 200));
  img(cv::Rect(0, 0, person_cols, h)).setTo(cv::Scalar(200, 0, 0));
  return img;
}

TEST(PersonSegmenter, MaskHasTheInputsSizeAndMarksThePerson) {
  test::TempDir tmp;
  write_model(tmp / "toy-seg", toy_segmenter(21), pascal_labels());
  const auto seg = PersonSegmenter::load(tmp / "toy-seg", {.threads = 1});
  EXPECT_EQ(seg->version(), "toy-seg");
  EXPECT_EQ(seg->person_class(), 15);
  const cv::Mat mask = seg->person_mask(red_left(40, 24, 20));  // not square, not 8x8
  ASSERT_EQ(mask.type(), CV_8U);
  ASSERT_EQ(mask.size(), cv::Size(40, 24));
  for (int y = 0; y < mask.rows; ++y) {
    EXPECT_EQ(mask.at<std::uint8_t>(y, 2), 255);
    EXPECT_EQ(mask.at<std::uint8_t>(y, 15), 255);
    EXPECT_EQ(mask.at<std::uint8_t>(y, 25), 0);
    EXPECT_EQ(mask.at<std::uint8_t>(y, 38), 0);
  }
  for (int y = 0; y < mask.rows; ++y)
    for (int x = 0; x < mask.cols; ++x) {
      const auto v = mask.at<std::uint8_t>(y, x);
      ASSERT_TRUE(v == 0 || v == 255);
    }
  // No person at all: an empty mask, not an error.
  EXPECT_EQ(cv::countNonZero(seg->person_mask(red_left(16, 16, 0))), 0);
}

TEST(PersonSegmenter, ThePersonClassComesFromTheLabels) {
  test::TempDir tmp;
  std::string labels;
  for (int i = 0; i < 21; ++i) labels += (i == 3 ? "person" : "thing" + std::to_string(i)) + "\n";
  write_model(tmp / "m", toy_segmenter(21, 3), labels);
  const auto seg = PersonSegmenter::load(tmp / "m", {.threads = 1});
  EXPECT_EQ(seg->person_class(), 3);
  EXPECT_EQ(cv::countNonZero(seg->person_mask(red_left(8, 8, 4))), 32);
  // Without a labels file: PASCAL's 15.
  write_model(tmp / "bare", toy_segmenter(21));
  EXPECT_EQ(PersonSegmenter::load(tmp / "bare", {.threads = 1})->person_class(), 15);
}

TEST(PersonSegmenter, RefusesWhatIsNotATwentyOneClassSegmenter) {
  test::TempDir tmp;
  auto error_of = [&](const fs::path& dir) -> std::string {
    try {
      PersonSegmenter::load(dir, {.threads = 1});
    } catch (const ModelError& e) {
      return e.what();
    }
    return "no error";
  };
  EXPECT_THAT(error_of(tmp / "absent"), HasSubstr("no model directory"));
  fs::create_directories(tmp / "empty");
  EXPECT_THAT(error_of(tmp / "empty"), HasSubstr("no .tflite"));
  write_model(tmp / "ten", toy_segmenter(10, 5));
  EXPECT_THAT(error_of(tmp / "ten"), HasSubstr("not a 21-class segmenter"));
  write_model(tmp / "corrupt", {'n', 'o', 'p', 'e'});
  EXPECT_THAT(error_of(tmp / "corrupt"), HasSubstr("seg.tflite"));
  // A classifier: one score vector per image, no per-pixel classes.
  GraphBuilder g;
  const int in = g.tensor("input", {1, 8, 8, 3});
  const int shape = g.ints("shape", {2}, {1, 192});
  const int flat = g.tensor("flat", {1, 192});
  g.op(op::kReshape, {in, shape}, {flat});
  write_model(tmp / "classifier", g.finish({in}, {flat}));
  EXPECT_THAT(error_of(tmp / "classifier"), HasSubstr("not a segmenter"));
  // A labels file without "person".
  write_model(tmp / "noperson", toy_segmenter(21), "background\ncat\n");
  EXPECT_THAT(error_of(tmp / "noperson"), HasSubstr("no \"person\""));
}

TEST(PersonSegmenter, RejectsWhatIsNotAnRgbImage) {
  test::TempDir tmp;
  write_model(tmp / "m", toy_segmenter(21));
  const auto seg = PersonSegmenter::load(tmp / "m", {.threads = 1});
  EXPECT_THROW(seg->person_mask(cv::Mat()), InputError);
  EXPECT_THROW(seg->person_mask(cv::Mat(8, 8, CV_8UC1, cv::Scalar(0))), InputError);
}

TEST(PersonSegmenterIntegration, FindsGraceHopperAtThePhotosSize) {
  const fs::path dir = test::shared_dir() / "models" / "deeplabv3-mnv2-pascal-quant";
  const fs::path image = test::shared_dir() / "models" / "mobilenet-v2-1.0-224-quant" /
                         "reference" / "grace_hopper.bmp";
  if (!fs::exists(dir) || !fs::exists(image))
    GTEST_SKIP() << "no DeepLab v3 / grace_hopper.bmp under " << test::shared_dir().string();
  const auto seg = PersonSegmenter::load(dir, {.threads = 2});
  EXPECT_EQ(seg->version(), "deeplabv3-mnv2-pascal-quant");
  EXPECT_EQ(seg->person_class(), 15);
  cv::Mat rgb;
  cv::cvtColor(cv::imread(image.string(), cv::IMREAD_COLOR), rgb, cv::COLOR_BGR2RGB);
  const cv::Mat mask = seg->person_mask(rgb);
  ASSERT_EQ(mask.type(), CV_8U);
  ASSERT_EQ(mask.size(), rgb.size());
  const int w = rgb.cols, h = rgb.rows;
  auto share = [&](cv::Rect r) {
    return cv::countNonZero(mask(r)) / static_cast<double>(r.area());
  };
  const double centre = share({w / 4, h / 4, w / 2, h / 2});
  const double lower_half = share({0, h / 2, w, h - h / 2});
  const double top_corners =
      (share({0, 0, w / 8, h / 8}) + share({w - w / 8, 0, w / 8, h / 8})) / 2;
  std::cout << "[ measured ] person share: centre " << centre << ", lower half " << lower_half
            << ", top corners " << top_corners << ", whole " << share({0, 0, w, h}) << "\n";
  EXPECT_GT(centre, 0.80);
  EXPECT_GT(lower_half, 0.60);
  EXPECT_LT(top_corners, 0.20);
}

}  // namespace
}  // namespace tagsmith::vision
