#pragma once
// A library: one directory holding everything tagsmith knows about a photo
// collection.
//
//   DIR/library.db       the Store (SQLite, WAL)
//   DIR/thumbs/ab/cd…jpg thumbnails, content-addressed by their SHA-256
//   DIR/palette.yaml     the colour palette, editable (copied on creation)
//
// Copying the directory copies the library.
#include <filesystem>
#include <memory>

#include "tagsmith/image/analysis.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/store/store.h"

namespace tagsmith::library {

class Library {
 public:
  // Opens DIR, creating an empty library there when it does not exist yet.
  static std::unique_ptr<Library> open(const std::filesystem::path& dir);
  // Opens DIR; throws NotFoundError when there is no library.
  static std::unique_ptr<Library> open_existing(const std::filesystem::path& dir);

  store::Store& store() { return *store_; }
  const std::filesystem::path& dir() const { return dir_; }

  // The palette in DIR/palette.yaml (loaded once, then cached).
  const image::Palette& palette();

  // Writes the thumbnail (atomically, once per content) and returns its SHA-256.
  std::string put_thumbnail(const image::Thumbnail& thumbnail);
  std::filesystem::path thumbnail_path(const std::string& sha256) const;

 private:
  Library(std::filesystem::path dir, std::unique_ptr<store::Store> store);
  std::filesystem::path dir_;
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<image::Palette> palette_;
};

}  // namespace tagsmith::library
