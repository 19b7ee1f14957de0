#include "tagsmith/vision/model_locator.h"

#include <gtest/gtest.h>

#include <fstream>

#include "temp_dir.h"

namespace tagsmith::vision {
namespace {

namespace fs = std::filesystem;

void fake_model(const fs::path& dir) {
  fs::create_directories(dir);
  for (const auto& f : required_model_files()) std::ofstream(dir / f) << "x";
}

TEST(ModelManifest, BuiltInListsTheSupportedCheckpoints) {
  const auto& m = builtin_manifest();
  ASSERT_GE(m.size(), 4u);
  EXPECT_EQ(m.front().name, "clip-vit-base-patch32");
  std::vector<std::string> names;
  for (const auto& model : m) {
    names.push_back(model.name);
    EXPECT_FALSE(model.licence.empty()) << model.name;
    if (model.family == "classifier") {
      // A .tflite network and its label file, with recorded hashes.
      EXPECT_EQ(model.embedding_dim, 1280) << model.name;
      ASSERT_EQ(model.files.size(), 2u) << model.name;
      for (const auto& f : model.files) EXPECT_TRUE(f.sha256) << f.path;
    } else if (model.family == "segmenter") {
      // The person model: a .tflite network and its labels, no embedding.
      EXPECT_EQ(model.name, "deeplabv3-mnv2-pascal-quant");
      EXPECT_EQ(model.embedding_dim, 0) << model.name;
      EXPECT_EQ(model.image_size, 513) << model.name;
      ASSERT_EQ(model.files.size(), 2u) << model.name;
      for (const auto& f : model.files) EXPECT_TRUE(f.sha256) << f.path;
    } else {
      EXPECT_EQ(model.family, "clip") << model.name;
      EXPECT_EQ(model.embedding_dim, 512) << model.name;
      ASSERT_EQ(model.files.size(), required_model_files().size()) << model.name;
    }
    for (const auto& f : model.files) {
      EXPECT_TRUE(f.url.starts_with("https://")) << f.url;
      if (f.sha256) EXPECT_EQ(f.sha256->size(), 64u) << model.name << "/" << f.path;
    }
  }
  for (const char* want : {"clip-vit-base-patch16", "fashion-clip", "laion-clip-vit-b-32",
                           "mobilenet-v2-1.0-224-quant"})
    EXPECT_NE(std::find(names.begin(), names.end(), want), names.end()) << want;
}

TEST(ModelManifest, ParsesHashesAndRejectsGarbage) {
  auto m = parse_manifest(R"(models:
  - name: a
    embedding_dim: 8
    files:
      - path: config.json
        url: https://x/config.json
        sha256: 0000000000000000000000000000000000000000000000000000000000000000
      - path: model.safetensors
        url: https://x/m
        sha256: null
)",
                          "test");
  ASSERT_EQ(m.size(), 1u);
  EXPECT_TRUE(m[0].files[0].sha256.has_value());
  EXPECT_FALSE(m[0].files[1].sha256.has_value());
  EXPECT_THROW(parse_manifest("models: [ {name: ", "test"), Error);
}

TEST(ModelLocator, ExplicitDirectoryIsTheOnlyPlaceLookedAt) {
  test::TempDir tmp;
  fake_model(tmp / "cwd" / "models" / "clip-vit-base-patch32");
  fs::create_directories(tmp / "explicit");
  ModelLocator loc((tmp / "explicit").string(), (tmp / "env").string(), tmp / "cwd");
  ASSERT_EQ(loc.search_roots().size(), 1u);
  EXPECT_FALSE(loc.try_find("clip-vit-base-patch32"));
  EXPECT_FALSE(loc.default_model());
  try {
    loc.find("clip-vit-base-patch32");
    FAIL();
  } catch (const ModelError& e) {
    const std::string msg = e.what();
    EXPECT_NE(msg.find((tmp / "explicit" / "clip-vit-base-patch32").string()), std::string::npos)
        << msg;
    EXPECT_NE(msg.find("model.safetensors"), std::string::npos) << msg;
    EXPECT_NE(msg.find("fetch-models"), std::string::npos) << msg;
    EXPECT_EQ(msg.find((tmp / "cwd").string()), std::string::npos) << msg;
  }
}

TEST(ModelLocator, SearchOrderEnvThenModelsThenShared) {
  test::TempDir tmp;
  const auto cwd = tmp / "proj";
  fs::create_directories(cwd);
  ModelLocator loc("", (tmp / "env").string(), cwd);
  ASSERT_EQ(loc.search_roots().size(), 3u);
  EXPECT_EQ(loc.search_roots()[0], tmp / "env");
  EXPECT_EQ(loc.search_roots()[1], cwd / "models");
  EXPECT_EQ(loc.search_roots()[2], cwd / ".." / "shared" / "models");
  EXPECT_FALSE(loc.default_model());

  fake_model(tmp / "shared" / "models" / "fashion-clip");
  EXPECT_EQ(loc.default_model(), "fashion-clip");
  fake_model(cwd / "models" / "fashion-clip");
  EXPECT_EQ(loc.find("fashion-clip"), cwd / "models" / "fashion-clip");
  fake_model(tmp / "env" / "fashion-clip");
  EXPECT_EQ(loc.find("fashion-clip"), tmp / "env" / "fashion-clip");
  // The manifest's order decides the default, not the directory order.
  fake_model(tmp / "shared" / "models" / "clip-vit-base-patch32");
  EXPECT_EQ(loc.default_model(), "clip-vit-base-patch32");
}

TEST(ModelLocator, IncompleteDirectoryIsReportedWithWhatIsMissing) {
  test::TempDir tmp;
  fs::create_directories(tmp / "m" / "my-clip");
  std::ofstream(tmp / "m" / "my-clip" / "config.json") << "{}";
  ModelLocator loc((tmp / "m").string());
  try {
    loc.find("my-clip");
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("lacks model.safetensors, vocab.json, merges.txt"),
              std::string::npos)
        << e.what();
  }
}

TEST(ModelLocator, AClassifierFolderIsAModelAndCLIPStaysTheDefault) {
  test::TempDir tmp;
  const fs::path root = tmp / "m";
  fs::create_directories(root / "mobilenet-v2-1.0-224-quant");
  std::ofstream(root / "mobilenet-v2-1.0-224-quant" / "mobilenet_v2_1.0_224_quant.tflite") << "x";
  ModelLocator loc(root.string());
  // Without its label file the network alone is not a usable classifier.
  EXPECT_FALSE(loc.try_find("mobilenet-v2-1.0-224-quant"));
  std::ofstream(root / "mobilenet-v2-1.0-224-quant" / "imagenet_labels.txt") << "background\n";
  EXPECT_EQ(loc.find("mobilenet-v2-1.0-224-quant"), root / "mobilenet-v2-1.0-224-quant");
  EXPECT_EQ(loc.default_model(), "mobilenet-v2-1.0-224-quant");
  fake_model(root / "fashion-clip");
  EXPECT_EQ(loc.default_model(), "fashion-clip");
}

TEST(ModelLocator, ASegmenterIsFoundButNeverTheDefaultEncoder) {
  test::TempDir tmp;
  const fs::path root = tmp / "m";
  const fs::path dir = root / "deeplabv3-mnv2-pascal-quant";
  fs::create_directories(dir);
  // Its folder looks like a classifier's: a network beside a labels file.
  std::ofstream(dir / "deeplabv3_mnv2_pascal_quant.tflite") << "x";
  std::ofstream(dir / "pascal_voc_segmentation_labels.txt") << "background\n";
  ModelLocator loc(root.string());
  EXPECT_EQ(loc.find("deeplabv3-mnv2-pascal-quant"), dir);
  EXPECT_FALSE(loc.default_model());
  EXPECT_EQ(loc.default_model("segmenter"), "deeplabv3-mnv2-pascal-quant");
  fs::create_directories(root / "mobilenet-v2-1.0-224-quant");
  std::ofstream(root / "mobilenet-v2-1.0-224-quant" / "m.tflite") << "x";
  std::ofstream(root / "mobilenet-v2-1.0-224-quant" / "imagenet_labels.txt") << "x\n";
  EXPECT_EQ(loc.default_model(), "mobilenet-v2-1.0-224-quant");
  EXPECT_EQ(loc.default_model("segmenter"), "deeplabv3-mnv2-pascal-quant");
}

}  // namespace
}  // namespace tagsmith::vision
