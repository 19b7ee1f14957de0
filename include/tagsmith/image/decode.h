#pragma once
// Decoding photos, robustly.
//
// Every format users bring (JPEG, PNG, WebP, TIFF, BMP, GIF) is normalised to
// one shape: 8-bit RGB, EXIF orientation applied, CMYK and 16-bit converted,
// greyscale expanded, alpha composited on white. The size guards run on the
// header, before any pixel is decoded, so a 40000x40000 "decompression bomb"
// costs nothing. Failures throw DecodeError with a sentence a user can act on.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <span>
#include <string>

#include "tagsmith/common/error.h"

namespace tagsmith::image {

struct DecodeLimits {
  std::uint64_t max_file_bytes = 256ull << 20;  // 256 MiB
  std::uint64_t max_pixels = 120'000'000;       // ~ 11000 x 11000
};

class DecodeError : public InputError {
 public:
  using InputError::InputError;
};

struct DecodedImage {
  cv::Mat rgb;           // CV_8UC3, RGB order
  std::string format;    // "jpeg", "png", "webp", "tiff", "bmp", "gif"
  int source_width = 0;  // as stored, before orientation
  int source_height = 0;
  int orientation = 1;  // EXIF orientation that was applied (1 = none)
};

// Sniffs the format from the first bytes; "" when it is no supported image.
std::string sniff_format(std::span<const std::uint8_t> head);

// Must be called once per process before decoding (libvips start-up).
void init_decoder();

DecodedImage decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {});
DecodedImage decode_file(const std::filesystem::path& path, const DecodeLimits& limits = {});

}  // namespace tagsmith::image
