#include "tagsmith/library/library.h"

#include <fmt/format.h>

#include <cstdlib>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::embedded {
std::string_view palette_yaml();
}

namespace tagsmith::library {
namespace fs = std::filesystem;

Library::Library(fs::path dir, std::unique_ptr<store::Store> store, bool shared)
    : dir_(std::move(dir)),
      shared_(shared),
      thumbnails_(dir_ / "thumbs"),
      originals_(dir_ / "originals"),
      store_(std::move(store)) {}

namespace {

// The setting that remembers a shared library's files directory.
constexpr const char* kFilesDirSetting = "files_dir";

void prepare_files_dir(const fs::path& dir) {
  std::error_code ec;
  fs::create_directories(dir / "thumbs", ec);
  if (ec)
    throw Error(fmt::format("cannot create library directory {}: {}", dir.string(), ec.message()));
  if (!fs::exists(dir / "palette.yaml"))
    write_file_atomic(dir / "palette.yaml", embedded::palette_yaml());
}

// $TAGSMITH_FILES wins (this machine's mount point); else what the database
// remembers; the first open with $TAGSMITH_FILES set records it.
fs::path shared_files_dir(store::Store& db, const std::string& url) {
  const char* env = std::getenv("TAGSMITH_FILES");
  const auto recorded = db.setting(kFilesDirSetting);
  if (env && *env) {
    const fs::path dir = fs::absolute(env).lexically_normal();
    if (!recorded) db.set_setting(kFilesDirSetting, dir.string());
    return dir;
  }
  if (recorded) return *recorded;
  throw InputError(fmt::format(
      "the PostgreSQL library {} has no files directory yet: give one that every worker and "
      "server can reach (a shared mount) with --files DIR or $TAGSMITH_FILES, once",
      url));
}

}  // namespace

std::unique_ptr<Library> Library::open(const std::string& location) {
  if (store::is_postgres_url(location)) {
    auto db = store::open_postgres_store(location);
    const fs::path dir = shared_files_dir(*db, location);
    prepare_files_dir(dir);
    return std::unique_ptr<Library>(new Library(dir, std::move(db), true));
  }
  const fs::path dir = location;
  prepare_files_dir(dir);
  return std::unique_ptr<Library>(
      new Library(dir, store::open_sqlite_store((dir / "library.db").string()), false));
}

std::unique_ptr<Library> Library::open_existing(const std::string& location) {
  if (store::is_postgres_url(location)) return open(location);
  const fs::path dir = location;
  if (!fs::exists(dir / "library.db")) {
    throw NotFoundError(fmt::format(
        "no tagsmith library at {} (run `tagsmith ingest --library {} PATH` to create one)",
        dir.string(), dir.string()));
  }
  return open(dir);
}

const image::Palette& Library::palette() {
  std::call_once(palette_once_, [this] {
    palette_ = std::make_unique<image::Palette>(image::Palette::load(dir_ / "palette.yaml"));
  });
  return *palette_;
}

fs::path Library::thumbnail_path(const std::string& sha) const {
  return thumbnails_.file(sha, ".jpg");
}

std::string Library::put_thumbnail(const image::Thumbnail& t) {
  return thumbnails_.put(
      std::string_view(reinterpret_cast<const char*>(t.jpeg.data()), t.jpeg.size()), ".jpg");
}

}  // namespace tagsmith::library
