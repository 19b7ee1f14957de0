#pragma once
// Scores an asset's embedding with a head set, in the tagging engine's
// vocabulary: one tagging::ScoreSet per attribute, source "model:<version>",
// scores = calibrated probabilities per class id.
//
// Out-of-distribution rule (docs/training.md): when the embedding is not near
// any class centroid of an attribute (AttributeHead::ood), the scores are
// scaled down so the best is at most the OOD cap (default 0.94, just below
// the default auto threshold 0.95), and the set's evidence says
// {"ood": true, ...}. The engine then flags or suggests the tag for review
// instead of auto-applying it; the ranking is unchanged.
//
// The tagging service's ScoreProvider can wrap this directly: the asset's
// embedding for encoder_version() in, score() out.
#include <map>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/tagging/engine.h"
#include "tagsmith/training/heads.h"

namespace tagsmith::training {

struct ScorerOptions {
  bool detect_ood = true;
  double ood_confidence_cap = 0.94;
  std::map<std::string, double> ood_caps;  // per attribute, e.g. auto threshold - 0.01
};

class HeadScorer {
 public:
  explicit HeadScorer(HeadSet heads, ScorerOptions options = {});

  const std::string& version() const { return heads_.version; }
  const std::string& encoder_version() const { return heads_.encoder_version; }
  std::string source() const { return "model:" + heads_.version; }
  const HeadSet& heads() const { return heads_; }

  // Thread-safe (const, no shared mutable state). Throws InputError when the
  // embedding's dimension does not match the heads.
  std::vector<tagging::ScoreSet> score(std::span<const float> embedding) const;

 private:
  HeadSet heads_;
  ScorerOptions options_;
};

}  // namespace tagsmith::training
