#include "tagsmith/vision/clip_model.h"

#include <gtest/gtest.h>

#include <cstdio>
#include <regex>

#include "tagsmith/vision/safetensors.h"
#include "temp_dir.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

// Golden test: embeddings from make_fixtures.py's own float64 CLIP forward
// pass (torch functional ops, not our code) on the same tiny checkpoint.
void check_golden(const std::string& name) {
  const auto dir = test::vision_fixtures() / name;
  auto model = ClipModel::load(dir, {.threads = 2, .max_batch = 3});
  auto expected = test::read_json(dir / "expected.json");
  EXPECT_NEAR(model->logit_scale(), expected["logit_scale"].get<double>(), 1e-4);

  std::vector<cv::Mat> images;
  for (const auto& e : expected["images"])
    images.push_back(test::synth_image(e["width"], e["height"], e["seed"], e["mode"]));
  Matrix img = model->encode_images(images);  // 4 images, batches of 3 + 1
  ASSERT_EQ(img.rows, static_cast<int>(images.size()));
  ASSERT_EQ(img.cols, model->embedding_dim());
  double worst = 0;
  for (int i = 0; i < img.rows; ++i) {
    auto want = expected["images"][i]["embedding"].get<std::vector<float>>();
    ASSERT_EQ(want.size(), static_cast<std::size_t>(img.cols));
    for (int k = 0; k < img.cols; ++k) {
      EXPECT_NEAR(img.row(i)[k], want[k], 1e-4) << name << " image " << i << " dim " << k;
      worst = std::max(worst, std::abs(double(img.row(i)[k]) - want[k]));
    }
  }
  std::vector<std::string> texts;
  for (const auto& e : expected["texts"]) {
    texts.push_back(e["text"]);
    EXPECT_EQ(model->tokenizer().tokenize(texts.back(), model->context_length()),
              e["ids"].get<std::vector<int>>());
  }
  Matrix txt = model->encode_texts(texts);
  ASSERT_EQ(txt.rows, static_cast<int>(texts.size()));
  for (int i = 0; i < txt.rows; ++i) {
    auto want = expected["texts"][i]["embedding"].get<std::vector<float>>();
    for (int k = 0; k < txt.cols; ++k) {
      EXPECT_NEAR(txt.row(i)[k], want[k], 1e-4) << name << " text " << i << " dim " << k;
      worst = std::max(worst, std::abs(double(txt.row(i)[k]) - want[k]));
    }
  }
  ::testing::Test::RecordProperty("max_abs_error", std::to_string(worst));
  std::printf("%s: max |error| vs reference %.3g\n", name.c_str(), worst);
}

TEST(ClipModel, MatchesReferenceFp32) {
  check_golden("tiny-clip");
}

// fp16 weights, exact-erf gelu and argmax (legacy eos_token_id 2) pooling.
TEST(ClipModel, MatchesReferenceFp16Weights) {
  check_golden("tiny-clip-fp16");
}

TEST(ClipModel, BatchingDoesNotChangeResults) {
  auto model = ClipModel::load(test::vision_fixtures() / "tiny-clip");
  std::vector<cv::Mat> images = {test::synth_image(50, 40, 1, 0), test::synth_image(64, 90, 2, 1),
                                 test::synth_image(32, 32, 3, 0)};
  Matrix all = model->encode_images(images);
  for (int i = 0; i < 3; ++i) {
    Matrix one = model->encode_images({images[i]});
    for (int k = 0; k < all.cols; ++k) EXPECT_NEAR(one.row(0)[k], all.row(i)[k], 1e-5);
  }
  // Texts of different lengths padded together equal each alone.
  std::vector<std::string> texts = {"a", "a much longer description of a red dress", "shoes"};
  Matrix t = model->encode_texts(texts);
  for (int i = 0; i < 3; ++i) {
    Matrix one = model->encode_texts({texts[i]});
    double norm = 0;
    for (int k = 0; k < t.cols; ++k) {
      EXPECT_NEAR(one.row(0)[k], t.row(i)[k], 1e-5);
      norm += double(t.row(i)[k]) * t.row(i)[k];
    }
    EXPECT_NEAR(norm, 1.0, 1e-5);
  }
  EXPECT_EQ(model->encode_texts({}).rows, 0);
  EXPECT_EQ(model->encode_images({}).rows, 0);
}

TEST(ClipModel, VersionIsStableAndNamesTheDirectory) {
  auto a = ClipModel::load(test::vision_fixtures() / "tiny-clip");
  auto b = ClipModel::load(test::vision_fixtures() / "tiny-clip");
  auto h = ClipModel::load(test::vision_fixtures() / "tiny-clip-fp16");
  EXPECT_TRUE(std::regex_match(a->version(), std::regex("tiny-clip@[0-9a-f]{12}"))) << a->version();
  EXPECT_EQ(a->version(), b->version());
  EXPECT_NE(a->version().substr(10), h->version().substr(15));
}

TEST(ClipModel, MissingOrCorruptModelsGiveClearErrors) {
  test::TempDir tmp;
  auto expect_msg = [](const std::filesystem::path& dir, const std::string& needle) {
    try {
      ClipModel::load(dir);
      ADD_FAILURE() << "loaded " << dir;
    } catch (const ModelError& e) {
      EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    }
  };
  expect_msg(tmp / "nope", "does not exist");
  std::filesystem::create_directories(tmp / "empty");
  expect_msg(tmp / "empty", "lacks config.json");
  // A truncated download.
  const auto src = test::vision_fixtures() / "tiny-clip";
  std::filesystem::create_directories(tmp / "cut");
  for (const char* f : {"config.json", "vocab.json", "merges.txt"})
    std::filesystem::copy_file(src / f, tmp / "cut" / f);
  std::filesystem::copy_file(src / "model.safetensors", tmp / "cut" / "model.safetensors");
  std::filesystem::resize_file(tmp / "cut" / "model.safetensors",
                               std::filesystem::file_size(src / "model.safetensors") - 100);
  expect_msg(tmp / "cut", "not a valid safetensors file");
}

}  // namespace
}  // namespace tagsmith::vision
