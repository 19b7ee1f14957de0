#pragma once
// The colour feedback loop: a library's reviewed colour tags refit the colour
// calibration (tagging/colour_calibration.h), and the refit replaces the one
// in use only when it predicts held-out reviewed photos better.
//
// Labels: for each asset, the colour_family nodes a person confirmed or set
// (tag states confirmed / human_set). One family is that family; two or more
// is "multi" (the person named several strong colours). Assets whose colour
// analysis has no clusters are skipped.
//
// Held-out: every fifth labelled asset, chosen by its content hash (so the
// split is stable as labels accumulate, and the same in every library). The refit is fitted on the
// rest and compared with the calibration in use (the active refit, else the built-in default) by
// mean log-loss on the held-out assets. A better refit is registered as the
// active "colour-calibration" model version (artifact
// DIR/models/<version>.yaml) and the previous one retired.
#include <cstddef>
#include <optional>
#include <string>

#include "tagsmith/library/library.h"
#include "tagsmith/tagging/colour_calibration.h"

namespace tagsmith::training {

struct ColourRefitOptions {
  std::string attribute = "colour_family";
  std::size_t min_examples = 40;  // labelled assets needed before a refit is tried
  tagging::ColourFitOptions fit;
  // Activate the refit even if it does not beat the calibration in use (after
  // a palette edit, say, when the old calibration's evidence has changed).
  bool force = false;
};

struct ColourRefitResult {
  std::size_t examples = 0, holdout = 0;
  std::string current;                          // the calibration in use before (version)
  std::string candidate;                        // the refit's version ("" when none was fitted)
  double current_loss = 0, candidate_loss = 0;  // mean log-loss on the held-out assets
  bool promoted = false;
  std::string reason;  // why not fitted / not promoted
};

ColourRefitResult refit_colour_calibration(library::Library& library,
                                           const ColourRefitOptions& options = {});

// The calibration the tagging service uses: the active refit, else the
// built-in default. A registered artifact that cannot be read is an error
// (never a silent fallback).
tagging::ColourCalibration active_colour_calibration(library::Library& library);

}  // namespace tagsmith::training
