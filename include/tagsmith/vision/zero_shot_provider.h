#pragma once
// Zero-shot CLIP scores as a tagging ScoreProvider: for every attribute the
// taxonomy describes with prompts, the stored image embedding is compared
// with the (cached) text embeddings of each leaf node's prompts, averaged
// per node (prompt ensembling), and turned into probabilities with the
// model's logit scale. Parents get their confidence from their children in
// the engine (a child implies its parent), so only leaves compete here.
// Palette attributes are left to the colour analysis, which names shades a
// generic model cannot.
#include <map>
#include <memory>
#include <set>
#include <string>

#include "tagsmith/tagging/score_provider.h"
#include "tagsmith/vision/clip_model.h"
#include "tagsmith/vision/zero_shot.h"

namespace tagsmith::vision {

class ZeroShotScoreProvider final : public tagging::ScoreProvider {
 public:
  // Prompt embeddings are cached in memory and, when `cache_dir` is given,
  // on disk (per model version), so a re-tag encodes no text twice.
  // Attributes in `skip` are left to another provider (trained heads).
  ZeroShotScoreProvider(std::shared_ptr<const ClipModel> model,
                        std::filesystem::path cache_dir = {}, std::set<std::string> skip = {});
  ~ZeroShotScoreProvider() override;

  std::string name() const override { return "zero-shot"; }
  std::string embedding_model() const override { return model_->version(); }
  void prepare(const taxonomy::Taxonomy& tax) override;
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy& tax,
                                        const tagging::ScoreRequest& request) const override;

  // After prepare(): the class text embeddings per attribute (the zero-shot
  // prior that trained heads start from).
  const std::map<std::string, std::unique_ptr<ZeroShotClassifier>>& classifiers() const {
    return classifiers_;
  }

 private:
  std::shared_ptr<const ClipModel> model_;
  TextEmbeddingCache cache_;
  std::set<std::string> skip_;
  std::map<std::string, std::unique_ptr<ZeroShotClassifier>> classifiers_;  // by attribute
};

}  // namespace tagsmith::vision
