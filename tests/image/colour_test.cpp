#include "tagsmith/image/colour.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <opencv2/imgproc.hpp>
#include <set>
#include <string>

#include "tagsmith/common/error.h"
#include "temp_dir.h"

namespace tagsmith::image {
namespace {

using ::testing::AllOf;
using ::testing::HasSubstr;
using ::testing::StartsWith;

// ---------------------------------------------------------------------------
// CIEDE2000

struct SharmaPair {
  Lab x, y;
  double expected;
};

// All 34 test pairs of Sharma, Wu & Dalal (2005), Table 1. They exercise the
// hue-angle wrap-around, the mean-hue branches and near-achromatic inputs.
const SharmaPair kSharma[] = {
    {{50.0000, 2.6772, -79.7751}, {50.0000, 0.0000, -82.7485}, 2.0425},
    {{50.0000, 3.1571, -77.2803}, {50.0000, 0.0000, -82.7485}, 2.8615},
    {{50.0000, 2.8361, -74.0200}, {50.0000, 0.0000, -82.7485}, 3.4412},
    {{50.0000, -1.3802, -84.2814}, {50.0000, 0.0000, -82.7485}, 1.0000},
    {{50.0000, -1.1848, -84.8006}, {50.0000, 0.0000, -82.7485}, 1.0000},
    {{50.0000, -0.9009, -85.5211}, {50.0000, 0.0000, -82.7485}, 1.0000},
    {{50.0000, 0.0000, 0.0000}, {50.0000, -1.0000, 2.0000}, 2.3669},
    {{50.0000, -1.0000, 2.0000}, {50.0000, 0.0000, 0.0000}, 2.3669},
    {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0009}, 7.1792},
    {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0010}, 7.1792},
    {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0011}, 7.2195},
    {{50.0000, 2.4900, -0.0010}, {50.0000, -2.4900, 0.0012}, 7.2195},
    {{50.0000, -0.0010, 2.4900}, {50.0000, 0.0009, -2.4900}, 4.8045},
    {{50.0000, -0.0010, 2.4900}, {50.0000, 0.0010, -2.4900}, 4.8045},
    {{50.0000, -0.0010, 2.4900}, {50.0000, 0.0011, -2.4900}, 4.7461},
    {{50.0000, 2.5000, 0.0000}, {50.0000, 0.0000, -2.5000}, 4.3065},
    {{50.0000, 2.5000, 0.0000}, {73.0000, 25.0000, -18.0000}, 27.1492},
    {{50.0000, 2.5000, 0.0000}, {61.0000, -5.0000, 29.0000}, 22.8977},
    {{50.0000, 2.5000, 0.0000}, {56.0000, -27.0000, -3.0000}, 31.9030},
    {{50.0000, 2.5000, 0.0000}, {58.0000, 24.0000, 15.0000}, 19.4535},
    {{50.0000, 2.5000, 0.0000}, {50.0000, 3.1736, 0.5854}, 1.0000},
    {{50.0000, 2.5000, 0.0000}, {50.0000, 3.2972, 0.0000}, 1.0000},
    {{50.0000, 2.5000, 0.0000}, {50.0000, 1.8634, 0.5757}, 1.0000},
    {{50.0000, 2.5000, 0.0000}, {50.0000, 3.2592, 0.3350}, 1.0000},
    {{60.2574, -34.0099, 36.2677}, {60.4626, -34.1751, 39.4387}, 1.2644},
    {{63.0109, -31.0961, -5.8663}, {62.8187, -29.7946, -4.0864}, 1.2630},
    {{61.2901, 3.7196, -5.3901}, {61.4292, 2.2480, -4.9620}, 1.8731},
    {{35.0831, -44.1164, 3.7933}, {35.0232, -40.0716, 1.5901}, 1.8645},
    {{22.7233, 20.0904, -46.6940}, {23.0331, 14.9730, -42.5619}, 2.0373},
    {{36.4612, 47.8580, 18.3852}, {36.2715, 50.5065, 21.2231}, 1.4146},
    {{90.8027, -2.0831, 1.4410}, {91.1528, -1.6435, 0.0447}, 1.4441},
    {{90.9257, -0.5406, -0.9208}, {88.6381, -0.8985, -0.7239}, 1.5381},
    {{6.7747, -0.2908, -2.4247}, {5.8714, -0.0985, -2.2286}, 0.6377},
    {{2.0776, 0.0795, -1.1350}, {0.9033, -0.0636, -0.5514}, 0.9082},
};

TEST(Ciede2000, MatchesSharmaTestData) {
  int index = 1;
  for (const auto& p : kSharma) {
    // The published values are rounded to 4 decimals.
    EXPECT_NEAR(ciede2000(p.x, p.y), p.expected, 0.5e-4 + 1e-9) << "pair " << index;
    ++index;
  }
}

TEST(Ciede2000, IsSymmetricAndZeroOnIdentity) {
  for (const auto& p : kSharma) {
    EXPECT_NEAR(ciede2000(p.x, p.y), ciede2000(p.y, p.x), 1e-9);
    EXPECT_EQ(ciede2000(p.x, p.x), 0.0);
  }
}

// ---------------------------------------------------------------------------
// sRGB <-> Lab

TEST(ColourLab, KnownValues) {
  const Lab white = srgb_to_lab({255, 255, 255});
  EXPECT_NEAR(white.L, 100.0, 1e-6);
  EXPECT_NEAR(white.a, 0.0, 1e-6);
  EXPECT_NEAR(white.b, 0.0, 1e-6);
  const Lab black = srgb_to_lab({0, 0, 0});
  EXPECT_NEAR(black.L, 0.0, 1e-9);

  // Reference values (D65, 2 degree observer) as given by common calculators.
  const Lab red = srgb_to_lab({255, 0, 0});
  EXPECT_NEAR(red.L, 53.2408, 2e-3);
  EXPECT_NEAR(red.a, 80.0925, 2e-3);
  EXPECT_NEAR(red.b, 67.2032, 2e-3);
  const Lab blue = srgb_to_lab({0, 0, 255});
  EXPECT_NEAR(blue.L, 32.2970, 2e-3);
  EXPECT_NEAR(blue.a, 79.1875, 2e-3);
  EXPECT_NEAR(blue.b, -107.8602, 2e-3);
  const Lab mid_grey = srgb_to_lab({128, 128, 128});
  EXPECT_NEAR(mid_grey.L, 53.5850, 2e-3);
  EXPECT_NEAR(mid_grey.a, 0.0, 1e-6);
}

TEST(ColourLab, RoundTripsEvery8BitColourOnAGrid) {
  int mismatches = 0;
  for (int r = 0; r < 256; r += 3)
    for (int g = 0; g < 256; g += 3)
      for (int b = 0; b < 256; b += 3) {
        const std::array<std::uint8_t, 3> rgb{static_cast<std::uint8_t>(r),
                                              static_cast<std::uint8_t>(g),
                                              static_cast<std::uint8_t>(b)};
        if (lab_to_srgb(srgb_to_lab(rgb)) != rgb) ++mismatches;
      }
  EXPECT_EQ(mismatches, 0);
}

TEST(ColourLab, OutOfGamutLabIsClipped) {
  const auto rgb = lab_to_srgb({50, 200, -200});
  EXPECT_EQ(rgb[1], 0);  // green clipped to 0, no wrap-around
  EXPECT_EQ(lab_to_srgb({120, 0, 0}), (std::array<std::uint8_t, 3>{255, 255, 255}));
  EXPECT_EQ(lab_to_srgb({-5, 0, 0}), (std::array<std::uint8_t, 3>{0, 0, 0}));
}

// ---------------------------------------------------------------------------
// Palette

TEST(Palette, BuiltinIsCompleteAndConsistent) {
  const Palette palette = Palette::builtin();
  EXPECT_GE(palette.families().size(), 18u);
  EXPECT_GE(palette.shades().size(), 140u);
  std::set<std::string> shade_ids;
  for (const Shade& s : palette.shades()) {
    EXPECT_NE(palette.family(s.family), nullptr) << s.id << " names family " << s.family;
    EXPECT_TRUE(shade_ids.insert(s.id).second) << "duplicate shade " << s.id;
    EXPECT_FALSE(s.name.empty()) << s.id;
    EXPECT_FALSE(s.name_zh.empty()) << s.id;
  }
  for (const ColourFamily& f : palette.families()) {
    EXPECT_FALSE(f.name_zh.empty()) << f.id;
    // "multi" is a decision (several strong colours), not a colour: no shade names it.
    if (f.id == "multi") continue;
    // Every family has a canonical shade of the same id, so pure colours get the plain name.
    EXPECT_TRUE(shade_ids.contains(f.id)) << "family without canonical shade: " << f.id;
  }
  EXPECT_EQ(palette.family("no_such_family"), nullptr);
}

TEST(Palette, NearestNamesWellKnownHexValues) {
  const Palette palette = Palette::builtin();
  struct Case {
    std::array<std::uint8_t, 3> rgb;
    const char* shade;
    const char* family;
  };
  const Case cases[] = {
      {{0x80, 0x00, 0x20}, "burgundy", "red"}, {{0xFF, 0xFF, 0xFF}, "white", "white"},
      {{0x00, 0x00, 0x00}, "black", "black"},  {{0x36, 0x45, 0x4F}, "charcoal", "grey"},
      {{0x00, 0x00, 0x80}, "navy", "navy"},    {{0xFF, 0xFD, 0xD0}, "cream", "cream"},
      {{0xF5, 0xF5, 0xDC}, "beige", "beige"},  {{0xFA, 0xF9, 0xF6}, "off_white", "white"},
  };
  for (const auto& c : cases) {
    double de = -1;
    const Shade& s = palette.nearest(srgb_to_lab(c.rgb), &de);
    EXPECT_EQ(s.id, c.shade);
    EXPECT_EQ(s.family, c.family);
    EXPECT_NEAR(de, 0.0, 1e-9);
  }
  // Near-misses land in the right family: a slightly warm white is still
  // white-ish, not cream; a very dark blue-black is black, not navy.
  double de = 0;
  EXPECT_EQ(palette.nearest(srgb_to_lab({0xFC, 0xFC, 0xFA}), &de).family, "white");
  EXPECT_EQ(palette.nearest(srgb_to_lab({0x10, 0x10, 0x14}), &de).family, "black");
  EXPECT_EQ(palette.nearest(srgb_to_lab({0x14, 0x1E, 0x46}), &de).family, "navy");
}

TEST(Palette, EmptyPaletteNearestThrows) {
  const Palette empty;
  EXPECT_THROW(empty.nearest({50, 0, 0}, nullptr), Error);
}

// A small valid palette in block style, so line:column positions are easy to
// read off. `extra` is appended to the (single) shade's mapping.
std::string small_palette(const std::string& shade_lines = "") {
  return "version: 1\n"              // 1
         "families:\n"               // 2
         "  - id: red\n"             // 3
         "    name: Red\n"           // 4
         "    name_zh: 红色\n"       // 5
         "shades:\n"                 // 6
         "  - id: cherry\n"          // 7
         "    name: Cherry\n"        // 8
         "    family: red\n"         // 9
         "    hex: \"#D2042D\"\n" +  // 10
         shade_lines;
}

std::string parse_error(const std::string& yaml) {
  try {
    Palette::parse(yaml, "test.yaml");
  } catch (const InputError& e) {
    return e.what();
  }
  return "(no error)";
}

TEST(Palette, ParsesSmallPalette) {
  const Palette p = Palette::parse(small_palette(), "test.yaml");
  ASSERT_EQ(p.families().size(), 1u);
  ASSERT_EQ(p.shades().size(), 1u);
  EXPECT_EQ(p.families()[0].name_zh, "红色");
  EXPECT_EQ(p.shades()[0].id, "cherry");
  EXPECT_EQ(p.shades()[0].name_zh, "Cherry");  // optional; falls back to English
  EXPECT_EQ(lab_to_srgb(p.shades()[0].lab), (std::array<std::uint8_t, 3>{0xD2, 0x04, 0x2D}));
}

TEST(Palette, TextThatIsNotUtf8IsRefusedWhereTheByteIs) {
  EXPECT_EQ(parse_error("families:\n  - {id: red, name: R\xe9" "d}\n"),
            "test.yaml:2:22: byte 0xE9 is not UTF-8; save the file as UTF-8");
}

TEST(Palette, ParseErrorsReportLineAndColumn) {
  EXPECT_THAT(parse_error(small_palette("    colour: x\n")),
              StartsWith("test.yaml:11:5: unknown key 'colour' in shade"));
  EXPECT_THAT(parse_error(small_palette("  - id: cherry\n"
                                        "    name: Cherry again\n"
                                        "    family: red\n"
                                        "    hex: \"#D2042D\"\n")),
              StartsWith("test.yaml:11:9: duplicate shade id 'cherry' (first defined at 7:9)"));
  EXPECT_THAT(parse_error(small_palette("  - id: rosso\n"
                                        "    name: Rosso\n"
                                        "    family: reed\n"
                                        "    hex: \"#FF0000\"\n")),
              StartsWith("test.yaml:13:13: shade 'rosso' names unknown family 'reed'"));
  EXPECT_THAT(parse_error(small_palette("  - id: bad\n"
                                        "    name: Bad\n"
                                        "    family: red\n"
                                        "    hex: \"#12345G\"\n")),
              StartsWith("test.yaml:14:10: bad hex '#12345G' for shade 'bad'"));
  EXPECT_THAT(parse_error(small_palette("  - id: short\n"
                                        "    name: Short\n"
                                        "    family: red\n"
                                        "    hex: \"#FFF\"\n")),
              StartsWith("test.yaml:14:10: bad hex '#FFF'"));
  // An unquoted hex is a YAML comment: the value is null, say how to fix it.
  EXPECT_THAT(parse_error(small_palette("  - id: unquoted\n"
                                        "    name: Unquoted\n"
                                        "    family: red\n"
                                        "    hex: #FF0000\n")),
              AllOf(StartsWith("test.yaml:14:5: 'hex' of shade 'unquoted' is empty"),
                    HasSubstr("quote it")));
  EXPECT_THAT(parse_error(small_palette("  - id: noname\n"
                                        "    name:\n"
                                        "    family: red\n"
                                        "    hex: \"#FF0000\"\n")),
              StartsWith("test.yaml:12:5: 'name' of shade 'noname' must be a non-empty string"));
  EXPECT_THAT(parse_error(small_palette("  - id: Not-Snake\n"
                                        "    name: X\n"
                                        "    family: red\n"
                                        "    hex: \"#FF0000\"\n")),
              StartsWith("test.yaml:11:9: invalid shade id 'Not-Snake'"));
  EXPECT_THAT(parse_error(small_palette("  - id: nameless\n"
                                        "    family: red\n"
                                        "    hex: \"#FF0000\"\n")),
              StartsWith("test.yaml:11:5: shade 'nameless' is missing 'name'"));
}

TEST(Palette, ParseErrorsInStructure) {
  EXPECT_THAT(parse_error("colours: []\n" + small_palette()),
              StartsWith("test.yaml:1:1: unknown key 'colours' in palette"));
  EXPECT_THAT(parse_error("version: 2\nfamilies: []\nshades: []\n"),
              StartsWith("test.yaml:1:10: unsupported palette version '2'"));
  EXPECT_THAT(parse_error("version: 1\nfamilies:\n  - id: red\n    name: Red\n"
                          "  - id: red\n    name: Red again\nshades: []\n"),
              StartsWith("test.yaml:5:9: duplicate family id 'red' (first defined at 3:9)"));
  EXPECT_THAT(parse_error("version: 1\nfamilies:\n  - {id: red, name: Red}\n"),
              AllOf(StartsWith("test.yaml:1:1:"), HasSubstr("'shades' must be a non-empty list")));
  EXPECT_THAT(parse_error("- just\n- a list\n"),
              StartsWith("test.yaml:1:1: palette must be a mapping"));
  // Flow style, as the shipped file uses: the key's own column is reported.
  EXPECT_THAT(parse_error("families:\n  - {id: red, name: Red, nmae_zh: x}\n"),
              StartsWith("test.yaml:2:26: unknown key 'nmae_zh' in family"));
  // Syntax errors from yaml-cpp carry its position too.
  EXPECT_THAT(parse_error("version: 1\nfamilies: [\n  {id: red\n"), StartsWith("test.yaml:"));
  EXPECT_THAT(parse_error("version: 1\nfamilies:\n  - id: red\n   name: Red\n"),
              StartsWith("test.yaml:4:"));
}

TEST(Palette, LoadReadsFileAndReportsMissingFile) {
  test::TempDir dir;
  const auto path = dir / "palette.yaml";
  {
    std::ofstream out(path);
    out << small_palette();
  }
  EXPECT_EQ(Palette::load(path).shades().size(), 1u);
  EXPECT_THROW(Palette::load(dir / "missing.yaml"), InputError);

  {
    std::ofstream out(path);
    out << small_palette("    bogus: 1\n");
  }
  EXPECT_THAT(parse_error(small_palette("    bogus: 1\n")), StartsWith("test.yaml:11:5:"));
  try {
    Palette::load(path);
    FAIL() << "expected InputError";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), StartsWith(path.string() + ":11:5: unknown key 'bogus'"));
  }
}

// ---------------------------------------------------------------------------
// analyse_colours

cv::Scalar scalar(std::array<std::uint8_t, 3> rgb) {
  return cv::Scalar(rgb[0], rgb[1], rgb[2]);
}

cv::Mat uniform(int w, int h, std::array<std::uint8_t, 3> rgb) {
  return cv::Mat(h, w, CV_8UC3, scalar(rgb));
}

const DominantColour* find_family(const ColourAnalysis& a, const std::string& family) {
  for (const auto& c : a.colours)
    if (c.family == family) return &c;
  return nullptr;
}

void expect_well_formed(const ColourAnalysis& a) {
  double sum = 0;
  for (std::size_t i = 0; i < a.colours.size(); ++i) {
    sum += a.colours[i].share;
    if (i > 0) {
      EXPECT_GE(a.colours[i - 1].share, a.colours[i].share);
    }
  }
  if (!a.colours.empty()) {
    EXPECT_NEAR(sum, 1.0, 1e-9);
  }
}

class ColourAnalysisTest : public ::testing::Test {
 protected:
  const Palette palette_ = Palette::builtin();
};

TEST_F(ColourAnalysisTest, UniformBurgundySwatch) {
  const auto a = analyse_colours(uniform(300, 200, {0x80, 0x00, 0x20}), palette_);
  ASSERT_EQ(a.colours.size(), 1u);
  EXPECT_EQ(a.colours[0].shade, "burgundy");
  EXPECT_EQ(a.colours[0].family, "red");
  EXPECT_LT(a.colours[0].delta_e, 1.0);
  EXPECT_DOUBLE_EQ(a.colours[0].share, 1.0);
  EXPECT_EQ(a.colours[0].rgb, (std::array<std::uint8_t, 3>{0x80, 0x00, 0x20}));
  // The whole frame is one plain colour: there is no product to separate.
  EXPECT_FALSE(a.background_removed);
  EXPECT_DOUBLE_EQ(a.product_fraction, 1.0);
}

TEST_F(ColourAnalysisTest, EveryShippedShadeNamesItselfAsAUniformSwatch) {
  for (const Shade& s : palette_.shades()) {
    const auto a = analyse_colours(uniform(40, 40, lab_to_srgb(s.lab)), palette_);
    ASSERT_EQ(a.colours.size(), 1u) << s.id;
    EXPECT_EQ(a.colours[0].shade, s.id);
    EXPECT_LT(a.colours[0].delta_e, 0.5) << s.id;
  }
}

TEST_F(ColourAnalysisTest, SwatchOfKnownLabIsReportedWithItsDistance) {
  // A mid red between crimson and cardinal, specified in Lab.
  const Lab target{45, 65, 35};
  const auto a = analyse_colours(uniform(64, 64, lab_to_srgb(target)), palette_);
  ASSERT_EQ(a.colours.size(), 1u);
  EXPECT_EQ(a.colours[0].family, "red");
  EXPECT_LT(ciede2000(a.colours[0].lab, target), 0.5);
  double de = 0;
  EXPECT_EQ(palette_.nearest(a.colours[0].lab, &de).id, a.colours[0].shade);
  EXPECT_NEAR(a.colours[0].delta_e, de, 1e-9);
}

TEST_F(ColourAnalysisTest, NavyCoatOnWhite) {
  cv::Mat img = uniform(600, 800, {255, 255, 255});
  // A coat-ish shape: body plus sleeves, in a dark desaturated navy.
  const cv::Scalar navy = scalar({0x1F, 0x2A, 0x44});
  cv::rectangle(img, cv::Rect(180, 150, 240, 520), navy, cv::FILLED);
  cv::rectangle(img, cv::Rect(110, 160, 70, 380), navy, cv::FILLED);
  cv::rectangle(img, cv::Rect(420, 160, 70, 380), navy, cv::FILLED);
  const double area = (240.0 * 520 + 2 * 70.0 * 380) / (600.0 * 800);

  const auto a = analyse_colours(img, palette_);
  expect_well_formed(a);
  EXPECT_TRUE(a.background_removed);
  EXPECT_NEAR(a.product_fraction, area, 0.05);
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "navy") << a.colours[0].shade;
  EXPECT_GT(a.colours[0].share, 0.95);
  EXPECT_EQ(find_family(a, "white"), nullptr);
}

TEST_F(ColourAnalysisTest, TwoColourProductOnWhiteReportsAreaShares) {
  cv::Mat img = uniform(640, 480, {255, 255, 255});
  // 60% red, 40% cobalt, touching each other, with JPEG-like noise.
  cv::rectangle(img, cv::Rect(120, 80, 400, 192), scalar({0xC4, 0x1E, 0x3A}), cv::FILLED);
  cv::rectangle(img, cv::Rect(120, 272, 400, 128), scalar({0x00, 0x47, 0xAB}), cv::FILLED);
  cv::Mat noise(img.size(), CV_16SC3), wide, noisy;
  cv::theRNG().state = 42;
  cv::randn(noise, cv::Scalar::all(0), cv::Scalar::all(3));
  img.convertTo(wide, CV_16SC3);
  cv::Mat(wide + noise).convertTo(noisy, CV_8UC3);  // saturates at 0 and 255

  const auto a = analyse_colours(noisy, palette_);
  expect_well_formed(a);
  EXPECT_TRUE(a.background_removed);
  ASSERT_EQ(a.colours.size(), 2u);
  EXPECT_EQ(a.colours[0].family, "red");
  EXPECT_NEAR(a.colours[0].share, 0.6, 0.05);
  EXPECT_EQ(a.colours[1].family, "blue");
  EXPECT_EQ(a.colours[1].shade, "cobalt");
  EXPECT_NEAR(a.colours[1].share, 0.4, 0.05);
  EXPECT_EQ(find_family(a, "white"), nullptr);
}

TEST_F(ColourAnalysisTest, WhiteShirtOutlinedOnWhiteKeepsWhite) {
  cv::Mat img = uniform(400, 400, {255, 255, 255});
  // A white T-shirt silhouette, exactly the background colour, separated from
  // it only by a grey outline.
  std::vector<cv::Point> shirt = {{120, 60},  {170, 60},  {200, 80},  {230, 60},  {280, 60},
                                  {350, 130}, {310, 170}, {290, 150}, {290, 350}, {110, 350},
                                  {110, 150}, {90, 170},  {50, 130}};
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{shirt}, cv::Scalar(255, 255, 255));
  cv::polylines(img, std::vector<std::vector<cv::Point>>{shirt}, true, cv::Scalar(120, 120, 120),
                6);

  const auto a = analyse_colours(img, palette_);
  expect_well_formed(a);
  EXPECT_TRUE(a.background_removed);
  EXPECT_GT(a.product_fraction, 0.3);
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "white");
  EXPECT_GT(a.colours[0].share, 0.7);
}

TEST_F(ColourAnalysisTest, SmallSpecksAreDroppedAndLogoBelowMinShareIgnored) {
  cv::Mat img = uniform(500, 500, {245, 245, 245});  // light grey studio backdrop
  cv::rectangle(img, cv::Rect(100, 100, 300, 300), scalar({0x22, 0x8B, 0x22}), cv::FILLED);
  // A logo covering ~1% of the product.
  cv::rectangle(img, cv::Rect(240, 240, 30, 30), scalar({0xFF, 0xD7, 0x00}), cv::FILLED);
  const auto a = analyse_colours(img, palette_);
  ASSERT_EQ(a.colours.size(), 1u);
  EXPECT_EQ(a.colours[0].shade, "forest_green");

  ColourOptions keep_all;
  keep_all.min_share = 0.0;
  const auto b = analyse_colours(img, palette_, keep_all);
  ASSERT_NE(find_family(b, "gold"), nullptr);
  EXPECT_NEAR(find_family(b, "gold")->share, 0.01, 0.01);
}

TEST_F(ColourAnalysisTest, TinyProductFallsBackToWholeImage) {
  cv::Mat img = uniform(400, 400, {255, 255, 255});
  cv::circle(img, {200, 200}, 20, scalar({0xFF, 0x00, 0x00}), cv::FILLED);  // ~0.8% of frame
  const auto a = analyse_colours(img, palette_);
  EXPECT_FALSE(a.background_removed);
  EXPECT_DOUBLE_EQ(a.product_fraction, 1.0);
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "white");
}

TEST_F(ColourAnalysisTest, BusyBorderIsNotTreatedAsBackground) {
  // Vertical stripes: the border has no single plain colour.
  cv::Mat img = uniform(300, 300, {0, 0, 0});
  for (int x = 0; x < 300; x += 60)
    cv::rectangle(img, cv::Rect(x, 0, 30, 300), scalar({0xFF, 0xFF, 0x00}), cv::FILLED);
  const auto a = analyse_colours(img, palette_);
  expect_well_formed(a);
  EXPECT_FALSE(a.background_removed);
  // The two stripe colours dominate; the blended pixels along the stripe
  // edges after downscaling may form small clusters of their own.
  ASSERT_GE(a.colours.size(), 2u);
  EXPECT_GT(a.colours[0].share + a.colours[1].share, 0.8);
  std::set<std::string> families{a.colours[0].family, a.colours[1].family};
  EXPECT_EQ(families, (std::set<std::string>{"black", "yellow"}));
}

TEST_F(ColourAnalysisTest, DeterministicForASeedAndRespectsMaxColours) {
  cv::Mat img(240, 320, CV_8UC3);
  cv::theRNG().state = 7;
  cv::randu(img, cv::Scalar::all(0), cv::Scalar::all(256));
  ColourOptions opt;
  opt.max_colours = 3;
  opt.min_share = 0;
  const auto a = analyse_colours(img, palette_, opt);
  const auto b = analyse_colours(img, palette_, opt);
  ASSERT_EQ(a.colours.size(), b.colours.size());
  EXPECT_LE(a.colours.size(), 3u);
  for (std::size_t i = 0; i < a.colours.size(); ++i) {
    EXPECT_EQ(a.colours[i].shade, b.colours[i].shade);
    EXPECT_DOUBLE_EQ(a.colours[i].share, b.colours[i].share);
    EXPECT_DOUBLE_EQ(a.colours[i].lab.L, b.colours[i].lab.L);
  }
  expect_well_formed(a);
}

TEST_F(ColourAnalysisTest, WorkSizeDoesNotChangeTheAnswerForASimpleProduct) {
  cv::Mat img = uniform(1500, 1500, {255, 255, 255});
  cv::circle(img, {750, 750}, 500, scalar({0x80, 0x00, 0x80}), cv::FILLED);
  for (int work : {64, 128, 256}) {
    ColourOptions opt;
    opt.work_size = work;
    const auto a = analyse_colours(img, palette_, opt);
    ASSERT_EQ(a.colours.size(), 1u) << work;
    EXPECT_EQ(a.colours[0].shade, "purple") << work;
    EXPECT_NEAR(a.product_fraction, 3.14159 * 500 * 500 / (1500.0 * 1500), 0.04) << work;
  }
}

TEST_F(ColourAnalysisTest, EmptyAndWrongTypeInputs) {
  EXPECT_TRUE(analyse_colours(cv::Mat(), palette_).colours.empty());
  EXPECT_THROW(analyse_colours(cv::Mat(10, 10, CV_8UC1, cv::Scalar(0)), palette_), Error);
  // Degenerate sizes still produce an answer.
  const auto a = analyse_colours(uniform(1, 1, {0, 0, 255}), palette_);
  ASSERT_EQ(a.colours.size(), 1u);
  EXPECT_EQ(a.colours[0].shade, "blue");
}

// ---------------------------------------------------------------------------
// Product masks on generated photos (issue: colour that holds on real photos)

// Adds JPEG-like noise, so that no test relies on perfectly flat colours.
cv::Mat with_noise(const cv::Mat& img, double sigma, int seed) {
  cv::Mat noise(img.size(), CV_16SC3), wide, noisy;
  cv::RNG rng(static_cast<std::uint64_t>(seed));
  rng.fill(noise, cv::RNG::NORMAL, cv::Scalar::all(0), cv::Scalar::all(sigma));
  img.convertTo(wide, CV_16SC3);
  cv::Mat(wide + noise).convertTo(noisy, CV_8UC3);
  return noisy;
}

// A standing model in a T-shirt: skin-toned head, neck, arms and legs, dark
// hair, the garment on the torso. Returns the photo; `person` receives the
// mask a person-segmentation model would give.
cv::Mat model_shot(std::array<std::uint8_t, 3> garment, cv::Mat* person) {
  cv::Mat img = uniform(400, 600, {236, 236, 236});
  cv::Mat mask(img.size(), CV_8U, cv::Scalar(0));
  const cv::Scalar skin = scalar({224, 172, 138});
  const cv::Scalar hair = scalar({60, 40, 30});
  auto paint = [&](auto draw_shape, const cv::Scalar& colour) {
    draw_shape(img, colour);
    draw_shape(mask, cv::Scalar(255));
  };
  paint(
      [](cv::Mat& m, const cv::Scalar& c) {
        cv::ellipse(m, {200, 95}, {42, 52}, 0, 0, 360, c, cv::FILLED);
      },
      skin);
  paint(
      [](cv::Mat& m, const cv::Scalar& c) {
        cv::ellipse(m, {200, 70}, {46, 34}, 0, 180, 360, c, cv::FILLED);
      },
      hair);
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(185, 140, 30, 30), c, cv::FILLED); },
        skin);
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(95, 175, 40, 190), c, cv::FILLED); },
        skin);  // arms
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(265, 175, 40, 190), c, cv::FILLED); },
        skin);
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(150, 380, 45, 210), c, cv::FILLED); },
        skin);  // legs
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(205, 380, 45, 210), c, cv::FILLED); },
        skin);
  paint([](cv::Mat& m,
           const cv::Scalar& c) { cv::rectangle(m, cv::Rect(130, 165, 140, 220), c, cv::FILLED); },
        scalar(garment));  // the T-shirt, sleeves included
  *person = mask;
  return with_noise(img, 3, 11);
}

double skin_family_share(const ColourAnalysis& a) {
  double share = 0;
  for (const auto& c : a.colours)
    if (c.family == "beige" || c.family == "pink" || c.family == "orange" || c.family == "brown" ||
        c.family == "cream")
      share += c.share;
  return share;
}

TEST_F(ColourAnalysisTest, GarmentOnAPersonIsNamedByTheGarmentNotTheSkin) {
  cv::Mat person;
  for (auto garment : {std::array<std::uint8_t, 3>{0x2E, 0x8B, 0x57},     // green
                       std::array<std::uint8_t, 3>{250, 250, 250},        // white
                       std::array<std::uint8_t, 3>{0x80, 0x80, 0x80}}) {  // grey
    const cv::Mat img = model_shot(garment, &person);
    const Lab lab = srgb_to_lab(garment);
    const std::string family = palette_.nearest(lab, nullptr).family;
    const auto with = analyse_colours(img, palette_, {}, person);
    expect_well_formed(with);
    EXPECT_EQ(with.mask, "person");
    ASSERT_FALSE(with.colours.empty());
    EXPECT_EQ(with.colours[0].family, family);
    EXPECT_GT(with.colours[0].share, 0.8) << family;
    EXPECT_LT(skin_family_share(with), 0.1) << family;
    // Without the person model the skin is part of the "product".
    const auto without = analyse_colours(img, palette_);
    EXPECT_EQ(without.mask, "background");
    EXPECT_GT(skin_family_share(without), 0.2) << family;
  }
}

TEST_F(ColourAnalysisTest, SmallPersonMaskIsIgnored) {
  cv::Mat img = uniform(400, 400, {255, 255, 255});
  cv::rectangle(img, cv::Rect(100, 100, 200, 200), scalar({0x00, 0x47, 0xAB}), cv::FILLED);
  cv::Mat person(img.size(), CV_8U, cv::Scalar(0));
  cv::rectangle(person, cv::Rect(0, 0, 40, 40), cv::Scalar(255), cv::FILLED);  // 1% of the frame
  const auto a = analyse_colours(img, palette_, {}, person);
  EXPECT_EQ(a.mask, "background");
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "blue");
}

TEST_F(ColourAnalysisTest, WhiteShirtOnWhiteWithOnlyAFaintShadowIsWhite) {
  cv::Mat img = uniform(400, 400, {252, 252, 252});
  std::vector<cv::Point> shirt = {{120, 60},  {170, 60},  {200, 80},  {230, 60},  {280, 60},
                                  {350, 130}, {310, 170}, {290, 150}, {290, 350}, {110, 350},
                                  {110, 150}, {90, 170},  {50, 130}};
  // The soft shadow a flat lay casts: a blurred, slightly darker silhouette
  // offset down-right, under a white shirt a little greyer than the blown-out
  // backdrop, with soft folds.
  cv::Mat shadow = img.clone();
  std::vector<cv::Point> offset;
  for (const auto& p : shirt) offset.push_back(p + cv::Point(6, 6));
  cv::fillPoly(shadow, std::vector<std::vector<cv::Point>>{offset}, cv::Scalar(215, 215, 215));
  cv::GaussianBlur(shadow, img, cv::Size(9, 9), 3);
  cv::Mat cloth = uniform(400, 400, {238, 238, 240});
  for (int y = 0; y < 400; ++y)
    for (int x = 0; x < 400; ++x) {
      const double fold = 5 * std::sin(x / 17.0) * std::sin(y / 29.0);
      cloth.at<cv::Vec3b>(y, x) = cv::Vec3b::all(cv::saturate_cast<std::uint8_t>(238 + fold));
    }
  cv::Mat inside(img.size(), CV_8U, cv::Scalar(0));
  cv::fillPoly(inside, std::vector<std::vector<cv::Point>>{shirt}, cv::Scalar(255));
  cloth.copyTo(img, inside);
  // A small navy print on the chest: what is left when the shirt is lost.
  cv::rectangle(img, cv::Rect(170, 140, 60, 40), scalar({0x1F, 0x2A, 0x44}), cv::FILLED);
  const auto a = analyse_colours(with_noise(img, 1.5, 5), palette_);
  expect_well_formed(a);
  EXPECT_EQ(a.mask, "background");
  EXPECT_GT(a.product_fraction, 0.25);
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "white") << a.colours[0].shade;
  EXPECT_GT(a.colours[0].share, 0.7);
}

TEST_F(ColourAnalysisTest, RedTexturedBackgroundDoesNotMakeAGreyGarmentRed) {
  // A grey skirt laid on a red plaid bedsheet with folds: dark-red bands and
  // pale lines every 40 px, so no single border colour describes it.
  cv::Mat img(480, 360, CV_8UC3);
  for (int y = 0; y < img.rows; ++y)
    for (int x = 0; x < img.cols; ++x) {
      const double fold = 25 * std::sin(x / 23.0 + y / 41.0);
      const bool band = (x / 20) % 2 == 0 || (y / 20) % 2 == 0;
      const bool line = x % 40 < 3 || y % 40 < 3;
      cv::Vec3d c = line   ? cv::Vec3d(235, 200, 200)
                    : band ? cv::Vec3d(190, 30, 40)
                           : cv::Vec3d(110, 15, 25);
      img.at<cv::Vec3b>(y, x) = cv::Vec3b(cv::saturate_cast<std::uint8_t>(c[0] + fold),
                                          cv::saturate_cast<std::uint8_t>(c[1] + fold / 3),
                                          cv::saturate_cast<std::uint8_t>(c[2] + fold / 3));
    }
  std::vector<cv::Point> skirt = {{130, 90}, {230, 90}, {290, 400}, {70, 400}};
  cv::fillPoly(img, std::vector<std::vector<cv::Point>>{skirt}, cv::Scalar(128, 128, 128));
  const auto a = analyse_colours(with_noise(img, 3, 9), palette_);
  expect_well_formed(a);
  EXPECT_EQ(a.mask, "busy");
  ASSERT_FALSE(a.colours.empty());
  EXPECT_EQ(a.colours[0].family, "grey") << a.colours[0].shade;
  const DominantColour* red = find_family(a, "red");
  EXPECT_TRUE(red == nullptr || red->share < 0.1) << red->share;
}

}  // namespace
}  // namespace tagsmith::image
