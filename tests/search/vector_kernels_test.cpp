// The SIMD inner-product kernels against a plain double-precision sum, at
// lengths that exercise every tail (not multiples of 8, 16 or 32).
#include "../../src/search/vector_kernels.h"

#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <random>
#include <vector>

namespace tagsmith::search {
namespace {

TEST(VectorKernels, MatchAPlainSumAtEveryLength) {
  std::mt19937 rng(5);
  std::normal_distribution<float> g;
  std::uniform_int_distribution<int> byte(0, 255);
  for (std::size_t d : {1u, 7u, 8u, 15u, 16u, 17u, 31u, 32u, 33u, 100u, 512u, 1280u}) {
    const std::size_t rows = 5;
    std::vector<float> q(d), x(rows * d), out(rows);
    std::vector<std::uint8_t> codes(rows * d);
    for (auto& v : q) v = g(rng);
    for (auto& v : x) v = g(rng);
    for (auto& c : codes) c = static_cast<std::uint8_t>(byte(rng));
    kernels::dot_rows(q.data(), x.data(), rows, d, out.data());
    std::vector<float> out_u8(rows);
    kernels::dot_rows_u8(q.data(), 0.5f, codes.data(), rows, d, out_u8.data());
    for (std::size_t r = 0; r < rows; ++r) {
      double want = 0, want_u8 = 0.5;
      for (std::size_t i = 0; i < d; ++i) {
        want += double(q[i]) * x[r * d + i];
        want_u8 += double(q[i]) * codes[r * d + i];
      }
      EXPECT_NEAR(out[r], want, 1e-4 * std::sqrt(double(d)) + 1e-5) << "d " << d;
      EXPECT_NEAR(kernels::dot(q.data(), &x[r * d], d), want, 1e-4 * std::sqrt(double(d)) + 1e-5);
      EXPECT_NEAR(out_u8[r], want_u8, 1e-2 * std::sqrt(double(d)) + 1e-3) << "d " << d;
    }
  }
}

TEST(VectorKernels, HalfPrecisionRowsDecodeExactly) {
  // Halves chosen to be exact in binary16: small integers and binary fractions.
  const std::size_t d = 37;
  std::vector<float> q(d), values(d);
  std::vector<std::uint16_t> code(d);
  // 1.0 = 0x3C00; each step of 0x0400 doubles it, so these are 1, 2, 4, 0.5 ...
  const std::uint16_t halves[] = {0x3C00, 0x4000, 0x4400, 0x3800, 0xBC00, 0x0000, 0x3E00};
  const float as_float[] = {1.0f, 2.0f, 4.0f, 0.5f, -1.0f, 0.0f, 1.5f};
  double want = 0;
  for (std::size_t i = 0; i < d; ++i) {
    q[i] = static_cast<float>(i % 5) - 2.0f;
    code[i] = halves[i % 7];
    want += double(q[i]) * as_float[i % 7];
  }
  EXPECT_FLOAT_EQ(kernels::dot_f16(q.data(), code.data(), d), static_cast<float>(want));
  float out = 0;
  kernels::dot_rows_f16(q.data(), code.data(), 1, d, &out);
  EXPECT_FLOAT_EQ(out, static_cast<float>(want));
}

TEST(VectorKernels, PortableHalfConversionCoversEveryClass) {
  EXPECT_EQ(kernels::half_to_float(0x3C00), 1.0f);
  EXPECT_EQ(kernels::half_to_float(0xC000), -2.0f);
  EXPECT_EQ(kernels::half_to_float(0x7BFF), 65504.0f);               // largest normal
  EXPECT_EQ(kernels::half_to_float(0x0001), std::ldexp(1.0f, -24));  // smallest subnormal
  EXPECT_EQ(kernels::half_to_float(0x0200), std::ldexp(1.0f, -15));  // a larger subnormal
  EXPECT_EQ(kernels::half_to_float(0x8000), -0.0f);
  EXPECT_TRUE(std::signbit(kernels::half_to_float(0x8000)));
  EXPECT_EQ(kernels::half_to_float(0x7C00), std::numeric_limits<float>::infinity());
  EXPECT_TRUE(std::isnan(kernels::half_to_float(0x7E00)));
  EXPECT_NE(std::string(kernels::instruction_set()), "");
}

}  // namespace
}  // namespace tagsmith::search
