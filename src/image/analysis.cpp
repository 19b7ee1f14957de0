#include "tagsmith/image/analysis.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::image {
namespace {

// One axis of an area-average resize, as OpenCV's INTER_AREA weighs it
// (computeResizeAreaTab): each output pixel averages the input cells it
// covers, partly covered cells by their covered fraction.
struct AreaTaps {
  std::vector<int> first;      // per output pixel: first input index
  std::vector<int> count;      // per output pixel: number of taps
  std::vector<float> weights;  // per output pixel: `count` weights, from `first` on
  std::vector<int> offset;     // per output pixel: where its weights start
};

AreaTaps area_taps(int in_size, int out_size) {
  const double scale = 1.0 / (static_cast<double>(out_size) / in_size);  // as cv::resize has it
  AreaTaps t;
  for (int d = 0; d < out_size; ++d) {
    const double f1 = d * scale, f2 = f1 + scale;
    const double cell = std::min(scale, in_size - f1);
    int s1 = static_cast<int>(std::ceil(f1)), s2 = static_cast<int>(std::floor(f2));
    s2 = std::min(s2, in_size - 1);
    s1 = std::min(s1, s2);
    t.offset.push_back(static_cast<int>(t.weights.size()));
    int first = s1;
    if (s1 - f1 > 1e-3) {
      first = s1 - 1;
      t.weights.push_back(static_cast<float>((s1 - f1) / cell));
    }
    for (int s = s1; s < s2; ++s) t.weights.push_back(static_cast<float>(1.0 / cell));
    if (f2 - s2 > 1e-3)
      t.weights.push_back(static_cast<float>(std::min(std::min(f2 - s2, 1.0), cell) / cell));
    t.first.push_back(first);
    t.count.push_back(static_cast<int>(t.weights.size()) - t.offset.back());
  }
  return t;
}

// Vectors of the SIMD width the compiler has (SSE2 at least); GCC lowers
// them to that, so the loops below need no -O3 to run several lanes a time.
using Floats16 = float __attribute__((vector_size(64)));
using Bytes16 = std::uint8_t __attribute__((vector_size(16)));
using Ints16 = std::int32_t __attribute__((vector_size(64)));
using Floats4 = float __attribute__((vector_size(16)));

// INTER_AREA for a shrink by less than 2 on 8-bit images, separably: rows
// first, then columns. OpenCV's general INTER_AREA path (non-integer
// factors) is scalar and costs ~5 ms from 750x750 to 512x512, as much as
// decoding the JPEG; this gives the same pixels (float weights and sums as
// OpenCV's, so at most a rounding apart) in a fraction of that.
cv::Mat area_shrink(const cv::Mat& src, cv::Size size) {
  const int ch = src.channels();
  const AreaTaps xs = area_taps(src.cols, size.width), ys = area_taps(src.rows, size.height);
  cv::Mat out(size, src.type());
  const int n = src.cols * ch;
  // One spare float: the column pass reads 4 lanes for 3 channels.
  std::vector<float> row(static_cast<std::size_t>(n) + 4);
  for (int y = 0; y < size.height; ++y) {
    const int taps = ys.count[y];
    const float* wy = &ys.weights[static_cast<std::size_t>(ys.offset[y])];
    int i = 0;
    for (; i + 16 <= n; i += 16) {
      Floats16 acc = {};
      for (int k = 0; k < taps; ++k) {
        Bytes16 px;
        std::memcpy(&px, src.ptr<std::uint8_t>(ys.first[y] + k) + i, sizeof px);
        // Widened to int first: x86 has no direct byte-to-float conversion.
        acc += wy[k] * __builtin_convertvector(__builtin_convertvector(px, Ints16), Floats16);
      }
      std::memcpy(&row[static_cast<std::size_t>(i)], &acc, sizeof acc);
    }
    for (; i < n; ++i) {
      float acc = 0;
      for (int k = 0; k < taps; ++k) acc += wy[k] * src.ptr<std::uint8_t>(ys.first[y] + k)[i];
      row[static_cast<std::size_t>(i)] = acc;
    }
    std::uint8_t* dst = out.ptr<std::uint8_t>(y);
    for (int x = 0; x < size.width; ++x) {
      const float* wx = &xs.weights[static_cast<std::size_t>(xs.offset[x])];
      const float* in = &row[static_cast<std::size_t>(xs.first[x]) * ch];
      if (ch == 3) {
        Floats4 sum = {};
        for (int k = 0; k < xs.count[x]; ++k) {
          Floats4 px;
          std::memcpy(&px, in + k * 3, sizeof px);
          sum += wx[k] * px;
        }
        for (int c = 0; c < 3; ++c) dst[x * 3 + c] = cv::saturate_cast<std::uint8_t>(sum[c]);
        continue;
      }
      for (int c = 0; c < ch; ++c) {
        float sum = 0;
        for (int k = 0; k < xs.count[x]; ++k) sum += wx[k] * in[k * ch + c];
        dst[x * ch + c] = cv::saturate_cast<std::uint8_t>(sum);
      }
    }
  }
  return out;
}

}  // namespace

cv::Mat shrink_to(const cv::Mat& rgb, int max_side) {
  if (max_side <= 0 || std::max(rgb.cols, rgb.rows) <= max_side) return rgb;
  cv::Mat src = rgb;
  while (std::max(src.cols, src.rows) >= 2 * max_side && std::min(src.cols, src.rows) >= 4) {
    const cv::Mat even = src(cv::Rect(0, 0, src.cols & ~1, src.rows & ~1));
    cv::Mat half;
    cv::resize(even, half, cv::Size(even.cols / 2, even.rows / 2), 0, 0, cv::INTER_AREA);
    src = half;
  }
  const double scale = static_cast<double>(max_side) / std::max(src.cols, src.rows);
  if (scale >= 1.0) return src;
  const cv::Size size(std::max(1, static_cast<int>(std::lround(src.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(src.rows * scale))));
  if (src.depth() == CV_8U) return area_shrink(src, size);
  cv::Mat out;
  cv::resize(src, out, size, 0, 0, cv::INTER_AREA);
  return out;
}

Thumbnail make_thumbnail(const cv::Mat& rgb, int max_side) {
  Thumbnail t;
  const cv::Mat small = shrink_to(rgb, max_side);
  cv::Mat bgr;
  cv::cvtColor(small, bgr, cv::COLOR_RGB2BGR);
  if (!cv::imencode(".jpg", bgr, t.jpeg, {cv::IMWRITE_JPEG_QUALITY, 85})) {
    throw Error("thumbnail encoding failed");
  }
  t.width = small.cols;
  t.height = small.rows;
  return t;
}

std::uint64_t perceptual_hash(const cv::Mat& rgb) {
  // PHash works on a 32x32 grey version; shrinking with INTER_AREA first keeps
  // it stable for large photos (the module's own resize is bilinear).
  cv::Mat grey, small;
  cv::cvtColor(shrink_to(rgb, 64), grey, cv::COLOR_RGB2GRAY);
  cv::resize(grey, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  cv::Mat hash;
  cv::img_hash::pHash(small, hash);
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | hash.at<std::uint8_t>(0, i);
  return value;
}

}  // namespace tagsmith::image
