#pragma once
// A temporary library and fake assets for tests that need a populated store
// but no real photos: the asset records carry just enough (content hash,
// path, size, colours, hash, embedding) for tagging, search, review and
// training to work on them.
#include <array>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/store/asset_store.h"
#include "temp_dir.h"

namespace tagsmith::test {

// A library in a fresh directory, removed with it.
class TempLibrary {
 public:
  TempLibrary();
  library::Library& library() { return *library_; }
  store::Store& store() { return library_->store(); }
  const std::filesystem::path& dir() const { return dir_.path(); }

 private:
  TempDir dir_;
  std::unique_ptr<library::Library> library_;
};

// Builds one fake asset. `key` makes it distinct: sha256 = key, source path
// "/photos/<key>.jpg", a 100×100 JPEG ingested 2026-01-01; the setters change
// what a test cares about.
class FakeAsset {
 public:
  explicit FakeAsset(const std::string& key);

  FakeAsset& path(const std::string& source_path);
  FakeAsset& file_size(std::int64_t bytes);
  FakeAsset& size(int width, int height);
  FakeAsset& format(const std::string& format);
  FakeAsset& phash(std::uint64_t hash);
  FakeAsset& ingested_at(const std::string& iso8601);
  // Appends a dominant colour (the first added is the main one).
  FakeAsset& colour(const std::string& family, const std::string& shade, double delta_e = 1,
                    double share = 1, std::array<std::uint8_t, 3> rgb = {});
  // The runner-up family of the colour added last.
  FakeAsset& runner_up(const std::string& family, double delta_e);
  // Stored with the asset, under `model_version`.
  FakeAsset& embedding(const std::string& model_version, std::vector<float> vector);

  const store::AssetRecord& record() const { return record_; }
  // Adds the asset (with its path and embedding) and returns its id.
  store::AssetId add_to(store::AssetStore& store) const;

 private:
  store::AssetRecord record_;
  std::string model_version_;
  std::vector<float> embedding_;
};

}  // namespace tagsmith::test
