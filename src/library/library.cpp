#include "tagsmith/library/library.h"

#include <fmt/format.h>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::embedded {
std::string_view palette_yaml();
}

namespace tagsmith::library {
namespace fs = std::filesystem;

Library::Library(fs::path dir, std::unique_ptr<store::Store> store)
    : dir_(std::move(dir)), store_(std::move(store)) {}

std::unique_ptr<Library> Library::open(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "thumbs", ec);
  if (ec)
    throw Error(fmt::format("cannot create library directory {}: {}", dir.string(), ec.message()));
  if (!fs::exists(dir / "palette.yaml"))
    write_file_atomic(dir / "palette.yaml", embedded::palette_yaml());
  return std::unique_ptr<Library>(
      new Library(dir, store::open_sqlite_store((dir / "library.db").string())));
}

std::unique_ptr<Library> Library::open_existing(const fs::path& dir) {
  if (!fs::exists(dir / "library.db")) {
    throw NotFoundError(fmt::format(
        "no tagsmith library at {} (run `tagsmith ingest --library {} PATH` to create one)",
        dir.string(), dir.string()));
  }
  return open(dir);
}

const image::Palette& Library::palette() {
  if (!palette_)
    palette_ = std::make_unique<image::Palette>(image::Palette::load(dir_ / "palette.yaml"));
  return *palette_;
}

fs::path Library::thumbnail_path(const std::string& sha) const {
  return dir_ / "thumbs" / sha.substr(0, 2) / (sha.substr(2) + ".jpg");
}

std::string Library::put_thumbnail(const image::Thumbnail& t) {
  const std::string sha = sha256_hex(std::span<const std::uint8_t>(t.jpeg));
  const fs::path path = thumbnail_path(sha);
  if (!fs::exists(path)) {
    write_file_atomic(
        path, std::string_view(reinterpret_cast<const char*>(t.jpeg.data()), t.jpeg.size()));
  }
  return sha;
}

}  // namespace tagsmith::library
