#pragma once
// Colour confidence that means what it says: the colour analysis' evidence
// (clusters with their share, ΔE to the nearest shade, lightness and chroma;
// how the product was found) turned into the probability that a colour family
// is the product's colour.
//
// The model is a conditional logit over an asset's candidates: every colour
// family its clusters name, plus "multi" when two or more are present, plus an
// implicit "none of these" whose utility is 0:
//
//   P(candidate c) = exp(w · x_c) / (1 + Σ_j exp(w · x_j))
//
// so a photo whose clusters all look doubtful leaves probability on "none",
// instead of handing 0.95 to the least bad colour. The features x_c are listed
// in colour_features(); the weights w are fitted on labelled photos
// (fit_colour_calibration: L2-regularised maximum likelihood). The default
// ships in data/colour_calibration.yaml; `tagsmith train` refits it from a
// library's own reviewed colour tags.
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/common/colour_record.h"

namespace tagsmith::tagging {

// The family id of the "several strong colours" decision.
inline constexpr std::string_view kMultiColour = "multi";

struct ColourCandidate {
  std::string family;            // a palette family id, or kMultiColour
  std::vector<double> features;  // colour_features() layout
  double share = 0;              // pooled share of the product (multi: 1 - top share)
  double delta_e = 0;            // share-weighted ΔE to the named shades (multi: 0)
};

// The candidates of one analysis, families in descending share, multi last.
std::vector<ColourCandidate> colour_candidates(const ColourAnalysis& colours);

// Names of the features, in order (what data/colour_calibration.yaml lists).
const std::vector<std::string>& colour_feature_names();

class ColourCalibration {
 public:
  // The calibration shipped with tagsmith (data/colour_calibration.yaml).
  static const ColourCalibration& builtin();
  // Throws tagsmith::InputError (with file:line) on malformed input or when
  // the features listed are not colour_feature_names().
  static ColourCalibration parse(std::string_view yaml_text, std::string_view source_name);
  std::string to_yaml() const;

  // Probabilities of `candidates`, same order (they sum to at most 1).
  std::vector<double> probabilities(const std::vector<ColourCandidate>& candidates) const;

  std::string version;          // e.g. "colour-cal-1" (builtin) or "colour-cal@<library time>"
  std::string fitted_on;        // a sentence: which photos, how many
  std::vector<double> weights;  // one per feature
};

// One labelled photo for fitting: its analysis and the true family (a
// palette family id or kMultiColour).
struct ColourExample {
  ColourAnalysis colours;
  std::string family;
};

struct ColourFitOptions {
  // Strength of the pull towards `prior` (a Gaussian prior on the weights, in
  // units of one example's log-likelihood): with a few dozen reviewed photos
  // the fit stays close to the prior, with hundreds the data decide.
  double l2 = 2.0;
  // Prior weights; empty: colour_prior_weights().
  std::vector<double> prior;
  int iterations = 2000;
};

// The prior every fit starts from, set by hand rather than from data: neutral
// (0) for the colour features, whose meaning the data tell well, and the
// structure of "multi" (two strong, contrasting families make it likely),
// which labelled sets rarely show enough of. Data refine it (the shipped
// default is fitted on clothing-small; a library refits from its reviewed
// tags) without being able to forget it where they are silent.
const std::vector<double>& colour_prior_weights();

// MAP fit (convex; gradient descent with a backtracking step).
ColourCalibration fit_colour_calibration(const std::vector<ColourExample>& examples,
                                         const ColourFitOptions& options = {});

// Mean negative log-likelihood of `examples` under `calibration` (lower is
// better); how `tagsmith train` decides whether a refit beats the current one.
double colour_log_loss(const ColourCalibration& calibration,
                       const std::vector<ColourExample>& examples);

}  // namespace tagsmith::tagging
