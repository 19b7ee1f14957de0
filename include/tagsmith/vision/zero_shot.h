#pragma once
// Zero-shot classification with CLIP: each class is described by one or more
// names, every name is put into every template ("a product photo of {}"),
// and the class embedding is the renormalised mean of the normalised prompt
// embeddings (prompt ensembling, as in the CLIP paper). An image's logits are
// logit_scale * cosine(image, class); probabilities are their softmax.
//
// Text embeddings are cached per model version: in memory, and optionally on
// disk (one small file per prompt, keyed by model version + sha256 of the
// prompt), so a taxonomy of hundreds of prompts is encoded once per model.
#include <filesystem>
#include <mutex>
#include <opencv2/core.hpp>
#include <string>
#include <unordered_map>
#include <vector>

#include "tagsmith/vision/clip_model.h"

namespace tagsmith::vision {

struct ZeroShotClass {
  std::string id;
  std::vector<std::string> names;  // substituted for "{}" in each template
};

// The default templates: product-photo phrasing first, then CLIP's generic.
const std::vector<std::string>& default_templates();

// Thread-safe cache of text embeddings.
class TextEmbeddingCache {
 public:
  // `disk_dir` empty: memory only.
  explicit TextEmbeddingCache(std::filesystem::path disk_dir = {});

  // Embeddings of `texts` under `model` (rows in order), encoding only those
  // not cached yet, in one batch.
  Matrix encode(const ClipModel& model, const std::vector<std::string>& texts);

  std::size_t memory_entries() const;
  std::size_t encoded_count() const { return encoded_; }  // texts the model had to encode

 private:
  std::filesystem::path disk_path(const std::string& version, const std::string& text) const;
  std::filesystem::path disk_dir_;
  mutable std::mutex mutex_;
  std::unordered_map<std::string, std::vector<float>> memory_;  // version + '\n' + text
  std::size_t encoded_ = 0;
};

struct ZeroShotScores {
  std::vector<std::string> class_ids;
  Matrix logits;  // images x classes: logit_scale * cosine
  Matrix probs;   // row-wise softmax of logits
  // Index of the best class for image `i`.
  int top(int i) const;
};

class ZeroShotClassifier {
 public:
  // Encodes (or fetches from `cache`) every prompt. Throws InputError when a
  // class has no names or a template lacks "{}".
  ZeroShotClassifier(const ClipModel& model, std::vector<ZeroShotClass> classes,
                     std::vector<std::string> templates = default_templates(),
                     TextEmbeddingCache* cache = nullptr);

  const Matrix& class_embeddings() const { return class_embeddings_; }
  const std::vector<ZeroShotClass>& classes() const { return classes_; }

  // Scores already-computed L2-normalised image embeddings.
  ZeroShotScores score(const Matrix& image_embeddings) const;
  // Encodes then scores CV_8UC3 RGB images.
  ZeroShotScores classify(const std::vector<cv::Mat>& rgb) const;

  // "{}" in `templ` replaced by `name`.
  static std::string fill(const std::string& templ, const std::string& name);

 private:
  const ClipModel& model_;
  std::vector<ZeroShotClass> classes_;
  Matrix class_embeddings_;
};

}  // namespace tagsmith::vision
