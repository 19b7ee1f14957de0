// TFLite graph execution on libtorch. One of the few translation units that
// include torch (see clip_model.cpp).
//
// Layout: every rank-4 activation (NHWC in the file) is held as an NCHW
// torch tensor whose memory is channels-last, i.e. still NHWC in memory, so
// the input needs no copy and oneDNN's convolutions run on their preferred
// layout. Operators that take an axis map it from NHWC; operators that change
// rank (RESHAPE, SQUEEZE, MEAN without keep_dims, FULLY_CONNECTED) work on
// the NHWC view. Tensors of other ranks are held as the file lays them out.
#include "tagsmith/vision/tflite_model.h"

#include <fmt/format.h>
#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <functional>
#include <limits>
#include <map>

#include "tagsmith/common/error.h"

namespace tagsmith::vision {

namespace {

using tflite::Activation;
using tflite::ElementType;
using tflite::Padding;
namespace op = tflite::builtin;

using Values = std::vector<torch::Tensor>;

// The torch dimension holding NHWC axis `a` of a rank-4 tensor.
int64_t torch_axis(int64_t a) {
  static constexpr int64_t map[] = {0, 2, 3, 1};
  return map[a];
}

// NCHW (channels-last) <-> the file's NHWC view.
torch::Tensor to_file_layout(const torch::Tensor& t) {
  return t.dim() == 4 ? t.permute({0, 2, 3, 1}) : t;
}
torch::Tensor from_file_layout(const torch::Tensor& t) {
  return t.dim() == 4 ? t.permute({0, 3, 1, 2}) : t;
}

torch::Tensor constant_tensor(const tflite::Tensor& t) {
  std::vector<float> values = tflite::dequantize(t);
  auto out = torch::from_blob(values.data(), t.shape, torch::kFloat32).clone();
  return from_file_layout(out);
}

void apply_activation(torch::Tensor& x, Activation a) {
  switch (a) {
    case Activation::None:
      return;
    case Activation::Relu:
      x.clamp_min_(0.0);
      return;
    case Activation::ReluN1To1:
      x.clamp_(-1.0, 1.0);
      return;
    case Activation::Relu6:
      x.clamp_(0.0, 6.0);
      return;
    case Activation::Tanh:
      x.tanh_();
      return;
    case Activation::SignBit:
      break;
  }
}

// TF padding for one spatial axis: {before, after}. SAME pads the extra
// row/column at the end, as TensorFlow does.
std::pair<int64_t, int64_t> tf_padding(Padding p, int64_t in, int64_t k, int64_t stride,
                                       int64_t dilation) {
  if (p == Padding::Valid) return {0, 0};
  const int64_t out = (in + stride - 1) / stride;
  const int64_t extent = (k - 1) * dilation + 1;
  const int64_t total = std::max<int64_t>((out - 1) * stride + extent - in, 0);
  return {total / 2, total - total / 2};
}

struct Window {
  int64_t kh, kw, sh, sw, dh, dw;
  Padding padding;
};

// Pads x (NCHW) explicitly when SAME needs padding; returns the symmetric
// padding left for the torch op to apply ({0, 0} after explicit padding).
torch::Tensor pad_same(const torch::Tensor& x, const Window& w, double value,
                       std::vector<int64_t>& sym) {
  const auto [top, bottom] = tf_padding(w.padding, x.size(2), w.kh, w.sh, w.dh);
  const auto [left, right] = tf_padding(w.padding, x.size(3), w.kw, w.sw, w.dw);
  if (top == bottom && left == right) {
    sym = {top, left};
    return x;
  }
  sym = {0, 0};
  return torch::constant_pad_nd(x, {left, right, top, bottom}, value);
}

// oneDNN is compiled into Debian's libtorch; TAGSMITH_TORCH_BLAS=1 falls back
// to torch's default dispatch (as in clip_model.cpp).
bool use_onednn() {
  static const bool on = at::hasMKLDNN() && !std::getenv("TAGSMITH_TORCH_BLAS");
  return on;
}

std::string dims_text(c10::IntArrayRef s) {
  return fmt::format("[{}]", fmt::join(s, ", "));
}

struct Step {
  int node = 0;
  std::string what;  // "node 12 (CONV_2D)"
  std::vector<int> inputs, outputs;
  std::function<void(Values&)> run;
};

}  // namespace

struct TfliteModel::Impl {
  tflite::TfliteFile file;
  RuntimeOptions options;
  std::vector<int> rank;                 // declared rank of each tensor
  std::vector<torch::Tensor> constants;  // internal layout, by tensor index
  std::vector<int> producer;             // step producing each tensor, -1 for none
  std::vector<Step> steps;
  std::vector<int> last_use;  // last step reading each tensor, -1 for none
  int input = 0;
  std::string output_name;
  // Images per forward pass (see build()).
  int chunk = 1;
  // The dtype activations and float constants are held in: float, or
  // bfloat16 for Precision::bf16 (and int8, which runs as bf16 here).
  torch::ScalarType compute = torch::kFloat32;

  explicit Impl(tflite::TfliteFile f) : file(std::move(f)) {}

  const tflite::Graph& g() const { return file.graph(); }
  const tflite::Tensor& tensor(int i) const { return g().tensors.at(i); }

  [[noreturn]] void refuse(const std::string& what) const {
    throw ModelError(fmt::format("{}: {}", file.origin(), what));
  }

  const torch::Tensor& require_constant(int t, const std::string& what, const char* role) {
    if (t < 0 || !constants[t].defined())
      refuse(fmt::format("{} needs a constant {} (tensor {}), which the file does not store", what,
                         role, t));
    return constants[t];
  }

  std::vector<int64_t> require_integers(int t, const std::string& what, const char* role) {
    if (t < 0 || !tensor(t).is_constant())
      refuse(fmt::format("{} needs a constant {} (tensor {})", what, role, t));
    return tflite::integer_values(tensor(t));
  }

  void check_arity(const tflite::Operator& o, const std::string& what, size_t lo, size_t hi) {
    if (o.inputs.size() < lo || o.inputs.size() > hi || o.outputs.size() != 1)
      refuse(fmt::format("{} has {} inputs and {} outputs; expected {}-{} inputs and 1 output",
                         what, o.inputs.size(), o.outputs.size(), lo, hi));
    for (size_t i = 0; i < lo; ++i)
      if (o.inputs[i] < 0) refuse(fmt::format("{} lacks its input {}", what, i));
  }

  void check_activation(Activation a, const std::string& what) {
    if (a == Activation::SignBit || static_cast<int>(a) < 0 || static_cast<int>(a) > 5)
      refuse(fmt::format("{} uses fused activation {}, which is not supported", what,
                         static_cast<int>(a)));
  }

  void check_options(const tflite::Operator& o, int tag, const std::string& what) {
    if (o.options_type != tag)
      refuse(fmt::format("{} lacks its builtin options (found options type {}, expected {})", what,
                         o.options_type, tag));
  }

  Window window(const tflite::Options& p, int64_t kh, int64_t kw, const std::string& what) {
    if (p.stride_h < 1 || p.stride_w < 1 || p.dilation_h < 1 || p.dilation_w < 1 || kh < 1 ||
        kw < 1)
      refuse(fmt::format("{} has stride {}x{}, dilation {}x{} and window {}x{}; all must be >= 1",
                         what, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, kh, kw));
    if (p.padding != Padding::Same && p.padding != Padding::Valid)
      refuse(fmt::format("{} uses padding {}, which is not supported", what,
                         static_cast<int>(p.padding)));
    return {kh, kw, p.stride_h, p.stride_w, p.dilation_h, p.dilation_w, p.padding};
  }

  // Axis of a tensor of rank r, negative counting from the end, as NHWC.
  int64_t normalise_axis(int64_t a, int r, const std::string& what) {
    if (a < -r || a >= r) refuse(fmt::format("{} uses axis {} of a rank-{} tensor", what, a, r));
    return a < 0 ? a + r : a;
  }

  void prepare(const tflite::Operator& o, int node);

  // Runs the steps needed for `wanted` on `x` (internal layout) and returns
  // all values, intermediates freed after their last reader unless wanted.
  Values execute(const torch::Tensor& x, const std::vector<int>& wanted) const;
  void check_shape(const Step& s, const Values& v) const;
};

void TfliteModel::Impl::check_shape(const Step& s, const Values& v) const {
  for (int t : s.outputs) {
    const auto& declared = tensor(t).shape;
    if (declared.empty()) continue;  // shape left unknown by the converter
    const auto got = to_file_layout(v[t]).sizes();
    bool ok = got.size() == declared.size();
    for (size_t d = 1; ok && d < declared.size(); ++d) ok = got[d] == declared[d];
    if (!ok)
      refuse(fmt::format("{} computes tensor '{}' of shape {} where the file declares [{}]", s.what,
                         tensor(t).name, dims_text(got), fmt::join(declared, ", ")));
  }
}

Values TfliteModel::Impl::execute(const torch::Tensor& x, const std::vector<int>& wanted) const {
  Values v(constants);
  v[input] = x;
  int last = -1;
  std::vector<bool> keep(v.size(), false);
  for (int t : wanted) {
    keep[t] = true;
    last = std::max(last, producer[t]);
  }
  // TAGSMITH_TFLITE_PROFILE=1 prints the time spent per operator kind.
  static const bool profile = std::getenv("TAGSMITH_TFLITE_PROFILE") != nullptr;
  std::map<std::string, double> seconds;
  for (int k = 0; k <= last; ++k) {
    const Step& s = steps[k];
    const auto t0 = std::chrono::steady_clock::now();
    try {
      s.run(v);
    } catch (const c10::Error& e) {
      refuse(fmt::format("{} failed: {}", s.what, e.what_without_backtrace()));
    }
    if (profile)
      seconds[s.what.substr(s.what.find('('))] +=
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    check_shape(s, v);
    for (int t : s.inputs)
      if (t >= 0 && last_use[t] == k && !keep[t] && !constants[t].defined()) v[t] = torch::Tensor();
  }
  for (const auto& [kind, sec] : seconds)
    fmt::print(stderr, "tflite profile: {:<22} {:8.2f} ms (mkldnn {})\n", kind, sec * 1e3,
               at::hasMKLDNN());
  return v;
}

void TfliteModel::Impl::prepare(const tflite::Operator& o, int node) {
  const std::string name = tflite::builtin_name(o.builtin);
  const std::string what = fmt::format("node {} ({})", node, name);
  const auto& p = o.options;
  Step s;
  s.node = node;
  s.what = what;
  s.inputs = o.inputs;
  s.outputs = o.outputs;
  const int in = o.inputs.empty() ? -1 : o.inputs[0];
  const int out = o.outputs.empty() ? -1 : o.outputs[0];
  auto in_rank = [&](int i) { return rank[o.inputs.at(i)]; };

  switch (o.builtin) {
    case op::kConv2d:
    case op::kDepthwiseConv2d: {
      const bool depthwise = o.builtin == op::kDepthwiseConv2d;
      check_arity(o, what, 2, 3);
      check_options(o, depthwise ? 2 : 1, what);
      check_activation(p.activation, what);
      if (in_rank(0) != 4) refuse(fmt::format("{} needs a rank-4 NHWC input", what));
      const auto& filter = require_constant(o.inputs[1], what, "filter");
      if (filter.dim() != 4) refuse(fmt::format("{} has a filter of rank {}", what, filter.dim()));
      // Internal (NCHW-permuted OHWI / 1HW(C*M)) -> torch's [O, I/groups, kh, kw].
      const auto& fshape = tensor(o.inputs[1]).shape;  // OHWI or 1 x kh x kw x C*M
      const int64_t in_c = tensor(in).shape.at(3);
      torch::Tensor weight;
      int64_t groups = 1;
      if (depthwise) {
        const int64_t out_c = fshape[3];
        if (fshape[0] != 1 || in_c <= 0 || out_c % in_c != 0)
          refuse(
              fmt::format("{} has filter {} for {} input channels", what, dims_text(fshape), in_c));
        if (p.depth_multiplier > 0 && p.depth_multiplier * in_c != out_c)
          refuse(fmt::format("{} has depth_multiplier {} but {} output channels for {} inputs",
                             what, p.depth_multiplier, out_c, in_c));
        groups = in_c;
        // Output channel c*M + m reads input channel c: torch's grouped
        // convolution numbers its outputs the same way.
        weight = to_file_layout(filter).permute({3, 0, 1, 2}).contiguous();
      } else {
        if (fshape[3] <= 0 || in_c % fshape[3] != 0)
          refuse(
              fmt::format("{} has filter {} for {} input channels", what, dims_text(fshape), in_c));
        groups = in_c / fshape[3];
        weight = filter.contiguous();  // already [O, I, kh, kw]
      }
      weight = weight.contiguous(at::MemoryFormat::ChannelsLast);
      const int64_t out_c = weight.size(0);
      torch::Tensor bias;
      if (o.inputs.size() > 2 && o.inputs[2] >= 0) {
        bias = require_constant(o.inputs[2], what, "bias").reshape({-1}).contiguous();
        if (bias.numel() != out_c)
          refuse(fmt::format("{} has {} biases for {} output channels", what, bias.numel(), out_c));
      }
      const Window w = window(p, weight.size(2), weight.size(3), what);
      s.run = [=](Values& v) {
        std::vector<int64_t> sym;
        auto x = pad_same(v[in], w, 0.0, sym);
        // Straight to oneDNN: Debian's libtorch would otherwise send many of
        // these (1x1, depthwise) through im2col and the system BLAS.
        auto y =
            use_onednn()
                ? at::mkldnn_convolution(x, weight, bias, sym, {w.sh, w.sw}, {w.dh, w.dw}, groups)
                : at::conv2d(x, weight, bias, {w.sh, w.sw}, sym, {w.dh, w.dw}, groups);
        apply_activation(y, p.activation);
        v[out] = y;
      };
      break;
    }
    case op::kAveragePool2d:
    case op::kMaxPool2d: {
      const bool average = o.builtin == op::kAveragePool2d;
      check_arity(o, what, 1, 1);
      check_options(o, 5, what);
      check_activation(p.activation, what);
      if (in_rank(0) != 4) refuse(fmt::format("{} needs a rank-4 NHWC input", what));
      const Window w = window(p, p.filter_height, p.filter_width, what);
      s.run = [=](Values& v) {
        const auto& x = v[in];
        const auto [top, bottom] = tf_padding(w.padding, x.size(2), w.kh, w.sh, 1);
        const auto [left, right] = tf_padding(w.padding, x.size(3), w.kw, w.sw, 1);
        torch::Tensor y;
        if (top + bottom + left + right == 0) {
          y = average ? at::avg_pool2d(x, {w.kh, w.kw}, {w.sh, w.sw})
                      : at::max_pool2d(x, {w.kh, w.kw}, {w.sh, w.sw});
        } else if (average) {
          // TFLite averages over the window's cells inside the image only:
          // sum of zero-padded values / count of real cells.
          auto sum = at::avg_pool2d(torch::constant_pad_nd(x, {left, right, top, bottom}, 0.0),
                                    {w.kh, w.kw}, {w.sh, w.sw}, {0, 0}, false, true);
          auto ones = torch::ones({1, 1, x.size(2), x.size(3)}, x.options());
          auto count = at::avg_pool2d(torch::constant_pad_nd(ones, {left, right, top, bottom}, 0.0),
                                      {w.kh, w.kw}, {w.sh, w.sw}, {0, 0}, false, true);
          y = sum / count;
        } else {
          y = at::max_pool2d(torch::constant_pad_nd(x, {left, right, top, bottom},
                                                    -std::numeric_limits<float>::infinity()),
                             {w.kh, w.kw}, {w.sh, w.sw});
        }
        apply_activation(y, p.activation);
        v[out] = y;
      };
      break;
    }
    case op::kAdd:
    case op::kMul: {
      check_arity(o, what, 2, 2);
      check_activation(p.activation, what);
      const int a = o.inputs[0], b = o.inputs[1];
      const int r = rank[out];
      const int ra = rank[a], rb = rank[b];
      const bool add = o.builtin == op::kAdd;
      // A lower-rank operand broadcasts against the NHWC view; lift it to
      // rank 4 (leading 1s) and into the internal layout.
      auto lift = [r](const torch::Tensor& t, int rt) {
        if (r != 4 || rt == 4) return t;
        std::vector<int64_t> shape(4 - t.dim(), 1);
        for (auto d : t.sizes()) shape.push_back(d);
        return from_file_layout(t.reshape(shape));
      };
      s.run = [=](Values& v) {
        auto y =
            add ? at::add(lift(v[a], ra), lift(v[b], rb)) : at::mul(lift(v[a], ra), lift(v[b], rb));
        apply_activation(y, p.activation);
        v[out] = y;
      };
      break;
    }
    case op::kConcatenation: {
      if (o.inputs.empty() || o.outputs.size() != 1)
        refuse(fmt::format("{} needs inputs and one output", what));
      for (int t : o.inputs)
        if (t < 0 || rank[t] != rank[out])
          refuse(fmt::format("{} concatenates tensors of different ranks", what));
      if (o.options_type != 0) check_options(o, 10, what);
      check_activation(p.activation, what);
      const int r = rank[out];
      int64_t axis = normalise_axis(p.axis, r, what);
      if (r == 4) axis = torch_axis(axis);
      const auto ins = o.inputs;
      s.run = [=](Values& v) {
        std::vector<torch::Tensor> parts;
        for (int t : ins) parts.push_back(v[t]);
        auto y = torch::cat(parts, axis);
        apply_activation(y, p.activation);
        v[out] = y;
      };
      break;
    }
    case op::kMean: {
      check_arity(o, what, 2, 2);
      const int r = in_rank(0);
      std::vector<int64_t> axes;
      for (auto a : require_integers(o.inputs[1], what, "axis list"))
        axes.push_back(normalise_axis(a, r, what));
      if (std::find(axes.begin(), axes.end(), 0) != axes.end())
        refuse(fmt::format("{} averages over the batch dimension, which is not supported", what));
      const bool keep = p.keep_dims;
      s.run = [=](Values& v) {
        if (keep) {
          std::vector<int64_t> dims;
          for (auto a : axes) dims.push_back(r == 4 ? torch_axis(a) : a);
          v[out] = v[in].mean(dims, true);
        } else {
          v[out] = from_file_layout(to_file_layout(v[in]).mean(axes, false));
        }
      };
      break;
    }
    case op::kReshape:
    case op::kSqueeze: {
      check_arity(o, what, 1, 2);
      // The target shape comes from the file (shape operand, options or the
      // declared output shape); the batch dimension stays dynamic when the
      // reshape keeps it.
      std::vector<int64_t> target;
      if (o.builtin == op::kReshape && o.inputs.size() > 1 && o.inputs[1] >= 0 &&
          tensor(o.inputs[1]).is_constant())
        target = require_integers(o.inputs[1], what, "shape");
      else if (o.builtin == op::kReshape && !p.new_shape.empty())
        target.assign(p.new_shape.begin(), p.new_shape.end());
      else
        target = tensor(out).shape;
      const auto& in_shape = tensor(in).shape;
      int64_t per_image = 1;
      for (size_t d = 1; d < in_shape.size(); ++d) per_image *= in_shape[d];
      int64_t known = 1, unknown = 0;
      for (size_t d = 1; d < target.size(); ++d)
        if (target[d] < 0)
          ++unknown;
        else
          known *= target[d];
      bool keeps_batch = !in_shape.empty() && !target.empty() && in_shape[0] == 1 &&
                         (target[0] == 1 || target[0] == -1) &&
                         ((unknown == 0 && known == per_image) ||
                          (unknown == 1 && known > 0 && per_image % known == 0));
      if (keeps_batch) target[0] = -1;
      if (o.builtin == op::kSqueeze && !in_shape.empty() && in_shape[0] == 1) {
        const auto& dims = p.squeeze_dims;
        if (!dims.empty() && std::find(dims.begin(), dims.end(), 0) == dims.end() &&
            std::find(dims.begin(), dims.end(), -static_cast<int>(in_shape.size())) == dims.end())
          target[0] = -1;
      }
      s.run = [=](Values& v) { v[out] = from_file_layout(to_file_layout(v[in]).reshape(target)); };
      break;
    }
    case op::kSoftmax: {
      check_arity(o, what, 1, 1);
      check_options(o, 9, what);
      const int r = in_rank(0);
      const int64_t dim = r == 4 ? 1 : -1;
      const double beta = p.beta;
      s.run = [=](Values& v) { v[out] = torch::softmax(v[in] * beta, dim); };
      break;
    }
    case op::kFullyConnected: {
      check_arity(o, what, 2, 3);
      if (o.options_type != 0) check_options(o, 8, what);
      check_activation(p.activation, what);
      if (p.weights_format != 0)
        refuse(fmt::format("{} uses a shuffled weights format, which is not supported", what));
      const auto weight = require_constant(o.inputs[1], what, "weight matrix").contiguous();
      if (weight.dim() != 2) refuse(fmt::format("{} has weights of rank {}", what, weight.dim()));
      torch::Tensor bias;
      if (o.inputs.size() > 2 && o.inputs[2] >= 0) {
        bias = require_constant(o.inputs[2], what, "bias").reshape({-1});
        if (bias.numel() != weight.size(0))
          refuse(
              fmt::format("{} has {} biases for {} outputs", what, bias.numel(), weight.size(0)));
      }
      const bool keep = p.keep_num_dims;
      s.run = [=](Values& v) {
        auto x = to_file_layout(v[in]);
        const int64_t units = weight.size(1);
        std::vector<int64_t> shape = x.sizes().vec();
        auto y = at::linear(x.reshape({-1, units}), weight, bias);
        if (keep) {
          shape.back() = weight.size(0);
          y = from_file_layout(y.reshape(shape));
        }
        apply_activation(y, p.activation);
        v[out] = y;
      };
      break;
    }
    case op::kResizeBilinear: {
      check_arity(o, what, 2, 2);
      if (o.options_type != 0) check_options(o, 15, what);
      if (in_rank(0) != 4) refuse(fmt::format("{} needs a rank-4 NHWC input", what));
      const auto size = require_integers(o.inputs[1], what, "output size");
      if (size.size() != 2 || size[0] < 1 || size[1] < 1)
        refuse(fmt::format("{} has output size [{}]", what, fmt::join(size, ", ")));
      if (p.align_corners && p.half_pixel_centers)
        refuse(fmt::format("{} sets both align_corners and half_pixel_centers", what));
      const bool align = p.align_corners, half = p.half_pixel_centers;
      // TFLite's reference kernel, one axis at a time: source position,
      // its two neighbours (clamped) and the weight of the second.
      auto axis = [align, half](int64_t in_size, int64_t out_size) {
        const float scale = align && out_size > 1
                                ? static_cast<float>(in_size - 1) / static_cast<float>(out_size - 1)
                                : static_cast<float>(in_size) / static_cast<float>(out_size);
        std::vector<int64_t> lo(out_size), hi(out_size);
        std::vector<float> w(out_size);
        for (int64_t i = 0; i < out_size; ++i) {
          const float src =
              half ? (static_cast<float>(i) + 0.5f) * scale - 0.5f : static_cast<float>(i) * scale;
          lo[i] = std::max<int64_t>(static_cast<int64_t>(std::floor(src)), 0);
          hi[i] = std::min<int64_t>(static_cast<int64_t>(std::ceil(src)), in_size - 1);
          w[i] = src - static_cast<float>(lo[i]);
        }
        return std::tuple{torch::tensor(lo), torch::tensor(hi), torch::tensor(w)};
      };
      const int64_t oh = size[0], ow = size[1];
      s.run = [=](Values& v) {
        const auto& x = v[in];
        auto [y0, y1, wy] = axis(x.size(2), oh);
        auto [x0, x1, wx] = axis(x.size(3), ow);
        wy = wy.to(x.scalar_type()).view({1, 1, oh, 1});
        auto rows = x.index_select(2, y0) * (1 - wy) + x.index_select(2, y1) * wy;
        wx = wx.to(x.scalar_type()).view({1, 1, 1, ow});
        v[out] = rows.index_select(3, x0) * (1 - wx) + rows.index_select(3, x1) * wx;
      };
      break;
    }
    case op::kArgMax: {
      check_arity(o, what, 2, 2);
      const int r = in_rank(0);
      const auto axes = require_integers(o.inputs[1], what, "axis");
      if (axes.size() != 1) refuse(fmt::format("{} needs exactly one axis", what));
      const int64_t axis = normalise_axis(axes[0], r, what);
      if (axis == 0) refuse(fmt::format("{} over the batch dimension is not supported", what));
      s.run = [=](Values& v) { v[out] = to_file_layout(v[in]).argmax(axis); };
      break;
    }
    case op::kPad: {
      check_arity(o, what, 2, 2);
      const int r = in_rank(0);
      const auto pads = require_integers(o.inputs[1], what, "paddings");
      if (static_cast<int>(pads.size()) != 2 * r)
        refuse(fmt::format("{} has {} paddings for a rank-{} tensor", what, pads.size(), r));
      if (r > 0 && (pads[0] != 0 || pads[1] != 0))
        refuse(fmt::format("{} pads the batch dimension, which is not supported", what));
      for (auto q : pads)
        if (q < 0) refuse(fmt::format("{} has a negative padding", what));
      // torch lists pairs from the last (internal) dimension backwards.
      std::vector<int64_t> torch_pads;
      for (int d = r - 1; d >= 0; --d) {
        // Internal dimension d holds file axis: NCHW d -> NHWC {0, 3, 1, 2}[d].
        static constexpr int nhwc_of[] = {0, 3, 1, 2};
        const int a = r == 4 ? nhwc_of[d] : d;
        torch_pads.push_back(pads[2 * a]);
        torch_pads.push_back(pads[2 * a + 1]);
      }
      s.run = [=](Values& v) { v[out] = torch::constant_pad_nd(v[in], torch_pads, 0.0); };
      break;
    }
    case op::kLogistic:
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = torch::sigmoid(v[in]); };
      break;
    case op::kRelu:
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = v[in].clamp_min(0.0); };
      break;
    case op::kRelu6:
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = v[in].clamp(0.0, 6.0); };
      break;
    case op::kReluN1To1:
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = v[in].clamp(-1.0, 1.0); };
      break;
    case op::kHardSwish:
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = v[in] * (v[in] + 3.0).clamp(0.0, 6.0) / 6.0; };
      break;
    case op::kQuantize:
    case op::kDequantize:
      // Float execution: (de)quantization is the identity on real values.
      check_arity(o, what, 1, 1);
      s.run = [=](Values& v) { v[out] = v[in]; };
      break;
    default:
      if (!o.custom_code.empty())
        refuse(
            fmt::format("unsupported TFLite custom operator '{}' in node {}", o.custom_code, node));
      refuse(fmt::format("unsupported TFLite operator {} (builtin {}) in node {}", name, o.builtin,
                         node));
  }
  steps.push_back(std::move(s));
}

TfliteModel::TfliteModel(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
TfliteModel::~TfliteModel() = default;

std::unique_ptr<TfliteModel> TfliteModel::load(const std::filesystem::path& path,
                                               const RuntimeOptions& options) {
  auto impl = std::make_unique<Impl>(tflite::TfliteFile::read(path));
  impl->options = options;
  return build(std::move(impl));
}

std::unique_ptr<TfliteModel> TfliteModel::from_bytes(std::vector<std::uint8_t> bytes,
                                                     const std::string& origin,
                                                     const RuntimeOptions& options) {
  auto impl = std::make_unique<Impl>(tflite::TfliteFile::parse(std::move(bytes), origin));
  impl->options = options;
  return build(std::move(impl));
}

std::unique_ptr<TfliteModel> TfliteModel::build(std::unique_ptr<Impl> impl) {
  Impl& m = *impl;
  const tflite::Graph& g = m.g();
  if (g.inputs.size() != 1)
    m.refuse(fmt::format("the graph has {} inputs; only single-input models are supported",
                         g.inputs.size()));
  if (g.outputs.empty()) m.refuse("the graph declares no output");
  m.input = g.inputs[0];
  const auto& input = m.tensor(m.input);
  if (input.shape.empty() || input.shape[0] != 1)
    m.refuse(fmt::format("the input tensor '{}' has shape [{}]; expected a batch of 1 first",
                         input.name, fmt::join(input.shape, ", ")));
  if (input.type != ElementType::Float32 && input.type != ElementType::UInt8 &&
      input.type != ElementType::Int8)
    m.refuse(fmt::format("the input tensor '{}' has type {}; expected FLOAT32, UINT8 or INT8",
                         input.name, tflite::type_name(input.type)));
  if (m.options.max_batch <= 0) m.options.max_batch = 32;
  if (m.options.threads > 0) at::set_num_threads(m.options.threads);
  // bf16: every float constant (weights, biases, ADD/MUL operands) is
  // converted once here and the activations run in bfloat16, so oneDNN picks
  // its bf16 convolution kernels (AVX-512 BF16 / AMX). No dynamic int8
  // convolution exists in libtorch, so int8 runs as bf16 too.
  if (m.options.precision != Precision::fp32) m.compute = torch::kBFloat16;

  const auto n = g.tensors.size();
  m.rank.resize(n);
  m.constants.resize(n);
  m.producer.assign(n, -1);
  std::vector<bool> available(n, false);
  c10::InferenceMode guard;
  for (size_t i = 0; i < n; ++i) {
    const auto& t = g.tensors[i];
    m.rank[i] = static_cast<int>(t.shape.size());
    if (!t.is_constant()) continue;
    available[i] = true;
    switch (t.type) {
      case ElementType::Float32:
      case ElementType::Float16:
      case ElementType::UInt8:
      case ElementType::Int8:
      case ElementType::Int16:
      case ElementType::Int32:
      case ElementType::Int64:
        m.constants[i] = constant_tensor(t).to(m.compute);
        break;
      default:
        break;  // only used if an operator asks for it, which then refuses
    }
  }
  available[m.input] = true;
  for (size_t k = 0; k < g.operators.size(); ++k) {
    const auto& o = g.operators[k];
    const std::string name = tflite::builtin_name(o.builtin);
    for (int t : o.inputs)
      if (t >= 0 && !available[t])
        m.refuse(fmt::format("node {} ({}) reads tensor {} '{}' before any node writes it", k, name,
                             t, m.tensor(t).name));
    m.prepare(o, static_cast<int>(k));
    for (int t : o.outputs) {
      if (m.tensor(t).is_constant() || t == m.input)
        m.refuse(
            fmt::format("node {} ({}) overwrites tensor {} '{}'", k, name, t, m.tensor(t).name));
      available[t] = true;
      m.producer[t] = static_cast<int>(m.steps.size() - 1);
    }
  }
  for (int t : g.outputs)
    if (!available[t])
      m.refuse(
          fmt::format("the graph's output tensor {} '{}' is never computed", t, m.tensor(t).name));
  m.output_name = m.tensor(g.outputs[0]).name;
  m.last_use.assign(n, -1);
  for (size_t k = 0; k < m.steps.size(); ++k)
    for (int t : m.steps[k].inputs)
      if (t >= 0) m.last_use[t] = static_cast<int>(k);

  // Images per forward pass: large batches are run a few images at a time
  // so that every activation stays under ~24 MB. Bigger buffers are
  // mmap'ed and unmapped by glibc on every call, and page-faulting them in
  // cost 4-5x the compute on MobileNetV2 at batch 32 (measured: 7 ms of CPU
  // per image at 4 per pass, 38 ms at 8 and more).
  int64_t largest = 1;
  for (size_t i = 0; i < n; ++i)
    if (!g.tensors[i].is_constant()) largest = std::max(largest, g.tensors[i].element_count());
  constexpr int64_t kActivationBudget = int64_t{24} << 20;
  m.chunk = static_cast<int>(
      std::clamp<int64_t>(kActivationBudget / (largest * 4), 1, m.options.max_batch));

  auto model = std::unique_ptr<TfliteModel>(new TfliteModel(std::move(impl)));
  // A dry run on one blank image checks at load that every operator accepts
  // the shapes the file declares (small inputs only, to bound the cost).
  const auto per_image = input.element_count();
  if (per_image <= (int64_t{1} << 24)) {
    std::vector<float> blank(static_cast<size_t>(per_image), 0.0f);
    model->run(blank, 1, model->impl_->output_name);
  }
  return model;
}

const tflite::Graph& TfliteModel::graph() const {
  return impl_->g();
}
const std::string& TfliteModel::origin() const {
  return impl_->file.origin();
}
int TfliteModel::input_height() const {
  const auto& s = impl_->tensor(impl_->input).shape;
  return s.size() == 4 ? static_cast<int>(s[1]) : 0;
}
int TfliteModel::input_width() const {
  const auto& s = impl_->tensor(impl_->input).shape;
  return s.size() == 4 ? static_cast<int>(s[2]) : 0;
}
int TfliteModel::input_channels() const {
  const auto& s = impl_->tensor(impl_->input).shape;
  return s.size() == 4 ? static_cast<int>(s[3]) : 0;
}
int TfliteModel::input_size() const {
  return input_height();
}

float TfliteModel::input_value(std::uint8_t q) const {
  const auto& t = impl_->tensor(impl_->input);
  if (t.quantization.empty() || t.type == ElementType::Float32) return q;
  const double scale = t.quantization.scale[0];
  const double zero = t.quantization.zero_point.empty() ? 0.0 : t.quantization.zero_point[0];
  // An INT8 input holds the uint8 pixel shifted by 128.
  const double stored = t.type == ElementType::Int8 ? q - 128.0 : q;
  return static_cast<float>(scale * (stored - zero));
}

std::vector<std::string> TfliteModel::tensor_names() const {
  std::vector<std::string> names;
  for (const auto& t : impl_->g().tensors) names.push_back(t.name);
  return names;
}

const std::string& TfliteModel::output_name() const {
  return impl_->output_name;
}

namespace {

int find_or_throw(const tflite::Graph& g, const std::string& name, const std::string& origin) {
  const int i = g.find_tensor(name);
  if (i < 0) throw NotFoundError(fmt::format("{} has no tensor named '{}'", origin, name));
  return i;
}

}  // namespace

int TfliteModel::tensor_width(const std::string& name) const {
  const auto& shape = impl_->tensor(find_or_throw(impl_->g(), name, origin())).shape;
  int64_t w = 1;
  for (size_t d = 1; d < shape.size(); ++d) w *= shape[d];
  return static_cast<int>(w);
}

std::vector<Matrix> TfliteModel::run(std::span<const float> nhwc, int batch,
                                     const std::vector<std::string>& outputs) const {
  const Impl& m = *impl_;
  std::vector<int> wanted;
  for (const auto& name : outputs) wanted.push_back(find_or_throw(m.g(), name, origin()));
  const auto& input_shape = m.tensor(m.input).shape;
  const auto per_image = static_cast<std::size_t>(m.tensor(m.input).element_count());
  if (batch < 0 || nhwc.size() != per_image * static_cast<std::size_t>(batch))
    throw InputError(fmt::format("{}: {} input values are not {} images of [{}]", origin(),
                                 nhwc.size(), batch, fmt::join(input_shape, ", ")));
  std::vector<Matrix> result;
  for (const auto& name : outputs) result.emplace_back(0, tensor_width(name));
  c10::InferenceMode guard;
  for (int b0 = 0; b0 < batch; b0 += m.chunk) {
    const int n = std::min(m.chunk, batch - b0);
    std::vector<int64_t> shape = input_shape;
    shape[0] = n;
    // from_blob does not copy; operators never write into their inputs.
    auto x =
        torch::from_blob(const_cast<float*>(nhwc.data()) + per_image * b0, shape, torch::kFloat32);
    const Values v = m.execute(from_file_layout(x).to(m.compute), wanted);
    for (size_t k = 0; k < wanted.size(); ++k) {
      auto t = to_file_layout(v[wanted[k]]).to(torch::kFloat32).contiguous();
      if (t.numel() % n != 0 || t.numel() / n != result[k].cols)
        throw ModelError(fmt::format("{}: tensor '{}' holds {} values for {} images", origin(),
                                     outputs[k], t.numel(), n));
      Matrix& r = result[k];
      r.data.insert(r.data.end(), t.data_ptr<float>(), t.data_ptr<float>() + t.numel());
      r.rows += n;
    }
  }
  return result;
}

Matrix TfliteModel::run(std::span<const float> nhwc, int batch, const std::string& output) const {
  return std::move(run(nhwc, batch, std::vector<std::string>{output}).front());
}

Matrix TfliteModel::run_images(const std::vector<cv::Mat>& rgb, const std::string& output) const {
  return std::move(run_images(rgb, std::vector<std::string>{output}).front());
}

std::vector<Matrix> TfliteModel::run_images(const std::vector<cv::Mat>& rgb,
                                            const std::vector<std::string>& outputs) const {
  const int h = input_height(), w = input_width(), c = input_channels();
  if (c != 3) throw InputError(fmt::format("{} does not take RGB images", origin()));
  std::array<float, 256> lut{};
  for (int q = 0; q < 256; ++q) lut[q] = input_value(static_cast<std::uint8_t>(q));
  std::vector<Matrix> out;
  for (const auto& name : outputs) out.emplace_back(0, tensor_width(name));
  const auto total = static_cast<int>(rgb.size());
  const std::size_t per = static_cast<std::size_t>(h) * w * c;
  std::vector<float> pixels;
  for (int b0 = 0; b0 < total; b0 += impl_->options.max_batch) {
    const int n = std::min(impl_->options.max_batch, total - b0);
    pixels.resize(per * n);
    for (int i = 0; i < n; ++i) {
      const cv::Mat& img = rgb[b0 + i];
      if (img.type() != CV_8UC3 || img.rows != h || img.cols != w)
        throw InputError(fmt::format("{} expects {}x{} CV_8UC3 RGB images, got {}x{} of type {}",
                                     origin(), w, h, img.cols, img.rows, img.type()));
      float* dst = pixels.data() + per * i;
      for (int y = 0; y < h; ++y) {
        const std::uint8_t* row = img.ptr<std::uint8_t>(y);
        for (int x = 0; x < w * 3; ++x) *dst++ = lut[row[x]];
      }
    }
    const auto parts = run(pixels, n, outputs);
    for (size_t k = 0; k < parts.size(); ++k) {
      out[k].data.insert(out[k].data.end(), parts[k].data.begin(), parts[k].data.end());
      out[k].rows += parts[k].rows;
    }
  }
  return out;
}

std::vector<std::string> TfliteModel::operator_inputs(const std::string& name) const {
  const int t = find_or_throw(impl_->g(), name, origin());
  if (impl_->producer[t] < 0)
    throw NotFoundError(fmt::format("{}: no operator computes tensor '{}'", origin(), name));
  std::vector<std::string> names;
  for (int i : impl_->steps[impl_->producer[t]].inputs)
    names.push_back(i < 0 ? std::string() : impl_->tensor(i).name);
  return names;
}

Matrix TfliteModel::constant(const std::string& name) const {
  const auto& t = impl_->tensor(find_or_throw(impl_->g(), name, origin()));
  if (!t.is_constant())
    throw ModelError(fmt::format("{}: tensor '{}' is computed, not stored", origin(), name));
  std::vector<float> values = tflite::dequantize(t);
  const int rows = t.shape.empty() ? 1 : static_cast<int>(t.shape[0]);
  Matrix m;
  m.rows = rows;
  m.cols = rows > 0 ? static_cast<int>(values.size() / rows) : 0;
  m.data = std::move(values);
  return m;
}

}  // namespace tagsmith::vision
