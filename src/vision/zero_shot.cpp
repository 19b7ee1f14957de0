#include "tagsmith/vision/zero_shot.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <fstream>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::vision {

namespace {

// Cache files start with this tag and the dimension, so a file written by
// another format or a truncated one is ignored rather than misread.
constexpr char kCacheMagic[8] = {'T', 'S', 'T', 'E', 'X', 'T', '1', '\0'};

std::string sanitise(const std::string& s) {
  std::string out;
  for (char c : s)
    out += (std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' ||
            c == '@')
               ? c
               : '_';
  return out;
}

void normalise(std::span<float> v) {
  double n = 0;
  for (float x : v) n += static_cast<double>(x) * x;
  n = std::sqrt(n);
  if (n > 0)
    for (float& x : v) x = static_cast<float>(x / n);
}

}  // namespace

const std::vector<std::string>& default_templates() {
  static const std::vector<std::string> t = {
      "a product photo of {}.",    "a photo of a {}.",           "a photo of the {}.",
      "a close-up photo of a {}.", "an e-commerce photo of {}.",
  };
  return t;
}

TextEmbeddingCache::TextEmbeddingCache(std::filesystem::path disk_dir)
    : disk_dir_(std::move(disk_dir)) {}

std::size_t TextEmbeddingCache::memory_entries() const {
  std::lock_guard lock(mutex_);
  return memory_.size();
}

std::filesystem::path TextEmbeddingCache::disk_path(const std::string& version,
                                                    const std::string& text) const {
  return disk_dir_ / sanitise(version) / (sha256_hex(text).substr(0, 32) + ".f32");
}

Matrix TextEmbeddingCache::encode(const ClipModel& model, const std::vector<std::string>& texts) {
  const int dim = model.embedding_dim();
  Matrix out(static_cast<int>(texts.size()), dim);
  std::vector<int> missing;
  {
    std::lock_guard lock(mutex_);
    for (int i = 0; i < out.rows; ++i) {
      auto it = memory_.find(model.version() + '\n' + texts[i]);
      if (it != memory_.end()) {
        std::copy(it->second.begin(), it->second.end(), out.row(i).begin());
        continue;
      }
      if (!disk_dir_.empty()) {
        std::ifstream f(disk_path(model.version(), texts[i]), std::ios::binary);
        char magic[8];
        std::int32_t d = 0;
        std::vector<float> v(static_cast<std::size_t>(dim));
        if (f && f.read(magic, 8) && std::memcmp(magic, kCacheMagic, 8) == 0 &&
            f.read(reinterpret_cast<char*>(&d), 4) && d == dim &&
            f.read(reinterpret_cast<char*>(v.data()), static_cast<std::streamsize>(4 * dim))) {
          std::copy(v.begin(), v.end(), out.row(i).begin());
          memory_.emplace(model.version() + '\n' + texts[i], std::move(v));
          continue;
        }
      }
      missing.push_back(i);
    }
  }
  if (missing.empty()) return out;
  std::vector<std::string> batch;
  for (int i : missing) batch.push_back(texts[i]);
  Matrix enc = model.encode_texts(batch);  // outside the lock: the slow part
  std::lock_guard lock(mutex_);
  encoded_ += batch.size();
  for (std::size_t k = 0; k < missing.size(); ++k) {
    auto row = enc.row(static_cast<int>(k));
    std::copy(row.begin(), row.end(), out.row(missing[k]).begin());
    memory_[model.version() + '\n' + batch[k]] = std::vector<float>(row.begin(), row.end());
    if (!disk_dir_.empty()) {
      std::string bytes(kCacheMagic, 8);
      const std::int32_t d = dim;
      bytes.append(reinterpret_cast<const char*>(&d), 4);
      bytes.append(reinterpret_cast<const char*>(row.data()), 4 * row.size());
      const auto path = disk_path(model.version(), batch[k]);
      std::error_code ec;
      std::filesystem::create_directories(path.parent_path(), ec);
      try {
        write_file_atomic(path, bytes);
      } catch (const Error&) {
        // The disk cache is an optimisation; a read-only directory must not
        // stop classification.
      }
    }
  }
  return out;
}

int ZeroShotScores::top(int i) const {
  auto r = probs.row(i);
  return static_cast<int>(std::max_element(r.begin(), r.end()) - r.begin());
}

std::string ZeroShotClassifier::fill(const std::string& templ, const std::string& name) {
  auto pos = templ.find("{}");
  if (pos == std::string::npos)
    throw InputError(
        fmt::format("zero-shot template \"{}\" has no {{}} for the class name", templ));
  return templ.substr(0, pos) + name + templ.substr(pos + 2);
}

ZeroShotClassifier::ZeroShotClassifier(const ClipModel& model, std::vector<ZeroShotClass> classes,
                                       std::vector<std::string> templates,
                                       TextEmbeddingCache* cache)
    : model_(model), classes_(std::move(classes)) {
  if (templates.empty()) templates = {"{}"};
  std::vector<std::string> prompts;
  std::vector<int> owner;
  for (std::size_t c = 0; c < classes_.size(); ++c) {
    if (classes_[c].names.empty())
      throw InputError(fmt::format("zero-shot class \"{}\" has no names", classes_[c].id));
    for (const auto& name : classes_[c].names)
      for (const auto& t : templates) {
        prompts.push_back(fill(t, name));
        owner.push_back(static_cast<int>(c));
      }
  }
  TextEmbeddingCache local;
  Matrix emb = (cache ? *cache : local).encode(model, prompts);
  const int dim = model.embedding_dim();
  class_embeddings_ = Matrix(static_cast<int>(classes_.size()), dim);
  // Prompt embeddings are already unit length; mean, then renormalise.
  for (int p = 0; p < emb.rows; ++p) {
    auto dst = class_embeddings_.row(owner[p]);
    auto src = emb.row(p);
    for (int k = 0; k < dim; ++k) dst[k] += src[k];
  }
  for (int c = 0; c < class_embeddings_.rows; ++c) normalise(class_embeddings_.row(c));
}

ZeroShotScores ZeroShotClassifier::score(const Matrix& images) const {
  ZeroShotScores s;
  for (const auto& c : classes_) s.class_ids.push_back(c.id);
  const int n = images.rows, k = class_embeddings_.rows;
  if (n > 0 && images.cols != class_embeddings_.cols)
    throw Error(fmt::format("image embeddings have {} dimensions, the model's classes {}",
                            images.cols, class_embeddings_.cols));
  s.logits = Matrix(n, k);
  s.probs = Matrix(n, k);
  const float scale = model_.logit_scale();
  for (int i = 0; i < n; ++i) {
    auto logits = s.logits.row(i);
    for (int c = 0; c < k; ++c) logits[c] = scale * dot(images.row(i), class_embeddings_.row(c));
    if (k == 0) continue;
    const float mx = *std::max_element(logits.begin(), logits.end());
    double sum = 0;
    auto probs = s.probs.row(i);
    for (int c = 0; c < k; ++c) sum += probs[c] = std::exp(logits[c] - mx);
    for (int c = 0; c < k; ++c) probs[c] = static_cast<float>(probs[c] / sum);
  }
  return s;
}

ZeroShotScores ZeroShotClassifier::classify(const std::vector<cv::Mat>& rgb) const {
  return score(model_.encode_images(rgb));
}

}  // namespace tagsmith::vision
