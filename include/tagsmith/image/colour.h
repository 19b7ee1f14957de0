#pragma once
// Dominant colours of a product photo, named against an editable palette.
//
// Generic classifiers flatten every red into "red"; merchandisers want
// "burgundy" vs "tomato". We therefore (1) separate the product from a plain
// studio background by growing the background in from the image border,
// (2) cluster the product pixels with k-means in CIELAB, where Euclidean
// distance roughly follows perception, and (3) name each cluster by the
// nearest palette shade under CIEDE2000, reporting that distance so callers
// can tell a confident "navy" from a guess.
#include <array>
#include <filesystem>
#include <opencv2/core.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/common/colour_record.h"

namespace tagsmith::image {

// The plain colour records (Lab, DominantColour, ColourAnalysis) are defined
// OpenCV-free in common/colour_record.h, so the store can persist them.
using ::tagsmith::ColourAnalysis;
using ::tagsmith::DominantColour;
using ::tagsmith::Lab;

Lab srgb_to_lab(std::array<std::uint8_t, 3> rgb);
std::array<std::uint8_t, 3> lab_to_srgb(const Lab& lab);

// CIEDE2000 colour difference (kL = kC = kH = 1).
double ciede2000(const Lab& x, const Lab& y);

// A named shade, e.g. {id "burgundy", family "red", Lab of #800020}.
struct Shade {
  std::string id;       // stable id, also the taxonomy node id suffix
  std::string name;     // English label
  std::string name_zh;  // Chinese label
  std::string family;   // id of the family it belongs to
  Lab lab;
};

struct ColourFamily {
  std::string id;  // "red", "navy", ...
  std::string name;
  std::string name_zh;
};

// The palette: ~20 families and ~150 shades. Loaded from YAML (the default
// ships in data/palette.yaml and is copied into each library, where users edit it).
class Palette {
 public:
  // Throws tagsmith::InputError with file:line:column on malformed input.
  static Palette parse(std::string_view yaml_text, std::string_view source_name);
  static Palette load(const std::filesystem::path& path);
  static Palette builtin();  // the embedded copy of data/palette.yaml

  const std::vector<ColourFamily>& families() const { return families_; }
  const std::vector<Shade>& shades() const { return shades_; }
  const ColourFamily* family(std::string_view id) const;

  // Nearest shade under CIEDE2000; `delta_e` receives the distance.
  const Shade& nearest(const Lab& lab, double* delta_e) const;
  // Nearest shade of any other family than `family` (the runner-up family
  // of a colour named `family`); null when the palette has no other.
  const Shade* nearest_outside(const Lab& lab, std::string_view family, double* delta_e) const;

 private:
  std::vector<ColourFamily> families_;
  std::vector<Shade> shades_;
};

struct ColourOptions {
  int max_colours = 5;
  double min_share = 0.03;  // clusters smaller than this are dropped (and shares renormalised)
  int work_size = 128;      // longest side the analysis runs at
  unsigned seed = 1;        // k-means is seeded: same image, same answer
};

// `rgb` is CV_8UC3 in RGB order. `person_mask`, when not empty, is a CV_8U
// mask of any size (resized to the analysis size; non-zero = a person, from a
// person-segmentation model): the product is then looked for on the person,
// with skin and hair removed, before any background model is tried.
ColourAnalysis analyse_colours(const cv::Mat& rgb, const Palette& palette,
                               const ColourOptions& options = {},
                               const cv::Mat& person_mask = cv::Mat());

}  // namespace tagsmith::image
