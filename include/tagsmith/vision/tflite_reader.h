#pragma once
// Reading TensorFlow Lite model files (.tflite): a FlatBuffer whose root is a
// Model table (file identifier "TFL3") holding operator codes, subgraphs of
// tensors and operators, and the raw buffers with constant data.
//
// This is the project's own reader for the few tables a float interpreter
// needs; field ids follow TensorFlow's schema.fbs (Model, SubGraph, Tensor,
// Buffer, Operator, OperatorCode, QuantizationParameters and the builtin
// options of the operators decoded below). Every table, vector and string it
// touches is bounds-checked with flatbuffers::Verifier before it is read, and
// every index (tensor, buffer, opcode) is range-checked, so a truncated or
// corrupt file is refused with a ModelError naming the file and the part
// that is wrong, never read out of bounds. Shapes are checked too: a tensor
// of more than 2^31 elements, a negative dimension or constant data whose
// size does not match shape x type is refused at load.
//
// Only the first subgraph (the model's main graph) is read. The reader does
// not judge whether an operator can be executed; TfliteModel does that.
#include <cstdint>
#include <filesystem>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/vision/safetensors.h"  // ModelError

namespace tagsmith::vision::tflite {

// TensorType values of the schema (the ones this project reads by name).
enum class ElementType : int {
  Float32 = 0,
  Float16 = 1,
  Int32 = 2,
  UInt8 = 3,
  Int64 = 4,
  String = 5,
  Bool = 6,
  Int16 = 7,
  Complex64 = 8,
  Int8 = 9,
  Float64 = 10,
};
std::string type_name(ElementType t);  // "UINT8", "FLOAT32", ..., "type 17"
// Bytes per element, 0 for types without a fixed size (STRING, unknown).
std::size_t element_size(ElementType t);

// BuiltinOperator codes of the operators the runtime executes.
namespace builtin {
inline constexpr int kAdd = 0, kAveragePool2d = 1, kConcatenation = 2, kConv2d = 3,
                     kDepthwiseConv2d = 4, kDequantize = 6, kFullyConnected = 9, kLogistic = 14,
                     kMaxPool2d = 17, kMul = 18, kRelu = 19, kReluN1To1 = 20, kRelu6 = 21,
                     kReshape = 22, kResizeBilinear = 23, kSoftmax = 25, kPad = 34, kMean = 40,
                     kSqueeze = 43, kArgMax = 56, kQuantize = 114, kHardSwish = 117;
}  // namespace builtin
// "CONV_2D" for 3; "builtin 999" outside the schema's enum.
std::string builtin_name(int code);

enum class Padding { Same = 0, Valid = 1 };
// Fused activation applied to an operator's output.
enum class Activation { None = 0, Relu = 1, ReluN1To1 = 2, Relu6 = 3, Tanh = 4, SignBit = 5 };

// real = scale * (q - zero_point); per channel along quantized_dimension
// when scale has more than one entry.
struct Quantization {
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  int quantized_dimension = 0;
  bool empty() const { return scale.empty(); }
};

struct Tensor {
  std::string name;
  std::vector<std::int64_t> shape;  // as stored (NHWC for images)
  ElementType type = ElementType::Float32;
  Quantization quantization;
  // Constant data (weights, shape operands) straight from the file; empty
  // for activations and the graph's inputs.
  std::span<const std::uint8_t> data;
  bool is_variable = false;

  std::int64_t element_count() const;
  bool is_constant() const { return !data.empty(); }
};

// Builtin options of the operators the runtime knows, decoded from the
// operator's options table (Conv2DOptions, Pool2DOptions, ...). Fields an
// operator does not have keep these defaults, which are the schema's.
struct Options {
  Padding padding = Padding::Same;
  int stride_w = 0, stride_h = 0;
  int dilation_w = 1, dilation_h = 1;
  int filter_width = 0, filter_height = 0;  // pools
  int depth_multiplier = 0;                 // DEPTHWISE_CONV_2D
  Activation activation = Activation::None;
  int axis = 0;                                  // CONCATENATION
  float beta = 0.0f;                             // SOFTMAX
  bool keep_dims = false;                        // MEAN (ReducerOptions)
  bool keep_num_dims = false;                    // FULLY_CONNECTED
  int weights_format = 0;                        // FULLY_CONNECTED: 0 = DEFAULT
  bool align_corners = false;                    // RESIZE_BILINEAR
  bool half_pixel_centers = false;               // RESIZE_BILINEAR
  std::vector<std::int32_t> new_shape;           // RESHAPE (may be absent)
  std::vector<std::int32_t> squeeze_dims;        // SQUEEZE
  ElementType output_type = ElementType::Int64;  // ARG_MAX
};

struct Operator {
  int builtin = 0;          // BuiltinOperator code (see builtin_name)
  std::string custom_code;  // for CUSTOM operators
  int version = 1;
  std::vector<int> inputs, outputs;  // tensor indices; -1 = optional input left out
  int options_type = 0;              // BuiltinOptions union tag, 0 = none
  Options options;
};

struct Graph {
  std::uint32_t schema_version = 0;
  std::string description;
  std::vector<Tensor> tensors;
  std::vector<Operator> operators;  // in execution order
  std::vector<int> inputs, outputs;

  // Index of the tensor called `name`, or -1.
  int find_tensor(std::string_view name) const;
};

// A parsed model file; owns the bytes the tensors' data spans point into,
// so it is move-only.
class TfliteFile {
 public:
  // Reads and validates `path`. Throws ModelError naming the file.
  static TfliteFile read(const std::filesystem::path& path);
  // Validates a model held in memory; `origin` names it in messages.
  static TfliteFile parse(std::vector<std::uint8_t> bytes, std::string origin);

  TfliteFile(TfliteFile&&) noexcept = default;
  TfliteFile& operator=(TfliteFile&&) noexcept = default;
  TfliteFile(const TfliteFile&) = delete;
  TfliteFile& operator=(const TfliteFile&) = delete;

  const Graph& graph() const { return graph_; }
  const std::string& origin() const { return origin_; }
  std::size_t size_bytes() const { return bytes_.size(); }

 private:
  TfliteFile() = default;
  std::vector<std::uint8_t> bytes_;
  std::string origin_;
  Graph graph_;
};

// The real values of a constant tensor, in its stored (row-major) order:
// FLOAT32 as is; UINT8, INT8, INT16, INT32 and INT64 through their
// quantization (per tensor, or per channel along quantized_dimension), or
// as plain integers when the tensor has none. Throws ModelError for a tensor
// without data or of another type.
std::vector<float> dequantize(const Tensor& t);

// The integer values of a constant INT32 or INT64 tensor (shape operands,
// axes). Throws ModelError otherwise.
std::vector<std::int64_t> integer_values(const Tensor& t);

}  // namespace tagsmith::vision::tflite
