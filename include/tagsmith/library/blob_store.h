#pragma once
// BlobStore: immutable files named by the SHA-256 of their bytes -- the
// thumbnails and uploaded originals of a library.
//
// Because a blob's name is its content, writing is idempotent (a second put
// of the same bytes writes nothing), concurrent writers on different machines
// can't conflict, and a blob never changes once readable: any server can
// serve any blob. Writes are atomic (a temporary file renamed into place), so
// a reader sees a whole blob or none, also on a shared mount (NFS renames are
// atomic on the server).
//
// DirectoryBlobStore keeps them under a directory, fanned out by the first
// two hex digits (ab/cdef….jpg) so no directory grows past a few thousand
// entries per million blobs. A shared library (library.h) puts that directory
// on a mount every worker and server sees; another implementation (an object
// store) would keep this interface.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace tagsmith::library {

class BlobStore {
 public:
  virtual ~BlobStore() = default;
  // Stores `bytes` (once per content) and returns their SHA-256 (lower-case
  // hex). `extension` (".jpg") only names the file for people and tools.
  virtual std::string put(std::string_view bytes, const std::string& extension = {}) = 0;
  // Whether the blob is stored.
  virtual bool contains(const std::string& sha256, const std::string& extension = {}) const = 0;
  // The blob's bytes; nullopt when it is not stored.
  virtual std::optional<std::string> get(const std::string& sha256,
                                         const std::string& extension = {}) const = 0;
  // The file that holds (or would hold) the blob. Throws InputError for a
  // name that is not a SHA-256, so no caller can be steered outside the store.
  virtual std::filesystem::path file(const std::string& sha256,
                                     const std::string& extension = {}) const = 0;
};

class DirectoryBlobStore final : public BlobStore {
 public:
  explicit DirectoryBlobStore(std::filesystem::path root) : root_(std::move(root)) {}

  std::string put(std::string_view bytes, const std::string& extension = {}) override;
  bool contains(const std::string& sha256, const std::string& extension = {}) const override;
  std::optional<std::string> get(const std::string& sha256,
                                 const std::string& extension = {}) const override;
  std::filesystem::path file(const std::string& sha256,
                             const std::string& extension = {}) const override;
  const std::filesystem::path& root() const { return root_; }

 private:
  std::filesystem::path root_;
};

}  // namespace tagsmith::library
