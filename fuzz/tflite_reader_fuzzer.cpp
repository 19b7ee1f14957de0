// Fuzzes the .tflite reader (vision::tflite::TfliteFile): any byte string is
// either a model whose every index and constant lies in range, or refused
// with a ModelError. For a model that loads, every constant tensor is read
// back through dequantize / integer_values as the runtime would, and every
// operator's tensor indices are checked against the tensor table.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/vision/tflite_reader.h"

namespace {

using namespace tagsmith::vision;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::vector<std::uint8_t> bytes(data, data + size);
  std::optional<tflite::TfliteFile> file;
  try {
    file.emplace(tflite::TfliteFile::parse(std::move(bytes), "fuzz.tflite"));
  } catch (const ModelError&) {
    return 0;
  }
  const tflite::Graph& g = file->graph();
  const auto tensors = static_cast<int>(g.tensors.size());
  const auto in_range = [&](int i) { return i >= -1 && i < tensors; };
  for (int i : g.inputs) check(i >= 0 && i < tensors);
  for (int i : g.outputs) check(i >= 0 && i < tensors);
  for (const auto& op : g.operators) {
    for (int i : op.inputs) check(in_range(i));
    for (int i : op.outputs) check(in_range(i));
    (void)tflite::builtin_name(op.builtin);
  }
  for (const auto& t : g.tensors) {
    check(t.element_count() >= 0);
    (void)tflite::type_name(t.type);
    if (!t.is_constant()) continue;
    try {
      const auto values = tflite::dequantize(t);
      check(static_cast<std::int64_t>(values.size()) == t.element_count());
    } catch (const ModelError&) {
    }
    try {
      (void)tflite::integer_values(t);
    } catch (const ModelError&) {
    }
    (void)g.find_tensor(t.name);
  }
  return 0;
}
