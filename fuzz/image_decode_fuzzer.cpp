// Fuzzes photo decoding and the analysis ingest runs on what decodes: any
// byte string either decodes to an 8-bit RGB image within the limits or is
// refused with DecodeError (the only exception the contract allows); what
// decodes must survive colour analysis, the thumbnail and the perceptual hash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>

#include "tagsmith/image/analysis.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/image/decode.h"

namespace {

using namespace tagsmith;

// Small limits keep one execution in milliseconds; the guards themselves are
// part of what is fuzzed (a header claiming a huge size must be refused
// before any pixel is decoded).
constexpr image::DecodeLimits kLimits{.max_file_bytes = 1 << 20, .max_pixels = 2'000'000};

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  image::init_decoder();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const image::Palette palette = image::Palette::builtin();
  image::DecodedImage decoded;
  try {
    decoded = image::decode(std::span<const std::uint8_t>(data, size), kLimits);
  } catch (const image::DecodeError&) {
    return 0;
  }
  const cv::Mat& rgb = decoded.rgb;
  check(rgb.type() == CV_8UC3 && !rgb.empty());
  check(static_cast<std::uint64_t>(rgb.total()) <= kLimits.max_pixels);
  check(decoded.orientation >= 1 && decoded.orientation <= 8);
  check(!decoded.format.empty());

  const image::ColourAnalysis colours = image::analyse_colours(rgb, palette);
  for (const auto& c : colours.colours) check(c.share >= 0.0 && c.share <= 1.0 + 1e-9);
  check(colours.product_fraction >= 0.0 && colours.product_fraction <= 1.0 + 1e-9);
  const image::Thumbnail thumb = image::make_thumbnail(rgb, 64);
  check(!thumb.jpeg.empty() && thumb.width >= 1 && thumb.height >= 1 && thumb.width <= 64 &&
        thumb.height <= 64);
  (void)image::perceptual_hash(rgb);
  return 0;
}
