// The image-classifier family of encoders, on a tiny TFLite graph written by
// the test (no ../shared): the embedding is the classifier layer's input, the
// stored embedding goes back through that layer, and the label map turns the
// class probabilities into taxonomy scores.
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

#include "../vision/tflite_builder.h"
#include "tagsmith/app/models.h"
#include "tagsmith/common/files.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/vision/model_locator.h"
#include "tagsmith/vision/tflite_reader.h"
#include "temp_dir.h"

namespace tagsmith::app {
namespace {
namespace fs = std::filesystem;
using namespace vision::testing;
namespace op = vision::tflite::builtin;

// input 2x2x3 -> MEAN (pooled, 3) -> FULLY_CONNECTED (logits, 2) -> RESHAPE
// -> SQUEEZE -> SOFTMAX(beta 0.5): the classic classifier tail.
std::vector<std::uint8_t> tiny_classifier() {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 2, 2, 3});
  const int axes = g.ints("axes", {2}, {1, 2});
  const int pooled = g.tensor("pooled", {1, 3});
  const int w = g.floats("fc_w", {2, 3}, {1, 0, -1, 0.5f, 0.5f, 0.5f});
  const int b = g.floats("fc_b", {2}, {0, -3});
  const int logits = g.tensor("logits", {1, 2});
  const int shaped = g.tensor("shaped", {1, 1, 1, 2});
  const int flat = g.tensor("flat", {1, 2});
  const int probs = g.tensor("probs", {1, 2});
  g.op(op::kMean, {in, axes}, {pooled}, kReducerOptions, {i8(0, 0)});
  g.op(op::kFullyConnected, {pooled, w, b}, {logits}, kFullyConnectedOptions,
       {i8(0, 0), i8(1, 0), i8(2, 0)});
  g.op(op::kReshape, {logits}, {shaped}, kReshapeOptions, {}, {1, 1, 1, 2});
  g.op(op::kSqueeze, {shaped}, {flat}, kSqueezeOptions, {}, {1, 2});
  g.op(op::kSoftmax, {flat}, {probs}, kSoftmaxOptions, {f32(0, 0.5f)});
  return g.finish({in}, {probs});
}

fs::path write_model(const test::TempDir& dir, bool with_labels = true) {
  const fs::path m = dir / "tiny-classifier";
  fs::create_directories(m);
  const auto bytes = tiny_classifier();
  write_file_atomic(m / "tiny.tflite",
                    std::string_view(reinterpret_cast<const char*>(bytes.data()), bytes.size()));
  if (with_labels) {
    write_file_atomic(m / "labels.txt", "jersey, T-shirt, tee shirt\nminiskirt, mini\n");
    write_file_atomic(m / "label_map.yaml",
                      "format: 1\nname: tiny\nclassifier: Tiny\n"
                      "defaults: {weight: 1.0, min_probability: 0.0}\n"
                      "labels:\n  jersey: {garment_type: t_shirt}\n"
                      "  miniskirt: {garment_type: skirt}\n");
  }
  return m;
}

TEST(ClassifierEncoder, TheEmbeddingIsTheClassifierLayersInputAndScoresComeBackThroughIt) {
  test::TempDir dir;
  const auto encoder = load_encoder(write_model(dir), 1);
  EXPECT_EQ(encoder->family(), EncoderFamily::kClassifier);
  EXPECT_FALSE(encoder->has_text());
  EXPECT_EQ(encoder->embedding_dim(), 3);
  EXPECT_EQ(encoder->version().rfind("tiny-classifier@", 0), 0u) << encoder->version();
  EXPECT_THROW(encoder->embed_text("a red dress"), Error);

  // A uniform photo: the pooled feature is its colour (a float input takes
  // the pixel values as they are).
  const cv::Mat photo(6, 6, CV_8UC3, cv::Scalar(10, 4, 2));
  const auto rows = encoder->embed_images({photo});
  ASSERT_EQ(rows.size(), 1u);
  ASSERT_EQ(rows[0].size(), 3u);
  EXPECT_NEAR(rows[0][0], 10, 1e-4);
  EXPECT_NEAR(rows[0][1], 4, 1e-4);
  EXPECT_NEAR(rows[0][2], 2, 1e-4);

  const auto tax = taxonomy::Taxonomy::builtin();
  auto provider = encoder->score_provider({}, {});
  ASSERT_NE(provider, nullptr);
  EXPECT_EQ(provider->embedding_model(), encoder->version());
  provider->prepare(tax);
  store::AssetRecord asset;
  const auto sets = provider->scores(tax, tagging::ScoreRequest{asset, rows[0]});
  // logits: 10 - 2 = 8 (jersey), 0.5 * 16 - 3 = 5 (miniskirt); softmax with beta 0.5.
  const double e0 = std::exp(0.5 * 8), e1 = std::exp(0.5 * 5);
  std::map<std::string, double> got;
  for (const auto& s : sets) {
    EXPECT_EQ(s.source, "model:" + encoder->version());
    if (s.attribute == "garment_type")
      for (const auto& n : s.scores) got[n.node] = n.score;
  }
  EXPECT_NEAR(got["t_shirt"], e0 / (e0 + e1), 1e-4);
  EXPECT_NEAR(got["skirt"], e1 / (e0 + e1), 1e-4);

  // Attributes left to trained heads get nothing from the label map.
  auto skipping = encoder->score_provider({}, {"garment_type"});
  skipping->prepare(tax);
  for (const auto& s : skipping->scores(tax, tagging::ScoreRequest{asset, rows[0]}))
    EXPECT_NE(s.attribute, "garment_type");
}

TEST(ClassifierEncoder, AFolderWithoutItsLabelFileIsRefusedSayingSo) {
  test::TempDir dir;
  try {
    load_encoder(write_model(dir, false), 1);
    FAIL() << "loaded a classifier without labels";
  } catch (const vision::ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("label"), std::string::npos) << e.what();
  }
}

TEST(ClassifierEncoder, LabelsThatDoNotMatchTheClassesAreRefused) {
  test::TempDir dir;
  const auto m = write_model(dir);
  write_file_atomic(m / "labels.txt", "only one label\n");
  EXPECT_THROW(load_encoder(m, 1), vision::ModelError);
}

}  // namespace
}  // namespace tagsmith::app
