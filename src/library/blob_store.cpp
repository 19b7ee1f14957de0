#include "tagsmith/library/blob_store.h"

#include <fmt/format.h>

#include <algorithm>
#include <span>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::library {
namespace fs = std::filesystem;
namespace {

bool is_sha256(const std::string& s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
         });
}

bool is_extension(const std::string& e) {
  return e.empty() ||
         (e.size() <= 8 && e[0] == '.' && std::all_of(e.begin() + 1, e.end(), [](char c) {
            return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
          }));
}

}  // namespace

fs::path DirectoryBlobStore::file(const std::string& sha, const std::string& extension) const {
  if (!is_sha256(sha)) throw InputError(fmt::format("'{}' is not a blob name (a SHA-256)", sha));
  if (!is_extension(extension))
    throw InputError(fmt::format("'{}' is not a blob file extension", extension));
  return root_ / sha.substr(0, 2) / (sha.substr(2) + extension);
}

std::string DirectoryBlobStore::put(std::string_view bytes, const std::string& extension) {
  const std::string sha = sha256_hex(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
  const fs::path path = file(sha, extension);
  // Same name, same bytes: whoever wrote it first, it is already right.
  if (!fs::exists(path)) write_file_atomic(path, bytes);
  return sha;
}

bool DirectoryBlobStore::contains(const std::string& sha, const std::string& extension) const {
  std::error_code ec;
  return fs::is_regular_file(file(sha, extension), ec);
}

std::optional<std::string> DirectoryBlobStore::get(const std::string& sha,
                                                   const std::string& extension) const {
  const fs::path path = file(sha, extension);
  std::error_code ec;
  if (!fs::is_regular_file(path, ec)) return std::nullopt;
  return read_file_text(path);
}

}  // namespace tagsmith::library
