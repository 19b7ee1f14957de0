#pragma once
// Shared helpers of the vision tests: fixture paths and the synthetic test
// image that tests/vision/make_fixtures.py also draws.
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <sstream>
#include <string>

namespace tagsmith::test {

inline std::filesystem::path vision_fixtures() {
  return TAGSMITH_VISION_FIXTURES;
}
inline std::filesystem::path shared_dir() {
  return TAGSMITH_SHARED_DIR;
}

inline nlohmann::json read_json(const std::filesystem::path& p) {
  std::ifstream f(p);
  std::stringstream ss;
  ss << f.rdbuf();
  return nlohmann::json::parse(ss.str());
}

// Same integer formula as synth_image() in make_fixtures.py.
inline cv::Mat synth_image(int w, int h, int seed, int mode) {
  cv::Mat m(h, w, CV_8UC3);
  const std::uint64_t M = 0xFFFFFFFFull;
  for (int y = 0; y < h; ++y)
    for (int x = 0; x < w; ++x)
      for (int c = 0; c < 3; ++c) {
        const std::uint64_t X = x, Y = y;
        std::uint64_t hsh = ((X * 73856093ull) ^ (Y * 19349663ull) ^
                             ((c * 83492791ull + seed * 2654435761ull) & M)) &
                            M;
        hsh ^= hsh >> 13;
        hsh = (hsh * 0x5BD1E995ull) & M;
        hsh ^= hsh >> 15;
        std::uint64_t v;
        if (mode == 0)
          v = hsh & 255;
        else
          v = (X * 200 / std::max(w - 1, 1) + Y * 55 / std::max(h - 1, 1) + c * 40 + (hsh & 15)) &
              255;
        m.at<cv::Vec3b>(y, x)[c] = static_cast<std::uint8_t>(v);
      }
  return m;
}

}  // namespace tagsmith::test
