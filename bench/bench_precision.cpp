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
//  3. With TAGSMITH_BENCH_ACCURACY=1: garment accuracy on all of
//     clothing-small (labels.csv; its validation split as test set) from
//     fp32 and from bf16 MobileNetV2 embeddings, by nearest class centroid
//     and by 10-nearest-neighbour vote over the training photos (a check of
//     the embeddings that needs no trained head; `tagsmith eval --precision`
//     gives the product's own numbers).
// Run from the repository root: build/bench_precision. Threads:
// $TAGSMITH_THREADS (default 2); $TAGSMITH_SHARED overrides ../shared.
// Throughput of ViT-B/32 is bench_vision's (TAGSMITH_PRECISION=bf16).
#include <malloc.h>

#include <algorithm>
#include <cctype>
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

// Row i of `m`, L2-normalised.
std::vector<float> unit_row(const Matrix& m, int i) {
  std::vector<float> v(m.row(i).begin(), m.row(i).end());
  double n = 0;
  for (float x : v) n += double(x) * x;
  const float inv = n > 0 ? static_cast<float>(1.0 / std::sqrt(n)) : 0.0f;
  for (float& x : v) x *= inv;
  return v;
}

void accuracy() {
  const fs::path model_path =
      shared() / "models" / "mobilenet-v2-1.0-224-quant" / "mobilenet_v2_1.0_224_quant.tflite";
  const fs::path root = shared() / "datasets" / "clothing-small";
  if (!fs::exists(model_path) || !fs::exists(root / "labels.csv")) return;
  // labels.csv: image,garment,split
  std::ifstream csv(root / "labels.csv");
  std::string line;
  std::getline(csv, line);
  std::vector<cv::Mat> crops;
  std::vector<std::string> label;
  std::vector<bool> test;
  while (std::getline(csv, line)) {
    while (!line.empty() && std::isspace(static_cast<unsigned char>(line.back()))) line.pop_back();
    const auto a = line.find(','), b = line.rfind(',');
    if (a == std::string::npos || a == b) continue;
    cv::Mat bgr = cv::imread((root / line.substr(0, a)).string(), cv::IMREAD_COLOR), rgb;
    if (bgr.empty()) continue;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    crops.push_back(classifier_resize_crop(rgb, 224));
    label.push_back(line.substr(a + 1, b - a - 1));
    test.push_back(line.substr(b + 1) == "validation");
  }
  std::vector<std::string> classes = label;
  std::sort(classes.begin(), classes.end());
  classes.erase(std::unique(classes.begin(), classes.end()), classes.end());
  auto class_of = [&](const std::string& l) {
    return static_cast<int>(std::lower_bound(classes.begin(), classes.end(), l) - classes.begin());
  };
  const int threads = env_int("TAGSMITH_THREADS", 2);
  const std::string kEmbedding = "MobilenetV2/Logits/AvgPool";
  for (Precision p : {Precision::fp32, Precision::bf16}) {
    auto m = TfliteModel::load(model_path, {.threads = threads, .max_batch = 32, .precision = p});
    const Matrix e = m->run_images(crops, kEmbedding);
    std::vector<std::vector<float>> unit;
    for (int i = 0; i < e.rows; ++i) unit.push_back(unit_row(e, i));
    const std::size_t dim = unit.empty() ? 0 : unit[0].size();
    std::vector<std::vector<double>> centre(classes.size(), std::vector<double>(dim, 0.0));
    for (std::size_t i = 0; i < unit.size(); ++i)
      if (!test[i])
        for (std::size_t d = 0; d < dim; ++d) centre[class_of(label[i])][d] += unit[i][d];
    int n = 0, right_centroid = 0, right_knn = 0;
    for (std::size_t i = 0; i < unit.size(); ++i) {
      if (!test[i]) continue;
      ++n;
      const int truth = class_of(label[i]);
      int best = 0;
      double best_score = -1e30;
      for (std::size_t c = 0; c < classes.size(); ++c) {
        double dot = 0, norm = 0;
        for (std::size_t d = 0; d < dim; ++d) {
          dot += centre[c][d] * unit[i][d];
          norm += centre[c][d] * centre[c][d];
        }
        const double score = norm > 0 ? dot / std::sqrt(norm) : -1e30;
        if (score > best_score) best_score = score, best = static_cast<int>(c);
      }
      right_centroid += best == truth;
      std::vector<std::pair<double, int>> near;
      for (std::size_t j = 0; j < unit.size(); ++j) {
        if (test[j]) continue;
        double dot = 0;
        for (std::size_t d = 0; d < dim; ++d) dot += double(unit[i][d]) * unit[j][d];
        near.emplace_back(-dot, class_of(label[j]));
      }
      const std::size_t k = std::min<std::size_t>(10, near.size());
      std::partial_sort(near.begin(), near.begin() + k, near.end());
      std::vector<double> votes(classes.size(), 0.0);
      for (std::size_t r = 0; r < k; ++r) votes[near[r].second] += 1.0 - 1e-3 * r;  // ties: nearer
      right_knn += std::max_element(votes.begin(), votes.end()) - votes.begin() == truth;
    }
    std::printf(
        "clothing-small %-4s  %zu photos, %d test: nearest-centroid accuracy %.4f, "
        "10-NN accuracy %.4f\n",
        std::string(precision_name(p)).c_str(), crops.size(), n,
        n ? double(right_centroid) / n : 0.0, n ? double(right_knn) / n : 0.0);
  }
}

}  // namespace

int main() {
  golden_clip();
  mobilenet();
  if (std::getenv("TAGSMITH_BENCH_ACCURACY")) accuracy();
  return 0;
}
