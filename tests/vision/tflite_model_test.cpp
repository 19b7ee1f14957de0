// The TFLite runtime on tiny graphs written by the test (tflite_builder.h):
// each output is checked against a closed form or a naive NHWC loop written
// here, independent of the torch code under test.
#include "tagsmith/vision/tflite_model.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <random>

#include "tflite_builder.h"

namespace tagsmith::vision {
namespace {

using testing::f32;
using testing::Field;
using testing::GraphBuilder;
using ::testing::HasSubstr;
using testing::i32;
using testing::i8;
namespace op = tflite::builtin;

constexpr int kSame = 0, kValid = 1;
constexpr int kNone = 0, kRelu = 1, kReluN1To1 = 2, kRelu6 = 3;

std::unique_ptr<TfliteModel> load(std::vector<std::uint8_t> bytes) {
  return TfliteModel::from_bytes(std::move(bytes), "test.tflite", {.threads = 1});
}

std::vector<float> iota(int n, float start = 0.0f, float step = 1.0f) {
  std::vector<float> v(n);
  for (int i = 0; i < n; ++i) v[i] = start + step * i;
  return v;
}

void expect_near(const std::vector<float>& got, const std::vector<float>& want, float tol = 1e-4f) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "at " << i;
}

// Naive TFLite convolution over NHWC: OHWI filter (or 1HW(C*M) when
// depthwise), TF padding computed from the output size, as TFLite does.
std::vector<float> reference_conv(const std::vector<float>& x, int H, int W, int C,
                                  const std::vector<float>& filter, int O, int KH, int KW,
                                  const std::vector<float>& bias, int stride, int dilation,
                                  bool same, bool depthwise, int* out_h, int* out_w) {
  const int eh = (KH - 1) * dilation + 1, ew = (KW - 1) * dilation + 1;
  const int oh = same ? (H + stride - 1) / stride : (H - eh) / stride + 1;
  const int ow = same ? (W + stride - 1) / stride : (W - ew) / stride + 1;
  const int pt = same ? std::max((oh - 1) * stride + eh - H, 0) / 2 : 0;
  const int pl = same ? std::max((ow - 1) * stride + ew - W, 0) / 2 : 0;
  const int M = depthwise ? O / C : 0;
  std::vector<float> y(static_cast<size_t>(oh) * ow * O);
  for (int oy = 0; oy < oh; ++oy)
    for (int ox = 0; ox < ow; ++ox)
      for (int o = 0; o < O; ++o) {
        double acc = bias.empty() ? 0.0 : bias[o];
        for (int ky = 0; ky < KH; ++ky)
          for (int kx = 0; kx < KW; ++kx) {
            const int iy = oy * stride - pt + ky * dilation, ix = ox * stride - pl + kx * dilation;
            if (iy < 0 || iy >= H || ix < 0 || ix >= W) continue;
            if (depthwise) {
              acc += x[(iy * W + ix) * C + o / M] * filter[(ky * KW + kx) * O + o];
            } else {
              for (int c = 0; c < C; ++c)
                acc += x[(iy * W + ix) * C + c] * filter[((o * KH + ky) * KW + kx) * C + c];
            }
          }
        y[(oy * ow + ox) * O + o] = static_cast<float>(acc);
      }
  *out_h = oh;
  *out_w = ow;
  return y;
}

std::vector<float> random_values(int n, std::uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  std::vector<float> v(n);
  for (auto& x : v) x = u(rng);
  return v;
}

TEST(TfliteModel, OneByOneConvolutionIsAPerPixelMatrixProduct) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 2, 2, 3});
  const int w = g.floats("w", {2, 1, 1, 3}, {1, 0, 0, 0.5f, 0.25f, -1});
  const int b = g.floats("b", {2}, {10, 0});
  const int out = g.tensor("out", {1, 2, 2, 2});
  g.op(op::kConv2d, {in, w, b}, {out}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  auto m = load(g.finish({in}, {out}));
  EXPECT_EQ(m->input_height(), 2);
  EXPECT_EQ(m->input_channels(), 3);
  const auto x = iota(12);  // pixel p holds 3p, 3p+1, 3p+2
  std::vector<float> want;
  for (int p = 0; p < 4; ++p) {
    const float r = 3 * p, gg = 3 * p + 1, bb = 3 * p + 2;
    want.push_back(r + 10);
    want.push_back(0.5f * r + 0.25f * gg - bb);
  }
  Matrix y = m->run(x, 1, "out");
  EXPECT_EQ(y.rows, 1);
  EXPECT_EQ(y.cols, 8);
  expect_near(y.data, want);
}

TEST(TfliteModel, SamePaddingPutsTheExtraRowAndColumnAtTheEnd) {
  // 4x4 input, 3x3 window, stride 2: SAME needs one padding row/column, which
  // TensorFlow puts after the image. A symmetric split would be wrong.
  GraphBuilder g;
  const int in = g.tensor("input", {1, 4, 4, 1});
  const int w = g.floats("w", {1, 3, 3, 1}, std::vector<float>(9, 1.0f));
  const int out = g.tensor("out", {1, 2, 2, 1});
  g.op(op::kConv2d, {in, w, -1}, {out}, testing::kConv2dOptions,
       {i8(0, kSame), i32(1, 2), i32(2, 2), i8(3, kNone), i32(4, 1), i32(5, 1)});
  auto m = load(g.finish({in}, {out}));
  const auto x = iota(16, 1);  // 1..16, row-major
  // out[0][0] = rows 0-2 x cols 0-2; out[0][1] = rows 0-2 x cols 2-3; ...
  auto sum = [&](int r0, int r1, int c0, int c1) {
    float s = 0;
    for (int r = r0; r <= r1; ++r)
      for (int c = c0; c <= c1; ++c) s += x[r * 4 + c];
    return s;
  };
  expect_near(m->run(x, 1, "out").data,
              {sum(0, 2, 0, 2), sum(0, 2, 2, 3), sum(2, 3, 0, 2), sum(2, 3, 2, 3)});
}

TEST(TfliteModel, ConvolutionMatchesANaiveLoopWithStrideDilationAndRelu) {
  for (int stride : {1, 2})
    for (int dilation : {1, 2})
      for (bool same : {true, false}) {
        SCOPED_TRACE(::testing::Message() << "stride " << stride << " dilation " << dilation
                                          << (same ? " SAME" : " VALID"));
        const int H = 7, W = 6, C = 3, O = 4, K = 3;
        GraphBuilder g;
        const auto wv = random_values(O * K * K * C, 1);
        const auto bv = random_values(O, 2);
        const int in = g.tensor("input", {1, H, W, C});
        const int w = g.floats("w", {O, K, K, C}, wv);
        const int b = g.floats("b", {O}, bv);
        int oh = 0, ow = 0;
        const auto x = random_values(H * W * C, 3);
        auto want =
            reference_conv(x, H, W, C, wv, O, K, K, bv, stride, dilation, same, false, &oh, &ow);
        for (auto& v : want) v = std::max(v, 0.0f);
        const int out = g.tensor("out", {1, oh, ow, O});
        g.op(op::kConv2d, {in, w, b}, {out}, testing::kConv2dOptions,
             {i8(0, same ? kSame : kValid), i32(1, stride), i32(2, stride), i8(3, kRelu),
              i32(4, dilation), i32(5, dilation)});
        auto m = load(g.finish({in}, {out}));
        expect_near(m->run(x, 1, "out").data, want);
      }
}

TEST(TfliteModel, DepthwiseConvolutionWithMultiplierTwo) {
  const int H = 5, W = 4, C = 2, M = 2, K = 3;
  GraphBuilder g;
  const auto wv = random_values(K * K * C * M, 4);
  const auto bv = std::vector<float>{0.5f, -0.5f, 1.0f, 0.0f};
  const int in = g.tensor("input", {1, H, W, C});
  const int w = g.floats("w", {1, K, K, C * M}, wv);
  const int b = g.floats("b", {C * M}, bv);
  int oh = 0, ow = 0;
  const auto x = random_values(H * W * C, 5);
  auto want = reference_conv(x, H, W, C, wv, C * M, K, K, bv, 2, 1, true, true, &oh, &ow);
  const int out = g.tensor("out", {1, oh, ow, C * M});
  g.op(op::kDepthwiseConv2d, {in, w, b}, {out}, testing::kDepthwiseOptions,
       {i8(0, kSame), i32(1, 2), i32(2, 2), i32(3, M), i8(4, kNone), i32(5, 1), i32(6, 1)});
  auto m = load(g.finish({in}, {out}));
  expect_near(m->run(x, 1, "out").data, want);
}

TEST(TfliteModel, PerChannelQuantizedWeightsAndInt32BiasAreDequantized) {
  // uint8 weights, scales 0.5 and 0.25 along dimension 0 (output channel),
  // zero points 128 and 100; int32 bias with scale input_scale * w_scale.
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 1, 2});
  const int w = g.tensor("w", {2, 1, 1, 2}, testing::kUInt8, {130, 126, 104, 100},
                         {{0.5f, 0.25f}, {128, 100}, 0});
  const int b = g.ints("b", {2}, {4, -8}, {{0.5f, 0.25f}, {0, 0}, 0});
  const int out = g.tensor("out", {1, 1, 1, 2});
  g.op(op::kConv2d, {in, w, b}, {out}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  auto m = load(g.finish({in}, {out}));
  // Weights: channel 0 = 0.5*(130-128), 0.5*(126-128) = 1, -1;
  //          channel 1 = 0.25*(104-100), 0.25*(100-100) = 1, 0. Biases 2, -2.
  expect_near(m->run(std::vector<float>{3, 5}, 1, "out").data, {3 - 5 + 2, 3 + 0 - 2});
  const Matrix weights = m->constant("w");
  EXPECT_EQ(weights.rows, 2);
  EXPECT_EQ(weights.cols, 2);
  expect_near(weights.data, {1, -1, 1, 0});
}

TEST(TfliteModel, DequantizeHonoursTheQuantizedDimension) {
  // int8 [2, 3] quantized along dimension 1: three channels, one per column.
  const std::vector<std::uint8_t> raw = {2, 0xFE, 4, 6, 0, 0xF8};  // 2 -2 4 / 6 0 -8
  tflite::Tensor t;
  t.name = "t";
  t.shape = {2, 3};
  t.type = tflite::ElementType::Int8;
  t.data = raw;
  t.quantization = {{1.0f, 0.5f, 0.25f}, {0, 2, -4}, 1};
  expect_near(tflite::dequantize(t),
              {2, 0.5f * (-2 - 2), 0.25f * (4 + 4), 6, 0.5f * (0 - 2), 0.25f * (-8 + 4)});
}

TEST(TfliteModel, AveragePoolCountsOnlyCellsInsideTheImage) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 3, 3, 1});
  const int avg = g.tensor("avg", {1, 3, 3, 1});
  const int max = g.tensor("max", {1, 2, 2, 1});
  g.op(op::kAveragePool2d, {in}, {avg}, testing::kPool2dOptions,
       {i8(0, kSame), i32(1, 1), i32(2, 1), i32(3, 3), i32(4, 3), i8(5, kNone)});
  g.op(op::kMaxPool2d, {in}, {max}, testing::kPool2dOptions,
       {i8(0, kSame), i32(1, 2), i32(2, 2), i32(3, 2), i32(4, 2), i8(5, kNone)});
  auto m = load(g.finish({in}, {avg, max}));
  const auto x = iota(9, 1);  // 1..9
  const auto y = m->run(x, 1, std::vector<std::string>{"avg", "max"});
  // Corner (0,0): mean of 1,2,4,5 = 3; edge (0,1): mean of 1..6 = 3.5; centre 5.
  expect_near(y[0].data, {3, 3.5f, 4, 4.5f, 5, 5.5f, 6, 6.5f, 7});
  // 2x2 windows, stride 2, SAME on 3: one padding column/row at the end.
  expect_near(y[1].data, {5, 6, 8, 9});
}

TEST(TfliteModel, MeanSoftmaxFullyConnectedAndReshape) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 2, 2, 3});
  const int axes = g.ints("axes", {2}, {1, 2});
  const int pooled = g.tensor("pooled", {1, 3});
  const int w = g.floats("fc_w", {2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f});
  const int b = g.floats("fc_b", {2}, {0, -3});
  const int logits = g.tensor("logits", {1, 2});
  const int shaped = g.tensor("shaped", {1, 1, 1, 2});
  const int flat = g.tensor("flat", {1, 2});
  const int probs = g.tensor("probs", {1, 2});
  g.op(op::kMean, {in, axes}, {pooled}, testing::kReducerOptions, {i8(0, 0)});
  g.op(op::kFullyConnected, {pooled, w, b}, {logits}, testing::kFullyConnectedOptions,
       {i8(0, kNone), i8(1, 0), i8(2, 0)});
  g.op(op::kReshape, {logits}, {shaped}, testing::kReshapeOptions, {}, {1, 1, 1, 2});
  g.op(op::kSqueeze, {shaped}, {flat}, testing::kSqueezeOptions, {}, {1, 2});
  g.op(op::kSoftmax, {flat}, {probs}, testing::kSoftmaxOptions, {f32(0, 0.5f)});
  auto m = load(g.finish({in}, {probs}));
  const auto x = iota(12);  // channel c holds c, c+3, c+6, c+9: mean c + 4.5
  const auto y = m->run(x, 1, std::vector<std::string>{"pooled", "logits", "probs"});
  expect_near(y[0].data, {4.5f, 5.5f, 6.5f});
  const float l0 = 4.5f - 6.5f, l1 = 0.5f * (4.5f + 5.5f + 6.5f) - 3;
  expect_near(y[1].data, {l0, l1});
  const float e0 = std::exp(0.5f * l0), e1 = std::exp(0.5f * l1);
  expect_near(y[2].data, {e0 / (e0 + e1), e1 / (e0 + e1)});
}

TEST(TfliteModel, ConcatenationAlongChannelsAndAddWithRelu6) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 2, 2});
  const int k = g.floats("k", {1, 1, 2, 1}, {5, -5});
  const int cat = g.tensor("cat", {1, 1, 2, 3});
  const int sum = g.tensor("sum", {1, 1, 2, 3});
  g.op(op::kConcatenation, {in, k}, {cat}, testing::kConcatenationOptions,
       {i32(0, 3), i8(1, kNone)});
  g.op(op::kAdd, {cat, cat}, {sum}, testing::kAddOptions, {i8(0, kRelu6)});
  auto m = load(g.finish({in}, {sum}));
  const std::vector<float> x = {1, 2, 3, 4};
  const auto y = m->run(x, 1, std::vector<std::string>{"cat", "sum"});
  expect_near(y[0].data, {1, 2, 5, 3, 4, -5});
  expect_near(y[1].data, {2, 4, 6, 6, 6, 0});
}

TEST(TfliteModel, FusedReluN1To1Clamps) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 1, 1});
  const int w = g.floats("w", {3, 1, 1, 1}, {-2, 0.5f, 2});
  const int out = g.tensor("out", {1, 1, 1, 3});
  g.op(op::kConv2d, {in, w, -1}, {out}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kReluN1To1), i32(4, 1), i32(5, 1)});
  auto m = load(g.finish({in}, {out}));
  expect_near(m->run(std::vector<float>{1}, 1, "out").data, {-1, 0.5f, 1});
}

// 2x2 single-channel image {{0, 1}, {2, 3}} resized with each coordinate mode.
std::vector<float> resize(int oh, int ow, bool align, bool half) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 2, 2, 1});
  const int size = g.ints("size", {2}, {oh, ow});
  const int out = g.tensor("out", {1, oh, ow, 1});
  g.op(op::kResizeBilinear, {in, size}, {out}, testing::kResizeBilinearOptions,
       {i8(2, align), i8(3, half)});
  auto m = load(g.finish({in}, {out}));
  return m->run(std::vector<float>{0, 1, 2, 3}, 1, "out").data;
}

TEST(TfliteModel, ResizeBilinearCoordinateModes) {
  // align_corners: corners map to corners, 3x3 has the exact midpoints.
  expect_near(resize(3, 3, true, false), {0, 0.5f, 1, 1, 1.5f, 2, 2, 2.5f, 3});
  // half_pixel_centers, 2x2 -> 1x4: the row samples y = 0.5 (rows averaged to
  // {1, 2}); columns sample -0.25, 0.25, 0.75, 1.25, clamped at the edges.
  expect_near(resize(1, 4, false, true), {1, 1.25f, 1.75f, 2});
  // Legacy (neither flag): source = dst * in/out, 2 -> 4: 0, 0.5, 1, 1.5 (clamped).
  expect_near(resize(2, 4, false, false), {0, 0.5f, 1, 1, 2, 2.5f, 3, 3});
}

TEST(TfliteModel, ArgMaxOverChannels) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 3, 3});
  const int axis = g.ints("axis", {1}, {3});
  const int out = g.tensor("out", {1, 1, 3}, testing::kInt64);
  g.op(op::kArgMax, {in, axis}, {out}, testing::kArgMaxOptions, {i8(0, testing::kInt64)});
  auto m = load(g.finish({in}, {out}));
  expect_near(m->run(std::vector<float>{0, 5, 1, 9, 2, 3, 4, 4, 7}, 1, "out").data, {1, 0, 2});
}

TEST(TfliteModel, PadMulAndElementwiseActivations) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 2, 1});
  const int pads = g.ints("pads", {4, 2}, {0, 0, 1, 0, 0, 1, 0, 0});
  const int two = g.floats("two", {1}, {2});
  const int padded = g.tensor("padded", {1, 2, 3, 1});
  const int doubled = g.tensor("doubled", {1, 2, 3, 1});
  const int sig = g.tensor("sig", {1, 2, 3, 1});
  const int hs = g.tensor("hs", {1, 2, 3, 1});
  const int r6 = g.tensor("r6", {1, 2, 3, 1});
  g.op(op::kPad, {in, pads}, {padded});
  g.op(op::kMul, {padded, two}, {doubled}, 21 /* MulOptions */, {i8(0, kNone)});
  g.op(op::kLogistic, {doubled}, {sig});
  g.op(op::kHardSwish, {doubled}, {hs});
  g.op(op::kRelu6, {hs}, {r6});
  auto m = load(g.finish({in}, {sig, r6}));
  const auto y = m->run(std::vector<float>{-4, 4}, 1,
                        std::vector<std::string>{"padded", "doubled", "sig", "hs", "r6"});
  // One zero row before, one zero column after.
  expect_near(y[0].data, {0, 0, 0, -4, 4, 0});
  expect_near(y[1].data, {0, 0, 0, -8, 8, 0});
  const float s8 = 1.0f / (1.0f + std::exp(-8.0f));
  expect_near(y[2].data, {0.5f, 0.5f, 0.5f, 1 - s8, s8, 0.5f});
  expect_near(y[3].data, {0, 0, 0, 0, 8, 0});  // x * relu6(x + 3) / 6
  expect_near(y[4].data, {0, 0, 0, 0, 6, 0});
}

// A small MobileNet-like graph: conv, depthwise, residual add, pooling,
// 1x1 classifier, reshape, softmax.
std::vector<std::uint8_t> small_classifier() {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 8, 8, 3}, testing::kUInt8, {}, {{0.0078125f}, {128}, 0});
  const int w1 = g.floats("w1", {4, 3, 3, 3}, random_values(4 * 27, 11));
  const int b1 = g.floats("b1", {4}, random_values(4, 12));
  const int c1 = g.tensor("conv1", {1, 4, 4, 4});
  const int wd = g.floats("wd", {1, 3, 3, 4}, random_values(36, 13));
  const int d1 = g.tensor("dw1", {1, 4, 4, 4});
  const int r1 = g.tensor("res1", {1, 4, 4, 4});
  const int p = g.tensor("pool", {1, 1, 1, 4});
  const int wc = g.floats("wc", {5, 1, 1, 4}, random_values(20, 14));
  const int lg = g.tensor("logits4", {1, 1, 1, 5});
  const int l = g.tensor("logits", {1, 5});
  const int s = g.tensor("probs", {1, 5});
  g.op(op::kConv2d, {in, w1, b1}, {c1}, testing::kConv2dOptions,
       {i8(0, kSame), i32(1, 2), i32(2, 2), i8(3, kRelu6), i32(4, 1), i32(5, 1)});
  g.op(op::kDepthwiseConv2d, {c1, wd, -1}, {d1}, testing::kDepthwiseOptions,
       {i8(0, kSame), i32(1, 1), i32(2, 1), i32(3, 1), i8(4, kRelu6), i32(5, 1), i32(6, 1)});
  g.op(op::kAdd, {c1, d1}, {r1}, testing::kAddOptions, {i8(0, kNone)});
  g.op(op::kAveragePool2d, {r1}, {p}, testing::kPool2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i32(3, 4), i32(4, 4), i8(5, kNone)});
  g.op(op::kConv2d, {p, wc, -1}, {lg}, testing::kConv2dOptions,
       {i8(0, kSame), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  g.op(op::kReshape, {lg}, {l}, testing::kReshapeOptions, {}, {1, 5});
  g.op(op::kSoftmax, {l}, {s}, testing::kSoftmaxOptions, {f32(0, 1.0f)});
  return g.finish({in}, {s});
}

TEST(TfliteModel, BatchesGiveTheSameRowsAsSingleImages) {
  auto m = load(small_classifier());
  EXPECT_EQ(m->output_name(), "probs");
  EXPECT_EQ(m->tensor_width("pool"), 4);
  EXPECT_FLOAT_EQ(m->input_value(128), 0.0f);
  EXPECT_FLOAT_EQ(m->input_value(255), 127.0f / 128.0f);
  const int per = 8 * 8 * 3, batch = 3;
  const auto x = random_values(per * batch, 21);
  const auto all = m->run(x, batch, std::vector<std::string>{"pool", "probs"});
  ASSERT_EQ(all[1].rows, batch);
  for (int i = 0; i < batch; ++i) {
    const std::span<const float> one(x.data() + per * i, per);
    const auto single = m->run(one, 1, std::vector<std::string>{"pool", "probs"});
    for (int k = 0; k < 2; ++k) {
      const auto row = all[k].row(i);
      expect_near({row.begin(), row.end()}, single[k].data, 1e-5f);
    }
    const auto probs = all[1].row(i);
    EXPECT_NEAR(std::accumulate(probs.begin(), probs.end(), 0.0f), 1.0f, 1e-5f);
  }
}

TEST(TfliteModel, RunImagesDequantizesUint8Pixels) {
  auto m = load(small_classifier());
  cv::Mat img(8, 8, CV_8UC3);
  cv::randu(img, 0, 255);
  std::vector<float> x;
  for (int y = 0; y < 8; ++y)
    for (int i = 0; i < 24; ++i) x.push_back((img.ptr<std::uint8_t>(y)[i] - 128) / 128.0f);
  const Matrix two = m->run_images({img, img}, "probs");
  ASSERT_EQ(two.rows, 2);
  const auto want = m->run(x, 1, "probs").data;
  for (int r = 0; r < 2; ++r) {
    const auto row = two.row(r);
    expect_near({row.begin(), row.end()}, want, 1e-6f);
  }
  EXPECT_THROW(m->run_images({cv::Mat(9, 8, CV_8UC3)}, "probs"), InputError);
  EXPECT_THROW(m->run(x, 1, "no such tensor"), NotFoundError);
}

// ---- Refusals ----

std::string load_error(std::vector<std::uint8_t> bytes) {
  try {
    load(std::move(bytes));
  } catch (const ModelError& e) {
    return e.what();
  }
  return "(loaded)";
}

// Found by fuzz/tflite_reader: the Verifier checks a vector's length word
// for alignment but not its elements, so an int64 vector (zero points) moved
// to a 4-byte boundary was read with misaligned 8-byte loads (undefined
// behaviour). A writer always aligns vectors to their element size, so the
// file is corrupt: refused with a ModelError.
TEST(TfliteModel, RefusesAnInt64VectorThatIsNotEightByteAligned) {
  // The bias's one zero point is a marker whose low half is 1, the vector's
  // length: pointing the zero-point field 4 bytes further makes a vector of
  // one int64 starting at a 4-byte boundary, still inside the file.
  const std::int64_t marker = 0x0123456700000001;
  GraphBuilder g;
  const int in = g.tensor("input", {1, 1, 1, 2});
  const int w = g.tensor("w", {2, 1, 1, 2}, testing::kUInt8, {130, 126, 104, 100},
                         {{0.5f, 0.25f}, {128, 100}, 0});
  const int b = g.ints("b", {2}, {4, -8}, {{0.25f}, {marker}, 0});
  const int out = g.tensor("out", {1, 1, 1, 2});
  g.op(op::kConv2d, {in, w, b}, {out}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  std::vector<std::uint8_t> bytes = g.finish({in}, {out});
  ASSERT_EQ(load_error(bytes), "(loaded)");
  std::uint8_t want[8];
  std::memcpy(want, &marker, 8);
  const std::size_t at = std::search(bytes.begin(), bytes.end(), want, want + 8) - bytes.begin();
  ASSERT_LT(at, bytes.size());
  ASSERT_EQ(at % 8, 0u);
  int repointed = 0;
  for (std::size_t q = 0; q + 4 <= bytes.size(); q += 4) {
    std::uint32_t off;
    std::memcpy(&off, bytes.data() + q, 4);
    if (q + off != at - 4) continue;  // not the field that points at the length word
    off += 4;
    std::memcpy(bytes.data() + q, &off, 4);
    ++repointed;
  }
  ASSERT_EQ(repointed, 1);
  EXPECT_THAT(load_error(bytes), HasSubstr("is not aligned to 8 bytes"));
}

TEST(TfliteModel, RefusesAnUnsupportedOperatorNamingItAndItsNode) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 4});
  const int mid = g.tensor("mid", {1, 4});
  const int out = g.tensor("out", {1, 4});
  g.op(op::kRelu, {in}, {mid});
  g.op(16 /* LSTM */, {mid}, {out});
  EXPECT_THAT(load_error(g.finish({in}, {out})),
              HasSubstr("unsupported TFLite operator LSTM (builtin 16) in node 1"));
}

TEST(TfliteModel, RefusesTruncatedFilesWithAMessage) {
  const auto bytes = small_classifier();
  const auto half = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + bytes.size() / 2);
  EXPECT_THAT(load_error(half), HasSubstr("malformed TFLite file"));
  // Every prefix is refused (none loads, none crashes).
  for (size_t n = 0; n < bytes.size(); n += 13) {
    const auto cut = std::vector<std::uint8_t>(bytes.begin(), bytes.begin() + n);
    EXPECT_NE(load_error(cut), "(loaded)") << n << " bytes";
  }
}

TEST(TfliteModel, CorruptBytesAreRefusedOrLoadedButNeverCrash) {
  const auto bytes = small_classifier();
  std::mt19937 rng(7);
  int refused = 0;
  for (int trial = 0; trial < 300; ++trial) {
    auto bad = bytes;
    for (int k = 0; k < 4; ++k) bad[rng() % bad.size()] = static_cast<std::uint8_t>(rng());
    try {
      load(bad);
    } catch (const Error&) {
      ++refused;
    }
  }
  EXPECT_GT(refused, 0);
}

TEST(TfliteModel, RefusesAbsurdTensorSizes) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 65536, 65536, 3});
  const int out = g.tensor("out", {1, 65536, 65536, 3});
  g.op(op::kRelu, {in}, {out});
  EXPECT_THAT(load_error(g.finish({in}, {out})),
              HasSubstr("tensor 0 'input' claims shape [1, 65536, 65536, 3], more than 2^31 "
                        "elements"));

  GraphBuilder h;  // constant data shorter than its shape says
  const int x = h.tensor("input", {1, 4});
  const int w = h.tensor("w", {4, 4}, testing::kFloat32, std::vector<std::uint8_t>(16, 0));
  const int y = h.tensor("out", {1, 4});
  h.op(op::kFullyConnected, {x, w, -1}, {y}, testing::kFullyConnectedOptions,
       {i8(0, kNone), i8(1, 0), i8(2, 0)});
  EXPECT_THAT(load_error(h.finish({x}, {y})),
              HasSubstr("tensor 1 'w' of shape [4, 4] and type FLOAT32 needs 64 bytes but its "
                        "buffer holds 16"));
}

TEST(TfliteModel, RefusesFilesThatAreNotTflite) {
  EXPECT_THAT(load_error({1, 2, 3}), HasSubstr("too short"));
  std::vector<std::uint8_t> junk(64, 0x41);
  EXPECT_THAT(load_error(junk), HasSubstr("not a TensorFlow Lite model"));
  EXPECT_THROW(TfliteModel::load("/nonexistent/model.tflite"), ModelError);
}

TEST(TfliteModel, RefusesShapesThatDoNotFit) {
  GraphBuilder g;  // filter for 2 input channels on a 3-channel input
  const int in = g.tensor("input", {1, 2, 2, 3});
  const int w = g.floats("w", {1, 1, 1, 2}, {1, 1});
  const int out = g.tensor("out", {1, 2, 2, 1});
  g.op(op::kConv2d, {in, w, -1}, {out}, testing::kConv2dOptions,
       {i8(0, kValid), i32(1, 1), i32(2, 1), i8(3, kNone), i32(4, 1), i32(5, 1)});
  EXPECT_THAT(load_error(g.finish({in}, {out})), HasSubstr("node 0 (CONV_2D)"));
}

}  // namespace
}  // namespace tagsmith::vision
