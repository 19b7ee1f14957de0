#include "tagsmith/vision/zero_shot_provider.h"

#include <algorithm>

namespace tagsmith::vision {

ZeroShotScoreProvider::ZeroShotScoreProvider(std::shared_ptr<const ClipModel> model,
                                             std::filesystem::path cache_dir,
                                             std::set<std::string> skip)
    : model_(std::move(model)), cache_(std::move(cache_dir)), skip_(std::move(skip)) {}

ZeroShotScoreProvider::~ZeroShotScoreProvider() = default;

void ZeroShotScoreProvider::prepare(const taxonomy::Taxonomy& tax) {
  classifiers_.clear();
  for (const auto& attribute : tax.attributes()) {
    if (attribute.source == "palette" || skip_.count(attribute.id)) continue;
    std::vector<ZeroShotClass> classes;
    for (const auto& node : attribute.nodes) {
      if (!node.children.empty() || node.prompts.empty()) continue;
      classes.push_back({node.id, node.prompts});
    }
    if (classes.size() < 2) continue;  // nothing to choose between
    // Prompts are whole sentences already, so the template is the identity.
    classifiers_[attribute.id] = std::make_unique<ZeroShotClassifier>(
        *model_, std::move(classes), std::vector<std::string>{"{}"}, &cache_);
  }
}

std::vector<tagging::ScoreSet> ZeroShotScoreProvider::scores(
    const taxonomy::Taxonomy& tax, const tagging::ScoreRequest& request) const {
  std::vector<tagging::ScoreSet> out;
  if (request.embedding.empty()) return out;
  Matrix image(1, static_cast<int>(request.embedding.size()));
  std::copy(request.embedding.begin(), request.embedding.end(), image.data.begin());
  for (const auto& [attribute, classifier] : classifiers_) {
    if (classifier->class_embeddings().cols != image.cols) continue;  // another model's vectors
    const ZeroShotScores s = classifier->score(image);
    tagging::ScoreSet set;
    set.source = "model:" + model_->version();
    set.attribute = attribute;
    for (std::size_t c = 0; c < s.class_ids.size(); ++c) {
      const int ci = static_cast<int>(c);
      set.scores.push_back({s.class_ids[c], s.probs.row(0)[ci], {{"logit", s.logits.row(0)[ci]}}});
    }
    set.evidence = {{"method", "zero-shot"}, {"logit_scale", model_->logit_scale()}};
    out.push_back(std::move(set));
  }
  return out;
}

}  // namespace tagsmith::vision
