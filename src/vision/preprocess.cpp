#include "tagsmith/vision/preprocess.h"

#include <fmt/format.h>

#include <cmath>
#include <cstdint>

#include "tagsmith/common/error.h"

namespace tagsmith::vision {

namespace {

// Port of Pillow's libImaging/Resample.c (8 bits per channel path).
constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic_filter(double x) {
  constexpr double a = -0.5;
  if (x < 0.0) x = -x;
  if (x < 1.0) return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
  if (x < 2.0) return (((x - 5) * x + 8) * x - 4) * a;
  return 0.0;
}
constexpr double kBicubicSupport = 2.0;

// PIL's BILINEAR is a triangle (tent) filter; like bicubic, its support is
// widened by the downscale factor, so it antialiases (OpenCV's INTER_LINEAR
// does not and differs on any downscale).
double bilinear_filter(double x) {
  if (x < 0.0) x = -x;
  return x < 1.0 ? 1.0 - x : 0.0;
}
constexpr double kBilinearSupport = 1.0;

struct Filter {
  double (*fn)(double);
  double support;
};
constexpr Filter kBicubic{bicubic_filter, kBicubicSupport};
constexpr Filter kBilinear{bilinear_filter, kBilinearSupport};

struct Coeffs {
  int ksize = 0;
  std::vector<int> bounds;      // per output pixel: first input index, count
  std::vector<std::int32_t> k;  // fixed-point weights, ksize per output pixel
};

Coeffs precompute_coeffs(int in_size, float in0, float in1, int out_size, const Filter& filter) {
  double scale = static_cast<double>(in1 - in0) / out_size;
  double filterscale = scale < 1.0 ? 1.0 : scale;
  const double support = filter.support * filterscale;
  Coeffs c;
  c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
  c.bounds.resize(static_cast<std::size_t>(out_size) * 2);
  std::vector<double> kk(static_cast<std::size_t>(out_size) * c.ksize, 0.0);
  for (int xx = 0; xx < out_size; ++xx) {
    const double center = in0 + (xx + 0.5) * scale;
    const double ss = 1.0 / filterscale;
    int xmin = static_cast<int>(center - support + 0.5);
    if (xmin < 0) xmin = 0;
    int xmax = static_cast<int>(center + support + 0.5);
    if (xmax > in_size) xmax = in_size;
    xmax -= xmin;
    double* k = &kk[static_cast<std::size_t>(xx) * c.ksize];
    double ww = 0.0;
    for (int x = 0; x < xmax; ++x) {
      const double w = filter.fn((x + xmin - center + 0.5) * ss);
      k[x] = w;
      ww += w;
    }
    for (int x = 0; x < xmax; ++x)
      if (ww != 0.0) k[x] /= ww;
    c.bounds[xx * 2] = xmin;
    c.bounds[xx * 2 + 1] = xmax;
  }
  c.k.resize(kk.size());
  for (std::size_t i = 0; i < kk.size(); ++i)
    c.k[i] = kk[i] < 0 ? static_cast<std::int32_t>(-0.5 + kk[i] * (1 << kPrecisionBits))
                       : static_cast<std::int32_t>(0.5 + kk[i] * (1 << kPrecisionBits));
  return c;
}

inline std::uint8_t clip8(std::int32_t in) {
  if (in >= (1 << kPrecisionBits << 8)) return 255;
  if (in <= 0) return 0;
  return static_cast<std::uint8_t>(in >> kPrecisionBits);
}

// Output rows [0, out.rows) from input rows offset + row.
void resample_horizontal(cv::Mat& out, const cv::Mat& in, int offset, const Coeffs& c) {
  const int ch = in.channels();
  for (int yy = 0; yy < out.rows; ++yy) {
    const std::uint8_t* src = in.ptr<std::uint8_t>(yy + offset);
    std::uint8_t* dst = out.ptr<std::uint8_t>(yy);
    for (int xx = 0; xx < out.cols; ++xx) {
      const int xmin = c.bounds[xx * 2], xmax = c.bounds[xx * 2 + 1];
      const std::int32_t* k = &c.k[static_cast<std::size_t>(xx) * c.ksize];
      for (int b = 0; b < ch; ++b) {
        std::int32_t ss = 1 << (kPrecisionBits - 1);
        for (int x = 0; x < xmax; ++x) ss += src[(x + xmin) * ch + b] * k[x];
        dst[xx * ch + b] = clip8(ss);
      }
    }
  }
}

void resample_vertical(cv::Mat& out, const cv::Mat& in, const Coeffs& c) {
  const int ch = in.channels();
  for (int yy = 0; yy < out.rows; ++yy) {
    const int ymin = c.bounds[yy * 2], ymax = c.bounds[yy * 2 + 1];
    const std::int32_t* k = &c.k[static_cast<std::size_t>(yy) * c.ksize];
    std::uint8_t* dst = out.ptr<std::uint8_t>(yy);
    for (int xx = 0; xx < out.cols * ch; ++xx) {
      std::int32_t ss = 1 << (kPrecisionBits - 1);
      for (int y = 0; y < ymax; ++y) ss += in.ptr<std::uint8_t>(y + ymin)[xx] * k[y];
      dst[xx] = clip8(ss);
    }
  }
}

void require_rgb8(const cv::Mat& m) {
  if (m.empty()) throw InputError("cannot preprocess an empty image");
  if (m.depth() != CV_8U || (m.channels() != 3 && m.channels() != 1))
    throw InputError(
        fmt::format("CLIP preprocessing expects 8-bit RGB (CV_8UC3), got type {}", m.type()));
}

cv::Mat resize_pil(const cv::Mat& image, int width, int height, const Filter& filter) {
  require_rgb8(image);
  if (width <= 0 || height <= 0)
    throw InputError(fmt::format("cannot resize to {}x{}", width, height));
  // Same control flow as ImagingResampleInner with box = whole image.
  const bool need_h = width != image.cols;
  const bool need_v = height != image.rows;
  if (!need_h && !need_v) return image.clone();
  Coeffs ch = precompute_coeffs(image.cols, 0.0f, static_cast<float>(image.cols), width, filter);
  Coeffs cv_ = precompute_coeffs(image.rows, 0.0f, static_cast<float>(image.rows), height, filter);
  const int ybox_first = cv_.bounds[0];
  const int ybox_last = cv_.bounds[height * 2 - 2] + cv_.bounds[height * 2 - 1];
  cv::Mat src = image.isContinuous() ? image : image.clone();
  if (need_h) {
    for (int i = 0; i < height; ++i) cv_.bounds[i * 2] -= ybox_first;
    cv::Mat tmp(ybox_last - ybox_first, width, image.type());
    resample_horizontal(tmp, src, ybox_first, ch);
    src = tmp;
  }
  if (!need_v) return src;
  cv::Mat out(height, src.cols, image.type());
  resample_vertical(out, src, cv_);
  return out;
}

// Shortest side to `size` with `filter`, then the centre size x size crop.
cv::Mat shortest_side_crop(const cv::Mat& rgb, int size, const Filter& filter) {
  require_rgb8(rgb);
  if (rgb.channels() != 3)
    throw InputError("image preprocessing expects a 3-channel RGB image (CV_8UC3)");
  const int w = rgb.cols, h = rgb.rows;
  const int short_side = std::min(w, h), long_side = std::max(w, h);
  // transformers' get_resize_output_image_size(default_to_square=False).
  const int new_long = static_cast<int>(static_cast<double>(size) * long_side / short_side);
  const int nw = w <= h ? size : new_long;
  const int nh = w <= h ? new_long : size;
  cv::Mat resized = resize_pil(rgb, nw, nh, filter);
  const int top = (nh - size) / 2, left = (nw - size) / 2;
  return resized(cv::Rect(left, top, size, size)).clone();
}

}  // namespace

cv::Mat resize_bicubic_pil(const cv::Mat& image, int width, int height) {
  return resize_pil(image, width, height, kBicubic);
}

cv::Mat resize_bilinear_pil(const cv::Mat& image, int width, int height) {
  return resize_pil(image, width, height, kBilinear);
}

cv::Mat clip_resize_crop(const cv::Mat& rgb, int size) {
  return shortest_side_crop(rgb, size, kBicubic);
}

cv::Mat classifier_resize_crop(const cv::Mat& rgb, int size) {
  return shortest_side_crop(rgb, size, kBilinear);
}

void clip_normalize(const cv::Mat& crop, std::span<float> chw) {
  const int size = crop.rows;
  if (crop.type() != CV_8UC3 || crop.cols != size ||
      chw.size() != static_cast<std::size_t>(3 * size * size))
    throw Error("clip_normalize: expects a square CV_8UC3 crop and 3*size*size floats");
  const std::size_t plane = static_cast<std::size_t>(size) * size;
  for (int y = 0; y < size; ++y) {
    const std::uint8_t* row = crop.ptr<std::uint8_t>(y);
    for (int x = 0; x < size; ++x)
      for (int c = 0; c < 3; ++c) {
        // Hugging Face rescales in float64 then casts to float32 before
        // normalising in float32; doing the same keeps results bit-equal.
        const float v = static_cast<float>(row[x * 3 + c] * (1.0 / 255.0));
        chw[c * plane + static_cast<std::size_t>(y) * size + x] = (v - kClipMean[c]) / kClipStd[c];
      }
  }
}

std::vector<float> clip_preprocess(const cv::Mat& rgb, int size) {
  cv::Mat crop = clip_resize_crop(rgb, size);
  std::vector<float> out(static_cast<std::size_t>(3) * size * size);
  clip_normalize(crop, out);
  return out;
}

}  // namespace tagsmith::vision
