#pragma once
// Small file helpers with the guarantees the library relies on.
#include <sys/types.h>

#include <cstdint>
#include <filesystem>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/common/error.h"

namespace tagsmith {

// The file holds more bytes than the reader was allowed to take.
class FileTooLargeError : public Error {
 public:
  using Error::Error;
};

// The file is a FIFO, socket, device or directory where a regular file was wanted.
class NotRegularFileError : public Error {
 public:
  using Error::Error;
};

// Reads a whole file up to end of file, whatever stat says its size is
// (/proc files say 0), and never holds more than max_bytes + 1 bytes:
// FileTooLargeError beyond max_bytes. Any readable file works (a pipe given
// as /dev/stdin too, which waits for its writer). Throws tagsmith::Error
// naming the path on failure.
std::vector<std::uint8_t> read_file_bytes(
    const std::filesystem::path& path,
    std::uint64_t max_bytes = std::numeric_limits<std::uint64_t>::max() - 1);

// As read_file_bytes, for a file that must be a regular one (a photo to
// ingest): a FIFO, socket or device is refused with NotRegularFileError
// before anything is read from it, so it can never block the reader.
std::vector<std::uint8_t> read_regular_file_bytes(const std::filesystem::path& path,
                                                  std::uint64_t max_bytes);

// "a FIFO (named pipe), not a regular file: not read" for a stat mode.
std::string not_a_regular_file_reason(mode_t mode);

std::string read_file_text(const std::filesystem::path& path);

// Writes `bytes` to `path` atomically: a temporary file in the same directory
// is written, fsync'ed and renamed over `path`. A crash leaves either the old
// file or the new one, never a half-written one.
void write_file_atomic(const std::filesystem::path& path, std::string_view bytes);

// Removes temporary files under `dir` left by write_file_atomic in processes
// that no longer run (killed mid-write). Returns how many were removed.
std::size_t remove_stale_temporaries(const std::filesystem::path& dir);

}  // namespace tagsmith
