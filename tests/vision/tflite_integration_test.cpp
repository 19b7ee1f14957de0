// The TFLite runtime on the two real models in ../shared (skipped when the
// folder is absent): MobileNetV2 must reproduce reference/expected.json (an
// independent float implementation) and DeepLab v3 must find the person in
// grace_hopper.bmp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <iomanip>
#include <numeric>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

namespace fs = std::filesystem;

fs::path mobilenet_dir() {
  return test::shared_dir() / "models" / "mobilenet-v2-1.0-224-quant";
}
fs::path deeplab_dir() {
  return test::shared_dir() / "models" / "deeplabv3-mnv2-pascal-quant";
}

cv::Mat read_rgb(const fs::path& p) {
  cv::Mat bgr = cv::imread(p.string(), cv::IMREAD_COLOR);
  cv::Mat rgb;
  cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
  return rgb;
}

double cosine(std::span<const float> a, const std::vector<double>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (size_t i = 0; i < b.size(); ++i) {
    ab += a[i] * b[i];
    aa += static_cast<double>(a[i]) * a[i];
    bb += b[i] * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

TEST(TfliteIntegration, MobileNetV2ReproducesTheReferenceTop5AndEmbedding) {
  const fs::path model_path = mobilenet_dir() / "mobilenet_v2_1.0_224_quant.tflite";
  if (!fs::exists(model_path)) GTEST_SKIP() << "no MobileNetV2 under " << mobilenet_dir().string();
  auto model = TfliteModel::load(model_path, {.threads = 2});
  ASSERT_EQ(model->input_size(), 224);
  EXPECT_EQ(model->output_name(), "MobilenetV2/Predictions/Softmax");
  const std::string kEmbedding = "MobilenetV2/Logits/AvgPool";
  ASSERT_EQ(model->tensor_width(kEmbedding), 1280);
  const auto expected = test::read_json(mobilenet_dir() / "reference" / "expected.json");

  std::vector<cv::Mat> crops;
  for (const auto& r : expected["results"])
    crops.push_back(
        classifier_resize_crop(read_rgb(mobilenet_dir() / r["image"].get<std::string>()), 224));
  // Both images in one batch: the batch dimension is dynamic.
  const auto out = model->run_images(crops, {kEmbedding, model->output_name()});
  ASSERT_EQ(out[0].rows, 2);
  for (int i = 0; i < 2; ++i) {
    const auto& r = expected["results"][i];
    SCOPED_TRACE(r["image"].get<std::string>());
    const auto probs = out[1].row(i);
    std::vector<int> order(probs.size());
    std::iota(order.begin(), order.end(), 0);
    std::partial_sort(order.begin(), order.begin() + 5, order.end(),
                      [&](int a, int b) { return probs[a] > probs[b]; });
    for (int k = 0; k < 5; ++k) {
      EXPECT_EQ(order[k], r["top5"][k]["cls"].get<int>()) << "rank " << k;
      EXPECT_NEAR(probs[order[k]], r["top5"][k]["prob"].get<double>(), 2e-3) << "rank " << k;
    }
    const double cos = cosine(out[0].row(i), r["embedding"].get<std::vector<double>>());
    std::cout << "[ measured ] " << r["image"].get<std::string>() << " embedding cosine "
              << std::setprecision(7) << cos << ", top-1 p " << probs[order[0]] << "\n";
    EXPECT_GE(cos, 0.999);
  }

  // The classifier layer is reachable as plain weights: softmax(W e + b)
  // gives back the model's probabilities.
  const std::string logits_name =
      model->graph().tensors[model->graph().operators.back().inputs[0]].name;  // softmax input
  const auto squeeze_in = model->operator_inputs(logits_name);
  ASSERT_FALSE(squeeze_in.empty());  // RESHAPE: {logits, shape}
  const auto layer = model->operator_inputs(squeeze_in[0]);
  ASSERT_EQ(layer.size(), 3u);
  EXPECT_EQ(layer[0], kEmbedding);
  const Matrix W = model->constant(layer[1]), b = model->constant(layer[2]);
  ASSERT_EQ(W.rows, 1001);
  ASSERT_EQ(W.cols, 1280);
  ASSERT_EQ(b.rows, 1001);
  std::vector<double> logits(1001);
  for (int c = 0; c < 1001; ++c) {
    double z = b.data[c];
    for (int k = 0; k < 1280; ++k) z += W.row(c)[k] * out[0].row(0)[k];
    logits[c] = z;
  }
  const double top = *std::max_element(logits.begin(), logits.end());
  double norm = 0;
  for (double z : logits) norm += std::exp(z - top);
  for (int c : {653, 668, 835})
    EXPECT_NEAR(std::exp(logits[c] - top) / norm, out[1].row(0)[c], 1e-4) << "class " << c;
}

TEST(TfliteIntegration, DeepLabMarksThePersonInGraceHopper) {
  const fs::path model_path = deeplab_dir() / "deeplabv3_mnv2_pascal_quant.tflite";
  const fs::path image = mobilenet_dir() / "reference" / "grace_hopper.bmp";
  if (!fs::exists(model_path) || !fs::exists(image))
    GTEST_SKIP() << "no DeepLab v3 / grace_hopper.bmp under " << test::shared_dir().string();
  auto model = TfliteModel::load(model_path, {.threads = 2});
  const int s = model->input_size();
  ASSERT_EQ(s, 513);
  // The whole photo squeezed to the square input, as the Coral example does.
  const cv::Mat input = resize_bilinear_pil(read_rgb(image), s, s);
  const Matrix classes = model->run_images({input}, model->output_name());
  ASSERT_EQ(classes.cols, s * s);
  auto share = [&](int x0, int y0, int x1, int y1) {
    int person = 0;
    for (int y = y0; y < y1; ++y)
      for (int x = x0; x < x1; ++x) person += classes.data[y * s + x] == 15.0f;
    return static_cast<double>(person) / ((x1 - x0) * (y1 - y0));
  };
  const double centre = share(s / 4, s / 4, 3 * s / 4, 3 * s / 4);
  const double lower_half = share(0, s / 2, s, s);
  const double top_corners = (share(0, 0, s / 8, s / 8) + share(s - s / 8, 0, s, s / 8)) / 2;
  std::cout << "[ measured ] person share: centre " << centre << ", lower half " << lower_half
            << ", top corners " << top_corners << "\n";
  EXPECT_GT(centre, 0.80);
  EXPECT_GT(lower_half, 0.60);
  EXPECT_LT(top_corners, 0.20);
  for (float c : classes.data) ASSERT_TRUE(c >= 0 && c <= 20 && c == std::floor(c));
}

}  // namespace
}  // namespace tagsmith::vision
