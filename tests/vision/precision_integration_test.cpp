// bf16 MobileNetV2 (../shared/models/mobilenet-v2-1.0-224-quant) against fp32
// on real product photos from ../shared/datasets/clothing-small; skipped when
// either is absent. The embedding (the pooled 1280-d feature the classifier
// encoder stores) must keep a cosine >= 0.995 to fp32 on every photo.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

namespace fs = std::filesystem;

// The first `n` photos of the validation split in name order (stable).
std::vector<fs::path> validation_photos(std::size_t n) {
  std::vector<fs::path> all;
  const fs::path root =
      test::shared_dir() / "datasets" / "clothing-small" / "images" / "validation";
  if (!fs::is_directory(root)) return all;
  for (const auto& e : fs::recursive_directory_iterator(root))
    if (e.is_regular_file() && e.path().extension() == ".jpg") all.push_back(e.path());
  std::sort(all.begin(), all.end());
  // Spread over the classes: every k-th photo.
  std::vector<fs::path> picked;
  const std::size_t step = std::max<std::size_t>(1, all.size() / n);
  for (std::size_t i = 0; i < all.size() && picked.size() < n; i += step) picked.push_back(all[i]);
  return picked;
}

TEST(PrecisionIntegration, MobileNetV2Bf16EmbeddingsMatchFp32OnRealPhotos) {
  const fs::path model_path = test::shared_dir() / "models" / "mobilenet-v2-1.0-224-quant" /
                              "mobilenet_v2_1.0_224_quant.tflite";
  const auto photos = validation_photos(20);
  if (!fs::exists(model_path) || photos.size() < 20)
    GTEST_SKIP() << "no MobileNetV2 or clothing-small under " << test::shared_dir().string();
  auto fp32 = TfliteModel::load(model_path, {.threads = 2});
  auto bf16 = TfliteModel::load(model_path, {.threads = 2, .precision = Precision::bf16});
  std::vector<cv::Mat> crops;
  for (const auto& p : photos) {
    cv::Mat bgr = cv::imread(p.string(), cv::IMREAD_COLOR);
    ASSERT_FALSE(bgr.empty()) << p;
    cv::Mat rgb;
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    crops.push_back(classifier_resize_crop(rgb, fp32->input_size()));
  }
  const std::string kEmbedding = "MobilenetV2/Logits/AvgPool";
  const Matrix a = fp32->run_images(crops, kEmbedding);
  const Matrix b = bf16->run_images(crops, kEmbedding);
  ASSERT_EQ(a.rows, static_cast<int>(photos.size()));
  ASSERT_EQ(b.rows, a.rows);
  double worst = 1.0, sum = 0.0;
  for (int i = 0; i < a.rows; ++i) {
    double ab = 0, aa = 0, bb = 0;
    for (int k = 0; k < a.cols; ++k) {
      ab += double(a.row(i)[k]) * b.row(i)[k];
      aa += double(a.row(i)[k]) * a.row(i)[k];
      bb += double(b.row(i)[k]) * b.row(i)[k];
    }
    const double cos = ab / std::sqrt(aa * bb);
    EXPECT_GE(cos, 0.995) << photos[i];
    worst = std::min(worst, cos);
    sum += cos;
  }
  std::printf("[ measured ] MobileNetV2 bf16 vs fp32 on %d photos: cosine mean %.6f min %.6f\n",
              a.rows, sum / a.rows, worst);
}

}  // namespace
}  // namespace tagsmith::vision
