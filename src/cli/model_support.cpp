#include "model_support.h"

#include <iostream>
#include <set>

#include "tagsmith/common/clock.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/training/scorer.h"
#include "tagsmith/vision/model_locator.h"
#include "tagsmith/vision/zero_shot_provider.h"

namespace tagsmith::cli {
namespace {

// Trained heads as a tagging score source.
class HeadScoreProvider final : public tagging::ScoreProvider {
 public:
  explicit HeadScoreProvider(training::HeadSet heads) : scorer_(std::move(heads)) {}
  std::string name() const override { return "heads"; }
  std::string embedding_model() const override { return scorer_.encoder_version(); }
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy&,
                                        const tagging::ScoreRequest& r) const override {
    if (r.embedding.empty()) return {};
    return scorer_.score(r.embedding);
  }

 private:
  training::HeadScorer scorer_;
};

}  // namespace

std::shared_ptr<const vision::ClipModel> load_vision_model(const GlobalOptions& g,
                                                           const ModelChoice& choice,
                                                           store::Store* store) {
  if (choice.disabled) return nullptr;
  const vision::ModelLocator locator(g.models);
  std::filesystem::path dir;
  // The library remembers the encoder its embeddings were made with; use it
  // again unless told otherwise (within --models when that is given).
  std::filesystem::path remembered;
  if (choice.name.empty() && store) {
    for (const auto& m : store->model_versions()) {
      if (m.kind == store::ModelKind::kEncoder && m.status == store::ModelStatus::kActive &&
          !m.artifact_path.empty())
        remembered = m.artifact_path;
    }
    if (!remembered.empty()) {
      if (!g.models.empty()) {
        remembered =
            locator.try_find(remembered.filename().string()).value_or(std::filesystem::path());
      } else if (!std::filesystem::exists(remembered / "config.json")) {
        remembered.clear();
      }
    }
  }
  if (!choice.name.empty()) {
    dir = locator.find(choice.name);  // throws, naming every place looked at
  } else if (!remembered.empty()) {
    dir = remembered;
  } else if (auto name = locator.default_model()) {
    dir = locator.find(*name);
  } else {
    static bool said = false;
    if (!said && !g.quiet) {
      std::cerr << "note: no vision model found, so recognition is off (colours, hashes and "
                   "duplicates still "
                   "work).\n"
                << locator.how_to_enable() << "\n";
    }
    said = true;
    return nullptr;
  }
  vision::RuntimeOptions options;
  options.threads = g.threads;
  std::shared_ptr<const vision::ClipModel> model = vision::ClipModel::load(dir, options);
  if (store) {
    store::ModelVersion v;
    v.version = model->version();
    v.kind = store::ModelKind::kEncoder;
    v.status = store::ModelStatus::kActive;
    v.created_at = now_utc_iso8601();
    v.artifact_path = dir.string();
    store->add_model_version(v);  // no-op when already registered
  }
  return model;
}

std::vector<std::vector<float>> ClipImageEmbedder::embed(const std::vector<cv::Mat>& images) {
  const vision::Matrix m = model_.encode_images(images);
  std::vector<std::vector<float>> out;
  out.reserve(static_cast<std::size_t>(m.rows));
  for (int i = 0; i < m.rows; ++i) {
    const auto row = m.row(i);
    out.emplace_back(row.begin(), row.end());
  }
  return out;
}

std::vector<float> ClipEncoders::encode_text(const std::string& text) {
  const auto m = model_->encode_texts({text});
  return {m.data.begin(), m.data.end()};
}

std::vector<float> ClipEncoders::encode_image_file(const std::filesystem::path& file) {
  const auto m = model_->encode_images({image::decode_file(file).rgb});
  return {m.data.begin(), m.data.end()};
}

std::filesystem::path text_cache_dir(const library::Library& lib) {
  return lib.dir() / "cache" / "text";
}

std::unique_ptr<tagging::TagService> make_tag_service(
    library::Library& lib, const GlobalOptions& g, const ModelChoice& choice,
    std::shared_ptr<const vision::ClipModel> preloaded) {
  std::vector<std::unique_ptr<tagging::ScoreProvider>> providers;
  providers.push_back(std::make_unique<tagging::ColourScoreProvider>());
  std::set<std::string> covered;
  if (auto heads = training::load_active_heads(lib)) {
    for (const auto& h : heads->heads) covered.insert(h.attribute);
    providers.push_back(std::make_unique<HeadScoreProvider>(std::move(*heads)));
  }
  if (auto model = preloaded ? preloaded : load_vision_model(g, choice, &lib.store())) {
    providers.push_back(
        std::make_unique<vision::ZeroShotScoreProvider>(model, text_cache_dir(lib), covered));
  }
  return std::make_unique<tagging::TagService>(lib, std::move(providers));
}

std::map<std::string, training::ZeroShotPrior> zero_shot_priors(
    const vision::ClipModel& model, const taxonomy::Taxonomy& tax,
    const std::filesystem::path& cache_dir) {
  // Non-owning shared_ptr: the provider lives only inside this call.
  vision::ZeroShotScoreProvider provider(
      std::shared_ptr<const vision::ClipModel>(&model, [](const auto*) {}), cache_dir);
  provider.prepare(tax);
  std::map<std::string, training::ZeroShotPrior> priors;
  for (const auto& [attribute, classifier] : provider.classifiers()) {
    training::ZeroShotPrior p;
    for (const auto& c : classifier->classes()) p.classes.push_back(c.id);
    p.embeddings = classifier->class_embeddings().data;
    p.dim = classifier->class_embeddings().cols;
    p.logit_scale = model.logit_scale();
    priors[attribute] = std::move(p);
  }
  return priors;
}

}  // namespace tagsmith::cli
