#include "tagsmith/vision/tflite_reader.h"

#include <flatbuffers/flatbuffers.h>
#include <fmt/format.h>

#include <array>
#include <cstring>
#include <fstream>
#include <limits>

namespace tagsmith::vision::tflite {

namespace {

using flatbuffers::String;
using flatbuffers::Table;
using flatbuffers::Vector;
using flatbuffers::voffset_t;

// A table's field with id N sits at vtable offset 4 + 2N.
constexpr voffset_t field(int id) {
  return static_cast<voffset_t>(4 + 2 * id);
}

// Field ids from TensorFlow's schema.fbs, table by table.
namespace model_f {
constexpr voffset_t kVersion = field(0), kOperatorCodes = field(1), kSubgraphs = field(2),
                    kDescription = field(3), kBuffers = field(4);
}
namespace opcode_f {
constexpr voffset_t kDeprecatedBuiltin = field(0), kCustomCode = field(1), kVersion = field(2),
                    kBuiltin = field(3);
}
namespace subgraph_f {
constexpr voffset_t kTensors = field(0), kInputs = field(1), kOutputs = field(2),
                    kOperators = field(3);
}
namespace tensor_f {
constexpr voffset_t kShape = field(0), kType = field(1), kBuffer = field(2), kName = field(3),
                    kQuantization = field(4), kIsVariable = field(5), kSparsity = field(6);
}
namespace quant_f {
constexpr voffset_t kScale = field(2), kZeroPoint = field(3), kDetailsType = field(4),
                    kQuantizedDimension = field(6);
}
namespace buffer_f {
constexpr voffset_t kData = field(0), kOffset = field(1), kSize = field(2);
}
namespace operator_f {
constexpr voffset_t kOpcodeIndex = field(0), kInputs = field(1), kOutputs = field(2),
                    kOptionsType = field(3), kOptions = field(4);
}

// BuiltinOptions union tags of the options tables decoded here.
namespace options_tag {
constexpr int kConv2d = 1, kDepthwiseConv2d = 2, kPool2d = 5, kFullyConnected = 8, kSoftmax = 9,
              kConcatenation = 10, kAdd = 11, kResizeBilinear = 15, kReshape = 17, kMul = 21,
              kReducer = 27, kSub = 28, kSqueeze = 30, kArgMax = 40;
}

constexpr std::int64_t kMaxElements = std::int64_t{1} << 31;

const char* const kBuiltinNames[] = {
    "ADD",
    "AVERAGE_POOL_2D",
    "CONCATENATION",
    "CONV_2D",
    "DEPTHWISE_CONV_2D",
    "DEPTH_TO_SPACE",
    "DEQUANTIZE",
    "EMBEDDING_LOOKUP",
    "FLOOR",
    "FULLY_CONNECTED",
    "HASHTABLE_LOOKUP",
    "L2_NORMALIZATION",
    "L2_POOL_2D",
    "LOCAL_RESPONSE_NORMALIZATION",
    "LOGISTIC",
    "LSH_PROJECTION",
    "LSTM",
    "MAX_POOL_2D",
    "MUL",
    "RELU",
    "RELU_N1_TO_1",
    "RELU6",
    "RESHAPE",
    "RESIZE_BILINEAR",
    "RNN",
    "SOFTMAX",
    "SPACE_TO_DEPTH",
    "SVDF",
    "TANH",
    "CONCAT_EMBEDDINGS",
    "SKIP_GRAM",
    "CALL",
    "CUSTOM",
    "EMBEDDING_LOOKUP_SPARSE",
    "PAD",
    "UNIDIRECTIONAL_SEQUENCE_RNN",
    "GATHER",
    "BATCH_TO_SPACE_ND",
    "SPACE_TO_BATCH_ND",
    "TRANSPOSE",
    "MEAN",
    "SUB",
    "DIV",
    "SQUEEZE",
    "UNIDIRECTIONAL_SEQUENCE_LSTM",
    "STRIDED_SLICE",
    "BIDIRECTIONAL_SEQUENCE_RNN",
    "EXP",
    "TOPK_V2",
    "SPLIT",
    "LOG_SOFTMAX",
    "DELEGATE",
    "BIDIRECTIONAL_SEQUENCE_LSTM",
    "CAST",
    "PRELU",
    "MAXIMUM",
    "ARG_MAX",
    "MINIMUM",
    "LESS",
    "NEG",
    "PADV2",
    "GREATER",
    "GREATER_EQUAL",
    "LESS_EQUAL",
    "SELECT",
    "SLICE",
    "SIN",
    "TRANSPOSE_CONV",
    "SPARSE_TO_DENSE",
    "TILE",
    "EXPAND_DIMS",
    "EQUAL",
    "NOT_EQUAL",
    "LOG",
    "SUM",
    "SQRT",
    "RSQRT",
    "SHAPE",
    "POW",
    "ARG_MIN",
    "FAKE_QUANT",
    "REDUCE_PROD",
    "REDUCE_MAX",
    "PACK",
    "LOGICAL_OR",
    "ONE_HOT",
    "LOGICAL_AND",
    "LOGICAL_NOT",
    "UNPACK",
    "REDUCE_MIN",
    "FLOOR_DIV",
    "REDUCE_ANY",
    "SQUARE",
    "ZEROS_LIKE",
    "FILL",
    "FLOOR_MOD",
    "RANGE",
    "RESIZE_NEAREST_NEIGHBOR",
    "LEAKY_RELU",
    "SQUARED_DIFFERENCE",
    "MIRROR_PAD",
    "ABS",
    "SPLIT_V",
    "UNIQUE",
    "CEIL",
    "REVERSE_V2",
    "ADD_N",
    "GATHER_ND",
    "COS",
    "WHERE",
    "RANK",
    "ELU",
    "REVERSE_SEQUENCE",
    "MATRIX_DIAG",
    "QUANTIZE",
    "MATRIX_SET_DIAG",
    "ROUND",
    "HARD_SWISH",
    "IF",
    "WHILE",
    "NON_MAX_SUPPRESSION_V4",
    "NON_MAX_SUPPRESSION_V5",
    "SCATTER_ND",
    "SELECT_V2",
    "DENSIFY",
    "SEGMENT_SUM",
    "BATCH_MATMUL",
    "PLACEHOLDER_FOR_GREATER_OP_CODES",
    "CUMSUM",
    "CALL_ONCE",
    "BROADCAST_TO",
    "RFFT2D",
    "CONV_3D",
    "IMAG",
    "REAL",
    "COMPLEX_ABS",
    "HASHTABLE",
    "HASHTABLE_FIND",
    "HASHTABLE_IMPORT",
    "HASHTABLE_SIZE",
    "REDUCE_ALL",
    "CONV_3D_TRANSPOSE",
    "VAR_HANDLE",
    "READ_VARIABLE",
    "ASSIGN_VARIABLE",
    "BROADCAST_ARGS",
    "RANDOM_STANDARD_NORMAL",
    "BUCKETIZE",
    "RANDOM_UNIFORM",
    "MULTINOMIAL",
    "GELU",
    "DYNAMIC_UPDATE_SLICE",
    "RELU_0_TO_1",
    "UNSORTED_SEGMENT_PROD",
    "UNSORTED_SEGMENT_MAX",
    "UNSORTED_SEGMENT_SUM",
    "ATAN2",
    "UNSORTED_SEGMENT_MIN",
    "SIGN",
    "BITCAST",
    "BITWISE_XOR",
    "RIGHT_SHIFT",
    "STABLEHLO_LOGISTIC",
    "STABLEHLO_ADD",
    "STABLEHLO_DIVIDE",
    "STABLEHLO_MULTIPLY",
    "STABLEHLO_MAXIMUM",
    "STABLEHLO_RESHAPE",
    "STABLEHLO_CLAMP",
    "STABLEHLO_CONCATENATE",
    "STABLEHLO_BROADCAST_IN_DIM",
    "STABLEHLO_CONVOLUTION",
    "STABLEHLO_SLICE",
    "STABLEHLO_CUSTOM_CALL",
    "STABLEHLO_REDUCE",
    "STABLEHLO_ABS",
    "STABLEHLO_AND",
    "STABLEHLO_COSINE",
    "STABLEHLO_EXPONENTIAL",
    "STABLEHLO_FLOOR",
    "STABLEHLO_LOG",
    "STABLEHLO_MINIMUM",
    "STABLEHLO_NEGATE",
    "STABLEHLO_OR",
    "STABLEHLO_POWER",
    "STABLEHLO_REMAINDER",
    "STABLEHLO_RSQRT",
    "STABLEHLO_SELECT",
    "STABLEHLO_SUBTRACT",
    "STABLEHLO_TANH",
    "STABLEHLO_SCATTER",
    "STABLEHLO_COMPARE",
    "STABLEHLO_CONVERT",
    "STABLEHLO_DYNAMIC_SLICE",
    "STABLEHLO_DYNAMIC_UPDATE_SLICE",
    "STABLEHLO_PAD",
    "STABLEHLO_IOTA",
    "STABLEHLO_DOT_GENERAL",
    "STABLEHLO_REDUCE_WINDOW",
    "STABLEHLO_SORT",
    "STABLEHLO_WHILE",
    "STABLEHLO_GATHER",
    "STABLEHLO_TRANSPOSE",
    "DILATE",
    "STABLEHLO_RNG_BIT_GENERATOR",
    "REDUCE_WINDOW",
    "STABLEHLO_COMPOSITE",
    "STABLEHLO_SHIFT_LEFT",
    "STABLEHLO_CBRT",
    "STABLEHLO_CASE",
};

// Reads tables through a flatbuffers::Verifier: every accessor verifies
// what it is about to read and throws ModelError (naming `what`) otherwise.
class CheckedReader {
 public:
  CheckedReader(std::span<const std::uint8_t> bytes, std::string origin)
      : bytes_(bytes), origin_(std::move(origin)), v_(bytes.data(), bytes.size(), options()) {}

  [[noreturn]] void fail(const std::string& what) const {
    throw ModelError(
        fmt::format("{}: malformed TFLite file: {} (truncated or corrupt file?)", origin_, what));
  }

  const Table* root() {
    const auto off = v_.VerifyOffset(0);
    if (!off) fail("the root table offset points outside the file");
    return open(reinterpret_cast<const Table*>(bytes_.data() + off), "the Model table");
  }

  template <class T>
  T scalar(const Table* t, voffset_t f, T def, std::string_view what) {
    if (!t->VerifyField<T>(v_, f, sizeof(T))) fail(fmt::format("{} lies outside the file", what));
    return t->GetField<T>(f, def);
  }

  const Table* table(const Table* t, voffset_t f, std::string_view what) {
    if (!t->VerifyOffset(v_, f)) fail(fmt::format("{} lies outside the file", what));
    const auto* p = t->GetPointer<const Table*>(f);
    return p ? open(p, what) : nullptr;
  }

  template <class T>
  const Vector<T>* vector(const Table* t, voffset_t f, std::string_view what) {
    if (!t->VerifyOffset(v_, f)) fail(fmt::format("{} lies outside the file", what));
    const auto* p = t->GetPointer<const Vector<T>*>(f);
    if (!v_.VerifyVector(p)) fail(fmt::format("{} runs past the end of the file", what));
    // The Verifier checks the length word's alignment, not the elements':
    // a writer aligns a vector to its element size, so an int64 vector on a
    // 4-byte boundary is a corrupt file (and reading it would be a misaligned
    // load).
    if (p && reinterpret_cast<std::uintptr_t>(p->Data()) % alignof(T) != 0)
      fail(fmt::format("{} is not aligned to {} bytes", what, alignof(T)));
    return p;
  }

  template <class T>
  std::vector<T> values(const Table* t, voffset_t f, std::string_view what) {
    const auto* vec = vector<T>(t, f, what);
    std::vector<T> out;
    if (vec) out.assign(vec->begin(), vec->end());
    return out;
  }

  std::string string(const Table* t, voffset_t f, std::string_view what) {
    if (!t->VerifyOffset(v_, f)) fail(fmt::format("{} lies outside the file", what));
    const auto* s = t->GetPointer<const String*>(f);
    if (!v_.VerifyString(s)) fail(fmt::format("{} runs past the end of the file", what));
    return s ? s->str() : std::string();
  }

  // The tables of a vector of tables, each verified.
  std::vector<const Table*> tables(const Table* t, voffset_t f, std::string_view what) {
    const auto* vec = vector<flatbuffers::uoffset_t>(t, f, what);
    std::vector<const Table*> out;
    if (!vec) return out;
    out.reserve(vec->size());
    const auto* base = reinterpret_cast<const std::uint8_t*>(vec->Data());
    for (flatbuffers::uoffset_t i = 0; i < vec->size(); ++i) {
      const std::size_t at = static_cast<std::size_t>(base - bytes_.data()) + 4u * i;
      const auto off = v_.VerifyOffset(at);
      if (!off) fail(fmt::format("{} entry {} points outside the file", what, i));
      out.push_back(open(reinterpret_cast<const Table*>(bytes_.data() + at + off),
                         fmt::format("{} entry {}", what, i)));
    }
    return out;
  }

  std::span<const std::uint8_t> bytes() const { return bytes_; }
  const std::string& origin() const { return origin_; }

 private:
  static flatbuffers::Verifier::Options options() {
    flatbuffers::Verifier::Options o;
    o.check_alignment = true;
    return o;
  }

  const Table* open(const Table* t, std::string_view what) {
    if (!t->VerifyTableStart(v_)) fail(fmt::format("{} is not a valid table", what));
    v_.EndTable();  // tables are visited one at a time, not nested
    return t;
  }

  std::span<const std::uint8_t> bytes_;
  std::string origin_;
  flatbuffers::Verifier v_;
};

std::string shape_str(const std::vector<std::int64_t>& shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

Quantization read_quantization(CheckedReader& r, const Table* q, const std::string& what) {
  Quantization out;
  if (!q) return out;
  out.scale = r.values<float>(q, quant_f::kScale, what + " scales");
  out.zero_point = r.values<std::int64_t>(q, quant_f::kZeroPoint, what + " zero points");
  const auto details = r.scalar<std::uint8_t>(q, quant_f::kDetailsType, 0, what);
  if (details != 0)
    throw ModelError(
        fmt::format("{}: {} uses custom quantization (details type {}), which is "
                    "not supported",
                    r.origin(), what, details));
  out.quantized_dimension = r.scalar<std::int32_t>(q, quant_f::kQuantizedDimension, 0, what);
  return out;
}

void validate_quantization(const CheckedReader& r, const Tensor& t, const std::string& what) {
  const Quantization& q = t.quantization;
  if (q.scale.empty() && q.zero_point.empty()) return;
  if (!q.zero_point.empty() && q.zero_point.size() != q.scale.size())
    r.fail(fmt::format("{} has {} scales but {} zero points", what, q.scale.size(),
                       q.zero_point.size()));
  if (q.scale.size() > 1) {
    const auto rank = static_cast<int>(t.shape.size());
    if (q.quantized_dimension < 0 || q.quantized_dimension >= rank)
      r.fail(fmt::format("{} is quantized along dimension {} of a rank-{} shape", what,
                         q.quantized_dimension, rank));
    if (t.shape[q.quantized_dimension] != static_cast<std::int64_t>(q.scale.size()))
      r.fail(fmt::format("{} has {} per-channel scales for {} channels", what, q.scale.size(),
                         t.shape[q.quantized_dimension]));
  }
}

Options read_options(CheckedReader& r, int tag, const Table* o, const std::string& what) {
  Options opt;
  if (!o) return opt;
  auto i32 = [&](int id, std::int32_t def) {
    return r.scalar<std::int32_t>(o, field(id), def, what);
  };
  auto i8 = [&](int id, std::int8_t def) { return r.scalar<std::int8_t>(o, field(id), def, what); };
  auto flag = [&](int id) { return r.scalar<std::uint8_t>(o, field(id), 0, what) != 0; };
  auto act = [&](int id) { return static_cast<Activation>(i8(id, 0)); };
  switch (tag) {
    case options_tag::kConv2d:
      opt.padding = static_cast<Padding>(i8(0, 0));
      opt.stride_w = i32(1, 0);
      opt.stride_h = i32(2, 0);
      opt.activation = act(3);
      opt.dilation_w = i32(4, 1);
      opt.dilation_h = i32(5, 1);
      break;
    case options_tag::kDepthwiseConv2d:
      opt.padding = static_cast<Padding>(i8(0, 0));
      opt.stride_w = i32(1, 0);
      opt.stride_h = i32(2, 0);
      opt.depth_multiplier = i32(3, 0);
      opt.activation = act(4);
      opt.dilation_w = i32(5, 1);
      opt.dilation_h = i32(6, 1);
      break;
    case options_tag::kPool2d:
      opt.padding = static_cast<Padding>(i8(0, 0));
      opt.stride_w = i32(1, 0);
      opt.stride_h = i32(2, 0);
      opt.filter_width = i32(3, 0);
      opt.filter_height = i32(4, 0);
      opt.activation = act(5);
      break;
    case options_tag::kFullyConnected:
      opt.activation = act(0);
      opt.weights_format = i8(1, 0);
      opt.keep_num_dims = flag(2);
      break;
    case options_tag::kSoftmax:
      opt.beta = r.scalar<float>(o, field(0), 0.0f, what);
      break;
    case options_tag::kConcatenation:
      opt.axis = i32(0, 0);
      opt.activation = act(1);
      break;
    case options_tag::kAdd:
    case options_tag::kMul:
    case options_tag::kSub:
      opt.activation = act(0);
      break;
    case options_tag::kResizeBilinear:
      opt.align_corners = flag(2);
      opt.half_pixel_centers = flag(3);
      break;
    case options_tag::kReshape:
      opt.new_shape = r.values<std::int32_t>(o, field(0), what + " new_shape");
      break;
    case options_tag::kReducer:
      opt.keep_dims = flag(0);
      break;
    case options_tag::kSqueeze:
      opt.squeeze_dims = r.values<std::int32_t>(o, field(0), what + " squeeze_dims");
      break;
    case options_tag::kArgMax:
      opt.output_type = static_cast<ElementType>(i8(0, 0));
      break;
    default:
      break;  // options of operators the runtime does not execute
  }
  return opt;
}

}  // namespace

std::string type_name(ElementType t) {
  static constexpr std::array<const char*, 11> names = {"FLOAT32",   "FLOAT16", "INT32",  "UINT8",
                                                        "INT64",     "STRING",  "BOOL",   "INT16",
                                                        "COMPLEX64", "INT8",    "FLOAT64"};
  const auto i = static_cast<int>(t);
  return i >= 0 && i < static_cast<int>(names.size()) ? names[i] : fmt::format("type {}", i);
}

std::size_t element_size(ElementType t) {
  switch (t) {
    case ElementType::Float32:
    case ElementType::Int32:
      return 4;
    case ElementType::Float16:
    case ElementType::Int16:
      return 2;
    case ElementType::UInt8:
    case ElementType::Int8:
    case ElementType::Bool:
      return 1;
    case ElementType::Int64:
    case ElementType::Float64:
    case ElementType::Complex64:
      return 8;
    default:
      return 0;
  }
}

std::string builtin_name(int code) {
  constexpr int n = static_cast<int>(std::size(kBuiltinNames));
  return code >= 0 && code < n ? kBuiltinNames[code] : fmt::format("builtin {}", code);
}

std::int64_t Tensor::element_count() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

int Graph::find_tensor(std::string_view name) const {
  for (std::size_t i = 0; i < tensors.size(); ++i)
    if (tensors[i].name == name) return static_cast<int>(i);
  return -1;
}

TfliteFile TfliteFile::read(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw ModelError(fmt::format("cannot open TFLite model {}", path.string()));
  in.seekg(0, std::ios::end);
  const auto size = static_cast<std::streamoff>(in.tellg());
  if (size < 0) throw ModelError(fmt::format("cannot read TFLite model {}", path.string()));
  // FlatBuffers address at most 2 GiB; refusing early also avoids a huge
  // allocation for something that is not a model.
  if (size >= std::numeric_limits<std::int32_t>::max())
    throw ModelError(
        fmt::format("{}: {} bytes is larger than a TFLite FlatBuffer can be", path.string(), size));
  std::vector<std::uint8_t> bytes(static_cast<std::size_t>(size));
  in.seekg(0);
  in.read(reinterpret_cast<char*>(bytes.data()), size);
  if (!in) throw ModelError(fmt::format("cannot read TFLite model {}", path.string()));
  return parse(std::move(bytes), path.string());
}

TfliteFile TfliteFile::parse(std::vector<std::uint8_t> bytes, std::string origin) {
  TfliteFile file;
  file.bytes_ = std::move(bytes);
  file.origin_ = std::move(origin);
  const auto& buf = file.bytes_;
  if (buf.size() < 8)
    throw ModelError(
        fmt::format("{}: {} bytes is too short to be a TFLite model", file.origin_, buf.size()));
  if (buf.size() >= static_cast<std::size_t>(std::numeric_limits<std::int32_t>::max()))
    throw ModelError(fmt::format("{}: larger than a TFLite FlatBuffer can be", file.origin_));
  if (!flatbuffers::BufferHasIdentifier(buf.data(), "TFL3"))
    throw ModelError(
        fmt::format("{}: not a TensorFlow Lite model (the FlatBuffer identifier is not \"TFL3\")",
                    file.origin_));

  CheckedReader r(buf, file.origin_);
  Graph& g = file.graph_;
  const Table* model = r.root();
  g.schema_version = r.scalar<std::uint32_t>(model, model_f::kVersion, 0, "Model.version");
  g.description = r.string(model, model_f::kDescription, "Model.description");

  struct Code {
    int builtin;
    std::string custom;
    int version;
  };
  std::vector<Code> codes;
  for (const Table* c : r.tables(model, model_f::kOperatorCodes, "operator code")) {
    const int deprecated = r.scalar<std::int8_t>(c, opcode_f::kDeprecatedBuiltin, 0, "opcode");
    const int code = r.scalar<std::int32_t>(c, opcode_f::kBuiltin, 0, "opcode");
    // Codes above 127 only fit builtin_code; older files only fill the
    // deprecated byte. TFLite takes the larger of the two.
    codes.push_back({std::max(deprecated, code), r.string(c, opcode_f::kCustomCode, "opcode"),
                     r.scalar<std::int32_t>(c, opcode_f::kVersion, 1, "opcode")});
  }

  std::vector<std::span<const std::uint8_t>> buffers;
  for (const Table* b : r.tables(model, model_f::kBuffers, "buffer")) {
    const auto i = buffers.size();
    const auto* data = r.vector<std::uint8_t>(b, buffer_f::kData, fmt::format("buffer {}", i));
    const auto offset = r.scalar<std::uint64_t>(b, buffer_f::kOffset, 0, "buffer offset");
    const auto size = r.scalar<std::uint64_t>(b, buffer_f::kSize, 0, "buffer size");
    if (data && data->size() > 0) {
      buffers.emplace_back(data->data(), data->size());
    } else if (offset > 1) {
      // Large models keep their data after the FlatBuffer, addressed from
      // the start of the file.
      if (offset > buf.size() || size > buf.size() - offset)
        r.fail(fmt::format("buffer {} claims bytes [{}, {}) of a {}-byte file", i, offset,
                           offset + size, buf.size()));
      buffers.emplace_back(buf.data() + offset, static_cast<std::size_t>(size));
    } else {
      buffers.emplace_back();
    }
  }

  const auto subgraphs = r.tables(model, model_f::kSubgraphs, "subgraph");
  if (subgraphs.empty()) r.fail("the model has no subgraph");
  const Table* sg = subgraphs.front();

  const auto tensors = r.tables(sg, subgraph_f::kTensors, "tensor");
  for (std::size_t i = 0; i < tensors.size(); ++i) {
    const Table* t = tensors[i];
    Tensor out;
    out.name = r.string(t, tensor_f::kName, fmt::format("tensor {} name", i));
    const std::string what = fmt::format("tensor {} '{}'", i, out.name);
    for (std::int32_t d : r.values<std::int32_t>(t, tensor_f::kShape, what + " shape"))
      out.shape.push_back(d);
    out.type = static_cast<ElementType>(r.scalar<std::int8_t>(t, tensor_f::kType, 0, what));
    out.is_variable = r.scalar<std::uint8_t>(t, tensor_f::kIsVariable, 0, what) != 0;
    out.quantization =
        read_quantization(r, r.table(t, tensor_f::kQuantization, what + " quantization"), what);
    if (r.table(t, tensor_f::kSparsity, what + " sparsity"))
      throw ModelError(
          fmt::format("{}: {} is stored sparse, which is not supported", file.origin_, what));

    std::int64_t count = 1;
    for (auto d : out.shape) {
      if (d < 0)
        r.fail(fmt::format("{} has a negative dimension in shape {}", what, shape_str(out.shape)));
      // Checked per factor so that the product itself cannot overflow.
      if (d > 0 && count > kMaxElements / d)
        throw ModelError(
            fmt::format("{}: {} claims shape {}, more than 2^31 elements; refusing "
                        "an absurd tensor size",
                        file.origin_, what, shape_str(out.shape)));
      count *= d;
    }
    const auto buffer = r.scalar<std::uint32_t>(t, tensor_f::kBuffer, 0, what);
    if (buffer >= buffers.size())
      r.fail(fmt::format("{} uses buffer {} of {}", what, buffer, buffers.size()));
    out.data = buffers[buffer];
    if (!out.data.empty()) {
      const std::size_t elem = element_size(out.type);
      if (elem == 0)
        throw ModelError(fmt::format("{}: constant {} has type {}, which is not supported",
                                     file.origin_, what, type_name(out.type)));
      const auto need = static_cast<std::uint64_t>(count) * elem;
      if (need != out.data.size())
        r.fail(fmt::format("{} of shape {} and type {} needs {} bytes but its buffer holds {}",
                           what, shape_str(out.shape), type_name(out.type), need, out.data.size()));
    }
    validate_quantization(r, out, what);
    g.tensors.push_back(std::move(out));
  }

  const auto n_tensors = static_cast<int>(g.tensors.size());
  auto indices = [&](const Table* t, voffset_t f, const std::string& what, bool optional) {
    std::vector<int> out;
    for (std::int32_t i : r.values<std::int32_t>(t, f, what)) {
      if (i >= n_tensors || i < (optional ? -1 : 0))
        r.fail(fmt::format("{} refers to tensor {} of {}", what, i, n_tensors));
      out.push_back(i);
    }
    return out;
  };
  g.inputs = indices(sg, subgraph_f::kInputs, "the graph's inputs", false);
  g.outputs = indices(sg, subgraph_f::kOutputs, "the graph's outputs", false);

  const auto ops = r.tables(sg, subgraph_f::kOperators, "operator");
  for (std::size_t i = 0; i < ops.size(); ++i) {
    const Table* o = ops[i];
    const std::string what = fmt::format("node {}", i);
    Operator op;
    const auto code = r.scalar<std::uint32_t>(o, operator_f::kOpcodeIndex, 0, what);
    if (code >= codes.size())
      r.fail(fmt::format("{} uses operator code {} of {}", what, code, codes.size()));
    op.builtin = codes[code].builtin;
    op.custom_code = codes[code].custom;
    op.version = codes[code].version;
    op.inputs = indices(o, operator_f::kInputs, what + " inputs", true);
    op.outputs = indices(o, operator_f::kOutputs, what + " outputs", false);
    op.options_type = r.scalar<std::uint8_t>(o, operator_f::kOptionsType, 0, what);
    op.options =
        read_options(r, op.options_type, r.table(o, operator_f::kOptions, what + " options"),
                     what + " (" + builtin_name(op.builtin) + ") options");
    g.operators.push_back(std::move(op));
  }
  return file;
}

namespace {

template <class T>
T load(const std::uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof(T));
  return v;
}

double raw_value(const Tensor& t, std::size_t i) {
  const std::uint8_t* p = t.data.data();
  switch (t.type) {
    case ElementType::UInt8:
      return p[i];
    case ElementType::Int8:
      return static_cast<std::int8_t>(p[i]);
    case ElementType::Int16:
      return load<std::int16_t>(p + 2 * i);
    case ElementType::Int32:
      return load<std::int32_t>(p + 4 * i);
    case ElementType::Int64:
      return static_cast<double>(load<std::int64_t>(p + 8 * i));
    case ElementType::Float32:
      return load<float>(p + 4 * i);
    case ElementType::Float16:
      return half_to_float(load<std::uint16_t>(p + 2 * i));
    default:
      return 0.0;
  }
}

}  // namespace

std::vector<float> dequantize(const Tensor& t) {
  if (!t.is_constant())
    throw ModelError(fmt::format("tensor '{}' has no constant data to read", t.name));
  switch (t.type) {
    case ElementType::UInt8:
    case ElementType::Int8:
    case ElementType::Int16:
    case ElementType::Int32:
    case ElementType::Int64:
    case ElementType::Float32:
    case ElementType::Float16:
      break;
    default:
      throw ModelError(fmt::format("tensor '{}' of type {} cannot be read as numbers", t.name,
                                   type_name(t.type)));
  }
  const auto n = static_cast<std::size_t>(t.element_count());
  std::vector<float> out(n);
  const Quantization& q = t.quantization;
  const bool is_float = t.type == ElementType::Float32 || t.type == ElementType::Float16;
  if (is_float || q.empty()) {
    for (std::size_t i = 0; i < n; ++i) out[i] = static_cast<float>(raw_value(t, i));
    return out;
  }
  // Channel c of quantized_dimension d covers runs of `inner` elements.
  std::size_t inner = 1, channels = 1;
  if (q.scale.size() > 1) {
    channels = static_cast<std::size_t>(t.shape[q.quantized_dimension]);
    for (std::size_t d = q.quantized_dimension + 1; d < t.shape.size(); ++d)
      inner *= static_cast<std::size_t>(t.shape[d]);
  }
  for (std::size_t i = 0; i < n; ++i) {
    const std::size_t c = channels > 1 ? (i / inner) % channels : 0;
    const double zero = q.zero_point.empty() ? 0.0 : static_cast<double>(q.zero_point[c]);
    out[i] = static_cast<float>(static_cast<double>(q.scale[c]) * (raw_value(t, i) - zero));
  }
  return out;
}

std::vector<std::int64_t> integer_values(const Tensor& t) {
  if (!t.is_constant() || (t.type != ElementType::Int32 && t.type != ElementType::Int64))
    throw ModelError(fmt::format("tensor '{}' is not a constant INT32 or INT64 tensor", t.name));
  const auto n = static_cast<std::size_t>(t.element_count());
  std::vector<std::int64_t> out(n);
  for (std::size_t i = 0; i < n; ++i)
    out[i] = t.type == ElementType::Int32 ? load<std::int32_t>(t.data.data() + 4 * i)
                                          : load<std::int64_t>(t.data.data() + 8 * i);
  return out;
}

}  // namespace tagsmith::vision::tflite
