#include "tagsmith/ingest/ingest.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <stdexcept>

#include "fixtures.h"
#include "tagsmith/image/analysis.h"
#include "tagsmith/ingest/duplicates.h"
#include "temp_dir.h"

namespace tagsmith::ingest {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

// Records what it was asked to embed; returns a deterministic vector per image.
class CountingEmbedder : public ImageEmbedder {
 public:
  std::string version() const override { return "test-embedder@1"; }
  int preferred_batch() const override { return 4; }
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) override {
    batches.push_back(static_cast<int>(images.size()));
    std::vector<std::vector<float>> out;
    for (const auto& m : images) {
      const cv::Scalar mean = cv::mean(m);
      std::vector<float> v{static_cast<float>(mean[0]), static_cast<float>(mean[1]),
                           static_cast<float>(mean[2])};
      const float n = std::sqrt(v[0] * v[0] + v[1] * v[1] + v[2] * v[2]);
      for (auto& x : v) x /= n;
      out.push_back(v);
    }
    return out;
  }
  std::vector<int> batches;
};

class IngestTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(photos / "sub");
    test::write_jpeg(photos / "red.jpg", test::synthetic_product(400, 500, 1, {200, 20, 30}));
    test::write_png(photos / "sub" / "blue.png",
                    test::synthetic_product(300, 300, 2, {20, 40, 160}));
    test::write_jpeg(photos / "sub" / "green.JPG",
                     test::synthetic_product(320, 240, 3, {30, 140, 40}));
    fs::copy_file(photos / "red.jpg", photos / "sub" / "red-copy.jpg");  // exact duplicate
    test::write_bytes(photos / "empty.jpg", "");
    test::write_bytes(photos / "notes.jpg", "not an image\n");
    test::write_png_bomb_header(photos / "bomb.png", 40000, 40000);
    test::write_truncated_jpeg(photos / "cut.jpg", test::synthetic_product(400, 400, 4), 0.3);
    test::write_bytes(photos / "readme.txt", "ignored: not an image extension");
    library = library::Library::open(dir / "lib");
  }

  TempDir dir;
  fs::path photos = dir / "photos";
  std::unique_ptr<library::Library> library;
};

TEST_F(IngestTest, IngestsGoodFilesRejectsBadOnesAndRecordsWhy) {
  IngestOptions options;
  options.threads = 2;
  const IngestReport r = ingest(*library, {photos}, options);
  EXPECT_EQ(r.files, 8);  // readme.txt is not looked at
  EXPECT_EQ(r.ingested, 3);
  EXPECT_EQ(r.skipped, 1);  // the copy is an alias
  EXPECT_EQ(r.aliases, 1);
  EXPECT_EQ(r.rejected, 4);
  ASSERT_EQ(r.errors.size(), 4u);
  EXPECT_NE(r.errors[0].path.find("bomb.png"), std::string::npos);
  EXPECT_NE(r.errors[0].reason.find("40000x40000"), std::string::npos);

  store::Store& db = library->store();
  EXPECT_EQ(db.stats().assets, 3);
  EXPECT_EQ(db.ingest_errors().size(), 4u);
  const auto red = db.find_asset_by_path((photos / "red.jpg").string());
  ASSERT_TRUE(red);
  EXPECT_EQ(db.find_asset_by_path((photos / "sub" / "red-copy.jpg").string())->id, red->id);
  EXPECT_EQ(red->width, 400);
  EXPECT_EQ(red->height, 500);
  EXPECT_TRUE(fs::exists(library->thumbnail_path(red->thumbnail_sha256)));
  ASSERT_FALSE(red->colours.colours.empty());
  EXPECT_EQ(red->colours.colours[0].family, "red");
}

TEST_F(IngestTest, SecondRunAddsNothing) {
  IngestOptions options;
  ingest(*library, {photos}, options);
  const IngestReport again = ingest(*library, {photos}, options);
  EXPECT_EQ(again.ingested, 0);
  EXPECT_EQ(again.skipped, 4);
  EXPECT_EQ(again.rejected, 4);  // still bad, still reported
  EXPECT_EQ(library->store().stats().assets, 3);
}

TEST_F(IngestTest, FixedFileIsIngestedAndItsErrorCleared) {
  IngestOptions options;
  ingest(*library, {photos}, options);
  test::write_jpeg(photos / "cut.jpg", test::synthetic_product(400, 400, 4));
  const IngestReport r = ingest(*library, {photos}, options);
  EXPECT_EQ(r.ingested, 1);
  EXPECT_EQ(library->store().ingest_errors().size(), 3u);
}

TEST_F(IngestTest, EmbedderGetsBatchesAndVectorsAreStored) {
  CountingEmbedder embedder;
  IngestOptions options;
  options.embedder = &embedder;
  const IngestReport r = ingest(*library, {photos}, options);
  EXPECT_EQ(r.embedded, 3);
  int total = 0;
  for (int b : embedder.batches) total += b;
  EXPECT_EQ(total, 3);
  for (auto id : library->store().asset_ids()) {
    const auto v = library->store().embedding(id, "test-embedder@1");
    ASSERT_TRUE(v);
    EXPECT_EQ(v->size(), 3u);
  }
}

// A model whose preprocessing scales photos to `input` on the shortest
// side; records the sizes it was given.
class SizedEmbedder : public CountingEmbedder {
 public:
  explicit SizedEmbedder(int input) : input_(input) {}
  int input_size() const override { return input_; }
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) override {
    for (const auto& m : images) sizes.push_back(m.size());
    return CountingEmbedder::embed(images);
  }
  std::vector<cv::Size> sizes;

 private:
  int input_;
};

// A large JPEG is decoded only as large as its consumers need (512 px for
// the analyses, the model's input on the shortest side), once for all of
// them, and the asset records the photo's own size.
TEST(IngestShrinkOnLoad, DecodesOnceAsLargeAsNeededAndRecordsTheFullSize) {
  TempDir dir;
  fs::create_directories(dir / "p");
  const cv::Mat wide = test::synthetic_product(1500, 1000, 5, {30, 60, 160});
  const cv::Mat tall = test::synthetic_product(600, 2400, 6, {180, 30, 40});
  test::write_jpeg(dir / "p" / "wide.jpg", wide);
  test::write_jpeg(dir / "p" / "tall.jpg", tall);
  for (const int input : {224, 0}) {
    SCOPED_TRACE("model input " + std::to_string(input));
    auto lib = library::Library::open(dir / ("lib" + std::to_string(input)));
    SizedEmbedder embedder(input);
    IngestOptions options;
    options.embedder = &embedder;
    const IngestReport r = ingest(*lib, {dir / "p"}, options);
    ASSERT_EQ(r.ingested, 2);
    const auto a = lib->store().find_asset_by_path((dir / "p" / "wide.jpg").string());
    const auto b = lib->store().find_asset_by_path((dir / "p" / "tall.jpg").string());
    ASSERT_TRUE(a && b);
    EXPECT_EQ(a->width, 1500);
    EXPECT_EQ(a->height, 1000);
    EXPECT_EQ(b->width, 600);
    EXPECT_EQ(b->height, 2400);
    EXPECT_EQ(std::max(a->thumbnail_width, a->thumbnail_height), 256);
    // The analyses saw what they see after a full decode, near enough.
    const auto full_hash = image::perceptual_hash(image::shrink_to(wide, 512));
    EXPECT_LE(image::hamming_distance(a->phash, full_hash), 4);
    ASSERT_EQ(embedder.sizes.size(), 2u);
    std::sort(embedder.sizes.begin(), embedder.sizes.end(),
              [](cv::Size x, cv::Size y) { return x.width > y.width; });
    if (input == 224) {
      EXPECT_EQ(embedder.sizes[0], cv::Size(750, 500));   // wide: halved, 750 >= 512
      EXPECT_EQ(embedder.sizes[1], cv::Size(300, 1200));  // tall: 300 >= 224 on the short side
    } else {
      EXPECT_EQ(embedder.sizes[0], cv::Size(1500, 1000));  // the model asked for everything
      EXPECT_EQ(embedder.sizes[1], cv::Size(600, 2400));
    }
  }
}

// Records the images it was asked about; marks the middle third as a person.
class RecordingMasker : public PersonMasker {
 public:
  std::string version() const override { return "test-person@1"; }
  cv::Mat person_mask(const cv::Mat& rgb) override {
    {
      const std::lock_guard lock(mu);  // called from the decode workers
      sizes.push_back(rgb.size());
    }
    if (fail) throw std::runtime_error("segmenter exploded");
    cv::Mat m(rgb.size(), CV_8U, cv::Scalar(0));
    m(cv::Rect(rgb.cols / 3, 0, rgb.cols / 3, rgb.rows)).setTo(255);
    return m;
  }
  std::mutex mu;
  std::vector<cv::Size> sizes;
  bool fail = false;
};

// A model shot: a blue shirt on a figure whose face and arms are skin-toned
// (about 5% of the frame); and the same shirt on its own (no skin at all).
cv::Mat model_shot(int w, int h, bool with_person) {
  cv::Mat img(h, w, CV_8UC3, cv::Scalar(245, 245, 245));
  if (with_person) {
    cv::circle(img, {w / 2, h / 6}, h / 10, cv::Scalar(224, 172, 140), cv::FILLED);
    cv::rectangle(img, cv::Rect(w / 4, h / 3, w / 16, h / 3), cv::Scalar(198, 134, 102),
                  cv::FILLED);
    cv::rectangle(img, cv::Rect(3 * w / 4 - w / 16, h / 3, w / 16, h / 3),
                  cv::Scalar(198, 134, 102), cv::FILLED);
  }
  cv::rectangle(img, cv::Rect(w / 4 + w / 16, h / 3, w / 2 - w / 8, h / 2), cv::Scalar(30, 60, 160),
                cv::FILLED);
  return img;
}

TEST_F(IngestTest, PersonMaskerRunsOnlyOnPhotosWithSkinOnTheWorkingImage) {
  const fs::path shots = dir / "shots";
  fs::create_directories(shots);
  test::write_png(shots / "model.png", model_shot(900, 1200, true));
  test::write_png(shots / "shirt.png", model_shot(900, 1200, false));
  RecordingMasker masker;
  IngestOptions options;
  options.threads = 2;
  options.person_masker = &masker;
  const IngestReport r = ingest(*library, {shots, photos}, options);
  EXPECT_EQ(r.ingested, 5);
  // Only the model shot has skin-coloured pixels: the shirt alone and the
  // red, blue and green products never reach the model.
  EXPECT_EQ(r.person_masked, 1);
  ASSERT_EQ(masker.sizes.size(), 1u);
  // It sees the working copy (longest side 512) that colour analysis sees.
  EXPECT_EQ(masker.sizes[0], cv::Size(384, 512));
}

TEST_F(IngestTest, PersonGateThresholdDecidesWhoIsMasked) {
  RecordingMasker masker;
  IngestOptions options;
  options.person_masker = &masker;
  options.person_gate_skin_fraction = 0.0;  // every photo passes
  const IngestReport r = ingest(*library, {photos}, options);
  EXPECT_EQ(r.ingested, 3);
  EXPECT_EQ(r.person_masked, 3);
  // red.jpg and its copy may be decoded at once (the writer then makes one
  // an alias), so the model may have seen the red photo twice.
  EXPECT_GE(masker.sizes.size(), 3u);
  EXPECT_LE(masker.sizes.size(), 4u);
}

TEST_F(IngestTest, AFailingPersonModelCostsTheMaskNotTheAsset) {
  const fs::path shots = dir / "shots";
  fs::create_directories(shots);
  test::write_png(shots / "model.png", model_shot(600, 800, true));
  RecordingMasker masker;
  masker.fail = true;
  IngestOptions options;
  options.person_masker = &masker;
  const IngestReport r = ingest(*library, {shots}, options);
  EXPECT_EQ(r.ingested, 1);
  EXPECT_EQ(r.rejected, 0);
  EXPECT_EQ(r.person_masked, 0);
  EXPECT_EQ(masker.sizes.size(), 1u);
  const auto a = library->store().find_asset_by_path((shots / "model.png").string());
  ASSERT_TRUE(a);
  EXPECT_FALSE(a->colours.colours.empty());
}

TEST_F(IngestTest, MissingInputIsAnInputError) {
  EXPECT_THROW(ingest(*library, {photos / "nope"}, {}), InputError);
}

TEST(NearDuplicates, GroupsByHammingDistance) {
  const std::vector<store::AssetFingerprint> hashes = {
      {1, 0x0000000000000000ull}, {2, 0x000000000000000Full},  // 4 bits from 1
      {3, 0xFFFFFFFFFFFFFFFFull}, {4, 0xFFFFFFFFFFFFFF00ull},  // 8 bits from 3
      {5, 0x00000000FFFFFFFFull},                              // far from all
      {6, 0x00000000000000FFull}};                             // 4 bits from 2, 8 from 1
  const auto groups = near_duplicate_groups(hashes, 6);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0], (std::vector<store::AssetId>{1, 2, 6}));  // chained through 2
  EXPECT_TRUE(near_duplicate_groups(hashes, 2).empty());
  EXPECT_EQ(near_duplicate_groups(hashes, 8).size(), 2u);
  EXPECT_EQ(near_duplicate_groups(hashes, 8)[1], (std::vector<store::AssetId>{3, 4}));
}

TEST(NearDuplicates, SameHashDifferentColourIsNotADuplicate) {
  std::vector<store::AssetFingerprint> hashes = {{1, 0x1234ull, true, {50, 60, 40}},   // red
                                                 {2, 0x1235ull, true, {15, 0, 0}},     // black
                                                 {3, 0x1236ull, true, {51, 58, 41}}};  // red again
  const auto groups = near_duplicate_groups(hashes);
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups[0], (std::vector<store::AssetId>{1, 3}));
}

TEST(NearDuplicates, RealCopiesAreGroupedThroughIngest) {
  TempDir dir;
  fs::create_directories(dir / "p");
  const cv::Mat original = test::synthetic_product(800, 800, 7, {40, 40, 40});
  test::write_jpeg(dir / "p" / "a.jpg", original, 95);
  cv::Mat half;
  cv::resize(original, half, cv::Size(400, 400), 0, 0, cv::INTER_AREA);
  test::write_jpeg(dir / "p" / "a-small.jpg", half, 70);
  test::write_jpeg(dir / "p" / "b.jpg", test::synthetic_product(800, 800, 8, {40, 40, 40}), 95);
  auto lib = library::Library::open(dir / "lib");
  ingest(*lib, {dir / "p"}, {});
  const auto groups = near_duplicate_groups(lib->store().fingerprints());
  ASSERT_EQ(groups.size(), 1u);
  ASSERT_EQ(groups[0].size(), 2u);
  const auto a = lib->store().find_asset_by_path((dir / "p" / "a.jpg").string());
  const auto small = lib->store().find_asset_by_path((dir / "p" / "a-small.jpg").string());
  EXPECT_EQ(groups[0],
            (std::vector<store::AssetId>{std::min(a->id, small->id), std::max(a->id, small->id)}));
}

// The same, with an original large enough to be shrunk on load while its
// smaller re-encode is decoded in full.
TEST(NearDuplicates, LargeOriginalAndSmallCopyAreGroupedThroughIngest) {
  TempDir dir;
  fs::create_directories(dir / "p");
  const cv::Mat original = test::synthetic_product(2000, 2000, 7, {40, 40, 40});
  test::write_jpeg(dir / "p" / "a.jpg", original, 95);
  cv::Mat copy;
  cv::resize(original, copy, cv::Size(900, 900), 0, 0, cv::INTER_AREA);
  test::write_jpeg(dir / "p" / "a-small.jpg", copy, 70);
  test::write_jpeg(dir / "p" / "b.jpg", test::synthetic_product(2000, 2000, 8, {40, 40, 40}), 95);
  auto lib = library::Library::open(dir / "lib");
  ingest(*lib, {dir / "p"}, {});
  const auto groups = near_duplicate_groups(lib->store().fingerprints());
  ASSERT_EQ(groups.size(), 1u);
  const auto a = lib->store().find_asset_by_path((dir / "p" / "a.jpg").string());
  const auto small = lib->store().find_asset_by_path((dir / "p" / "a-small.jpg").string());
  EXPECT_EQ(groups[0],
            (std::vector<store::AssetId>{std::min(a->id, small->id), std::max(a->id, small->id)}));
  EXPECT_EQ(a->width, 2000);
}

}  // namespace
}  // namespace tagsmith::ingest
