#pragma once
// Test-only writer of tiny .tflite graphs with the FlatBuffers API, using
// the field ids of TensorFlow's schema.fbs (Model, SubGraph, Tensor, Buffer,
// Operator, OperatorCode, QuantizationParameters and builtin options). It
// shares no code with src/vision/tflite_reader.cpp, so a wrong field id on
// either side shows up as a failing test.
#include <flatbuffers/flatbuffers.h>

#include <cstdint>
#include <cstring>
#include <map>
#include <string>
#include <vector>

namespace tagsmith::vision::testing {

// Tensor types and options tags of the schema.
inline constexpr std::int8_t kFloat32 = 0, kInt32 = 2, kUInt8 = 3, kInt64 = 4, kInt8 = 9;
inline constexpr std::uint8_t kConv2dOptions = 1, kDepthwiseOptions = 2, kPool2dOptions = 5,
                              kFullyConnectedOptions = 8, kSoftmaxOptions = 9,
                              kConcatenationOptions = 10, kAddOptions = 11,
                              kResizeBilinearOptions = 15, kReshapeOptions = 17,
                              kReducerOptions = 27, kSqueezeOptions = 30, kArgMaxOptions = 40;

// One scalar field of an options table: id and value, with its width.
struct Field {
  enum Kind { I8, I32, F32 } kind;
  int id;
  double value;
};
inline Field i8(int id, int v) {
  return {Field::I8, id, static_cast<double>(v)};
}
inline Field i32(int id, int v) {
  return {Field::I32, id, static_cast<double>(v)};
}
inline Field f32(int id, float v) {
  return {Field::F32, id, v};
}

struct Quant {
  std::vector<float> scale;
  std::vector<std::int64_t> zero_point;
  int dimension = 0;
};

class GraphBuilder {
 public:
  int tensor(const std::string& name, std::vector<std::int32_t> shape, std::int8_t type = kFloat32,
             std::vector<std::uint8_t> data = {}, Quant q = {}) {
    tensors_.push_back({name, std::move(shape), type, std::move(data), std::move(q)});
    return static_cast<int>(tensors_.size() - 1);
  }
  int floats(const std::string& name, std::vector<std::int32_t> shape,
             const std::vector<float>& v) {
    return tensor(name, std::move(shape), kFloat32, bytes_of(v));
  }
  int ints(const std::string& name, std::vector<std::int32_t> shape,
           const std::vector<std::int32_t>& v, Quant q = {}) {
    return tensor(name, std::move(shape), kInt32, bytes_of(v), std::move(q));
  }

  void op(int builtin, std::vector<int> inputs, std::vector<int> outputs,
          std::uint8_t options_type = 0, std::vector<Field> fields = {},
          std::vector<std::int32_t> int_vector = {}) {
    ops_.push_back({builtin, std::move(inputs), std::move(outputs), options_type, std::move(fields),
                    std::move(int_vector)});
  }

  // Serialises with `inputs` / `outputs` as the graph's inputs and outputs.
  std::vector<std::uint8_t> finish(const std::vector<int>& inputs,
                                   const std::vector<int>& outputs) {
    flatbuffers::FlatBufferBuilder b;
    b.ForceDefaults(true);
    // Buffers: 0 is the empty sentinel; each constant tensor has its own.
    std::vector<flatbuffers::Offset<void>> buffers;
    buffers.push_back(table(b, [](flatbuffers::FlatBufferBuilder&) {}));
    std::vector<int> buffer_of(tensors_.size(), 0);
    for (size_t i = 0; i < tensors_.size(); ++i) {
      if (tensors_[i].data.empty()) continue;
      b.ForceVectorAlignment(tensors_[i].data.size(), 1, 16);
      auto data = b.CreateVector(tensors_[i].data);
      buffers.push_back(table(b, [&](auto& bb) { bb.AddOffset(f(0), data); }));
      buffer_of[i] = static_cast<int>(buffers.size() - 1);
    }
    std::vector<flatbuffers::Offset<void>> tensors;
    for (size_t i = 0; i < tensors_.size(); ++i) {
      const auto& t = tensors_[i];
      auto shape = b.CreateVector(t.shape);
      auto name = b.CreateString(t.name);
      flatbuffers::Offset<void> quant;
      if (!t.q.scale.empty()) {
        auto scale = b.CreateVector(t.q.scale);
        auto zero = b.CreateVector(t.q.zero_point);
        quant = table(b, [&](auto& bb) {
          bb.AddOffset(f(2), scale);
          bb.AddOffset(f(3), zero);
          bb.template AddElement<std::int32_t>(f(6), t.q.dimension, 0);
        });
      }
      tensors.push_back(table(b, [&](auto& bb) {
        bb.AddOffset(f(0), shape);
        bb.template AddElement<std::int8_t>(f(1), t.type, 0);
        bb.template AddElement<std::uint32_t>(f(2), static_cast<std::uint32_t>(buffer_of[i]), 0);
        bb.AddOffset(f(3), name);
        if (!quant.IsNull()) bb.AddOffset(f(4), quant);
      }));
    }
    std::map<int, int> code_index;
    std::vector<flatbuffers::Offset<void>> codes;
    for (const auto& o : ops_) {
      if (code_index.count(o.builtin)) continue;
      code_index[o.builtin] = static_cast<int>(codes.size());
      codes.push_back(table(b, [&](auto& bb) {
        bb.template AddElement<std::int8_t>(f(0),
                                            static_cast<std::int8_t>(std::min(o.builtin, 127)), 0);
        bb.template AddElement<std::int32_t>(f(2), 1, 1);
        bb.template AddElement<std::int32_t>(f(3), o.builtin, 0);
      }));
    }
    std::vector<flatbuffers::Offset<void>> ops;
    for (const auto& o : ops_) {
      auto ins = b.CreateVector(o.inputs);
      auto outs = b.CreateVector(o.outputs);
      flatbuffers::Offset<void> options;
      if (o.options_type != 0) {
        flatbuffers::Offset<flatbuffers::Vector<std::int32_t>> vec;
        if (!o.int_vector.empty()) vec = b.CreateVector(o.int_vector);
        options = table(b, [&](auto& bb) {
          for (const Field& fl : o.fields) {
            if (fl.kind == Field::I8)
              bb.template AddElement<std::int8_t>(f(fl.id), static_cast<std::int8_t>(fl.value), 0);
            else if (fl.kind == Field::I32)
              bb.template AddElement<std::int32_t>(f(fl.id), static_cast<std::int32_t>(fl.value),
                                                   0);
            else
              bb.template AddElement<float>(f(fl.id), static_cast<float>(fl.value), 0.0f);
          }
          if (!vec.IsNull()) bb.AddOffset(f(0), vec);
        });
      }
      ops.push_back(table(b, [&](auto& bb) {
        bb.template AddElement<std::uint32_t>(f(0), code_index[o.builtin], 0);
        bb.AddOffset(f(1), ins);
        bb.AddOffset(f(2), outs);
        bb.template AddElement<std::uint8_t>(f(3), o.options_type, 0);
        if (!options.IsNull()) bb.AddOffset(f(4), options);
      }));
    }
    auto tv = b.CreateVector(tensors);
    auto iv = b.CreateVector(inputs);
    auto ov = b.CreateVector(outputs);
    auto opv = b.CreateVector(ops);
    auto sgname = b.CreateString("main");
    auto subgraph = table(b, [&](auto& bb) {
      bb.AddOffset(f(0), tv);
      bb.AddOffset(f(1), iv);
      bb.AddOffset(f(2), ov);
      bb.AddOffset(f(3), opv);
      bb.AddOffset(f(4), sgname);
    });
    auto codev = b.CreateVector(codes);
    std::vector<flatbuffers::Offset<void>> sgs{subgraph};
    auto sgv = b.CreateVector(sgs);
    auto desc = b.CreateString("tagsmith test graph");
    auto bufv = b.CreateVector(buffers);
    auto model = table(b, [&](auto& bb) {
      bb.template AddElement<std::uint32_t>(f(0), 3, 0);
      bb.AddOffset(f(1), codev);
      bb.AddOffset(f(2), sgv);
      bb.AddOffset(f(3), desc);
      bb.AddOffset(f(4), bufv);
    });
    b.Finish(model, "TFL3");
    return {b.GetBufferPointer(), b.GetBufferPointer() + b.GetSize()};
  }

  template <class T>
  static std::vector<std::uint8_t> bytes_of(const std::vector<T>& v) {
    std::vector<std::uint8_t> out(v.size() * sizeof(T));
    if (!v.empty()) std::memcpy(out.data(), v.data(), out.size());
    return out;
  }

 private:
  static flatbuffers::voffset_t f(int id) {
    return static_cast<flatbuffers::voffset_t>(4 + 2 * id);
  }

  template <class Fill>
  static flatbuffers::Offset<void> table(flatbuffers::FlatBufferBuilder& b, Fill fill) {
    const auto start = b.StartTable();
    fill(b);
    return flatbuffers::Offset<void>(b.EndTable(start));
  }

  struct TensorSpec {
    std::string name;
    std::vector<std::int32_t> shape;
    std::int8_t type;
    std::vector<std::uint8_t> data;
    Quant q;
  };
  struct OpSpec {
    int builtin;
    std::vector<int> inputs, outputs;
    std::uint8_t options_type;
    std::vector<Field> fields;
    std::vector<std::int32_t> int_vector;  // field 0 vector (new_shape, squeeze_dims)
  };
  std::vector<TensorSpec> tensors_;
  std::vector<OpSpec> ops_;
};

}  // namespace tagsmith::vision::testing
