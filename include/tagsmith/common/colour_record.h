#pragma once
// The colour vocabulary shared by the image analysis that produces it and the
// store that persists it: plain values, no OpenCV. They live in `common` so that
// `store` and `image` stay independent of each other (image/colour.h brings
// them into `tagsmith::image` under their old names).
#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tagsmith {

// CIELAB (D65, L in [0,100]).
struct Lab {
  double L = 0, a = 0, b = 0;
};

// One cluster of product pixels, named against the palette.
struct DominantColour {
  Lab lab;
  std::array<std::uint8_t, 3> rgb{};
  double share = 0;    // fraction of product pixels in this cluster, sums to 1
  std::string family;  // family id
  std::string shade;   // shade id
  double delta_e = 0;  // CIEDE2000 to the chosen shade
};

struct ColourAnalysis {
  std::vector<DominantColour> colours;  // by share, descending
  double product_fraction = 1.0;        // share of pixels judged to be product
  bool background_removed = false;      // a plain border-connected background was found
};

}  // namespace tagsmith
