#include "tagsmith/vision/precision.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "tagsmith/common/error.h"

namespace tagsmith::vision {

Precision parse_precision(std::string_view text) {
  std::string t(text);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "fp32" || t == "float32") return Precision::fp32;
  if (t == "bf16" || t == "bfloat16") return Precision::bf16;
  if (t == "int8") return Precision::int8;
  throw InputError(
      fmt::format("unknown precision '{}': expected fp32 (default), bf16 or int8", text));
}

std::string_view precision_name(Precision p) {
  switch (p) {
    case Precision::fp32:
      return "fp32";
    case Precision::bf16:
      return "bf16";
    case Precision::int8:
      return "int8";
  }
  return "fp32";
}

}  // namespace tagsmith::vision
