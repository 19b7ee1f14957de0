// Reduced precisions against fp32 on the same weights: embedding cosine
// (mean and min) and images/s.
//  1. The golden tiny CLIP checkpoint of the tests
//     (tests/vision/fixtures/tiny-clip): its 4 images and 4 texts, bf16 and
//     int8 against fp32.
//  2. MobileNetV2 (../shared/models/mobilenet-v2-1.0-224-quant) on real
//     photos of ../shared/datasets/clothing-small (all splits, every k-th
//     file in name order; $TAGSMITH_PHOTOS, default 240): pooled 1280-d
//     embedding, bf16 against fp32, and images/s of the encode at batch 32
//     (decoding and cropping excluded; best of 3 passes).
// Run from the repository root: build/bench_precision. Threads:
// $TAGSMITH_THREADS (default 2); $TAGSMITH_SHARED overrides ../shared.
// Throughput of ViT-B/32 is bench_vision's (TAGSMITH_PRECISION=bf16).
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/vision/clip_model.h"
#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"

namespace {

namespace fs = std::filesystem;
using namespace tagsmith::vision;

// As tagsmith's main(): large activation buffers stay on the heap instead of
// being mmap'ed and page-faulted in on every call (which costs more than the
// arithmetic on a busy machine and hides the difference between precisions).
const bool kHeapBuffers = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

int env_int(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v ? std::atoi(v) : fallback;
}

fs::path shared() {
  const char* s = std::getenv("TAGSMITH_SHARED");
  return s ? fs::path(s) : fs::path("../shared");
}

struct Agreement {
  double mean = 0, min = 1;
  int rows = 0;
};

Agreement agreement(const Matrix& a, const Matrix& b) {
  Agreement r;
  for (int i = 0; i < a.rows; ++i) {
    double ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < a.cols; ++k) {
      ab += double(a.row(i)[k]) * b.row(i)[k];
      aa += double(a.row(i)[k]) * a.row(i)[k];
      bb += double(b.row(i)[k]) * b.row(i)[k];
    }
    const double c = ab / std::sqrt(aa * bb);
    r.mean += c;
    r.min = std::min(r.min, c);
  }
  r.rows = a.rows;
  if (a.rows > 0) r.mean /= a.rows;
  return r;
}

// Same formula as tests/vision/vision_fixtures.h (and make_fixtures.py).
cv::Mat synth_image(int w, int h, int seed, int mode) {
  cv::Mat m(h, w, CV_8UC3);
  const std::uint64_t M = 0xFFFFFFFFull;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const std::uint64_t X = x, Y = y;
        std::uint64_t hsh = ((X * 73856093ull) ^ (Y * 19349663ull) ^
                             ((c * 83492791ull + seed * 2654435761ull) & M)) &
                            M;
        hsh ^= hsh >> 13;
        hsh = (hsh * 0x5BD1E995ull) & M;
        hsh ^= hsh >> 15;
        std::uint64_t v;
        if (mode == 0)
          v = hsh & 255;
        else
          v = (X * 200 / std::max(w - 1, 1) + Y * 55 / std::max(h - 1, 1) + c * 40 + (hsh & 15)) &
              255;
        m.at<cv::Vec3b>(y, x)[c] = static_cast<std::uint8_t>(v);
      }
  return m;
}

void golden_clip() {
  const fs::path dir =
      fs::path(TAGSMITH_SOURCE_DIR) / "tests" / "vision" / "fixtures" / "tiny-clip";
  std::ifstream f(dir / "expected.json");
  const auto expected = nlohmann::json::parse(f);
  std::vector<cv::Mat> images;
  for (const auto& e : expected["images"])
    images.push_back(synth_image(e["width"], e["height"], e["seed"], e["mode"]));
  std::vector<std::string> texts;
  for (const auto& e : expected["texts"]) texts.push_back(e["text"]);
  auto fp32 = ClipModel::load(dir, {.threads = env_int("TAGSMITH_THREADS", 2)});
  const Matrix ia = fp32->encode_images(images), ta = fp32->encode_texts(texts);
  for (Precision p : {Precision::bf16, Precision::int8}) {
    auto m = ClipModel::load(dir, {.threads = env_int("TAGSMITH_THREADS", 2), .precision = p});
    const auto i = agreement(ia, m->encode_images(images));
    const auto t = agreement(ta, m->encode_texts(texts));
    std::printf(
        "golden tiny-clip %-4s  images: cosine mean %.6f min %.6f (%d)  texts: mean %.6f "
        "min %.6f (%d)\n",
        std::string(precision_name(p)).c_str(), i.mean, i.min, i.rows, t.mean, t.min, t.rows);
  }
}

void mobilenet() {
  const fs::path model_path =
      shared() / "models" / "mobilenet-v2-1.0-224-quant" / "mobilenet_v2_1.0_224_quant.tflite";
  const fs::path root = shared() / "datasets" / "clothing-small" / "images";
  if (!fs::exists(model_path) || !fs::is_directory(root)) {
    std::printf("MobileNetV2: skipped (no model or clothing-small under %s)\n",
                shared().string().c_str());
    return;
  }
  std::vector<fs::path> all;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".jpg") all.push_back(e.path());
  std::sort(all.begin(), all.end());
  const std::size_t want = static_cast<std::size_t>(env_int("TAGSMITH_PHOTOS", 240));
  const std::size_t step = std::max<std::size_t>(1, all.size() / want);
  std::vector<cv::Mat> crops;
  for (std::size_t i = 0; i < all.size() && crops.size() < want; i += step) {
    cv::Mat bgr = cv::imread(all[i].string(), cv::IMREAD_COLOR), rgb;
    if (bgr.empty()) continue;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    crops.push_back(classifier_resize_crop(rgb, 224));
  }
  const int threads = env_int("TAGSMITH_THREADS", 2);
  const std::string kEmbedding = "MobilenetV2/Logits/AvgPool";
  Matrix reference;
  for (Precision p : {Precision::fp32, Precision::bf16}) {
    auto m = TfliteModel::load(model_path, {.threads = threads, .max_batch = 32, .precision = p});
    Matrix out = m->run_images(crops, kEmbedding);  // also warms oneDNN's kernels up
    double best = 1e30;
    for (int pass = 0; pass < 3; ++pass) {
      const auto t0 = std::chrono::steady_clock::now();
      out = m->run_images(crops, kEmbedding);
      best = std::min(best,
                      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
    }
    if (p == Precision::fp32) reference = out;
    const auto a = agreement(reference, out);
    std::printf(
        "MobileNetV2 %-4s  %zu photos, %d threads: %.1f images/s  cosine to fp32 mean "
        "%.6f min %.6f\n",
        std::string(precision_name(p)).c_str(), crops.size(), threads, crops.size() / best, a.mean,
        a.min);
  }
}

}  // namespace

int main() {
  golden_clip();
  mobilenet();
  return 0;
}
