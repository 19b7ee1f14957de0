// Reduced precisions (bf16, int8) against fp32 on the same weights: the
// golden tiny CLIP checkpoint and a small MobileNet-shaped TFLite graph
// written here. Cosine similarity per embedding, not exact values: bf16
// keeps 8 bits of mantissa, int8 quantizes the linear layers' weights.
#include "tagsmith/vision/precision.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

#include "tagsmith/common/error.h"
#include "tagsmith/vision/clip_model.h"
#include "tagsmith/vision/tflite_model.h"
#include "tflite_builder.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

using testing::GraphBuilder;
using testing::i32;
using testing::i8;
namespace op = tflite::builtin;

double cosine(std::span<const float> a, std::span<const float> b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// Lowest row-wise cosine between two matrices of the same shape.
double worst_cosine(const Matrix& a, const Matrix& b) {
  EXPECT_EQ(a.rows, b.rows);
  EXPECT_EQ(a.cols, b.cols);
  double worst = 1.0;
  for (int i = 0; i < std::min(a.rows, b.rows); ++i)
    worst = std::min(worst, cosine(a.row(i), b.row(i)));
  return worst;
}

TEST(Precision, ParsesTheKnownNamesAndRejectsOthersClearly) {
  EXPECT_EQ(parse_precision("fp32"), Precision::fp32);
  EXPECT_EQ(parse_precision("BF16"), Precision::bf16);
  EXPECT_EQ(parse_precision("bfloat16"), Precision::bf16);
  EXPECT_EQ(parse_precision("int8"), Precision::int8);
  EXPECT_EQ(precision_name(Precision::bf16), "bf16");
  try {
    parse_precision("fp16");
    FAIL() << "fp16 was accepted";
  } catch (const InputError& e) {
    EXPECT_STREQ(e.what(), "unknown precision 'fp16': expected fp32 (default), bf16 or int8");
  }
  EXPECT_THROW(parse_precision(""), InputError);
}

std::vector<cv::Mat> golden_images() {
  const auto expected = test::read_json(test::vision_fixtures() / "tiny-clip" / "expected.json");
  std::vector<cv::Mat> images;
  for (const auto& e : expected["images"])
    images.push_back(test::synth_image(e["width"], e["height"], e["seed"], e["mode"]));
  return images;
}

std::vector<std::string> golden_texts() {
  const auto expected = test::read_json(test::vision_fixtures() / "tiny-clip" / "expected.json");
  std::vector<std::string> texts;
  for (const auto& e : expected["texts"]) texts.push_back(e["text"]);
  return texts;
}

void expect_clip_close_to_fp32(Precision p) {
  const auto dir = test::vision_fixtures() / "tiny-clip";
  auto fp32 = ClipModel::load(dir, {.threads = 2});
  auto low = ClipModel::load(dir, {.threads = 2, .precision = p});
  EXPECT_EQ(low->version(), fp32->version()) << "the same weights keep their version";
  const auto images = golden_images();
  const auto texts = golden_texts();
  const Matrix a = fp32->encode_images(images), b = low->encode_images(images);
  const Matrix ta = fp32->encode_texts(texts), tb = low->encode_texts(texts);
  const double img = worst_cosine(a, b), txt = worst_cosine(ta, tb);
  EXPECT_GE(img, 0.99) << precision_name(p) << " images";
  EXPECT_GE(txt, 0.99) << precision_name(p) << " texts";
  // Not bit-identical: the reduced path really ran.
  EXPECT_LT(img, 1.0 - 1e-9) << precision_name(p) << " gave fp32's exact results";
  std::printf("tiny-clip %s: min cosine to fp32 images %.6f texts %.6f\n",
              std::string(precision_name(p)).c_str(), img, txt);
}

TEST(Precision, ClipBf16StaysCloseToFp32OnTheGoldenModel) {
  expect_clip_close_to_fp32(Precision::bf16);
}

TEST(Precision, ClipInt8StaysCloseToFp32OnTheGoldenModel) {
  expect_clip_close_to_fp32(Precision::int8);
}

std::vector<float> random_values(int n, std::uint32_t seed, float scale) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-scale, scale);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

// input 16x16x3 -> 3x3/2 conv (8, relu6) -> 3x3 depthwise (relu6) -> 1x1 conv
// (16) -> mean over HW ("embedding", 16) -> fully connected (5 logits).
std::vector<std::uint8_t> small_mobilenet() {
  constexpr int kSame = 0, kValid = 1, kNone = 0, kRelu6 = 3;
  GraphBuilder g;
  const int in = g.tensor("input", {1, 16, 16, 3});
  const int w1 = g.floats("w1", {8, 3, 3, 3}, random_values(8 * 27, 1, 0.5f));
  const int b1 = g.floats("b1", {8}, random_values(8, 2, 0.1f));
  const int a1 = g.tensor("a1", {1, 8, 8, 8});
  g.op(op::kConv2d, {in, w1, b1}, {a1}, testing::kConv2dOptions,
       {i8(0, kSame), i32(1, 2), i32(2, 2), i8(3, kRelu6), i32(4, 1), i32(5, 1)});
  const int w2 = g.floats("w2", {1, 3, 3, 8}, random_values(72, 3, 0.5f));
  const int b2 = g.floats("b2", {8}, random_values(8, 4, 0.1f));
  const int a2 = g.tensor("a2", {1, 8, 8, 8});
  g.op(op::kDepthwiseConv2d, {a1, w2, b2}, {a2}, testing::kDepthwiseOptions,
       {i8(0, kSame), i32(1, 1), i32(2, 1), i32(3, 1), i8(4, kRelu6), i32(5, 1), i32(6, 1)});
  const int w3 = g.floats("w3", {16, 1, 1, 8}, random_values(128, 5, 0.5f));
  const int b3 = g.floats("b3", {16}, random_values(16, 6, 0.1f));
  const int a3 = g.tensor("a3", {1, 8, 8, 16});
  g.op(op::kConv2d, {a2, w3, b3}, {a3}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  const int axes = g.ints("axes", {2}, {1, 2});
  const int pooled = g.tensor("embedding", {1, 16});
  g.op(op::kMean, {a3, axes}, {pooled}, testing::kReducerOptions, {i8(0, 0)});
  const int w4 = g.floats("fc_w", {5, 16}, random_values(80, 7, 0.5f));
  const int b4 = g.floats("fc_b", {5}, random_values(5, 8, 0.1f));
  const int logits = g.tensor("logits", {1, 5});
  g.op(op::kFullyConnected, {pooled, w4, b4}, {logits}, testing::kFullyConnectedOptions,
       {i8(0, kNone), i8(1, 0), i8(2, 0)});
  return g.finish({in}, {logits});
}

TEST(Precision, TfliteBf16StaysCloseToFp32) {
  auto fp32 = TfliteModel::from_bytes(small_mobilenet(), "small.tflite", {.threads = 1});
  auto bf16 = TfliteModel::from_bytes(small_mobilenet(), "small.tflite",
                                      {.threads = 1, .precision = Precision::bf16});
  const int batch = 6;
  const auto x = random_values(batch * 16 * 16 * 3, 9, 1.0f);
  const std::vector<std::string> outputs = {"embedding", "logits"};
  const auto a = fp32->run(x, batch, outputs);
  const auto b = bf16->run(x, batch, outputs);
  const double emb = worst_cosine(a[0], b[0]), log = worst_cosine(a[1], b[1]);
  EXPECT_GE(emb, 0.99);
  EXPECT_GE(log, 0.99);
  EXPECT_LT(emb, 1.0 - 1e-9) << "bf16 gave fp32's exact results";
  std::printf("small TFLite bf16: min cosine to fp32 embedding %.6f logits %.6f\n", emb, log);
}

}  // namespace
}  // namespace tagsmith::vision
