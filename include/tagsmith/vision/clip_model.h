#pragma once
// A CLIP-family model (Hugging Face CLIPModel layout) running on CPU with
// libtorch: images and texts in, L2-normalised embeddings out, in one shared
// space where cosine similarity ranks matches.
//
// A model directory holds config.json, model.safetensors (F32, F16 or BF16;
// converted to fp32 at load) and the tokenizer (vocab.json + merges.txt).
// load() checks every tensor against the config before using any of them.
// This header is torch-free on purpose: it is included across the project
// and torch headers cost seconds per translation unit.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <opencv2/core.hpp>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/vision/clip_config.h"
#include "tagsmith/vision/precision.h"
#include "tagsmith/vision/tokenizer.h"

namespace tagsmith::vision {

// Row-major rows x cols floats; one embedding per row.
struct Matrix {
  int rows = 0, cols = 0;
  std::vector<float> data;

  Matrix() = default;
  Matrix(int r, int c) : rows(r), cols(c), data(static_cast<std::size_t>(r) * c) {}
  std::span<float> row(int i) {
    return {data.data() + static_cast<std::size_t>(i) * cols, static_cast<std::size_t>(cols)};
  }
  std::span<const float> row(int i) const {
    return {data.data() + static_cast<std::size_t>(i) * cols, static_cast<std::size_t>(cols)};
  }
};

struct RuntimeOptions {
  // Intra-op threads for torch (at::set_num_threads, process-wide); 0 keeps
  // torch's default (one per core).
  int threads = 0;
  // Larger inputs are split into batches of this size to bound memory.
  int max_batch = 32;
  // Arithmetic of the forward pass (see precision.h). CLIP defaults to fp32
  // until a real checkpoint confirms bf16/int8 accuracy on a labelled set.
  Precision precision = Precision::fp32;
};

class ClipModel {
 public:
  // Throws ModelError naming the file and the problem.
  static std::unique_ptr<ClipModel> load(const std::filesystem::path& dir,
                                         const RuntimeOptions& options = {});
  ~ClipModel();
  ClipModel(const ClipModel&) = delete;
  ClipModel& operator=(const ClipModel&) = delete;

  // Stable id of these weights: "<dir name>@<12 hex of sha256(safetensors
  // header + file size)>", cheap to compute and different for any re-export.
  const std::string& version() const;
  const std::filesystem::path& directory() const;
  const ClipConfig& config() const;
  const ClipTokenizer& tokenizer() const;
  int embedding_dim() const;
  int image_size() const;  // side of the square crop fed to the model
  int context_length() const;
  // exp(logit_scale) from the checkpoint: the temperature CLIP was trained
  // with, multiplying cosine similarities into logits.
  float logit_scale() const;

  // CV_8UC3 RGB images (any size) -> rows of L2-normalised embeddings.
  Matrix encode_images(const std::vector<cv::Mat>& rgb) const;
  // Already preprocessed CHW pixels, `batch` images of 3 x S x S.
  Matrix encode_pixels(std::span<const float> chw, int batch) const;
  Matrix encode_texts(const std::vector<std::string>& texts) const;
  // Token ids as produced by tokenizer().tokenize(); rows may differ in length.
  Matrix encode_token_ids(const std::vector<std::vector<int>>& ids) const;

 private:
  struct Impl;
  explicit ClipModel(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// Cosine similarity of two L2-normalised embeddings (their dot product).
float dot(std::span<const float> a, std::span<const float> b);

}  // namespace tagsmith::vision
