// Product masks: person, plain backdrop (edge-stopped growth), busy backdrop
// (GrabCut). See product_mask.h for the order and the reasons.
#include "product_mask.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <opencv2/imgproc.hpp>
#include <optional>
#include <vector>

#include "rng_scope.h"
#include "tagsmith/image/skin.h"

namespace tagsmith::image {
namespace {

float dist2(const cv::Vec3f& p, const cv::Vec3f& q) {
  const cv::Vec3f d = p - q;
  return d.dot(d);
}

// Background detection tuning (Lab Euclidean units; 1 ~ a just-noticeable
// difference). A border counts as plain when most of it lies close to its
// median colour: products often touch the frame, so not all of it need be.
constexpr float kBorderTolerance = 12.0f;
constexpr double kPlainBorderFraction = 0.7;
// Growth threshold from the border colour. Low enough that a light-grey or
// cream product on white is not swallowed, high enough for JPEG noise and
// gentle studio gradients.
constexpr float kGrowMin = 4.0f, kGrowMax = 14.0f;
// A step in Lab (after a light blur) at least this high is an edge the
// background may not grow through. JPEG noise on a backdrop stays under ~1.5
// after the blur; a white shirt against a blown-out white backdrop steps by
// 4-8, its shadow by 10-20.
constexpr float kEdge = 4.0f;
constexpr double kMinProductFraction = 0.03;
// A person mask is used when it covers at least this much of the photo (less
// is a person in the background, or a false detection).
constexpr double kMinPersonFraction = 0.05;
// Share of a person mask that must be skin for it to be a person wearing the
// product rather than the product alone mistaken for one.
constexpr double kMinSkinOnPerson = 0.03;
constexpr int kGrabCutSize = 64, kGrabCutIterations = 2;
// A colour bin holding this share of the border ring is a border colour; a
// GrabCut product with more than kMaxBorderLike of its pixels in such bins is
// rejected.
constexpr float kCommonOnBorder = 0.05f;
constexpr double kMaxBorderLike = 0.6;

struct Border {
  std::vector<cv::Vec3f> pixels;
  cv::Vec3f median{0, 0, 0};
  std::vector<float> close;  // distances of the pixels within kBorderTolerance
  bool plain = false;
};

Border sample_border(const cv::Mat& lab) {
  const int w = lab.cols, h = lab.rows;
  Border b;
  b.pixels.reserve(2 * (w + h));
  for (int x = 0; x < w; ++x) {
    b.pixels.push_back(lab.at<cv::Vec3f>(0, x));
    b.pixels.push_back(lab.at<cv::Vec3f>(h - 1, x));
  }
  for (int y = 1; y < h - 1; ++y) {
    b.pixels.push_back(lab.at<cv::Vec3f>(y, 0));
    b.pixels.push_back(lab.at<cv::Vec3f>(y, w - 1));
  }
  // Per-channel median: robust to the parts of the product touching the edge.
  std::vector<float> channel(b.pixels.size());
  for (int c = 0; c < 3; ++c) {
    for (std::size_t i = 0; i < b.pixels.size(); ++i) channel[i] = b.pixels[i][c];
    auto mid = channel.begin() + static_cast<std::ptrdiff_t>(channel.size() / 2);
    std::nth_element(channel.begin(), mid, channel.end());
    b.median[c] = *mid;
  }
  for (const auto& p : b.pixels) {
    const float d = std::sqrt(dist2(p, b.median));
    if (d <= kBorderTolerance) b.close.push_back(d);
  }
  b.plain = static_cast<double>(b.close.size()) >= kPlainBorderFraction * b.pixels.size();
  return b;
}

// Pixels on a colour edge (CV_8U, 1 = edge), slightly dilated so that the
// background cannot slip through a one-pixel gap in an outline.
cv::Mat colour_edges(const cv::Mat& lab) {
  cv::Mat blurred;
  cv::GaussianBlur(lab, blurred, cv::Size(3, 3), 0.8);
  cv::Mat dx, dy;
  cv::Sobel(blurred, dx, CV_32F, 1, 0, 3);
  cv::Sobel(blurred, dy, CV_32F, 0, 1, 3);
  cv::Mat edges(lab.size(), CV_8U);
  // The 3x3 Sobel kernel answers a step of height s with 4s.
  constexpr float kScaled2 = (kEdge * 4.0f) * (kEdge * 4.0f);
  for (int y = 0; y < lab.rows; ++y) {
    const auto* gx = dx.ptr<cv::Vec3f>(y);
    const auto* gy = dy.ptr<cv::Vec3f>(y);
    auto* e = edges.ptr<std::uint8_t>(y);
    for (int x = 0; x < lab.cols; ++x) e[x] = gx[x].dot(gx[x]) + gy[x].dot(gy[x]) > kScaled2;
  }
  cv::dilate(edges, edges, cv::Mat());
  return edges;
}

// Erodes a mask once unless that would remove most of it: eroding drops
// isolated noise pixels and the anti-aliased rim where the product blends
// into the background (which would otherwise form a pale "halo" cluster).
// Thin products (straps, jewellery) keep the raw mask.
cv::Mat erode_unless_thin(const cv::Mat& mask) {
  cv::Mat eroded;
  cv::erode(mask, eroded, cv::Mat(), cv::Point(-1, -1), 2);
  return cv::countNonZero(eroded) * 2 >= cv::countNonZero(mask) ? eroded : mask;
}

// Share of the frame that is product. Measured after one erosion: the edge
// barrier stops the background a pixel or two short of the true outline.
double product_fraction(const cv::Mat& mask) {
  cv::Mat eroded;
  cv::erode(mask, eroded, cv::Mat());
  const int n = cv::countNonZero(eroded) * 2 >= cv::countNonZero(mask) ? cv::countNonZero(eroded)
                                                                       : cv::countNonZero(mask);
  return static_cast<double>(n) / mask.total();
}

bool credible(const cv::Mat& product, double min_fraction = kMinProductFraction,
              double max_fraction = 1.0) {
  const double f = static_cast<double>(cv::countNonZero(product)) / product.total();
  return f >= min_fraction && f <= max_fraction;
}

// The common end of every strategy: measure the product, erode it for
// sampling, and keep it only if a credible share of the frame remains.
std::optional<ProductMask> finish(cv::Mat product, const char* kind,
                                  double min_fraction = kMinProductFraction,
                                  double max_fraction = 1.0) {
  const double fraction = product_fraction(product);
  product = erode_unless_thin(product);
  if (!credible(product, min_fraction, max_fraction)) return std::nullopt;
  ProductMask m;
  m.product = std::move(product);
  m.fraction = fraction;
  m.kind = kind;
  return m;
}

// Plain backdrop: only background-coloured regions connected to the border
// through non-edge pixels are background. A white shirt on a white backdrop
// is an island behind its outline and survives.
std::optional<ProductMask> backdrop_mask(const cv::Mat& lab, const Border& border) {
  std::vector<float> close = border.close;
  auto p90 = close.begin() + static_cast<std::ptrdiff_t>(close.size() * 9 / 10);
  std::nth_element(close.begin(), p90, close.end());
  // Noisier backgrounds get a proportionally looser threshold.
  const float grow = std::clamp(2.0f * *p90, kGrowMin, kGrowMax);
  const float grow2 = grow * grow;
  const cv::Mat edges = colour_edges(lab);

  const int w = lab.cols, h = lab.rows;
  cv::Mat like_bg(lab.size(), CV_8U);
  for (int y = 0; y < h; ++y) {
    const auto* src = lab.ptr<cv::Vec3f>(y);
    const auto* e = edges.ptr<std::uint8_t>(y);
    auto* dst = like_bg.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) dst[x] = !e[x] && dist2(src[x], border.median) <= grow2;
  }
  // 4-connectivity so the fill cannot leak through a diagonal gap.
  cv::Mat labels;
  const int n = cv::connectedComponents(like_bg, labels, 4, CV_32S);
  std::vector<std::uint8_t> touches(static_cast<std::size_t>(n), 0);
  auto mark = [&](int y, int x) {
    if (like_bg.at<std::uint8_t>(y, x)) touches[labels.at<int>(y, x)] = 1;
  };
  for (int x = 0; x < w; ++x) mark(0, x), mark(h - 1, x);
  for (int y = 0; y < h; ++y) mark(y, 0), mark(y, w - 1);

  // Background pixels are the grown region, plus the edge pixels and the
  // border-coloured pixels that only the edges kept from it: edges belong
  // to whichever side they outline, so an edge pixel next to grown
  // background and itself background-coloured goes with the background.
  cv::Mat background(lab.size(), CV_8U);
  for (int y = 0; y < h; ++y) {
    const int* lbl = labels.ptr<int>(y);
    const auto* bg = like_bg.ptr<std::uint8_t>(y);
    auto* dst = background.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) dst[x] = bg[x] && touches[lbl[x]] ? 255 : 0;
  }
  cv::Mat near_background;
  cv::dilate(background, near_background, cv::Mat(), cv::Point(-1, -1), 2);
  cv::Mat product(lab.size(), CV_8U);
  for (int y = 0; y < h; ++y) {
    const auto* src = lab.ptr<cv::Vec3f>(y);
    const auto* bg = background.ptr<std::uint8_t>(y);
    const auto* nb = near_background.ptr<std::uint8_t>(y);
    const auto* e = edges.ptr<std::uint8_t>(y);
    auto* dst = product.ptr<std::uint8_t>(y);
    for (int x = 0; x < w; ++x) {
      const bool rim = e[x] && nb[x] && dist2(src[x], border.median) <= grow2;
      dst[x] = bg[x] || rim ? 0 : 255;
    }
  }
  return finish(std::move(product), "background");
}

// Busy backdrop: GrabCut's foreground/background colour models, seeded with
// a border ring as certain background and everything else as probable
// foreground. It copes with a patterned bedsheet that no single "border
// colour" describes.
std::optional<ProductMask> grabcut_mask(const cv::Mat& rgb) {
  // GrabCut's cost grows with pixels and iterations; at 64 px and two
  // iterations it is a few milliseconds, and the mask is only used to pick
  // the pixels whose colours are clustered.
  cv::Mat small = rgb;
  const int longest = std::max(rgb.cols, rgb.rows);
  if (longest > kGrabCutSize) {
    const double f = static_cast<double>(kGrabCutSize) / longest;
    cv::resize(rgb, small, cv::Size(), f, f, cv::INTER_AREA);
  }
  const int ring = std::max(2, std::min(small.cols, small.rows) / 32);
  cv::Mat mask(small.size(), CV_8U, cv::Scalar(cv::GC_PR_FGD));
  mask.rowRange(0, ring).setTo(cv::GC_BGD);
  mask.rowRange(small.rows - ring, small.rows).setTo(cv::GC_BGD);
  mask.colRange(0, ring).setTo(cv::GC_BGD);
  mask.colRange(small.cols - ring, small.cols).setTo(cv::GC_BGD);
  cv::Mat bg_model, fg_model;
  RngScope rng(1);
  cv::grabCut(small, mask, cv::Rect(), bg_model, fg_model, kGrabCutIterations,
              cv::GC_INIT_WITH_MASK);
  cv::Mat product = (mask == cv::GC_FGD) | (mask == cv::GC_PR_FGD);
  // A cut whose product is made of the border's own colours separated
  // nothing (a pattern all over the frame): most product pixels must have
  // colours that are rare on the border ring.
  cv::Mat ring_mask = cv::Mat::zeros(small.size(), CV_8U);
  ring_mask.setTo(255, mask == cv::GC_BGD);
  cv::Mat ring_hist;
  const int channels[] = {0, 1, 2}, bins[] = {8, 8, 8};
  const float range[] = {0, 256};
  const float* ranges[] = {range, range, range};
  cv::calcHist(&small, 1, channels, ring_mask, ring_hist, 3, bins, ranges);
  ring_hist /= std::max(1.0, cv::sum(ring_hist)[0]);
  int inside = 0, border_like = 0;
  for (int y = 0; y < small.rows; ++y)
    for (int x = 0; x < small.cols; ++x) {
      if (!product.at<std::uint8_t>(y, x)) continue;
      const cv::Vec3b p = small.at<cv::Vec3b>(y, x);
      ++inside;
      border_like += ring_hist.at<float>(p[0] / 32, p[1] / 32, p[2] / 32) >= kCommonOnBorder;
    }
  if (inside == 0 || border_like > kMaxBorderLike * inside) return std::nullopt;
  if (product.size() != rgb.size())
    cv::resize(product, product, rgb.size(), 0, 0, cv::INTER_NEAREST);
  // GrabCut keeping nearly everything means it found no separation.
  return finish(std::move(product), "busy", 0.05, 0.9);
}

// On a person: what the person wears. Skin goes, and so does the head band
// (from the top of the person down to the bottom of the face: hair has no
// colour rule, but it sits there). If that leaves too little (swimwear, a
// close-up), the person without skin, then the whole person, is used.
std::optional<ProductMask> person_mask(const cv::Mat& rgb, const cv::Mat& lab,
                                       const cv::Mat& person) {
  cv::Mat on_person = person > 0;
  const int person_area = cv::countNonZero(on_person);
  if (person_area < kMinPersonFraction * static_cast<double>(person.total())) return std::nullopt;
  const cv::Mat skin = skin_pixels(rgb, lab) & on_person;
  // DeepLab also calls a garment laid flat or on a hanger a "person"; a
  // worn garment shows skin (face, neck, arms, legs) next to it.
  if (cv::countNonZero(skin) < kMinSkinOnPerson * person_area) return std::nullopt;
  cv::Mat clothes = on_person & ~skin;

  // The face: the highest sizeable skin blob in the upper half of the person.
  const cv::Rect body = cv::boundingRect(on_person);
  cv::Mat labels, stats, centroids;
  const int n = cv::connectedComponentsWithStats(skin, labels, stats, centroids, 8, CV_32S);
  int face_bottom = -1, face_top = body.y + body.height;
  const int min_face = std::max(4, person_area / 200);
  for (int i = 1; i < n; ++i) {
    const int top = stats.at<int>(i, cv::CC_STAT_TOP);
    const int area = stats.at<int>(i, cv::CC_STAT_AREA);
    if (area < min_face || centroids.at<double>(i, 1) > body.y + body.height / 2.0) continue;
    if (top < face_top) {
      face_top = top;
      face_bottom = top + stats.at<int>(i, cv::CC_STAT_HEIGHT);
    }
  }
  cv::Mat product = clothes.clone();
  if (face_bottom > body.y) product.rowRange(body.y, face_bottom).setTo(0);
  const int min_clothes = person_area / 5;
  if (cv::countNonZero(product) < min_clothes) product = clothes;
  if (cv::countNonZero(product) < min_clothes) product = on_person;
  return finish(std::move(product), "person");
}

}  // namespace

cv::Mat skin_pixels(const cv::Mat& rgb, const cv::Mat& lab) {
  cv::Mat skin = skin_mask(rgb);
  for (int y = 0; y < lab.rows; ++y) {
    const auto* p = lab.ptr<cv::Vec3f>(y);
    auto* s = skin.ptr<std::uint8_t>(y);
    for (int x = 0; x < lab.cols; ++x) {
      // Skin is warm (a > 0, b > 0) with moderate chroma at every lightness.
      const float chroma = std::hypot(p[x][1], p[x][2]);
      if (p[x][0] < 20 || p[x][1] < 2 || p[x][2] < 4 || chroma < 8 || chroma > 50) s[x] = 0;
    }
  }
  return skin;
}

ProductMask find_product(const cv::Mat& rgb, const cv::Mat& lab, const cv::Mat& person) {
  ProductMask none;
  none.product = cv::Mat(lab.size(), CV_8U, cv::Scalar(255));
  if (lab.cols < 8 || lab.rows < 8) return none;
  if (!person.empty())
    if (auto m = person_mask(rgb, lab, person)) return *std::move(m);
  const Border border = sample_border(lab);
  if (border.plain) {
    if (auto m = backdrop_mask(lab, border)) return *std::move(m);
    return none;
  }
  if (auto m = grabcut_mask(rgb)) return *std::move(m);
  return none;
}

}  // namespace tagsmith::image
