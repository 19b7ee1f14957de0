#include "tagsmith/image/skin.h"

#include <opencv2/imgproc.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::image {

cv::Mat skin_mask(const cv::Mat& rgb) {
  if (rgb.empty() || rgb.type() != CV_8UC3)
    throw InputError("skin_mask needs a non-empty 8-bit RGB image");
  cv::Mat ycrcb, mask;
  cv::cvtColor(rgb, ycrcb, cv::COLOR_RGB2YCrCb);
  // Channels are Y, Cr, Cb in OpenCV's order.
  cv::inRange(ycrcb, cv::Scalar(0, 133, 77), cv::Scalar(255, 173, 127), mask);
  return mask;
}

double skin_fraction(const cv::Mat& rgb) {
  if (rgb.empty()) return 0.0;
  return static_cast<double>(cv::countNonZero(skin_mask(rgb))) / static_cast<double>(rgb.total());
}

}  // namespace tagsmith::image
