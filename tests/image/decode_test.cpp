#include "tagsmith/image/decode.h"

#include <gtest/gtest.h>

#include <mutex>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <thread>

#include "fixtures.h"
#include "tagsmith/common/files.h"
#include "tagsmith/image/analysis.h"
#include "tagsmith/image/colour.h"
#include "temp_dir.h"

namespace tagsmith::image {
namespace {

using test::TempDir;

cv::Vec3b pixel(const DecodedImage& d, int x, int y) {
  return d.rgb.at<cv::Vec3b>(y, x);
}

// A 120x80 picture: left half red, right half blue, so orientation is visible.
cv::Mat halves() {
  cv::Mat m(80, 120, CV_8UC3, cv::Scalar(200, 20, 20));
  m(cv::Rect(60, 0, 60, 80)).setTo(cv::Scalar(20, 20, 200));
  return m;
}

TEST(Decode, AllFormatsBecomeRgb8) {
  TempDir dir;
  const cv::Mat img = halves();
  test::write_jpeg(dir / "a.jpg", img);
  test::write_png(dir / "a.png", img);
  test::write_webp(dir / "a.webp", img);
  test::write_tiff(dir / "a.tiff", img);
  test::write_bmp(dir / "a.bmp", img);
  test::write_gif(dir / "a.gif", img);
  for (auto [file, format] : {std::pair{"a.jpg", "jpeg"},
                              {"a.png", "png"},
                              {"a.webp", "webp"},
                              {"a.tiff", "tiff"},
                              {"a.bmp", "bmp"},
                              {"a.gif", "gif"}}) {
    SCOPED_TRACE(file);
    const DecodedImage d = decode_file(dir / file);
    EXPECT_EQ(d.format, format);
    EXPECT_EQ(d.rgb.type(), CV_8UC3);
    EXPECT_EQ(d.rgb.cols, 120);
    EXPECT_EQ(d.rgb.rows, 80);
    const auto left = pixel(d, 10, 40), right = pixel(d, 110, 40);
    EXPECT_GT(left[0], 150);  // red on the left
    EXPECT_LT(left[2], 80);
    EXPECT_GT(right[2], 150);  // blue on the right
    EXPECT_LT(right[0], 80);
  }
}

TEST(Decode, ExifOrientationApplied) {
  TempDir dir;
  test::write_exif_rotated_jpeg(dir / "rot.jpg", halves(), 6);
  const DecodedImage d = decode_file(dir / "rot.jpg");
  EXPECT_EQ(d.orientation, 6);
  EXPECT_EQ(d.source_width, 80);  // stored sideways
  EXPECT_EQ(d.rgb.cols, 120);     // displayed upright
  EXPECT_EQ(d.rgb.rows, 80);
  EXPECT_GT(pixel(d, 10, 40)[0], 150);
  EXPECT_GT(pixel(d, 110, 40)[2], 150);
}

TEST(Decode, CmykJpegConvertedToRgb) {
  TempDir dir;
  test::write_cmyk_jpeg(dir / "cmyk.jpg", halves());
  const DecodedImage d = decode_file(dir / "cmyk.jpg");
  EXPECT_EQ(d.rgb.type(), CV_8UC3);
  const auto left = pixel(d, 10, 40), right = pixel(d, 110, 40);
  EXPECT_GT(left[0], left[2] + 60);  // still reddish after the profile round trip
  EXPECT_GT(right[2], right[0] + 60);
}

TEST(Decode, SixteenBitPng) {
  TempDir dir;
  test::write_png16(dir / "wide.png", halves());
  const DecodedImage d = decode_file(dir / "wide.png");
  EXPECT_EQ(d.rgb.type(), CV_8UC3);
  const auto left = pixel(d, 10, 40);
  EXPECT_NEAR(left[0], 200, 2);
  EXPECT_NEAR(left[1], 20, 2);
}

TEST(Decode, AlphaCompositedOnWhite) {
  TempDir dir;
  cv::Mat img(50, 50, CV_8UC3, cv::Scalar(255, 255, 255));
  img(cv::Rect(10, 10, 20, 20)).setTo(cv::Scalar(10, 120, 10));
  test::write_png_alpha(dir / "alpha.png", img);
  const DecodedImage d = decode_file(dir / "alpha.png");
  EXPECT_EQ(pixel(d, 2, 2), cv::Vec3b(255, 255, 255));  // transparent black -> white
  EXPECT_EQ(pixel(d, 20, 20), cv::Vec3b(10, 120, 10));
}

TEST(Decode, GreyscaleExpanded) {
  TempDir dir;
  cv::Mat grey(30, 40, CV_8UC1, cv::Scalar(77));
  ASSERT_TRUE(cv::imwrite((dir / "grey.png").string(), grey));
  const DecodedImage d = decode_file(dir / "grey.png");
  EXPECT_EQ(pixel(d, 5, 5), cv::Vec3b(77, 77, 77));
}

TEST(Decode, BadFilesGiveClearErrors) {
  TempDir dir;
  test::write_bytes(dir / "empty.jpg", "");
  test::write_bytes(dir / "text.jpg", "this is not a photo, it is a note\n");
  test::write_truncated_jpeg(dir / "cut.jpg", test::synthetic_product(400, 400, 3), 0.4);
  test::write_png_bomb_header(dir / "bomb.png", 40000, 40000);
  auto message = [&](const char* f) {
    try {
      decode_file(dir / f);
    } catch (const DecodeError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_NE(message("empty.jpg").find("empty"), std::string::npos) << message("empty.jpg");
  EXPECT_NE(message("text.jpg").find("not an image"), std::string::npos) << message("text.jpg");
  EXPECT_NE(message("cut.jpg").find("cannot decode jpeg"), std::string::npos) << message("cut.jpg");
  const std::string bomb = message("bomb.png");
  EXPECT_NE(bomb.find("40000x40000"), std::string::npos) << bomb;
  EXPECT_NE(bomb.find("over the limit"), std::string::npos) << bomb;
}

// The part of a decode error after "cannot decode <format> data: ".
std::string decode_detail(std::span<const std::uint8_t> bytes) {
  try {
    decode(bytes);
  } catch (const DecodeError& e) {
    const std::string what = e.what();
    const auto colon = what.find("data: ");
    return colon == std::string::npos ? what : what.substr(colon + 6);
  }
  return "no error";
}

// Photos of every format as bytes, written by the fixtures.
std::vector<std::pair<std::string, std::vector<std::uint8_t>>> photo_bytes() {
  TempDir dir;
  const cv::Mat img = test::synthetic_product(320, 240, 5);
  test::write_jpeg(dir / "a.jpg", img);
  test::write_png(dir / "a.png", img);
  test::write_webp(dir / "a.webp", img);
  test::write_tiff(dir / "a.tiff", img);
  test::write_gif(dir / "a.gif", img);
  test::write_bmp(dir / "a.bmp", img);
  std::vector<std::pair<std::string, std::vector<std::uint8_t>>> out;
  for (const char* f : {"a.jpg", "a.png", "a.webp", "a.tiff", "a.gif", "a.bmp"})
    out.emplace_back(f, read_file_bytes(dir / f));
  return out;
}

// Damaged files are the commonest rejection; "cannot decode png data: " with
// nothing after it tells the user nothing. Truncation (an interrupted copy or
// download) is named as such; other damage says what the decoder found.
TEST(Decode, EveryDamagedFileSaysWhatIsWrong) {
  for (const auto& [name, bytes] : photo_bytes()) {
    for (const double keep : {0.2, 0.5, 0.9}) {
      SCOPED_TRACE(name + " truncated to " + std::to_string(keep));
      const std::span<const std::uint8_t> cut(bytes.data(),
                                              static_cast<std::size_t>(bytes.size() * keep));
      const std::string detail = decode_detail(cut);
      EXPECT_NE(detail, "no error");
      EXPECT_NE(detail.find("truncated"), std::string::npos) << detail;
    }
    // Garbage in the middle of the image data: the decoder either copes
    // (some formats have no checksums) or says something.
    std::vector<std::uint8_t> corrupt = bytes;
    for (std::size_t i = corrupt.size() / 3; i < corrupt.size() / 3 + 64; ++i) corrupt[i] ^= 0x5a;
    const std::string detail = decode_detail(corrupt);
    SCOPED_TRACE(name + " corrupted: " + detail);
    if (detail != "no error") EXPECT_GT(detail.size(), 10u);
  }
}

// libvips keeps one error log for the whole process: decoding in parallel
// (as ingest does) must still give every damaged file its own reason.
TEST(Decode, DamagedFilesDecodedInParallelEachGetAReason) {
  const auto photos = photo_bytes();
  std::vector<std::vector<std::uint8_t>> cut;
  for (const auto& [name, bytes] : photos)
    cut.emplace_back(bytes.begin(), bytes.begin() + static_cast<std::ptrdiff_t>(bytes.size() / 2));
  std::vector<std::string> failures;
  std::mutex m;
  std::vector<std::jthread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 40; ++i) {
        const std::size_t which = static_cast<std::size_t>(t + i) % cut.size();
        const std::string detail = decode_detail(cut[which]);
        if (detail.find("truncated") == std::string::npos) {
          std::lock_guard lock(m);
          failures.push_back(photos[which].first + ": " + detail);
        }
        decode(photos[which].second);  // and good files in between
      }
    });
  }
  threads.clear();
  EXPECT_TRUE(failures.empty()) << failures.size() << " without a reason, e.g. " << failures[0];
}

TEST(Decode, FileSizeGuard) {
  TempDir dir;
  test::write_jpeg(dir / "a.jpg", halves());
  DecodeLimits limits;
  limits.max_file_bytes = 100;
  EXPECT_THROW(decode_file(dir / "a.jpg", limits), DecodeError);
  limits = {};
  limits.max_pixels = 100 * 50;
  EXPECT_THROW(decode_file(dir / "a.jpg", limits), DecodeError);
}

// Halves again, at any size.
cv::Mat halves(int width, int height) {
  cv::Mat m(height, width, CV_8UC3, cv::Scalar(200, 20, 20));
  m(cv::Rect(width / 2, 0, width - width / 2, height)).setTo(cv::Scalar(20, 20, 200));
  return m;
}

std::vector<std::uint8_t> jpeg_bytes(const cv::Mat& rgb, int quality = 90) {
  TempDir dir;
  test::write_jpeg(dir / "a.jpg", rgb, quality);
  return read_file_bytes(dir / "a.jpg");
}

TEST(ShrinkOnLoad, FactorKeepsBothSidesAtLeastAsLargeAsNeeded) {
  EXPECT_EQ(shrink_factor(1500, 1500, {}), 1);  // full resolution
  EXPECT_EQ(shrink_factor(1500, 1500, {512, 0}), 2);
  EXPECT_EQ(shrink_factor(1500, 1500, {0, 224}), 4);
  EXPECT_EQ(shrink_factor(1500, 1500, {512, 224}), 2);
  EXPECT_EQ(shrink_factor(4096, 3072, {512, 224}), 8);
  EXPECT_EQ(shrink_factor(4000, 3000, {512, 224}), 4);  // 4000 / 8 = 500 < 512
  EXPECT_EQ(shrink_factor(3000, 800, {512, 224}), 2);   // the short side decides
  EXPECT_EQ(shrink_factor(533, 400, {512, 224}), 1);    // already small
  EXPECT_EQ(shrink_factor(1023, 1023, {512, 0}), 1);
  EXPECT_EQ(shrink_factor(1024, 1024, {512, 0}), 2);
}

TEST(ShrinkOnLoad, JpegIsDecodedSmallerAndKeepsItsFullSize) {
  const auto bytes = jpeg_bytes(test::synthetic_product(1500, 1000, 4));
  const DecodedImage full = decode(bytes);
  EXPECT_EQ(full.shrink, 1);
  EXPECT_EQ(full.rgb.cols, 1500);
  EXPECT_EQ(full.rgb.rows, 1000);
  EXPECT_EQ(full.width, 1500);
  EXPECT_EQ(full.height, 1000);

  const DecodedImage small = decode(bytes, {}, {512, 224});
  EXPECT_EQ(small.shrink, 2);
  EXPECT_EQ(small.rgb.cols, 750);
  EXPECT_EQ(small.rgb.rows, 500);
  EXPECT_EQ(small.width, 1500);  // the photo's size, not the decoded copy's
  EXPECT_EQ(small.height, 1000);
  EXPECT_EQ(small.source_width, 1500);
  EXPECT_EQ(small.format, "jpeg");
}

TEST(ShrinkOnLoad, OtherFormatsAreDecodedInFull) {
  TempDir dir;
  test::write_png(dir / "a.png", test::synthetic_product(1200, 1000, 5));
  const DecodedImage d = decode_file(dir / "a.png", {}, {256, 0});
  EXPECT_EQ(d.shrink, 1);
  EXPECT_EQ(d.rgb.cols, 1200);
  EXPECT_EQ(d.width, 1200);
  EXPECT_EQ(d.height, 1000);
}

TEST(ShrinkOnLoad, ExifOrientationApplied) {
  TempDir dir;
  test::write_exif_rotated_jpeg(dir / "rot.jpg", halves(1200, 800), 6);
  const DecodedImage d = decode_file(dir / "rot.jpg", {}, {256, 0});
  EXPECT_EQ(d.orientation, 6);
  EXPECT_EQ(d.shrink, 4);
  EXPECT_EQ(d.source_width, 800);  // stored sideways
  EXPECT_EQ(d.source_height, 1200);
  EXPECT_EQ(d.width, 1200);  // displayed upright
  EXPECT_EQ(d.height, 800);
  EXPECT_EQ(d.rgb.cols, 300);
  EXPECT_EQ(d.rgb.rows, 200);
  EXPECT_GT(pixel(d, 10, 100)[0], 150);   // red on the left
  EXPECT_GT(pixel(d, 290, 100)[2], 150);  // blue on the right
}

TEST(ShrinkOnLoad, CmykJpegConvertedToRgb) {
  TempDir dir;
  test::write_cmyk_jpeg(dir / "cmyk.jpg", halves(1200, 800));
  const DecodedImage d = decode_file(dir / "cmyk.jpg", {}, {256, 0});
  EXPECT_EQ(d.shrink, 4);
  EXPECT_EQ(d.rgb.type(), CV_8UC3);
  const auto left = pixel(d, 10, 100), right = pixel(d, 290, 100);
  EXPECT_GT(left[0], left[2] + 60);
  EXPECT_GT(right[2], right[0] + 60);
}

// A JPEG whose header claims 40000 x 40000 pixels, over a small image's
// data: only decoding would find the data missing, so the limit's message
// shows the header was judged first.
TEST(ShrinkOnLoad, HugeHeaderIsRefusedBeforeDecoding) {
  auto bytes = jpeg_bytes(halves());
  bool patched = false;
  for (std::size_t i = 0; i + 8 < bytes.size(); ++i) {
    if (bytes[i] == 0xFF && (bytes[i + 1] == 0xC0 || bytes[i + 1] == 0xC2)) {
      bytes[i + 5] = 40000 >> 8;  // height
      bytes[i + 6] = 40000 & 0xFF;
      bytes[i + 7] = 40000 >> 8;  // width
      bytes[i + 8] = 40000 & 0xFF;
      patched = true;
      break;
    }
  }
  ASSERT_TRUE(patched);
  for (const NeededSize need : {NeededSize{}, NeededSize{512, 224}}) {
    try {
      decode(bytes, {}, need);
      ADD_FAILURE() << "a 40000x40000 JPEG was decoded";
    } catch (const DecodeError& e) {
      const std::string what = e.what();
      EXPECT_NE(what.find("40000x40000"), std::string::npos) << what;
      EXPECT_NE(what.find("over the limit"), std::string::npos) << what;
    }
  }
}

TEST(ShrinkOnLoad, DamagedJpegSaysItIsTruncated) {
  const auto bytes = jpeg_bytes(test::synthetic_product(1500, 1500, 6));
  const std::span<const std::uint8_t> cut(bytes.data(), bytes.size() / 2);
  try {
    decode(cut, {}, {512, 0});
    ADD_FAILURE() << "half a JPEG was decoded";
  } catch (const DecodeError& e) {
    EXPECT_NE(std::string(e.what()).find("truncated"), std::string::npos) << e.what();
  }
}

// What ingest keeps of a photo (its 512 px working copy's perceptual hash
// and dominant colours) does not depend on shrinking on load: duplicates
// found before are found after, and colours keep their names.
TEST(ShrinkOnLoad, HashAndColoursMatchTheFullDecode) {
  const Palette palette = Palette::builtin();
  const std::vector<cv::Scalar> colours = {{180, 30, 40},  {30, 60, 160}, {40, 40, 40},
                                           {220, 200, 60}, {30, 140, 40}, {240, 240, 240}};
  int most_bits = 0;
  double worst_delta_e = 0;
  for (unsigned seed = 0; seed < colours.size(); ++seed) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    const auto bytes =
        jpeg_bytes(test::synthetic_product(1600, 1200, 40 + seed, colours[seed]), 90);
    const DecodedImage full = decode(bytes);
    const DecodedImage small = decode(bytes, {}, {512, 0});
    ASSERT_EQ(small.shrink, 2);
    const cv::Mat a = shrink_to(full.rgb, 512), b = shrink_to(small.rgb, 512);
    ASSERT_EQ(a.size(), b.size());
    const int bits = hamming_distance(perceptual_hash(a), perceptual_hash(b));
    most_bits = std::max(most_bits, bits);
    EXPECT_LE(bits, 4);
    const ColourAnalysis ca = analyse_colours(a, palette), cb = analyse_colours(b, palette);
    ASSERT_FALSE(ca.colours.empty());
    ASSERT_FALSE(cb.colours.empty());
    EXPECT_EQ(ca.mask, cb.mask);
    EXPECT_EQ(ca.colours[0].family, cb.colours[0].family);
    const double delta_e = ciede2000(ca.colours[0].lab, cb.colours[0].lab);
    worst_delta_e = std::max(worst_delta_e, delta_e);
    EXPECT_LT(delta_e, 2.0);
    EXPECT_NEAR(ca.colours[0].share, cb.colours[0].share, 0.05);
  }
  RecordProperty("most_hash_bits_apart", most_bits);
  RecordProperty("worst_main_colour_delta_e", std::to_string(worst_delta_e));
}

TEST(PerceptualHash, GroupsResizedRecompressedCopyAndSeparatesProducts) {
  TempDir dir;
  const cv::Mat original = test::synthetic_product(600, 600, 11, {30, 60, 160});
  test::write_jpeg(dir / "orig.jpg", original, 95);
  cv::Mat smaller;
  cv::resize(original, smaller, cv::Size(300, 300), 0, 0, cv::INTER_AREA);
  test::write_jpeg(dir / "copy.jpg", smaller, 60);
  // Lightly cropped (3% off each side).
  test::write_jpeg(dir / "crop.jpg", original(cv::Rect(18, 18, 564, 564)).clone(), 80);
  const auto h0 = perceptual_hash(decode_file(dir / "orig.jpg").rgb);
  const auto h1 = perceptual_hash(decode_file(dir / "copy.jpg").rgb);
  const auto h2 = perceptual_hash(decode_file(dir / "crop.jpg").rgb);
  EXPECT_LE(hamming_distance(h0, h1), 6);
  EXPECT_LE(hamming_distance(h0, h2), 12);
  for (unsigned seed = 20; seed < 30; ++seed) {
    const auto other = perceptual_hash(test::synthetic_product(600, 600, seed, {30, 60, 160}));
    EXPECT_GT(hamming_distance(h0, other), 12) << "seed " << seed;
  }
}

// shrink_to's last, fractional step (a shrink by less than 2: no halving
// before it in these cases) is its own area average: the same pixels as
// OpenCV's INTER_AREA, up to rounding.
TEST(ShrinkTo, FractionalStepMatchesOpenCvAreaResize) {
  cv::RNG rng(3);
  for (const auto& [w, h, side] : {std::tuple{750, 750, 512},
                                   {750, 500, 512},
                                   {533, 400, 512},
                                   {1023, 700, 512},
                                   {301, 477, 256},
                                   {97, 45, 64}}) {
    SCOPED_TRACE(std::to_string(w) + "x" + std::to_string(h) + " to " + std::to_string(side));
    cv::Mat noise(h, w, CV_8UC3);
    rng.fill(noise, cv::RNG::UNIFORM, 0, 256);
    const cv::Mat photo = test::synthetic_product(w, h, 9);
    for (const cv::Mat& src : {noise, photo}) {
      const cv::Mat ours = shrink_to(src, side);
      const double scale = static_cast<double>(side) / std::max(w, h);
      cv::Mat theirs;
      cv::resize(src, theirs,
                 cv::Size(static_cast<int>(std::lround(w * scale)),
                          static_cast<int>(std::lround(h * scale))),
                 0, 0, cv::INTER_AREA);
      ASSERT_EQ(ours.size(), theirs.size());
      ASSERT_EQ(ours.type(), theirs.type());
      EXPECT_LE(cv::norm(ours, theirs, cv::NORM_INF), 1.0);
      EXPECT_LT(cv::norm(ours, theirs, cv::NORM_L1) / static_cast<double>(ours.total()), 0.01);
    }
  }
}

TEST(Thumbnail, LongestSide256NoUpscale) {
  const Thumbnail t = make_thumbnail(cv::Mat(1000, 500, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_EQ(t.height, 256);
  EXPECT_EQ(t.width, 128);
  EXPECT_GT(t.jpeg.size(), 100u);
  const Thumbnail s = make_thumbnail(cv::Mat(100, 50, CV_8UC3, cv::Scalar(1, 2, 3)));
  EXPECT_EQ(s.height, 100);
}

}  // namespace
}  // namespace tagsmith::image
