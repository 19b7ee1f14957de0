#pragma once
// Trained heads: per attribute, a small classifier on the frozen image
// embedding, blended with the zero-shot prior and temperature-calibrated.
//
// A head's logits for an embedding x (L2-normalised first, always):
//   head(x)  = W x + b                         (linear), or
//            = W2 relu(W1 x + b1) + b2         (MLP, one hidden layer)
//   prior(x) = logit_scale * P x               (P: zero-shot class text
//                                               embeddings; 0 rows if none)
//   z_c(x)   = w_c * head_c(x) + (1 - w_c) * prior_c(x)
//   w_c      = n_c / (n_c + prior_strength)     (n_c: training examples of
//                                               class c; 1 when c has no prior)
//   p(x)     = softmax(z(x) / T)
// so a class seen a handful of times leans on its prompt and one seen often
// trusts its examples. Training optimises exactly this z (the blend is part
// of the forward pass); the linear W also starts at, and is L2-pulled
// toward, logit_scale * P. T is fitted afterwards (calibration.h).
//
// Inference here is plain C++ (a few dot products): only training needs
// libtorch, and it stays inside src/training/heads_train.cpp.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json.hpp>
#include <span>
#include <string>
#include <vector>

namespace tagsmith::training {

// Zero-shot text embeddings of one attribute's classes, as the vision module
// computes them (rows L2-normalised, one per class id).
struct ZeroShotPrior {
  std::vector<std::string> classes;
  std::vector<float> embeddings;  // classes.size() x dim, row-major
  int dim = 0;
  float logit_scale = 100.0f;  // CLIP's learned scale
};

struct AttributeHead {
  std::string attribute;
  std::vector<std::string> classes;
  int dim = 0;
  int hidden = 0;  // 0: linear head
  // Linear: w1 = W (C x D), b1 = b (C). MLP: w1 (H x D), b1 (H), w2 (C x H), b2 (C).
  std::vector<float> w1, b1, w2, b2;
  // The layer reads normalise(x - center): the training rows' (class-balanced)
  // mean direction removed, so that features which all point the same way
  // (a CNN's post-ReLU activations) spread over the sphere. Empty: x as is.
  std::vector<float> center;  // D
  std::vector<float> prior;   // C x D, already multiplied by logit_scale; empty: none
  std::vector<float> blend;   // w_c per class (C)
  double temperature = 1.0;
  std::vector<int> train_counts;  // examples per class the head was trained on
  // Out-of-distribution rule (docs/training.md): x is OOD when, for every
  // class c, cosine(x, centroid_c) < ood_threshold[c].
  std::vector<float> centroids;      // C x D, L2-normalised; rows of unseen classes are 0
  std::vector<float> ood_threshold;  // C; classes without examples: +inf (never "near")
  nlohmann::json metrics = nlohmann::json::object();  // held-out metrics, training notes

  std::size_t num_classes() const { return classes.size(); }
  // Uncalibrated blended logits z(x) of an L2-normalised embedding.
  std::vector<double> logits(std::span<const float> unit_embedding) const;
  // softmax(z / T).
  std::vector<double> probabilities(std::span<const float> unit_embedding) const;
  // Highest cosine to any class centroid, and whether x is out of distribution.
  struct Ood {
    double best_similarity = 0;
    bool out_of_distribution = false;
  };
  Ood ood(std::span<const float> unit_embedding) const;
};

// A trained set of heads: what a "heads" model version is.
struct HeadSet {
  std::string version;          // e.g. "heads-0003"
  std::string encoder_version;  // the embedding model the heads read
  std::string created_at;
  std::vector<AttributeHead> heads;
  nlohmann::json metadata = nlohmann::json::object();  // options, gate verdict

  const AttributeHead* head(const std::string& attribute) const;

  // DIR/heads.json (metadata, shapes, classes, T, metrics; arrays as offsets)
  // + DIR/heads.bin (little-endian float32, concatenated). Written to a
  // temporary directory and renamed, so a crash never leaves half a model.
  void save(const std::filesystem::path& dir) const;
  static HeadSet load(const std::filesystem::path& dir);  // throws NotFoundError / Error
};

// L2-normalised copy (a zero vector stays zero).
std::vector<float> normalised(std::span<const float> v);

struct HeadOptions {
  int hidden = 0;  // > 0: MLP with this many hidden units
  int max_epochs = 200;
  int patience = 10;  // epochs without validation-loss improvement
  int batch_size = 256;
  int min_steps_per_epoch = 10;  // small sets repeat passes between checks
  double learning_rate = 1e-2;   // Adam
  double l2 = 1e-4;              // sum-of-squares penalty (toward the prior for W)
  double val_fraction = 0.15;    // carved per class from the training rows
  int min_val_class_size = 3;    // smaller classes keep every example for training
  double prior_strength = 4.0;   // w_c = n_c / (n_c + prior_strength)
  bool calibrate = true;
  bool center = true;  // see AttributeHead::center
  // OOD threshold of a class: this quantile of its training rows' cosine to
  // its centroid, minus the margin (classes with < 5 rows use the quantile
  // over all rows of the attribute, each to its own centroid).
  double ood_quantile = 0.01;
  double ood_margin = 0.05;
  std::uint64_t seed = 7;
  int threads = 0;  // > 0: at::set_num_threads(threads) (process-wide)
};

// Training rows of one attribute: embeddings need not be normalised.
struct HeadData {
  std::string attribute;
  std::vector<std::string> classes;
  int dim = 0;
  std::vector<float> embeddings;  // rows x dim
  std::vector<int> labels;        // class index per row
};

struct HeadTrainingReport {
  int epochs = 0;
  int best_epoch = 0;
  double best_val_loss = 0;
  std::size_t train_rows = 0, val_rows = 0;
  double temperature = 1.0;
  double seconds = 0;
};

// Trains one head (libtorch, CPU): class-balanced cross-entropy, Adam, L2,
// early stopping on a validation split carved from `data` (stratified,
// seeded), then temperature scaling on that split. Classes of the prior that
// are absent from `data.classes` are appended (they can still be predicted
// from their prompts). Throws InputError on inconsistent shapes or fewer than
// two classes with examples.
AttributeHead train_head(const HeadData& data, const HeadOptions& options,
                         const ZeroShotPrior* prior = nullptr,
                         HeadTrainingReport* report = nullptr);

}  // namespace tagsmith::training
