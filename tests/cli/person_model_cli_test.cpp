// `tagsmith ingest` with a person model under --models: it runs on the
// photos with skin-coloured pixels whatever --no-model says, is announced
// once, and --no-person-model turns it off.
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgproc.hpp>

#include "../vision/tflite_builder.h"
#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/vision/tflite_reader.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {
namespace fs = std::filesystem;
using namespace vision::testing;
namespace op = vision::tflite::builtin;

// A toy 21-class segmenter on an 8x8 input: red pixels are the person
// (class 15), everything else background; named like the manifest's model.
void write_toy_deeplab(const fs::path& dir) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 8, 8, 3});
  std::vector<float> w(21 * 3, 0.0f), b(21, -1000.0f);
  w[0 * 3 + 2] = 1, b[0] = 0;
  w[15 * 3 + 0] = 1, b[15] = 0;
  const int wt = g.floats("w", {21, 1, 1, 3}, w);
  const int bias = g.floats("b", {21}, b);
  const int scores = g.tensor("scores", {1, 8, 8, 21});
  g.op(op::kConv2d, {in, wt, bias}, {scores}, kConv2dOptions,
       {i8(0, 1), i32(1, 1), i32(2, 1), i8(3, 0), i32(4, 1), i32(5, 1)});
  const int axis = g.ints("axis", {1}, {3});
  const int out = g.tensor("classes", {1, 8, 8}, kInt64);
  g.op(op::kArgMax, {scores, axis}, {out}, kArgMaxOptions, {i8(0, kInt64)});
  const auto bytes = g.finish({in}, {out});
  fs::create_directories(dir);
  std::ofstream(dir / "deeplabv3_mnv2_pascal_quant.tflite", std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
  std::ofstream labels(dir / "pascal_voc_segmentation_labels.txt");
  for (int i = 0; i < 21; ++i) labels << (i == 15 ? "person" : "class" + std::to_string(i)) << "\n";
}

struct Result {
  int rc;
  std::string out, err;
};

class PersonModelCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    write_toy_deeplab(dir / "models" / "deeplabv3-mnv2-pascal-quant");
    fs::create_directories(photos);
    // A model shot (skin-toned face and arms around a blue shirt) and the
    // shirt alone.
    cv::Mat shot(400, 300, CV_8UC3, cv::Scalar(245, 245, 245));
    cv::Mat shirt = shot.clone();
    cv::circle(shot, {150, 60}, 40, {224, 172, 140}, cv::FILLED);
    cv::rectangle(shot, cv::Rect(60, 130, 25, 140), {198, 134, 102}, cv::FILLED);
    cv::rectangle(shot, cv::Rect(215, 130, 25, 140), {198, 134, 102}, cv::FILLED);
    for (cv::Mat* m : {&shot, &shirt})
      cv::rectangle(*m, cv::Rect(90, 130, 120, 200), {30, 60, 160}, cv::FILLED);
    test::write_png(photos / "model.png", shot);
    test::write_png(photos / "shirt.png", shirt);
  }
  Result run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", (dir / "lib").string(), "--models",
                             (dir / "models").string(), "--json"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }
  test::TempDir dir;
  fs::path photos = dir / "photos";
};

TEST_F(PersonModelCliTest, IngestRunsThePersonModelOnPhotosWithSkinEvenWithNoModel) {
  const Result r = run({"ingest", photos.string(), "--no-model", "--no-tag"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ingested"], 2);
  EXPECT_EQ(j["embedded"], 0);
  EXPECT_EQ(j["person_masked"], 1);  // the shirt alone has no skin: not run
  EXPECT_NE(r.err.find("note: person model: deeplabv3-mnv2-pascal-quant (colour analysis finds "
                       "the product on people)"),
            std::string::npos)
      << r.err;
}

TEST_F(PersonModelCliTest, NoPersonModelTurnsItOff) {
  const Result r = run({"ingest", photos.string(), "--no-person-model", "--no-tag"});
  ASSERT_EQ(r.rc, 0) << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["ingested"], 2);
  EXPECT_EQ(j["person_masked"], 0);
  EXPECT_EQ(r.err.find("person model:"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace tagsmith::cli
