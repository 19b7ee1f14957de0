#pragma once
// Small file helpers with the guarantees the library relies on.
#include <cstdint>
#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace tagsmith {

// Reads a whole file; throws tagsmith::Error naming the path on failure.
std::vector<std::uint8_t> read_file_bytes(const std::filesystem::path& path);
std::string read_file_text(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temporary file in the same directory
// is written, fsync'ed and renamed over `path`. A crash leaves either the old
// file or the new one, never a half-written one.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Removes temporary files under `dir` left by write_file_atomic in processes
// that no longer run (killed mid-write). Returns how many were removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace tagsmith
