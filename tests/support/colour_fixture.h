#pragma once
// A colour calibration for tests of tiers and explanations, so that they do
// not depend on the weights fitted into data/colour_calibration.yaml:
// u = 7.4 x share + 3 (largest) - ΔE for a family (a single colour at ΔE 1 is
// 0.9999, at ΔE 8 0.917), "multi" never.
#include <algorithm>

#include "tagsmith/tagging/colour_calibration.h"

namespace tagsmith::test {

inline tagging::ColourCalibration decisive_colour_calibration() {
  tagging::ColourCalibration c;
  c.version = "colour-cal-test";
  c.fitted_on = "set by hand for tests";
  c.weights.assign(tagging::colour_feature_names().size(), 0.0);
  auto set = [&](const char* name, double w) {
    const auto& names = tagging::colour_feature_names();
    c.weights[static_cast<std::size_t>(std::find(names.begin(), names.end(), name) -
                                       names.begin())] = w;
  };
  set("colour_share", 7.4);
  set("colour_top", 3);
  set("colour_delta_e", -10);  // the feature is ΔE / 10
  set("multi", -10);
  return c;
}

}  // namespace tagsmith::test
