#pragma once
// Cheap per-asset analysis done at ingest: thumbnail and perceptual hash.
#include <cstdint>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace tagsmith::image {

struct Thumbnail {
  std::vector<std::uint8_t> jpeg;  // encoded bytes
  int width = 0, height = 0;
};

// Shrinks so the longest side is at most `max_side`, averaging areas (never
// upscales; returns the input when already small enough). A single fractional
// INTER_AREA pass over a multi-megapixel photo costs ~7 ms; OpenCV's exact-2x
// INTER_AREA is a vectorised box filter, so we halve (dropping an odd last
// row/column, which changes nothing visible) while the image is at least
// twice the target, then do one small fractional pass: the same box average
// up to rounding, in ~1 ms.
cv::Mat shrink_to(const cv::Mat& rgb, int max_side);

// Longest side `max_side` (never upscaled), area interpolation, JPEG q=85.
Thumbnail make_thumbnail(const cv::Mat& rgb, int max_side = 256);

// 64-bit DCT perceptual hash (OpenCV img_hash PHash). Robust to resizing and
// recompression; near-duplicates differ in a few bits.
std::uint64_t perceptual_hash(const cv::Mat& rgb);

inline int hamming_distance(std::uint64_t a, std::uint64_t b) {
  return __builtin_popcountll(a ^ b);
}

}  // namespace tagsmith::image
