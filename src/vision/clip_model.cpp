// The only translation unit that includes torch: everything else in the
// module is plain C++ so the project builds quickly.
#include "tagsmith/vision/clip_model.h"

#include <ATen/core/dispatch/Dispatcher.h>
#include <ATen/native/quantized/PackedParams.h>
#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <cstdlib>
#include <numeric>

#include "tagsmith/common/hash.h"
#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/safetensors.h"

namespace tagsmith::vision {

namespace {

// One linear layer (y = x W^T + b) in the form its precision runs: fp32 or
// bf16 weight and bias, or an int8 weight prepacked for the quantized
// engine (`packed`, with w and b left undefined).
struct Linear {
  torch::Tensor w, b;
  c10::intrusive_ptr<LinearPackedParamsBase> packed;
  int64_t out_features = 0;
};

struct Layer {
  torch::Tensor ln1_w, ln1_b, ln2_w, ln2_b;
  Linear qkv, out, fc1, fc2;
};

struct Tower {
  ClipTowerConfig cfg;
  Precision precision = Precision::fp32;
  std::vector<Layer> layers;
};

// Symmetric per-output-channel int8 weights, prepacked once for the
// dispatcher's quantized::linear_dynamic kernels (FBGEMM where libtorch has
// it; Debian's 1.13 has oneDNN's, which use VNNI on this kind of CPU).
c10::intrusive_ptr<LinearPackedParamsBase> prepack_int8(const torch::Tensor& w,
                                                        const torch::Tensor& b) {
  static const auto prepack = c10::Dispatcher::singleton()
                                  .findSchemaOrThrow("quantized::linear_prepack", "")
                                  .typed<c10::intrusive_ptr<LinearPackedParamsBase>(
                                      at::Tensor, c10::optional<at::Tensor>)>();
  auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-12).to(torch::kDouble);
  auto zeros = torch::zeros({w.size(0)}, torch::kLong);
  auto qw = at::quantize_per_channel(w.contiguous(), scales, zeros, 0, torch::kQInt8);
  return prepack.call(qw, b.contiguous());
}

Linear make_linear(torch::Tensor w, torch::Tensor b, Precision precision) {
  Linear l;
  l.out_features = w.size(0);
  switch (precision) {
    case Precision::fp32:
      l.w = w.contiguous();
      l.b = std::move(b);
      break;
    case Precision::bf16:
      l.w = w.to(torch::kBFloat16).contiguous();
      l.b = b.to(torch::kBFloat16);
      break;
    case Precision::int8:
      l.packed = prepack_int8(w, b);
      break;
  }
  return l;
}

torch::Tensor load_tensor(const SafetensorsFile& f, const std::string& name) {
  const TensorInfo& info = f.at(name);
  std::vector<std::int64_t> shape = info.shape;
  auto t = torch::empty(shape, torch::kFloat32);
  f.read_float(name, std::span<float>(t.data_ptr<float>(), static_cast<std::size_t>(t.numel())));
  return t;
}

Tower load_tower(const SafetensorsFile& f, const std::string& prefix, const ClipTowerConfig& cfg,
                 Precision precision) {
  Tower tower{cfg, precision, {}};
  const double scale =
      1.0 / std::sqrt(static_cast<double>(cfg.hidden_size / cfg.num_attention_heads));
  for (int l = 0; l < cfg.num_hidden_layers; ++l) {
    const std::string p = fmt::format("{}.encoder.layers.{}.", prefix, l);
    auto w = [&](const std::string& n) { return load_tensor(f, p + n); };
    Layer L;
    L.ln1_w = w("layer_norm1.weight");
    L.ln1_b = w("layer_norm1.bias");
    // q, k and v fused into one GEMM; q pre-multiplied by head_dim^-1/2 as
    // the attention does, which saves a pass over the scores.
    L.qkv = make_linear(torch::cat({w("self_attn.q_proj.weight") * scale,
                                    w("self_attn.k_proj.weight"), w("self_attn.v_proj.weight")}),
                        torch::cat({w("self_attn.q_proj.bias") * scale, w("self_attn.k_proj.bias"),
                                    w("self_attn.v_proj.bias")}),
                        precision);
    L.out = make_linear(w("self_attn.out_proj.weight"), w("self_attn.out_proj.bias"), precision);
    L.ln2_w = w("layer_norm2.weight");
    L.ln2_b = w("layer_norm2.bias");
    L.fc1 = make_linear(w("mlp.fc1.weight"), w("mlp.fc1.bias"), precision);
    L.fc2 = make_linear(w("mlp.fc2.weight"), w("mlp.fc2.bias"), precision);
    tower.layers.push_back(std::move(L));
  }
  return tower;
}

// y = x W^T + b, in the layer's precision; the result is float for fp32
// and int8 layers, bfloat16 for bf16 ones (the caller decides when to widen).
// fp32: Debian's libtorch hands fp32 GEMMs to whatever libblas.so.3 the
// system has, which is netlib's reference BLAS unless OpenBLAS is installed
// (~1 GFLOP/s). oneDNN is compiled into libtorch and is fast with any BLAS,
// so fp32 linear layers go through it when available. bf16: at::linear on
// bfloat16 tensors already dispatches to oneDNN's bf16 matmul (AVX-512 BF16 /
// AMX); it measured faster than at::mkldnn_linear, which reorders the plain
// weight on every call.
torch::Tensor linear(const torch::Tensor& x, const Linear& l) {
  auto shape = x.sizes().vec();
  shape.back() = l.out_features;
  if (l.packed) {
    auto x2 = x.reshape({-1, x.size(-1)}).to(torch::kFloat32).contiguous();
    return l.packed->apply_dynamic(x2, /*reduce_range=*/false).view(shape);
  }
  if (l.w.scalar_type() == torch::kBFloat16) return at::linear(x.to(torch::kBFloat16), l.w, l.b);
  static const bool onednn = at::hasMKLDNN() && !std::getenv("TAGSMITH_TORCH_BLAS");
  if (!onednn) return torch::linear(x, l.w, l.b);
  auto y =
      at::mkldnn_linear(x.reshape({-1, x.size(-1)}).contiguous().to_mkldnn(), l.w, l.b).to_dense();
  return y.view(shape);
}

// Attention products in bf16 too (bf16 towers): the default. A diagnostic
// switch, TAGSMITH_BF16_ATTENTION=0, keeps them fp32 to measure the split.
bool bf16_attention() {
  static const bool on = [] {
    const char* v = std::getenv("TAGSMITH_BF16_ATTENTION");
    return !(v && std::string(v) == "0");
  }();
  return on;
}

// One pre-LN transformer stack (CLIPEncoder). `mask` is added to the
// attention scores (causal for text), undefined for none. The residual
// stream, layer norms, softmax and activations stay float in every
// precision; only the matrix products change.
torch::Tensor run_encoder(const Tower& tower, torch::Tensor h, const torch::Tensor& mask) {
  const auto B = h.size(0), T = h.size(1), H = h.size(2);
  const int nh = tower.cfg.num_attention_heads;
  const auto hd = H / nh;
  const double eps = tower.cfg.layer_norm_eps;
  const bool quick = tower.cfg.hidden_act == "quick_gelu";
  const auto attention_type =
      tower.precision == Precision::bf16 && bf16_attention() ? torch::kBFloat16 : torch::kFloat32;
  for (const Layer& L : tower.layers) {
    auto x = torch::layer_norm(h, {H}, L.ln1_w, L.ln1_b, eps);
    auto qkv = linear(x, L.qkv).to(attention_type).view({B, T, 3, nh, hd}).permute({2, 0, 3, 1, 4});
    auto q = qkv[0], k = qkv[1], v = qkv[2];
    auto scores = torch::matmul(q, k.transpose(-2, -1)).to(torch::kFloat32);  // [B, nh, T, T]
    if (mask.defined()) scores.add_(mask);
    auto attn = torch::matmul(torch::softmax(scores, -1).to(attention_type), v);  // [B, nh, T, hd]
    attn = attn.transpose(1, 2).reshape({B, T, H});
    h = h + linear(attn, L.out).to(torch::kFloat32);
    x = torch::layer_norm(h, {H}, L.ln2_w, L.ln2_b, eps);
    x = linear(x, L.fc1).to(torch::kFloat32);
    x = quick ? x * torch::sigmoid(x * 1.702) : torch::gelu(x);
    h = h + linear(x, L.fc2).to(torch::kFloat32);
  }
  return h;
}

Matrix to_matrix(const torch::Tensor& t) {
  auto c = t.contiguous();
  Matrix m(static_cast<int>(c.size(0)), static_cast<int>(c.size(1)));
  std::copy_n(c.data_ptr<float>(), m.data.size(), m.data.begin());
  return m;
}

void append_rows(Matrix& out, const Matrix& part) {
  if (out.rows == 0) {
    out = part;
    return;
  }
  out.data.insert(out.data.end(), part.data.begin(), part.data.end());
  out.rows += part.rows;
}

}  // namespace

struct ClipModel::Impl {
  std::filesystem::path dir;
  std::string version;
  ClipConfig cfg;
  ClipTokenizer tokenizer;
  RuntimeOptions options;
  float logit_scale = 1.0f;
  // Vision
  torch::Tensor patch_w, class_emb, vpos, pre_ln_w, pre_ln_b, post_ln_w, post_ln_b, vproj;
  Tower vision;
  // Text
  torch::Tensor tok_emb, tpos, final_ln_w, final_ln_b, tproj, causal;
  Tower text;

  Impl(ClipTokenizer t) : tokenizer(std::move(t)) {}

  torch::Tensor images_forward(const torch::Tensor& pixels) const {
    const auto B = pixels.size(0);
    const auto H = cfg.vision.hidden_size;
    auto x = torch::conv2d(pixels.to(patch_w.scalar_type()), patch_w, {}, cfg.vision.patch_size)
                 .to(torch::kFloat32);  // [B, H, g, g]
    x = x.flatten(2).transpose(1, 2);   // [B, g*g, H]
    x = torch::cat({class_emb.view({1, 1, H}).expand({B, 1, H}), x}, 1) + vpos;
    x = torch::layer_norm(x, {H}, pre_ln_w, pre_ln_b, cfg.vision.layer_norm_eps);
    x = run_encoder(vision, x, {});
    auto pooled =
        torch::layer_norm(x.select(1, 0), {H}, post_ln_w, post_ln_b, cfg.vision.layer_norm_eps);
    auto e = torch::matmul(pooled, vproj.t());
    return e / e.norm(2, -1, true);
  }

  torch::Tensor texts_forward(const torch::Tensor& ids) const {
    const auto T = ids.size(1);
    const auto H = cfg.text.hidden_size;
    auto x = tok_emb.index_select(0, ids.flatten()).view({ids.size(0), T, H}) + tpos.slice(0, 0, T);
    x = run_encoder(text, x, causal.slice(0, 0, T).slice(1, 0, T));
    x = torch::layer_norm(x, {H}, final_ln_w, final_ln_b, cfg.text.layer_norm_eps);
    // Hugging Face's pooling rule (see ClipTextConfig::eos_token_id).
    torch::Tensor pos = cfg.text.eos_token_id == 2
                            ? ids.argmax(-1)
                            : ids.eq(cfg.text.eos_token_id).to(torch::kInt).argmax(-1);
    auto pooled = x.index({torch::arange(ids.size(0)), pos});
    auto e = torch::matmul(pooled, tproj.t());
    return e / e.norm(2, -1, true);
  }
};

ClipModel::ClipModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
ClipModel::~ClipModel() = default;

std::unique_ptr<ClipModel> ClipModel::load(const std::filesystem::path& dir,
                                           const RuntimeOptions& options) {
  namespace fs = std::filesystem;
  if (!fs::is_directory(dir))
    throw ModelError(fmt::format("model directory {} does not exist", dir.string()));
  for (const char* f : {"config.json", "model.safetensors"})
    if (!fs::exists(dir / f))
      throw ModelError(
          fmt::format("model directory {} lacks {} (a Hugging Face CLIPModel needs "
                      "config.json, model.safetensors, vocab.json, merges.txt)",
                      dir.string(), f));
  ClipConfig cfg = ClipConfig::from_json_file(dir / "config.json");
  SafetensorsFile st(dir / "model.safetensors");
  validate_checkpoint(st, cfg);
  auto impl = std::make_unique<Impl>(ClipTokenizer::from_directory(dir));
  impl->dir = dir;
  impl->cfg = cfg;
  impl->options = options;
  if (impl->options.max_batch <= 0) impl->options.max_batch = 32;
  if (options.threads > 0) at::set_num_threads(options.threads);

  const std::string name = fs::absolute(dir).lexically_normal().filename().string();
  const std::string header(st.header_json());
  impl->version =
      fmt::format("{}@{}", name.empty() ? std::string("model") : name,
                  sha256_hex(header + ":" + std::to_string(st.file_size())).substr(0, 12));

  c10::InferenceMode guard;
  impl->logit_scale = std::exp(st.read_float("logit_scale").at(0));
  impl->patch_w = load_tensor(st, "vision_model.embeddings.patch_embedding.weight");
  impl->class_emb = load_tensor(st, "vision_model.embeddings.class_embedding");
  impl->vpos = load_tensor(st, "vision_model.embeddings.position_embedding.weight");
  impl->pre_ln_w = load_tensor(st, "vision_model.pre_layrnorm.weight");
  impl->pre_ln_b = load_tensor(st, "vision_model.pre_layrnorm.bias");
  impl->post_ln_w = load_tensor(st, "vision_model.post_layernorm.weight");
  impl->post_ln_b = load_tensor(st, "vision_model.post_layernorm.bias");
  impl->vproj = load_tensor(st, "visual_projection.weight");
  // bf16 also runs the patch embedding (a strided convolution) in bf16.
  if (options.precision == Precision::bf16) impl->patch_w = impl->patch_w.to(torch::kBFloat16);
  impl->vision = load_tower(st, "vision_model", cfg.vision, options.precision);
  impl->tok_emb = load_tensor(st, "text_model.embeddings.token_embedding.weight");
  impl->tpos = load_tensor(st, "text_model.embeddings.position_embedding.weight");
  impl->final_ln_w = load_tensor(st, "text_model.final_layer_norm.weight");
  impl->final_ln_b = load_tensor(st, "text_model.final_layer_norm.bias");
  impl->tproj = load_tensor(st, "text_projection.weight");
  impl->text = load_tower(st, "text_model", cfg.text, options.precision);
  const auto n = cfg.text.max_position_embeddings;
  impl->causal = torch::full({n, n}, -std::numeric_limits<float>::infinity()).triu(1);
  if (impl->tokenizer.end_id() >= cfg.text.vocab_size)
    throw ModelError(
        fmt::format("{}: the tokenizer's end token id {} is outside the model's "
                    "vocab_size {}",
                    dir.string(), impl->tokenizer.end_id(), cfg.text.vocab_size));
  return std::unique_ptr<ClipModel>(new ClipModel(std::move(impl)));
}

const std::string& ClipModel::version() const {
  return impl_->version;
}
const std::filesystem::path& ClipModel::directory() const {
  return impl_->dir;
}
const ClipConfig& ClipModel::config() const {
  return impl_->cfg;
}
const ClipTokenizer& ClipModel::tokenizer() const {
  return impl_->tokenizer;
}
int ClipModel::embedding_dim() const {
  return impl_->cfg.projection_dim;
}
int ClipModel::image_size() const {
  return impl_->cfg.vision.image_size;
}
int ClipModel::context_length() const {
  return impl_->cfg.text.max_position_embeddings;
}
float ClipModel::logit_scale() const {
  return impl_->logit_scale;
}

Matrix ClipModel::encode_pixels(std::span<const float> chw, int batch) const {
  const int s = image_size();
  const std::size_t per = static_cast<std::size_t>(3) * s * s;
  if (batch < 0 || chw.size() != per * static_cast<std::size_t>(batch))
    throw Error(fmt::format("encode_pixels: {} floats is not {} images of 3x{}x{}", chw.size(),
                            batch, s, s));
  Matrix out(0, embedding_dim());
  c10::InferenceMode guard;
  for (int b0 = 0; b0 < batch; b0 += impl_->options.max_batch) {
    const int n = std::min(impl_->options.max_batch, batch - b0);
    // from_blob does not copy; the span outlives the forward pass.
    auto pixels =
        torch::from_blob(const_cast<float*>(chw.data()) + per * b0, {n, 3, s, s}, torch::kFloat32);
    append_rows(out, to_matrix(impl_->images_forward(pixels)));
  }
  return out;
}

Matrix ClipModel::encode_images(const std::vector<cv::Mat>& rgb) const {
  Matrix out(0, embedding_dim());
  const int s = image_size();
  const std::size_t per = static_cast<std::size_t>(3) * s * s;
  const auto total = static_cast<int>(rgb.size());
  std::vector<float> pixels;
  for (int b0 = 0; b0 < total; b0 += impl_->options.max_batch) {
    const int n = std::min(impl_->options.max_batch, total - b0);
    pixels.resize(per * n);
    for (int i = 0; i < n; ++i)
      clip_normalize(clip_resize_crop(rgb[b0 + i], s),
                     std::span<float>(pixels).subspan(per * i, per));
    append_rows(out, encode_pixels(pixels, n));
  }
  return out;
}

Matrix ClipModel::encode_token_ids(const std::vector<std::vector<int>>& ids) const {
  Matrix out(0, embedding_dim());
  c10::InferenceMode guard;
  const auto total = static_cast<int>(ids.size());
  const int ctx = context_length();
  for (int b0 = 0; b0 < total; b0 += impl_->options.max_batch) {
    const int n = std::min(impl_->options.max_batch, total - b0);
    // Pad to the longest row of this batch, not to the context length: the
    // causal mask keeps padding from reaching the end token, so results are
    // the same as Hugging Face's padding to 77, and short prompts run faster.
    std::size_t T = 1;
    for (int i = 0; i < n; ++i) T = std::max(T, ids[b0 + i].size());
    if (T > static_cast<std::size_t>(ctx))
      throw InputError(fmt::format("{} token ids exceed the context length {}", T, ctx));
    auto t = torch::zeros({n, static_cast<std::int64_t>(T)}, torch::kInt64);
    auto* p = t.data_ptr<std::int64_t>();
    for (int i = 0; i < n; ++i)
      for (std::size_t j = 0; j < ids[b0 + i].size(); ++j) {
        const int id = ids[b0 + i][j];
        if (id < 0 || id >= impl_->cfg.text.vocab_size)
          throw InputError(fmt::format("token id {} is outside the vocabulary", id));
        p[i * T + j] = id;
      }
    append_rows(out, to_matrix(impl_->texts_forward(t)));
  }
  return out;
}

Matrix ClipModel::encode_texts(const std::vector<std::string>& texts) const {
  std::vector<std::vector<int>> ids;
  ids.reserve(texts.size());
  for (const auto& t : texts) ids.push_back(impl_->tokenizer.tokenize(t, context_length()));
  return encode_token_ids(ids);
}

float dot(std::span<const float> a, std::span<const float> b) {
  return std::inner_product(a.begin(), a.end(), b.begin(), 0.0f);
}

}  // namespace tagsmith::vision
