#pragma once
// Score providers: where the tagging engine's scores come from.
//
// A provider turns one asset (its stored record and, when it asks for one,
// its stored embedding) into ScoreSets for the engine (engine.h). Colour
// analysis is one; zero-shot CLIP (vision) and trained heads are others.
// This header is all a provider needs: it does not pull in the service.
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/store/records.h"
#include "tagsmith/tagging/colour_calibration.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

// What a provider gets for one asset. `embedding` is the stored vector under
// the provider's embedding_model(), empty when it has none or asks for none:
// scoring never decodes the photo again.
struct ScoreRequest {
  const store::AssetRecord& asset;
  std::span<const float> embedding;
};

// A source of machine scores: colour analysis, zero-shot CLIP, trained heads.
// Sources must be named "model:<version>" for models (that version is stored
// on the tags they win), "colour" for colour analysis.
//
// Threading: prepare() is called alone (no scores() runs meanwhile); scores()
// is called concurrently from several threads and must not mutate state.
class ScoreProvider {
 public:
  virtual ~ScoreProvider() = default;
  virtual std::string name() const = 0;
  // The model version whose stored embeddings scores() needs; "" for none.
  virtual std::string embedding_model() const { return {}; }
  // Called once per taxonomy before any scores() under it (e.g. to encode
  // the zero-shot prompts of every node).
  virtual void prepare(const taxonomy::Taxonomy& tax) {}
  // Scores for one asset. Called concurrently from several threads.
  virtual std::vector<ScoreSet> scores(const taxonomy::Taxonomy& tax,
                                       const ScoreRequest& request) const = 0;
};

// Colour family and shade from the colour analysis stored at ingest, with
// probabilities from `calibration` (the library's refitted one, or the
// built-in default).
class ColourScoreProvider final : public ScoreProvider {
 public:
  explicit ColourScoreProvider(ColourCalibration calibration = ColourCalibration::builtin())
      : calibration_(std::move(calibration)) {}
  std::string name() const override { return "colour"; }
  std::vector<ScoreSet> scores(const taxonomy::Taxonomy& tax,
                               const ScoreRequest& request) const override;
  const ColourCalibration& calibration() const { return calibration_; }

 private:
  ColourCalibration calibration_;
};

// "model:clip@3f2a" -> "clip@3f2a"; "" for any other actor.
std::string model_version_of(std::string_view actor);

}  // namespace tagsmith::tagging
