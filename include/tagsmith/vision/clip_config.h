#pragma once
// The geometry of a CLIP checkpoint, read from a Hugging Face CLIPModel
// config.json, and the exact list of tensors such a checkpoint must contain.
// Missing keys take Hugging Face's defaults (CLIPTextConfig/CLIPVisionConfig),
// which are ViT-B/32's.
#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace tagsmith::vision {

class SafetensorsFile;

struct ClipTowerConfig {
  int hidden_size = 0;
  int intermediate_size = 0;
  int num_hidden_layers = 0;
  int num_attention_heads = 0;
  std::string hidden_act = "quick_gelu";  // "quick_gelu" or "gelu" (erf)
  double layer_norm_eps = 1e-5;
};

struct ClipTextConfig : ClipTowerConfig {
  int vocab_size = 49408;
  int max_position_embeddings = 77;  // also the tokenizer's context length
  // Hugging Face pools at the first eos_token_id, except for the legacy value
  // 2 (old configs), where it pools at argmax(ids) - the same place for the
  // OpenAI vocabulary, whose end token has the highest id.
  int eos_token_id = 2;
};

struct ClipVisionConfig : ClipTowerConfig {
  int image_size = 224;
  int patch_size = 32;
  int num_channels = 3;
  int num_positions() const { return (image_size / patch_size) * (image_size / patch_size) + 1; }
};

struct ClipConfig {
  ClipTextConfig text;
  ClipVisionConfig vision;
  int projection_dim = 512;

  // Parses config.json; throws ModelError naming the file and the bad key.
  static ClipConfig from_json_file(const std::filesystem::path& path);
  static ClipConfig from_json_text(const std::string& text, const std::string& where);
};

struct ExpectedTensor {
  std::string name;
  std::vector<std::int64_t> shape;
  bool optional = false;  // position_ids buffers: present in older exports only
  bool integer = false;   // an int64 buffer, not a float weight
};

// Every tensor a CLIPModel checkpoint with this config holds.
std::vector<ExpectedTensor> expected_tensors(const ClipConfig& config);

// Checks names, shapes and dtypes of `file` against `config`; throws
// ModelError listing every problem (missing, unexpected, wrong shape/dtype).
void validate_checkpoint(const SafetensorsFile& file, const ClipConfig& config);

}  // namespace tagsmith::vision
