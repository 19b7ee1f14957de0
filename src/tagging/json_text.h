#pragma once
// Writing JSON text directly, for the evidence a re-tag stores with every
// change: building an nlohmann::json object (a std::map per level) only to
// serialise it was most of the cost of deciding a changed tag. Readers parse
// it back with nlohmann (explain.h); keys are written in its sorted order.
#include <fmt/format.h>

#include <cmath>
#include <iterator>
#include <string>
#include <string_view>

namespace tagsmith::tagging::json_text {

// `s` as a JSON string: quotes, backslashes and control characters escaped,
// UTF-8 passed through.
inline void put_string(std::string& out, std::string_view s) {
  out += '"';
  for (const char ch : s) {
    switch (ch) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20)
          fmt::format_to(std::back_inserter(out), "\\u{:04x}", static_cast<unsigned>(ch));
        else
          out += ch;
    }
  }
  out += '"';
}

// The shortest text that reads back as `x` (null where JSON has no number).
inline void put_number(std::string& out, double x) {
  if (!std::isfinite(x)) {
    out += "null";
    return;
  }
  fmt::format_to(std::back_inserter(out), "{}", x);
}

}  // namespace tagsmith::tagging::json_text
