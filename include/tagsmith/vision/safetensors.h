#pragma once
// Reading .safetensors files (the Hugging Face weight format): an 8-byte
// little-endian header length, a JSON header naming each tensor's dtype, shape
// and byte range, then the raw little-endian data. The file is memory-mapped,
// so opening a 600 MB checkpoint costs nothing until tensors are read, and the
// header is validated up front (offsets inside the file, sizes matching
// shape x dtype, no overlaps), so a truncated or corrupt download fails with
// a message naming the file rather than with garbage weights.
#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/common/error.h"

namespace tagsmith::vision {

// A model file or directory that is missing, truncated or does not match
// its config. The message names the file and what was expected.
class ModelError : public Error {
 public:
  using Error::Error;
};

enum class DType { kF32, kF16, kBF16, kF64, kI64, kI32, kU8, kOther };

std::string dtype_name(DType d);  // "F32", "F16", ...
std::size_t dtype_size(DType d);  // bytes per element (0 for Other)

struct TensorInfo {
  std::string name;
  DType dtype = DType::kOther;
  std::string dtype_text;  // as written in the header, for messages
  std::vector<std::int64_t> shape;
  std::span<const std::byte> bytes;  // into the mapping

  std::int64_t numel() const;
};

std::string shape_text(std::span<const std::int64_t> shape);  // "[512, 768]"

class SafetensorsFile {
 public:
  // Maps and validates `path`; throws ModelError on any inconsistency.
  explicit SafetensorsFile(const std::filesystem::path& path);
  ~SafetensorsFile();
  SafetensorsFile(SafetensorsFile&&) noexcept;
  SafetensorsFile& operator=(SafetensorsFile&&) noexcept;

  const std::filesystem::path& path() const;
  std::uint64_t file_size() const;
  std::string_view header_json() const;                        // the raw JSON header
  const std::map<std::string, std::string>& metadata() const;  // "__metadata__"
  const std::map<std::string, TensorInfo>& tensors() const;

  bool contains(const std::string& name) const;
  const TensorInfo& at(const std::string& name) const;  // throws ModelError naming it

  // Converts a floating-point tensor (F32, F16, BF16, F64) to fp32 into
  // `out`, which must hold numel() floats.
  void read_float(const std::string& name, std::span<float> out) const;
  std::vector<float> read_float(const std::string& name) const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// Element conversions, exposed for tests.
float half_to_float(std::uint16_t h);
float bfloat16_to_float(std::uint16_t b);

}  // namespace tagsmith::vision
