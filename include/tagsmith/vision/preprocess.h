#pragma once
// CLIP image preprocessing, identical to Hugging Face's CLIPImageProcessor:
// resize the shortest side to `size` (long side = int(size * long / short))
// with PIL's Image.resize(BICUBIC), centre-crop size x size (offsets rounded
// down), scale to [0, 1], normalise with CLIP's mean/std, lay out as CHW.
// The resampler is a port of PIL's 8-bit two-pass fixed-point convolution
// (bicubic a = -0.5, support widened by the downscale factor, so it
// antialiases); OpenCV's INTER_CUBIC (a = -0.75, no antialiasing) would
// differ by whole grey levels. Crops match PIL byte for byte.
#include <array>
#include <opencv2/core.hpp>
#include <span>
#include <vector>

namespace tagsmith::vision {

inline constexpr std::array<float, 3> kClipMean = {0.48145466f, 0.4578275f, 0.40821073f};
inline constexpr std::array<float, 3> kClipStd = {0.26862954f, 0.26130258f, 0.27577711f};

// PIL-exact bicubic resize of a CV_8UC3 (or CV_8UC1) image.
cv::Mat resize_bicubic_pil(const cv::Mat& image, int width, int height);
// PIL-exact bilinear resize (Image.resize(BILINEAR)): the same fixed-point
// convolution with PIL's triangle filter, support 1 widened by the
// downscale factor (an antialiasing filter, unlike OpenCV's INTER_LINEAR).
cv::Mat resize_bilinear_pil(const cv::Mat& image, int width, int height);

// Shortest side to `size` then centre crop: a size x size CV_8UC3 RGB image.
// Throws tagsmith::InputError for empty or non-8-bit-RGB input.
cv::Mat clip_resize_crop(const cv::Mat& rgb, int size);

// The classifier crop of TFLite's MobileNet examples (and of the reference
// in mobilenet-v2-1.0-224-quant/reference/expected.json): shortest side to
// `size` (long side int(size * long / short)) with PIL bilinear, centre crop
// size x size (offsets rounded down). The caller maps the uint8 pixels to
// the model's input values (TfliteModel::input_value).
cv::Mat classifier_resize_crop(const cv::Mat& rgb, int size);

// Normalises a size x size CV_8UC3 crop into `chw` (3 * size * size floats).
void clip_normalize(const cv::Mat& crop, std::span<float> chw);

// clip_resize_crop + clip_normalize.
std::vector<float> clip_preprocess(const cv::Mat& rgb, int size);

}  // namespace tagsmith::vision
