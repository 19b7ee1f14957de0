#pragma once
// Checking that text is UTF-8. The files people write for tagsmith (taxonomy,
// palette, label maps, label CSVs) are UTF-8 by definition (YAML is Unicode),
// and what they contain ends up in JSON (the API, --json, reports, stored
// taxonomy versions), which cannot hold arbitrary bytes. So readers refuse a
// stray byte at the door, with its line and column, rather than let it fail
// later far from its cause.
#include <cstddef>
#include <optional>
#include <string_view>

namespace tagsmith {

// Where the first byte that is not part of well-formed UTF-8 (RFC 3629: no
// overlong forms, no surrogates, nothing above U+10FFFF) sits.
struct InvalidUtf8 {
  std::size_t offset = 0;  // byte offset into the text
  int line = 1;            // 1-based
  int column = 1;          // 1-based, in bytes
  unsigned char byte = 0;  // the offending byte
};

// nullopt when `text` is entirely valid UTF-8.
inline std::optional<InvalidUtf8> find_invalid_utf8(std::string_view text) {
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  int line = 1;
  std::size_t line_start = 0;
  for (std::size_t i = 0; i < n;) {
    const unsigned char c = s[i];
    std::size_t len = 0;
    unsigned char lo = 0x80, hi = 0xBF;  // allowed range of the second byte
    if (c < 0x80) {
      len = 1;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0) lo = 0xA0;  // overlong
      if (c == 0xED) hi = 0x9F;  // surrogates
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0) lo = 0x90;  // overlong
      if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
    }
    bool ok = len != 0 && i + len <= n;
    for (std::size_t k = 1; ok && k < len; ++k) {
      const unsigned char b = s[i + k];
      ok = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
    }
    if (!ok) {
      return InvalidUtf8{i, line, static_cast<int>(i - line_start) + 1, c};
    }
    if (c == '\n') {
      ++line;
      line_start = i + 1;
    }
    i += len;
  }
  return std::nullopt;
}

}  // namespace tagsmith
