#include "tagsmith/image/analysis.h"

#include <opencv2/img_hash.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::image {

Thumbnail make_thumbnail(const cv::Mat& rgb, int max_side) {
  Thumbnail t;
  const int longest = std::max(rgb.cols, rgb.rows);
  cv::Mat small;
  if (longest > max_side) {
    const double scale = static_cast<double>(max_side) / longest;
    const int w = std::max(1, static_cast<int>(std::lround(rgb.cols * scale)));
    const int h = std::max(1, static_cast<int>(std::lround(rgb.rows * scale)));
    cv::resize(rgb, small, cv::Size(w, h), 0, 0, cv::INTER_AREA);
  } else {
    small = rgb;
  }
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
  cv::cvtColor(rgb, grey, cv::COLOR_RGB2GRAY);
  cv::resize(grey, small, cv::Size(32, 32), 0, 0, cv::INTER_AREA);
  cv::Mat hash;
  cv::img_hash::pHash(small, hash);
  std::uint64_t value = 0;
  for (int i = 0; i < 8; ++i) value = (value << 8) | hash.at<std::uint8_t>(0, i);
  return value;
}

}  // namespace tagsmith::image
