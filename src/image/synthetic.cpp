#include "tagsmith/image/synthetic.h"

#include <fmt/format.h>

#include <fstream>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "tagsmith/common/error.h"

namespace tagsmith::image {
namespace fs = std::filesystem;

cv::Mat synthetic_product(int width, int height, unsigned seed, cv::Scalar rgb) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  cv::Mat img(height, width, CV_8UC3, cv::Scalar(248, 248, 246));
  const cv::Point centre(static_cast<int>(width * (0.4 + 0.2 * u(rng))),
                         static_cast<int>(height * (0.4 + 0.2 * u(rng))));
  const int kind = static_cast<int>(seed % 3);
  cv::Mat mask(height, width, CV_8U, cv::Scalar(0));
  if (kind == 0) {
    cv::ellipse(mask, centre,
                cv::Size(static_cast<int>(width * (0.2 + 0.15 * u(rng))),
                         static_cast<int>(height * (0.25 + 0.15 * u(rng)))),
                u(rng) * 180, 0, 360, cv::Scalar(255), cv::FILLED);
  } else if (kind == 1) {
    const int w = static_cast<int>(width * (0.3 + 0.2 * u(rng)));
    const int h = static_cast<int>(height * (0.4 + 0.2 * u(rng)));
    cv::rectangle(mask, cv::Rect(centre.x - w / 2, centre.y - h / 2, w, h), cv::Scalar(255),
                  cv::FILLED);
  } else {
    std::vector<cv::Point> poly;
    const int n = 5 + static_cast<int>(u(rng) * 4);
    for (int i = 0; i < n; ++i) {
      const double ang = 2 * CV_PI * i / n;
      const double r = std::min(width, height) * (0.2 + 0.2 * u(rng));
      poly.emplace_back(centre.x + static_cast<int>(r * std::cos(ang)),
                        centre.y + static_cast<int>(r * std::sin(ang)));
    }
    cv::fillPoly(mask, std::vector<std::vector<cv::Point>>{poly}, cv::Scalar(255));
  }
  // Texture: low-frequency shading plus stripes whose period depends on the seed,
  // so different seeds differ in structure and not only in colour.
  cv::Mat product(height, width, CV_8UC3);
  const double period = 8 + u(rng) * 40;
  const double phase = u(rng) * 6.28;
  for (int y = 0; y < height; ++y) {
    auto* row = product.ptr<cv::Vec3b>(y);
    for (int x = 0; x < width; ++x) {
      const double shade =
          0.85 + 0.15 * std::sin(x / period + phase) * std::cos(y / (period * 1.7));
      for (int c = 0; c < 3; ++c) row[x][c] = cv::saturate_cast<std::uint8_t>(rgb[c] * shade);
    }
  }
  product.copyTo(img, mask);
  // A thin darker outline, as products photographed on white usually have.
  std::vector<std::vector<cv::Point>> contours;
  cv::findContours(mask, contours, cv::RETR_EXTERNAL, cv::CHAIN_APPROX_SIMPLE);
  cv::drawContours(img, contours, -1, cv::Scalar(rgb[0] * 0.6, rgb[1] * 0.6, rgb[2] * 0.6), 2);
  return img;
}

namespace {

struct SampleColour {
  const char* folder;
  cv::Scalar rgb;
};

// Colours a merchandiser would name without hesitation.
const SampleColour kSampleColours[] = {
    {"red", {200, 20, 30}},    {"burgundy", {120, 10, 35}}, {"navy", {20, 30, 90}},
    {"blue", {30, 80, 200}},   {"green", {30, 140, 50}},    {"yellow", {240, 200, 30}},
    {"black", {25, 25, 25}},   {"white", {252, 252, 252}},  {"beige", {220, 200, 160}},
    {"pink", {240, 140, 180}}, {"orange", {240, 120, 20}},  {"purple", {110, 40, 150}},
};

void write_rgb(const fs::path& path, const cv::Mat& rgb, int quality) {
  cv::Mat bgr;
  cv::cvtColor(rgb, bgr, cv::COLOR_RGB2BGR);
  std::vector<int> params;
  if (path.extension() == ".jpg") params = {cv::IMWRITE_JPEG_QUALITY, quality};
  if (path.extension() == ".webp") params = {cv::IMWRITE_WEBP_QUALITY, quality};
  if (!cv::imwrite(path.string(), bgr, params)) throw Error("cannot write " + path.string());
}

}  // namespace

std::vector<fs::path> write_sample_catalogue(const fs::path& dir,
                                             const SampleCatalogueOptions& options) {
  std::vector<fs::path> written;
  std::mt19937 rng(options.seed);
  const int n_colours = static_cast<int>(std::size(kSampleColours));
  for (int i = 0; i < options.count; ++i) {
    const SampleColour& c = kSampleColours[i % n_colours];
    const fs::path folder = dir / c.folder;
    fs::create_directories(folder);
    const int w = options.size, h = options.size * (4 + static_cast<int>(rng() % 3)) / 5;
    const char* ext = i % 7 == 3 ? ".png" : (i % 11 == 5 ? ".webp" : ".jpg");
    const fs::path path = folder / fmt::format("product-{:04d}{}", i, ext);
    write_rgb(path, synthetic_product(w, h, options.seed * 1000 + static_cast<unsigned>(i), c.rgb),
              90);
    written.push_back(path);
  }
  if (options.with_problem_files && !written.empty()) {
    fs::create_directories(dir / "problems");
    fs::copy_file(written[0], dir / "problems" / "exact-copy.jpg",
                  fs::copy_options::overwrite_existing);
    std::ofstream(dir / "problems" / "notes.jpg") << "this is a text file with a .jpg name\n";
    std::vector<std::uint8_t> jpeg;
    cv::imencode(".jpg", synthetic_product(400, 400, 9), jpeg);
    jpeg.resize(jpeg.size() / 3);
    std::ofstream(dir / "problems" / "truncated.jpg", std::ios::binary)
        .write(reinterpret_cast<const char*>(jpeg.data()),
               static_cast<std::streamsize>(jpeg.size()));
    // A resized, recompressed copy: a near-duplicate of the first photo.
    const cv::Mat original = cv::imread(written[0].string());
    cv::Mat smaller;
    cv::resize(original, smaller, cv::Size(), 0.5, 0.5, cv::INTER_AREA);
    cv::imwrite((dir / "problems" / "resized-copy.jpg").string(), smaller,
                {cv::IMWRITE_JPEG_QUALITY, 70});
  }
  return written;
}

}  // namespace tagsmith::image
