#pragma once
// Decoding photos, robustly.
//
// Every format users bring (JPEG, PNG, WebP, TIFF, BMP, GIF) is normalised to
// one shape: 8-bit RGB, EXIF orientation applied, CMYK and 16-bit converted,
// greyscale expanded, alpha composited on white. The size guards run on the
// header, before any pixel is decoded, so a 40000x40000 "decompression bomb"
// costs nothing. Failures throw DecodeError with a sentence a user can act on.
//
// A caller that will only look at a smaller version of the photo says how
// small (NeededSize): JPEGs are then shrunk while decoding (libjpeg's
// DCT-domain scaling by 2, 4 or 8), which skips most of the inverse DCT and
// colour conversion work of a full-size decode.
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

// The least resolution a caller will use: the decoded image keeps its
// longest side >= `longest_side` and its shortest side >= `shortest_side`
// (or the photo's own, when smaller); 0 puts no bound on that side. All
// zero (the default): the full resolution.
struct NeededSize {
  int longest_side = 0;
  int shortest_side = 0;
  bool full() const { return longest_side <= 0 && shortest_side <= 0; }
};

struct DecodedImage {
  cv::Mat rgb;           // CV_8UC3, RGB order; smaller than width x height when shrunk
  std::string format;    // "jpeg", "png", "webp", "tiff", "bmp", "gif"
  int source_width = 0;  // as stored, before orientation
  int source_height = 0;
  int orientation = 1;  // EXIF orientation that was applied (1 = none)
  // The photo's full size, orientation applied (rgb's size when not shrunk):
  // what the asset records, whatever resolution was decoded.
  int width = 0;
  int height = 0;
  int shrink = 1;  // the factor the decoder shrank by on load (1: full resolution)
};

// Sniffs the format from the first bytes; "" when it is no supported image.
std::string sniff_format(std::span<const std::uint8_t> head);

// Must be called once per process before decoding (libvips start-up).
void init_decoder();

// The shrink-on-load factor (1, 2, 4 or 8) that keeps a `width` x `height`
// photo at least as large as `need`; 1 when `need` is full().
int shrink_factor(int width, int height, const NeededSize& need);

// `need` lets JPEGs be decoded smaller (see NeededSize); other formats are
// always decoded at full resolution. The size guards always judge the full
// size, read from the header before any pixel is decoded.
DecodedImage decode(std::span<const std::uint8_t> bytes, const DecodeLimits& limits = {},
                    const NeededSize& need = {});
DecodedImage decode_file(const std::filesystem::path& path, const DecodeLimits& limits = {},
                         const NeededSize& need = {});

}  // namespace tagsmith::image
