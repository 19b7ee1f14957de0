// `tagsmith models import`: an image classifier brought into a library that
// already holds photos becomes its encoder; the photos are embedded with it
// and re-tagged, and a broken model file is refused leaving nothing behind.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <fstream>
#include <nlohmann/json.hpp>

#include "../vision/tflite_builder.h"
#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/library/library.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/vision/tflite_reader.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {
namespace fs = std::filesystem;
using ::testing::HasSubstr;
using namespace vision::testing;
namespace op = vision::tflite::builtin;

// input 2x2x3 -> MEAN -> FULLY_CONNECTED (2 classes) -> SOFTMAX.
void write_tiny_classifier(const fs::path& file) {
  GraphBuilder g;
  const int in = g.tensor("input", {1, 2, 2, 3});
  const int axes = g.ints("axes", {2}, {1, 2});
  const int pooled = g.tensor("pooled", {1, 3});
  const int w = g.floats("fc_w", {2, 3}, {0.02f, 0, -0.02f, -0.02f, 0, 0.02f});
  const int b = g.floats("fc_b", {2}, {0, 0});
  const int logits = g.tensor("logits", {1, 2});
  const int probs = g.tensor("probs", {1, 2});
  g.op(op::kMean, {in, axes}, {pooled}, kReducerOptions, {i8(0, 0)});
  g.op(op::kFullyConnected, {pooled, w, b}, {logits}, kFullyConnectedOptions,
       {i8(0, 0), i8(1, 0), i8(2, 0)});
  g.op(op::kSoftmax, {logits}, {probs}, kSoftmaxOptions, {f32(0, 1.0f)});
  const auto bytes = g.finish({in}, {probs});
  std::ofstream(file, std::ios::binary)
      .write(reinterpret_cast<const char*>(bytes.data()),
             static_cast<std::streamsize>(bytes.size()));
}

struct Result {
  int rc;
  std::string out, err;
};

class ModelsImportCliTest : public ::testing::Test {
 protected:
  Result run(std::vector<std::string> args) {
    args.insert(args.end(),
                {"--library", lib.string(), "--quiet", "--models", (dir / "no-models").string()});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }
  test::TempDir dir;
  fs::path lib = dir / "lib";
};

TEST_F(ModelsImportCliTest, TheImportedClassifierEmbedsAndTagsTheLibrary) {
  const fs::path photos = dir / "photos";
  fs::create_directories(photos);
  test::write_jpeg(photos / "red.jpg", test::synthetic_product(160, 200, 1, {200, 20, 30}));
  test::write_jpeg(photos / "blue.jpg", test::synthetic_product(160, 200, 2, {25, 35, 190}));
  ASSERT_EQ(run({"ingest", photos.string()}).rc, 0);  // no model: colours only

  write_tiny_classifier(dir / "tiny.tflite");
  std::ofstream(dir / "tiny_labels.txt") << "jersey, T-shirt, tee shirt\nminiskirt, mini\n";
  std::ofstream(dir / "map.yaml") << "format: 1\nname: tiny\nclassifier: Tiny\n"
                                     "defaults: {weight: 1.0, min_probability: 0.0}\n"
                                     "labels:\n  jersey: {garment_type: t_shirt}\n"
                                     "  miniskirt: {garment_type: skirt}\n";
  const Result r = run({"models", "import", (dir / "tiny.tflite").string(), "--labels",
                        (dir / "tiny_labels.txt").string(), "--label-map",
                        (dir / "map.yaml").string(), "--name", "tiny", "--json"});
  ASSERT_EQ(r.rc, 0) << r.out << r.err;
  const auto j = nlohmann::json::parse(r.out);
  EXPECT_EQ(j["family"], "classifier");
  EXPECT_EQ(j["embedded"], 2);
  const std::string version = j["version"];

  auto library = library::Library::open_existing(lib);
  auto& db = library->store();
  // It is the library's encoder, kept inside the library (relative path).
  const auto active = training::active_encoder(db);
  ASSERT_TRUE(active);
  EXPECT_EQ(active->version, version);
  EXPECT_EQ(active->artifact_path, "encoders/tiny");
  EXPECT_TRUE(fs::exists(lib / "encoders" / "tiny" / "labels.txt"));
  // Every photo has its vector and a garment type scored by the label map.
  for (auto id : db.asset_ids()) {
    EXPECT_TRUE(db.embedding(id, version)) << id;
    bool typed = false;
    for (const auto& t : db.tags_of(id)) typed |= t.attribute == "garment_type";
    EXPECT_TRUE(typed) << "asset " << id << " has no garment_type tag";
  }
  // A later ingest uses it without being told.
  test::write_jpeg(photos / "green.jpg", test::synthetic_product(160, 200, 3, {30, 160, 40}));
  ASSERT_EQ(run({"ingest", photos.string()}).rc, 0);
  for (auto id : db.asset_ids()) EXPECT_TRUE(db.embedding(id, version)) << id;

  // The same name again is refused.
  const Result again = run({"models", "import", (dir / "tiny.tflite").string(), "--labels",
                            (dir / "tiny_labels.txt").string(), "--name", "tiny"});
  EXPECT_EQ(again.rc, 2);
  EXPECT_THAT(again.err, HasSubstr("already has a model called tiny"));
}

TEST_F(ModelsImportCliTest, ABrokenModelIsRefusedAndLeavesNothingBehind) {
  ASSERT_EQ(run({"sample-photos", (dir / "photos").string(), "--count", "2"}).rc, 0);
  ASSERT_EQ(run({"ingest", (dir / "photos").string()}).rc, 3);  // the sample's broken files
  write_tiny_classifier(dir / "tiny.tflite");
  // Half a file.
  const auto size = fs::file_size(dir / "tiny.tflite");
  fs::resize_file(dir / "tiny.tflite", size / 2);
  std::ofstream(dir / "labels.txt") << "a\nb\n";
  const Result r = run({"models", "import", (dir / "tiny.tflite").string(), "--labels",
                        (dir / "labels.txt").string()});
  EXPECT_NE(r.rc, 0);
  EXPECT_THAT(r.err, HasSubstr("tiny.tflite"));
  EXPECT_FALSE(fs::exists(lib / "encoders" / "tiny"));
  std::size_t leftovers = 0;
  if (fs::exists(lib / "encoders"))
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(lib / "encoders")) ++leftovers;
  EXPECT_EQ(leftovers, 0u);
  EXPECT_FALSE(training::active_encoder(library::Library::open_existing(lib)->store()));
}

}  // namespace
}  // namespace tagsmith::cli
