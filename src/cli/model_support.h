#pragma once
// The glue between the vision model, the trained heads and the modules that
// consume scores or vectors (ingest, tagging, search, training), so those
// modules never depend on libtorch or on each other. The CLI and the server
// both build their services here.
#include <map>
#include <memory>
#include <optional>
#include <string>

#include "tagsmith/cli/command.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/search/encoders.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/training/heads.h"
#include "tagsmith/vision/clip_model.h"

namespace tagsmith::cli {

struct ModelChoice {
  std::string name;       // --model NAME; empty = the first manifest model present
  bool disabled = false;  // --no-model
};

// Loads the chosen model, or returns null when none is present (after saying
// once, on stderr, that recognition is off and how to enable it). A model that
// is named explicitly but missing or corrupt is an error. The model version is
// registered in the store as an active encoder.
std::shared_ptr<const vision::ClipModel> load_vision_model(const GlobalOptions& g,
                                                           const ModelChoice& choice,
                                                           store::Store* store);

// ingest::ImageEmbedder over a ClipModel.
class ClipImageEmbedder final : public ingest::ImageEmbedder {
 public:
  explicit ClipImageEmbedder(const vision::ClipModel& model) : model_(model) {}
  std::string version() const override { return model_.version(); }
  int preferred_batch() const override { return 8; }
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) override;

 private:
  const vision::ClipModel& model_;
};

// The vision model behind search's encoder interfaces.
class ClipEncoders final : public search::TextEncoder, public search::ImageEncoder {
 public:
  explicit ClipEncoders(std::shared_ptr<const vision::ClipModel> m) : model_(std::move(m)) {}
  std::string version() const override { return model_->version(); }
  std::vector<float> encode_text(const std::string& text) override;
  std::vector<float> encode_image_file(const std::filesystem::path& file) override;

 private:
  std::shared_ptr<const vision::ClipModel> model_;
};

// The tagging service with every score provider the library can use: colour
// analysis always; the active trained heads; zero-shot CLIP for the
// attributes the heads do not cover (when a model is present and `model`
// allows it).
// `preloaded`: a model the caller already holds (so it is not loaded twice).
std::unique_ptr<tagging::TagService> make_tag_service(
    library::Library& lib, const GlobalOptions& g, const ModelChoice& model = {},
    std::shared_ptr<const vision::ClipModel> preloaded = nullptr);

// The zero-shot prior (class text embeddings per attribute) for training heads.
std::map<std::string, training::ZeroShotPrior> zero_shot_priors(
    const vision::ClipModel& model, const taxonomy::Taxonomy& tax,
    const std::filesystem::path& cache_dir);

std::filesystem::path text_cache_dir(const library::Library& lib);

}  // namespace tagsmith::cli
