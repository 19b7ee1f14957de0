// Colour science (sRGB <-> CIELAB, CIEDE2000) and dominant-colour analysis.
// The Palette itself (YAML parsing, nearest-shade lookup) is in palette.cpp.
#include "tagsmith/image/colour.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <numbers>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>
#include <utility>
#include <vector>

#include "product_mask.h"
#include "rng_scope.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/analysis.h"

namespace tagsmith::image {
namespace {

// sRGB primaries, D65 white (IEC 61966-2-1). The reference white is taken as
// the row sums of the RGB->XYZ matrix so that #FFFFFF maps to exactly
// L=100, a=b=0 rather than to a faint off-white.
constexpr double kM[3][3] = {{0.4124564, 0.3575761, 0.1804375},
                             {0.2126729, 0.7151522, 0.0721750},
                             {0.0193339, 0.1191920, 0.9503041}};
constexpr double kMinv[3][3] = {{3.2404542, -1.5371385, -0.4985314},
                                {-0.9692660, 1.8760108, 0.0415560},
                                {0.0556434, -0.2040259, 1.0572252}};
constexpr double kXn = kM[0][0] + kM[0][1] + kM[0][2];
constexpr double kYn = kM[1][0] + kM[1][1] + kM[1][2];
constexpr double kZn = kM[2][0] + kM[2][1] + kM[2][2];

constexpr double kDelta = 6.0 / 29.0;

double srgb_to_linear(double c) {
  return c <= 0.04045 ? c / 12.92 : std::pow((c + 0.055) / 1.055, 2.4);
}

double linear_to_srgb(double c) {
  return c <= 0.0031308 ? 12.92 * c : 1.055 * std::pow(c, 1.0 / 2.4) - 0.055;
}

double lab_f(double t) {
  return t > kDelta * kDelta * kDelta ? std::cbrt(t) : t / (3 * kDelta * kDelta) + 4.0 / 29.0;
}

double lab_finv(double t) {
  return t > kDelta ? t * t * t : 3 * kDelta * kDelta * (t - 4.0 / 29.0);
}

double deg(double rad) {
  return rad * 180.0 / std::numbers::pi;
}
double rad(double deg) {
  return deg * std::numbers::pi / 180.0;
}

// ---------------------------------------------------------------------------
// Fast per-pixel conversion for the analysis. The exact srgb_to_lab above
// costs two pow() and three cbrt() per pixel; over ~16k pixels that alone
// would blow the per-image budget. The gamma step is a 256-entry table
// (exact: the input is 8-bit) and the cube root is a bit-trick estimate
// refined by Newton steps, accurate to float precision.

struct LinearTable {
  std::array<float, 256> v{};
  LinearTable() {
    for (int i = 0; i < 256; ++i) v[i] = static_cast<float>(srgb_to_linear(i / 255.0));
  }
};

const LinearTable& linear_table() {
  static const LinearTable table;
  return table;
}

float fast_cbrt(float x) {
  // Initial guess from the exponent bits (x^(1/3) ~ bits/3 + bias), then two
  // Newton iterations: relative error < 1e-6 for the (0.008856, ~1.1] range.
  std::uint32_t bits;
  std::memcpy(&bits, &x, sizeof bits);
  bits = bits / 3 + 709921077u;
  float y;
  std::memcpy(&y, &bits, sizeof y);
  y = y - (y * y * y - x) / (3 * y * y);
  y = y - (y * y * y - x) / (3 * y * y);
  return y;
}

float fast_lab_f(float t) {
  constexpr float kEps = static_cast<float>(kDelta * kDelta * kDelta);
  constexpr float kSlope = static_cast<float>(1.0 / (3 * kDelta * kDelta));
  return t > kEps ? fast_cbrt(t) : t * kSlope + 4.0f / 29.0f;
}

// RGB (CV_8UC3) -> Lab (CV_32FC3, L in [0,100]).
cv::Mat rgb_image_to_lab(const cv::Mat& rgb) {
  const auto& lin = linear_table().v;
  cv::Mat lab(rgb.size(), CV_32FC3);
  constexpr float m[3][3] = {
      {static_cast<float>(kM[0][0] / kXn), static_cast<float>(kM[0][1] / kXn),
       static_cast<float>(kM[0][2] / kXn)},
      {static_cast<float>(kM[1][0] / kYn), static_cast<float>(kM[1][1] / kYn),
       static_cast<float>(kM[1][2] / kYn)},
      {static_cast<float>(kM[2][0] / kZn), static_cast<float>(kM[2][1] / kZn),
       static_cast<float>(kM[2][2] / kZn)}};
  for (int y = 0; y < rgb.rows; ++y) {
    const auto* src = rgb.ptr<cv::Vec3b>(y);
    auto* dst = lab.ptr<cv::Vec3f>(y);
    for (int x = 0; x < rgb.cols; ++x) {
      const float r = lin[src[x][0]], g = lin[src[x][1]], b = lin[src[x][2]];
      const float fx = fast_lab_f(m[0][0] * r + m[0][1] * g + m[0][2] * b);
      const float fy = fast_lab_f(m[1][0] * r + m[1][1] * g + m[1][2] * b);
      const float fz = fast_lab_f(m[2][0] * r + m[2][1] * g + m[2][2] * b);
      dst[x] = {116.0f * fy - 16.0f, 500.0f * (fx - fy), 200.0f * (fy - fz)};
    }
  }
  return lab;
}

struct Cluster {
  double L = 0, a = 0, b = 0;  // sums
  double count = 0;
  Lab mean() const { return {L / count, a / count, b / count}; }
  void absorb(const Cluster& o) {
    L += o.L, a += o.a, b += o.b;
    count += o.count;
  }
};

// Clusters closer than this (CIEDE2000) are one colour to a shopper; k-means
// with a fixed k happily splits a single dyed fabric into lit and shaded
// halves.
constexpr double kMergeDeltaE = 8.0;
// K-means runs on at most this many pixels (an evenly strided subsample):
// shares stay within ~1-2% and the per-image cost stays flat.
constexpr int kMaxSamples = 3072;

void merge_close(std::vector<Cluster>& clusters) {
  while (clusters.size() > 1) {
    double best = kMergeDeltaE;
    std::size_t bi = 0, bj = 0;
    for (std::size_t i = 0; i < clusters.size(); ++i)
      for (std::size_t j = i + 1; j < clusters.size(); ++j) {
        const double d = ciede2000(clusters[i].mean(), clusters[j].mean());
        if (d < best) best = d, bi = i, bj = j;
      }
    if (best >= kMergeDeltaE) break;
    clusters[bi].absorb(clusters[bj]);
    clusters.erase(clusters.begin() + static_cast<std::ptrdiff_t>(bj));
  }
}

}  // namespace

Lab srgb_to_lab(std::array<std::uint8_t, 3> rgb) {
  const double r = srgb_to_linear(rgb[0] / 255.0);
  const double g = srgb_to_linear(rgb[1] / 255.0);
  const double b = srgb_to_linear(rgb[2] / 255.0);
  const double fx = lab_f((kM[0][0] * r + kM[0][1] * g + kM[0][2] * b) / kXn);
  const double fy = lab_f((kM[1][0] * r + kM[1][1] * g + kM[1][2] * b) / kYn);
  const double fz = lab_f((kM[2][0] * r + kM[2][1] * g + kM[2][2] * b) / kZn);
  return {116.0 * fy - 16.0, 500.0 * (fx - fy), 200.0 * (fy - fz)};
}

std::array<std::uint8_t, 3> lab_to_srgb(const Lab& lab) {
  const double fy = (lab.L + 16.0) / 116.0;
  const double fx = fy + lab.a / 500.0;
  const double fz = fy - lab.b / 200.0;
  const double X = kXn * lab_finv(fx), Y = kYn * lab_finv(fy), Z = kZn * lab_finv(fz);
  std::array<std::uint8_t, 3> out{};
  for (int c = 0; c < 3; ++c) {
    const double lin = kMinv[c][0] * X + kMinv[c][1] * Y + kMinv[c][2] * Z;
    // Out-of-gamut Lab values are clipped per channel.
    const double v = linear_to_srgb(std::clamp(lin, 0.0, 1.0));
    out[c] = static_cast<std::uint8_t>(std::lround(std::clamp(v, 0.0, 1.0) * 255.0));
  }
  return out;
}

// CIEDE2000, following Sharma, Wu & Dalal, "The CIEDE2000 color-difference
// formula: implementation notes, supplementary test data, and mathematical
// observations" (Color Res. Appl. 30(1), 2005), equations (1)-(22).
double ciede2000(const Lab& x, const Lab& y) {
  constexpr double k25pow7 = 6103515625.0;  // 25^7
  const double C1 = std::hypot(x.a, x.b), C2 = std::hypot(y.a, y.b);
  const double Cbar = (C1 + C2) / 2;
  const double Cbar7 = std::pow(Cbar, 7);
  const double G = 0.5 * (1 - std::sqrt(Cbar7 / (Cbar7 + k25pow7)));
  const double a1 = (1 + G) * x.a, a2 = (1 + G) * y.a;
  const double C1p = std::hypot(a1, x.b), C2p = std::hypot(a2, y.b);
  // Hue is undefined for achromatic colours; the paper sets it to 0.
  auto hue = [](double b, double a) {
    if (a == 0 && b == 0) return 0.0;
    const double h = deg(std::atan2(b, a));
    return h < 0 ? h + 360 : h;
  };
  const double h1 = hue(x.b, a1), h2 = hue(y.b, a2);

  const double dL = y.L - x.L;
  const double dC = C2p - C1p;
  double dh = 0;
  if (C1p * C2p != 0) {
    dh = h2 - h1;
    if (dh > 180)
      dh -= 360;
    else if (dh < -180)
      dh += 360;
  }
  const double dH = 2 * std::sqrt(C1p * C2p) * std::sin(rad(dh / 2));

  const double Lbar = (x.L + y.L) / 2;
  const double Cbarp = (C1p + C2p) / 2;
  double hbar = h1 + h2;
  if (C1p * C2p != 0) {
    if (std::abs(h1 - h2) <= 180)
      hbar = (h1 + h2) / 2;
    else if (h1 + h2 < 360)
      hbar = (h1 + h2 + 360) / 2;
    else
      hbar = (h1 + h2 - 360) / 2;
  }
  const double T = 1 - 0.17 * std::cos(rad(hbar - 30)) + 0.24 * std::cos(rad(2 * hbar)) +
                   0.32 * std::cos(rad(3 * hbar + 6)) - 0.20 * std::cos(rad(4 * hbar - 63));
  const double dtheta = 30 * std::exp(-std::pow((hbar - 275) / 25, 2));
  const double Cbarp7 = std::pow(Cbarp, 7);
  const double RC = 2 * std::sqrt(Cbarp7 / (Cbarp7 + k25pow7));
  const double Lm50sq = (Lbar - 50) * (Lbar - 50);
  const double SL = 1 + 0.015 * Lm50sq / std::sqrt(20 + Lm50sq);
  const double SC = 1 + 0.045 * Cbarp;
  const double SH = 1 + 0.015 * Cbarp * T;
  const double RT = -std::sin(rad(2 * dtheta)) * RC;

  const double tL = dL / SL, tC = dC / SC, tH = dH / SH;
  return std::sqrt(tL * tL + tC * tC + tH * tH + RT * tC * tH);
}

ColourAnalysis analyse_colours(const cv::Mat& rgb, const Palette& palette,
                               const ColourOptions& options, const cv::Mat& person_mask) {
  ColourAnalysis result;
  if (rgb.empty()) return result;
  if (rgb.type() != CV_8UC3) throw Error("analyse_colours: expected an 8-bit 3-channel RGB image");

  const cv::Mat small = shrink_to(rgb, options.work_size);
  const cv::Mat lab = rgb_image_to_lab(small);
  cv::Mat person;
  if (!person_mask.empty()) cv::resize(person_mask, person, small.size(), 0, 0, cv::INTER_NEAREST);
  const ProductMask bg = find_product(small, lab, person);
  const int area = cv::countNonZero(bg.product);
  result.mask = bg.kind;
  result.background_removed = bg.kind != "none";
  result.product_fraction = bg.fraction;

  // Deterministic, evenly strided subsample of the product pixels.
  const int stride = std::max(1, (area + kMaxSamples - 1) / kMaxSamples);
  std::vector<cv::Vec3f> points;
  points.reserve(static_cast<std::size_t>(area / stride + 1));
  int seen = 0;
  for (int y = 0; y < lab.rows; ++y) {
    const auto* px = lab.ptr<cv::Vec3f>(y);
    const auto* m = bg.product.ptr<std::uint8_t>(y);
    for (int x = 0; x < lab.cols; ++x)
      if (m[x] && seen++ % stride == 0) points.push_back(px[x]);
  }
  const cv::Mat samples = cv::Mat(points).reshape(1);  // N x 3 CV_32F, shares `points`

  const int k = std::clamp(options.max_colours, 1, samples.rows);
  cv::Mat labels, centres;
  {
    RngScope rng(options.seed);
    cv::kmeans(samples, k, labels,
               cv::TermCriteria(cv::TermCriteria::EPS + cv::TermCriteria::COUNT, 20, 0.5), 2,
               cv::KMEANS_PP_CENTERS, centres);
  }

  std::vector<Cluster> clusters(static_cast<std::size_t>(k));
  for (int i = 0; i < samples.rows; ++i) {
    Cluster& c = clusters[static_cast<std::size_t>(labels.at<int>(i))];
    const float* p = samples.ptr<float>(i);
    c.L += p[0], c.a += p[1], c.b += p[2];
    c.count += 1;
  }
  std::erase_if(clusters, [](const Cluster& c) { return c.count == 0; });
  merge_close(clusters);

  // Drop specks (a logo, a shadow edge) and renormalise. The largest cluster
  // always survives, whatever min_share says.
  std::sort(clusters.begin(), clusters.end(),
            [](const Cluster& p, const Cluster& q) { return p.count > q.count; });
  const double n = samples.rows;
  while (clusters.size() > 1 && clusters.back().count / n < options.min_share) clusters.pop_back();

  // Two clusters named the same shade would read as a duplicate to the user.
  std::vector<std::pair<Cluster, const Shade*>> named;
  for (const Cluster& c : clusters) {
    const Shade& shade = palette.nearest(c.mean(), nullptr);
    auto same = std::find_if(named.begin(), named.end(),
                             [&](const auto& e) { return e.second->id == shade.id; });
    if (same != named.end())
      same->first.absorb(c);
    else
      named.emplace_back(c, &shade);
  }

  double kept = 0;
  for (const auto& [c, shade] : named) kept += c.count;
  for (const auto& [c, shade_hint] : named) {
    DominantColour colour;
    colour.lab = c.mean();
    colour.rgb = lab_to_srgb(colour.lab);
    colour.share = c.count / kept;
    const Shade& shade = palette.nearest(colour.lab, &colour.delta_e);
    colour.shade = shade.id;
    colour.family = shade.family;
    if (const Shade* alt = palette.nearest_outside(colour.lab, shade.family, &colour.alt_delta_e))
      colour.alt_family = alt->family;
    result.colours.push_back(std::move(colour));
  }
  std::stable_sort(
      result.colours.begin(), result.colours.end(),
      [](const DominantColour& p, const DominantColour& q) { return p.share > q.share; });
  return result;
}

}  // namespace tagsmith::image
