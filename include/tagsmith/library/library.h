#pragma once
// A library: everything tagsmith knows about a photo collection.
//
// The embedded default is one directory:
//   DIR/library.db       the Store (SQLite, WAL)
//   DIR/thumbs/ab/cd…jpg thumbnails, content-addressed by their SHA-256
//   DIR/originals/ab/cd….jpg  uploaded originals, likewise (blob_store.h)
//   DIR/palette.yaml     the colour palette, editable (copied on creation)
// and copying the directory copies the library.
//
// A shared library (docs/deploy.md) is a PostgreSQL database, named by its
// URL (postgresql://…), plus a files directory that every worker and server
// mounts (NFS or similar) for what is not rows: thumbnails, uploads, trained
// heads, palette. The files directory is given once with $TAGSMITH_FILES
// (tagsmith --files DIR) and remembered in the database; a machine that
// mounts it elsewhere sets $TAGSMITH_FILES to its own path.
#include <filesystem>
#include <memory>
#include <mutex>

#include "tagsmith/image/analysis.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/library/blob_store.h"
#include "tagsmith/store/store.h"

namespace tagsmith::library {

class Library {
 public:
  // Opens the library at `location` (a directory or a PostgreSQL URL),
  // creating an empty one when there is none yet (the PostgreSQL database
  // itself must exist).
  static std::unique_ptr<Library> open(const std::string& location);
  // The same, but throws NotFoundError when a directory holds no library.
  static std::unique_ptr<Library> open_existing(const std::string& location);

  store::Store& store() { return *store_; }
  // The directory of the library's files (for a directory library, the
  // library itself).
  const std::filesystem::path& dir() const { return dir_; }
  // Whether other processes on other machines may write the same library
  // (PostgreSQL): then nothing may judge another writer's files by local
  // process ids.
  bool shared() const { return shared_; }

  // The palette in DIR/palette.yaml, loaded on first use and cached for the
  // library's lifetime. Thread-safe: concurrent first calls load it once
  // (std::call_once); a load that throws is retried by the next call. An edit
  // to palette.yaml is seen by the next Library opened on the directory.
  const image::Palette& palette();

  // Thumbnails (JPEG, ".jpg") and uploaded originals (extension by format),
  // each a content-addressed blob store under the files directory.
  BlobStore& thumbnails() { return thumbnails_; }
  BlobStore& originals() { return originals_; }
  // Writes the thumbnail (atomically, once per content) and returns its SHA-256.
  std::string put_thumbnail(const image::Thumbnail& thumbnail);
  std::filesystem::path thumbnail_path(const std::string& sha256) const;

 private:
  Library(std::filesystem::path dir, std::unique_ptr<store::Store> store, bool shared);
  std::filesystem::path dir_;
  bool shared_ = false;
  DirectoryBlobStore thumbnails_, originals_;
  std::unique_ptr<store::Store> store_;
  std::once_flag palette_once_;
  std::unique_ptr<image::Palette> palette_;
};

}  // namespace tagsmith::library
