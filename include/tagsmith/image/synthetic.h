#pragma once
// Synthetic product photos: a textured garment-like shape in a known colour on
// an off-white studio background. Tests, benchmarks and the demo use them
// where no real catalogue is at hand; since the colour is known, so is the
// right colour tag.
#include <cstdint>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <vector>

namespace tagsmith::image {

// `rgb` is the product colour. Different seeds give different shapes/textures.
cv::Mat synthetic_product(int width, int height, unsigned seed, cv::Scalar rgb = {180, 30, 40});

struct SampleCatalogueOptions {
  int count = 60;
  int size = 800;  // longest side in pixels
  unsigned seed = 1;
  bool with_problem_files = true;  // a truncated JPEG, a text file named .jpg, an exact copy
};

// Writes a folder of sample product photos (JPEG/PNG/WebP, in sub-folders by
// colour) and returns the paths written.
std::vector<std::filesystem::path> write_sample_catalogue(
    const std::filesystem::path& dir, const SampleCatalogueOptions& options = {});

}  // namespace tagsmith::image
