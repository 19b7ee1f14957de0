#include "clip_encoder.h"

#include "tagsmith/vision/zero_shot_provider.h"

namespace tagsmith::app {
namespace {

class ClipEncoder final : public Encoder {
 public:
  explicit ClipEncoder(std::shared_ptr<const vision::ClipModel> model) : model_(std::move(model)) {}

  EncoderFamily family() const override { return EncoderFamily::kClip; }
  const std::string& version() const override { return model_->version(); }
  int embedding_dim() const override { return model_->embedding_dim(); }
  int preferred_batch() const override { return 8; }
  int input_size() const override { return model_->image_size(); }  // shortest side, then crop
  std::vector<std::vector<float>> embed_images(const std::vector<cv::Mat>& rgb) const override {
    return rows_of(model_->encode_images(rgb));
  }

  bool has_text() const override { return true; }
  std::vector<float> embed_text(const std::string& text) const override {
    const auto m = model_->encode_texts({text});
    return {m.data.begin(), m.data.end()};
  }

  std::unique_ptr<tagging::ScoreProvider> score_provider(
      const std::filesystem::path& cache_dir, std::set<std::string> skip) const override {
    return std::make_unique<vision::ZeroShotScoreProvider>(model_, cache_dir, std::move(skip));
  }

  std::map<std::string, training::ZeroShotPrior> head_priors(
      const taxonomy::Taxonomy& tax, const std::filesystem::path& cache_dir) const override {
    vision::ZeroShotScoreProvider provider(model_, cache_dir);
    provider.prepare(tax);
    std::map<std::string, training::ZeroShotPrior> priors;
    for (const auto& [attribute, classifier] : provider.classifiers()) {
      training::ZeroShotPrior p;
      for (const auto& c : classifier->classes()) p.classes.push_back(c.id);
      p.embeddings = classifier->class_embeddings().data;
      p.dim = classifier->class_embeddings().cols;
      p.logit_scale = model_->logit_scale();
      priors[attribute] = std::move(p);
    }
    return priors;
  }

 private:
  std::shared_ptr<const vision::ClipModel> model_;
};

}  // namespace

std::vector<std::vector<float>> rows_of(const vision::Matrix& m) {
  std::vector<std::vector<float>> out;
  out.reserve(static_cast<std::size_t>(m.rows));
  for (int i = 0; i < m.rows; ++i) {
    const auto row = m.row(i);
    out.emplace_back(row.begin(), row.end());
  }
  return out;
}

std::shared_ptr<const Encoder> make_clip_encoder(std::shared_ptr<const vision::ClipModel> model) {
  return std::make_shared<ClipEncoder>(std::move(model));
}

}  // namespace tagsmith::app
