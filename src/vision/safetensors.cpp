#include "tagsmith/vision/safetensors.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cstring>
#include <nlohmann/json.hpp>
#include <utility>

namespace tagsmith::vision {

namespace {

// A header larger than this is not a checkpoint (the real ViT-L header is
// ~100 KB); refusing it keeps a corrupt length from allocating gigabytes.
constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20;

DType parse_dtype(const std::string& s) {
  if (s == "F32") return DType::kF32;
  if (s == "F16") return DType::kF16;
  if (s == "BF16") return DType::kBF16;
  if (s == "F64") return DType::kF64;
  if (s == "I64") return DType::kI64;
  if (s == "I32") return DType::kI32;
  if (s == "U8") return DType::kU8;
  return DType::kOther;
}

// Owns one read-only mapping.
class Mapping {
 public:
  Mapping() = default;
  Mapping(const std::filesystem::path& path) {
    int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      throw ModelError(fmt::format("cannot open {}: {}", path.string(), std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      ::close(fd);
      throw ModelError(fmt::format("cannot stat {}", path.string()));
    }
    size_ = static_cast<std::size_t>(st.st_size);
    if (size_ > 0) {
      void* p = ::mmap(nullptr, size_, PROT_READ, MAP_PRIVATE, fd, 0);
      if (p == MAP_FAILED) {
        ::close(fd);
        throw ModelError(fmt::format("cannot map {}: {}", path.string(), std::strerror(errno)));
      }
      data_ = static_cast<const std::byte*>(p);
    }
    ::close(fd);  // the mapping keeps the file alive
  }
  ~Mapping() { reset(); }
  Mapping(Mapping&& o) noexcept
      : data_(std::exchange(o.data_, nullptr)), size_(std::exchange(o.size_, 0)) {}
  Mapping& operator=(Mapping&& o) noexcept {
    if (this != &o) {
      reset();
      data_ = std::exchange(o.data_, nullptr);
      size_ = std::exchange(o.size_, 0);
    }
    return *this;
  }
  const std::byte* data() const { return data_; }
  std::size_t size() const { return size_; }

 private:
  void reset() {
    if (data_) ::munmap(const_cast<std::byte*>(data_), size_);
    data_ = nullptr;
  }
  const std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace

std::string dtype_name(DType d) {
  switch (d) {
    case DType::kF32:
      return "F32";
    case DType::kF16:
      return "F16";
    case DType::kBF16:
      return "BF16";
    case DType::kF64:
      return "F64";
    case DType::kI64:
      return "I64";
    case DType::kI32:
      return "I32";
    case DType::kU8:
      return "U8";
    case DType::kOther:
      break;
  }
  return "?";
}

std::size_t dtype_size(DType d) {
  switch (d) {
    case DType::kF64:
    case DType::kI64:
      return 8;
    case DType::kF32:
    case DType::kI32:
      return 4;
    case DType::kF16:
    case DType::kBF16:
      return 2;
    case DType::kU8:
      return 1;
    case DType::kOther:
      break;
  }
  return 0;
}

std::int64_t TensorInfo::numel() const {
  std::int64_t n = 1;
  for (auto d : shape) n *= d;
  return n;
}

std::string shape_text(std::span<const std::int64_t> shape) {
  return fmt::format("[{}]", fmt::join(shape, ", "));
}

float half_to_float(std::uint16_t h) {
  const std::uint32_t sign = (h & 0x8000u) << 16;
  std::uint32_t exp = (h >> 10) & 0x1Fu;
  std::uint32_t mant = h & 0x3FFu;
  std::uint32_t bits;
  if (exp == 0x1F) {
    bits = sign | 0x7F800000u | (mant << 13);  // inf / nan
  } else if (exp != 0) {
    bits = sign | ((exp + 112) << 23) | (mant << 13);
  } else if (mant == 0) {
    bits = sign;
  } else {
    // Subnormal half: normalise the mantissa into a float exponent.
    int e = -1;
    do {
      ++e;
      mant <<= 1;
    } while ((mant & 0x400u) == 0);
    bits = sign | (static_cast<std::uint32_t>(112 - e) << 23) | ((mant & 0x3FFu) << 13);
  }
  return std::bit_cast<float>(bits);
}

float bfloat16_to_float(std::uint16_t b) {
  return std::bit_cast<float>(static_cast<std::uint32_t>(b) << 16);
}

struct SafetensorsFile::Impl {
  std::filesystem::path path;
  Mapping map;
  std::string_view header;
  std::map<std::string, std::string> metadata;
  std::map<std::string, TensorInfo> tensors;
};

SafetensorsFile::SafetensorsFile(const std::filesystem::path& path)
    : impl_(std::make_unique<Impl>()) {
  static_assert(std::endian::native == std::endian::little, "safetensors data is little-endian");
  impl_->path = path;
  impl_->map = Mapping(path);
  const auto* base = impl_->map.data();
  const std::uint64_t size = impl_->map.size();
  auto bad = [&](const std::string& why) {
    return ModelError(fmt::format("{} is not a valid safetensors file: {}", path.string(), why));
  };
  if (size < 8) throw bad("shorter than its 8-byte header length");
  std::uint64_t hlen = 0;
  std::memcpy(&hlen, base, 8);
  if (hlen > kMaxHeaderBytes || hlen > size - 8)
    throw bad(fmt::format("header length {} does not fit in a {}-byte file", hlen, size));
  impl_->header = std::string_view(reinterpret_cast<const char*>(base) + 8, hlen);
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(impl_->header);
  } catch (const nlohmann::json::exception& e) {
    throw bad(fmt::format("header is not JSON ({})", e.what()));
  }
  if (!j.is_object()) throw bad("header is not a JSON object");
  const std::byte* data = base + 8 + hlen;
  const std::uint64_t data_size = size - 8 - hlen;
  std::vector<std::pair<std::uint64_t, std::uint64_t>> ranges;
  for (auto& [name, v] : j.items()) {
    if (name == "__metadata__") {
      if (v.is_object())
        for (auto& [k, mv] : v.items())
          if (mv.is_string()) impl_->metadata[k] = mv.get<std::string>();
      continue;
    }
    try {
      TensorInfo t;
      t.name = name;
      t.dtype_text = v.at("dtype").get<std::string>();
      t.dtype = parse_dtype(t.dtype_text);
      t.shape = v.at("shape").get<std::vector<std::int64_t>>();
      auto offs = v.at("data_offsets").get<std::vector<std::uint64_t>>();
      if (offs.size() != 2 || offs[0] > offs[1] || offs[1] > data_size)
        throw bad(fmt::format("tensor {} has data offsets outside the {}-byte data section", name,
                              data_size));
      for (auto d : t.shape)
        if (d < 0) throw bad(fmt::format("tensor {} has a negative dimension", name));
      if (t.dtype != DType::kOther &&
          offs[1] - offs[0] != static_cast<std::uint64_t>(t.numel()) * dtype_size(t.dtype))
        throw bad(fmt::format("tensor {} ({} {}) needs {} bytes but has {}", name, t.dtype_text,
                              shape_text(t.shape), t.numel() * dtype_size(t.dtype),
                              offs[1] - offs[0]));
      t.bytes = std::span<const std::byte>(data + offs[0], offs[1] - offs[0]);
      ranges.emplace_back(offs[0], offs[1]);
      impl_->tensors.emplace(name, std::move(t));
    } catch (const nlohmann::json::exception& e) {
      throw bad(fmt::format("tensor {} has a malformed entry ({})", name, e.what()));
    }
  }
  std::sort(ranges.begin(), ranges.end());
  for (std::size_t i = 1; i < ranges.size(); ++i)
    if (ranges[i].first < ranges[i - 1].second) throw bad("two tensors share bytes");
}

SafetensorsFile::~SafetensorsFile() = default;
SafetensorsFile::SafetensorsFile(SafetensorsFile&&) noexcept = default;
SafetensorsFile& SafetensorsFile::operator=(SafetensorsFile&&) noexcept = default;

const std::filesystem::path& SafetensorsFile::path() const {
  return impl_->path;
}
std::uint64_t SafetensorsFile::file_size() const {
  return impl_->map.size();
}
std::string_view SafetensorsFile::header_json() const {
  return impl_->header;
}
const std::map<std::string, std::string>& SafetensorsFile::metadata() const {
  return impl_->metadata;
}
const std::map<std::string, TensorInfo>& SafetensorsFile::tensors() const {
  return impl_->tensors;
}
bool SafetensorsFile::contains(const std::string& name) const {
  return impl_->tensors.count(name) != 0;
}

const TensorInfo& SafetensorsFile::at(const std::string& name) const {
  auto it = impl_->tensors.find(name);
  if (it == impl_->tensors.end())
    throw ModelError(fmt::format("{} has no tensor named {}", impl_->path.string(), name));
  return it->second;
}

void SafetensorsFile::read_float(const std::string& name, std::span<float> out) const {
  const TensorInfo& t = at(name);
  const auto n = static_cast<std::size_t>(t.numel());
  if (out.size() != n)
    throw Error(
        fmt::format("read_float({}): buffer holds {} floats, tensor has {}", name, out.size(), n));
  // memcpy element by element: safetensors gives no alignment guarantee.
  const std::byte* p = t.bytes.data();
  switch (t.dtype) {
    case DType::kF32:
      std::memcpy(out.data(), p, n * 4);
      return;
    case DType::kF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = half_to_float(h);
      }
      return;
    case DType::kBF16:
      for (std::size_t i = 0; i < n; ++i) {
        std::uint16_t h;
        std::memcpy(&h, p + 2 * i, 2);
        out[i] = bfloat16_to_float(h);
      }
      return;
    case DType::kF64:
      for (std::size_t i = 0; i < n; ++i) {
        double d;
        std::memcpy(&d, p + 8 * i, 8);
        out[i] = static_cast<float>(d);
      }
      return;
    default:
      throw ModelError(
          fmt::format("{}: tensor {} has dtype {}, expected a float type (F32, F16, "
                      "BF16)",
                      impl_->path.string(), name, t.dtype_text));
  }
}

std::vector<float> SafetensorsFile::read_float(const std::string& name) const {
  std::vector<float> v(static_cast<std::size_t>(at(name).numel()));
  read_float(name, v);
  return v;
}

}  // namespace tagsmith::vision
