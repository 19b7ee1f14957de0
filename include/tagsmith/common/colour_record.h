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
  // The runner-up: the nearest family other than `family`, and the ΔE to its
  // nearest shade. A faded denim sits between grey and blue, a dim white
  // shirt between silver and white; the colour calibration weighs both.
  std::string alt_family;
  double alt_delta_e = 0;
};

struct ColourAnalysis {
  std::vector<DominantColour> colours;  // by share, descending
  double product_fraction = 1.0;        // share of pixels judged to be product
  bool background_removed = false;      // a product region was found (mask != "none")
  // How the product was found: "person" (on a person, skin and head removed),
  // "background" (plain backdrop removed), "busy" (textured backdrop removed
  // by GrabCut), "none" (whole photo), "" (analysed before masks were
  // recorded).
  std::string mask;
};

}  // namespace tagsmith
