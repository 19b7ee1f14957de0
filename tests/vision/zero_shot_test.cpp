#include "tagsmith/vision/zero_shot.h"

#include <gtest/gtest.h>

#include <cmath>

#include "tagsmith/common/error.h"
#include "temp_dir.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

std::unique_ptr<ClipModel> tiny() {
  return ClipModel::load(test::vision_fixtures() / "tiny-clip");
}

const std::vector<ZeroShotClass> kClasses = {
    {"dress", {"dress", "gown"}}, {"shoe", {"shoe"}}, {"bag", {"handbag", "bag"}}};
const std::vector<std::string> kTemplates = {"a product photo of {}.", "a photo of a {}."};

TEST(ZeroShot, ClassEmbeddingIsRenormalisedMeanOfPromptEmbeddings) {
  auto model = tiny();
  ZeroShotClassifier zs(*model, kClasses, kTemplates);
  const Matrix& ce = zs.class_embeddings();
  ASSERT_EQ(ce.rows, 3);
  Matrix p = model->encode_texts({"a product photo of handbag.", "a photo of a handbag.",
                                  "a product photo of bag.", "a photo of a bag."});
  std::vector<double> mean(p.cols, 0.0);
  for (int r = 0; r < 4; ++r)
    for (int k = 0; k < p.cols; ++k) mean[k] += p.row(r)[k];
  double n = 0;
  for (double v : mean) n += v * v;
  for (int k = 0; k < p.cols; ++k) EXPECT_NEAR(ce.row(2)[k], mean[k] / std::sqrt(n), 1e-5);
}

TEST(ZeroShot, LogitsAreScaledCosinesAndProbsTheirSoftmax) {
  auto model = tiny();
  ZeroShotClassifier zs(*model, kClasses, kTemplates);
  std::vector<cv::Mat> imgs = {test::synth_image(40, 50, 1, 0), test::synth_image(60, 30, 2, 1)};
  Matrix emb = model->encode_images(imgs);
  ZeroShotScores s = zs.classify(imgs);
  ASSERT_EQ(s.logits.rows, 2);
  ASSERT_EQ(s.class_ids, (std::vector<std::string>{"dress", "shoe", "bag"}));
  for (int i = 0; i < 2; ++i) {
    double z = 0, sum = 0;
    for (int c = 0; c < 3; ++c) {
      const float want = model->logit_scale() * dot(emb.row(i), zs.class_embeddings().row(c));
      EXPECT_NEAR(s.logits.row(i)[c], want, 1e-4);
      z += std::exp(s.logits.row(i)[c]);
    }
    for (int c = 0; c < 3; ++c) {
      EXPECT_NEAR(s.probs.row(i)[c], std::exp(s.logits.row(i)[c]) / z, 1e-5);
      sum += s.probs.row(i)[c];
    }
    EXPECT_NEAR(sum, 1.0, 1e-5);
    const int top = s.top(i);
    for (int c = 0; c < 3; ++c) EXPECT_GE(s.logits.row(i)[top], s.logits.row(i)[c]);
  }
}

TEST(ZeroShot, TextEmbeddingsAreCachedInMemoryAndOnDisk) {
  auto model = tiny();
  test::TempDir tmp;
  TextEmbeddingCache cache(tmp.path());
  ZeroShotClassifier a(*model, kClasses, kTemplates, &cache);
  EXPECT_EQ(cache.encoded_count(), 10u);  // 5 names x 2 templates
  ZeroShotClassifier b(*model, kClasses, kTemplates, &cache);
  EXPECT_EQ(cache.encoded_count(), 10u);  // all from memory
  TextEmbeddingCache fresh(tmp.path());   // a new process, same disk cache
  ZeroShotClassifier c(*model, kClasses, kTemplates, &fresh);
  EXPECT_EQ(fresh.encoded_count(), 0u);
  EXPECT_EQ(c.class_embeddings().data, a.class_embeddings().data);
  // Another model version does not reuse the entries.
  auto other = ClipModel::load(test::vision_fixtures() / "tiny-clip-fp16");
  ZeroShotClassifier d(*other, kClasses, kTemplates, &fresh);
  EXPECT_EQ(fresh.encoded_count(), 10u);
}

TEST(ZeroShot, RejectsBadInput) {
  auto model = tiny();
  EXPECT_THROW(ZeroShotClassifier(*model, {{"x", {}}}, kTemplates), InputError);
  EXPECT_THROW(ZeroShotClassifier(*model, kClasses, {"no placeholder"}), InputError);
  EXPECT_EQ(ZeroShotClassifier::fill("a photo of {}.", "hat"), "a photo of hat.");
}

}  // namespace
}  // namespace tagsmith::vision
