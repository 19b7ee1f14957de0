#include "tagsmith/tagging/score_provider.h"

namespace tagsmith::tagging {

std::vector<ScoreSet> ColourScoreProvider::scores(const taxonomy::Taxonomy& tax,
                                                  const ScoreRequest& r) const {
  return colour_scores(tax, r.asset.colours, calibration_);
}

std::string model_version_of(std::string_view actor) {
  constexpr std::string_view kPrefix = "model:";
  if (actor.substr(0, kPrefix.size()) != kPrefix) return {};
  return std::string(actor.substr(kPrefix.size()));
}

}  // namespace tagsmith::tagging
