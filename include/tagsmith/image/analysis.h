#pragma once
// Cheap per-asset analysis done at ingest: thumbnail and perceptual hash.
#include <cstdint>
#include <string>
#include <vector>

#include <opencv2/core.hpp>

namespace tagsmith::image {

struct Thumbnail {
  std::vector<std::uint8_t> jpeg;  // encoded bytes
  int width = 0, height = 0;
};

// Longest side `max_side` (never upscaled), area interpolation, JPEG q=85.
Thumbnail make_thumbnail(const cv::Mat& rgb, int max_side = 256);

// 64-bit DCT perceptual hash (OpenCV img_hash PHash). Robust to resizing and
// recompression; near-duplicates differ in a few bits.
std::uint64_t perceptual_hash(const cv::Mat& rgb);

inline int hamming_distance(std::uint64_t a, std::uint64_t b) { return __builtin_popcountll(a ^ b); }

}  // namespace tagsmith::image
