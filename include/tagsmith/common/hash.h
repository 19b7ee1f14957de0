#pragma once
// Content hashing. Assets and thumbnails are addressed by the SHA-256 of their
// bytes, so the same photo ingested twice is recognised without decoding it.
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace tagsmith {

// Lower-case hex SHA-256 of `bytes` (OpenSSL).
std::string sha256_hex(std::span<const std::uint8_t> bytes);
std::string sha256_hex(std::string_view bytes);

}  // namespace tagsmith
