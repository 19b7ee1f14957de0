#include "tagsmith/vision/clip_config.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>
#include <set>

#include "tagsmith/common/files.h"
#include "tagsmith/vision/safetensors.h"

namespace tagsmith::vision {

namespace {

using nlohmann::json;

template <typename T>
void read_key(const json& j, const char* key, T& out, const std::string& where) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return;
  try {
    out = it->get<T>();
  } catch (const json::exception&) {
    throw ModelError(fmt::format("{}: key \"{}\" has the wrong type ({})", where, key, it->dump()));
  }
}

void read_tower(const json& j, ClipTowerConfig& c, const std::string& where) {
  read_key(j, "hidden_size", c.hidden_size, where);
  read_key(j, "intermediate_size", c.intermediate_size, where);
  read_key(j, "num_hidden_layers", c.num_hidden_layers, where);
  read_key(j, "num_attention_heads", c.num_attention_heads, where);
  read_key(j, "hidden_act", c.hidden_act, where);
  read_key(j, "layer_norm_eps", c.layer_norm_eps, where);
  if (c.hidden_act != "quick_gelu" && c.hidden_act != "gelu")
    throw ModelError(fmt::format("{}: hidden_act \"{}\" is not supported (quick_gelu or gelu)",
                                 where, c.hidden_act));
  if (c.hidden_size <= 0 || c.intermediate_size <= 0 || c.num_hidden_layers <= 0 ||
      c.num_attention_heads <= 0 || c.hidden_size % c.num_attention_heads != 0)
    throw ModelError(
        fmt::format("{}: hidden_size {} must be positive and divisible by num_attention_heads {}",
                    where, c.hidden_size, c.num_attention_heads));
}

void add_layers(std::vector<ExpectedTensor>& out, const std::string& prefix,
                const ClipTowerConfig& c) {
  const std::int64_t h = c.hidden_size, i = c.intermediate_size;
  for (int l = 0; l < c.num_hidden_layers; ++l) {
    const std::string p = fmt::format("{}.encoder.layers.{}.", prefix, l);
    for (const char* proj : {"q_proj", "k_proj", "v_proj", "out_proj"}) {
      out.push_back({p + "self_attn." + proj + ".weight", {h, h}});
      out.push_back({p + "self_attn." + proj + ".bias", {h}});
    }
    for (const char* ln : {"layer_norm1", "layer_norm2"}) {
      out.push_back({p + ln + ".weight", {h}});
      out.push_back({p + ln + ".bias", {h}});
    }
    out.push_back({p + "mlp.fc1.weight", {i, h}});
    out.push_back({p + "mlp.fc1.bias", {i}});
    out.push_back({p + "mlp.fc2.weight", {h, i}});
    out.push_back({p + "mlp.fc2.bias", {h}});
  }
}

}  // namespace

ClipConfig ClipConfig::from_json_text(const std::string& text, const std::string& where) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::exception& e) {
    throw ModelError(fmt::format("{} is not valid JSON: {}", where, e.what()));
  }
  ClipConfig c;
  // Hugging Face's defaults (ViT-B/32).
  c.text.hidden_size = 512;
  c.text.intermediate_size = 2048;
  c.text.num_hidden_layers = 12;
  c.text.num_attention_heads = 8;
  c.vision.hidden_size = 768;
  c.vision.intermediate_size = 3072;
  c.vision.num_hidden_layers = 12;
  c.vision.num_attention_heads = 12;
  read_key(j, "projection_dim", c.projection_dim, where);
  if (auto t = j.find("text_config"); t != j.end() && t->is_object()) {
    const std::string w = where + " text_config";
    read_tower(*t, c.text, w);
    read_key(*t, "vocab_size", c.text.vocab_size, w);
    read_key(*t, "max_position_embeddings", c.text.max_position_embeddings, w);
    read_key(*t, "eos_token_id", c.text.eos_token_id, w);
  } else {
    read_tower(json::object(), c.text, where);
  }
  if (auto v = j.find("vision_config"); v != j.end() && v->is_object()) {
    const std::string w = where + " vision_config";
    read_tower(*v, c.vision, w);
    read_key(*v, "image_size", c.vision.image_size, w);
    read_key(*v, "patch_size", c.vision.patch_size, w);
    read_key(*v, "num_channels", c.vision.num_channels, w);
  } else {
    read_tower(json::object(), c.vision, where);
  }
  if (c.vision.patch_size <= 0 || c.vision.image_size % c.vision.patch_size != 0)
    throw ModelError(fmt::format("{}: image_size {} is not a multiple of patch_size {}", where,
                                 c.vision.image_size, c.vision.patch_size));
  if (c.vision.num_channels != 3)
    throw ModelError(fmt::format("{}: num_channels {} (only RGB models are supported)", where,
                                 c.vision.num_channels));
  if (c.projection_dim <= 0 || c.text.vocab_size <= 0 || c.text.max_position_embeddings < 2)
    throw ModelError(
        fmt::format("{}: projection_dim, vocab_size and max_position_embeddings must "
                    "be positive",
                    where));
  return c;
}

ClipConfig ClipConfig::from_json_file(const std::filesystem::path& path) {
  if (!std::filesystem::exists(path))
    throw ModelError(fmt::format("model config {} does not exist", path.string()));
  return from_json_text(read_file_text(path), path.string());
}

std::vector<ExpectedTensor> expected_tensors(const ClipConfig& c) {
  std::vector<ExpectedTensor> out;
  const std::int64_t ht = c.text.hidden_size, hv = c.vision.hidden_size, p = c.projection_dim;
  out.push_back({"logit_scale", {}});
  out.push_back({"text_model.embeddings.token_embedding.weight", {c.text.vocab_size, ht}});
  out.push_back(
      {"text_model.embeddings.position_embedding.weight", {c.text.max_position_embeddings, ht}});
  out.push_back(
      {"text_model.embeddings.position_ids", {1, c.text.max_position_embeddings}, true, true});
  add_layers(out, "text_model", c.text);
  out.push_back({"text_model.final_layer_norm.weight", {ht}});
  out.push_back({"text_model.final_layer_norm.bias", {ht}});
  const std::int64_t ps = c.vision.patch_size;
  out.push_back({"vision_model.embeddings.class_embedding", {hv}});
  out.push_back({"vision_model.embeddings.patch_embedding.weight", {hv, 3, ps, ps}});
  out.push_back(
      {"vision_model.embeddings.position_embedding.weight", {c.vision.num_positions(), hv}});
  out.push_back(
      {"vision_model.embeddings.position_ids", {1, c.vision.num_positions()}, true, true});
  out.push_back({"vision_model.pre_layrnorm.weight", {hv}});
  out.push_back({"vision_model.pre_layrnorm.bias", {hv}});
  add_layers(out, "vision_model", c.vision);
  out.push_back({"vision_model.post_layernorm.weight", {hv}});
  out.push_back({"vision_model.post_layernorm.bias", {hv}});
  out.push_back({"visual_projection.weight", {p, hv}});
  out.push_back({"text_projection.weight", {p, ht}});
  return out;
}

void validate_checkpoint(const SafetensorsFile& file, const ClipConfig& config) {
  std::vector<std::string> problems;
  std::set<std::string> known;
  for (const auto& e : expected_tensors(config)) {
    known.insert(e.name);
    if (!file.contains(e.name)) {
      if (!e.optional)
        problems.push_back(
            fmt::format("missing tensor {} (expected shape {})", e.name, shape_text(e.shape)));
      continue;
    }
    const TensorInfo& t = file.at(e.name);
    // logit_scale is a 0-d parameter; some exports write it as [1].
    const bool scalar_ok = e.shape.empty() && t.numel() == 1 && t.shape.size() <= 1;
    if (t.shape != e.shape && !scalar_ok)
      problems.push_back(fmt::format("tensor {} has shape {}, expected {} from config", e.name,
                                     shape_text(t.shape), shape_text(e.shape)));
    const bool float_ok = t.dtype == DType::kF32 || t.dtype == DType::kF16 ||
                          t.dtype == DType::kBF16 || t.dtype == DType::kF64;
    const bool int_ok = t.dtype == DType::kI64 || t.dtype == DType::kI32;
    if (e.integer ? !int_ok : !float_ok)
      problems.push_back(fmt::format("tensor {} has dtype {}, expected {}", e.name, t.dtype_text,
                                     e.integer ? "I64" : "F32, F16 or BF16"));
  }
  for (const auto& [name, t] : file.tensors())
    if (!known.count(name))
      problems.push_back(
          fmt::format("unexpected tensor {} {} (not part of a CLIPModel with this "
                      "config)",
                      name, shape_text(t.shape)));
  if (problems.empty()) return;
  constexpr std::size_t kShown = 12;
  std::string msg =
      fmt::format("{} does not match its config.json ({} problem{}):", file.path().string(),
                  problems.size(), problems.size() == 1 ? "" : "s");
  for (std::size_t i = 0; i < problems.size() && i < kShown; ++i) msg += "\n  " + problems[i];
  if (problems.size() > kShown) msg += fmt::format("\n  ... and {} more", problems.size() - kShown);
  throw ModelError(msg);
}

}  // namespace tagsmith::vision
