#include "tagsmith/image/analysis.h"

#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::image {

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
  cv::Mat out;
  cv::resize(src, out,
             cv::Size(std::max(1, static_cast<int>(std::lround(src.cols * scale))),
                      std::max(1, static_cast<int>(std::lround(src.rows * scale)))),
             0, 0, cv::INTER_AREA);
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
