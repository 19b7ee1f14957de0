#include "tagsmith/training/scorer.h"

#include <algorithm>

namespace tagsmith::training {

HeadScorer::HeadScorer(HeadSet heads, ScorerOptions options)
    : heads_(std::move(heads)), options_(std::move(options)) {}

std::vector<tagging::ScoreSet> HeadScorer::score(std::span<const float> embedding) const {
  const auto x = normalised(embedding);
  std::vector<tagging::ScoreSet> out;
  out.reserve(heads_.heads.size());
  for (const auto& head : heads_.heads) {
    auto p = head.probabilities(x);
    tagging::ScoreSet set;
    set.source = source();
    set.attribute = head.attribute;
    set.evidence = {{"model", heads_.version}, {"temperature", head.temperature}};
    if (options_.detect_ood) {
      const auto ood = head.ood(x);
      set.evidence["ood"] = ood.out_of_distribution;
      set.evidence["similarity"] = ood.best_similarity;
      if (ood.out_of_distribution) {
        const auto it = options_.ood_caps.find(head.attribute);
        const double cap = it != options_.ood_caps.end() ? it->second : options_.ood_confidence_cap;
        const double top = *std::max_element(p.begin(), p.end());
        // Scale rather than clip, so the alternatives keep their order and margins.
        if (top > cap) {
          for (auto& v : p) v *= cap / top;
        }
      }
    }
    set.scores.reserve(p.size());
    for (std::size_t k = 0; k < p.size(); ++k)
      set.scores.push_back({head.classes[k], p[k], nullptr});
    out.push_back(std::move(set));
  }
  return out;
}

}  // namespace tagsmith::training
