#include "library_fixture.h"

namespace tagsmith::test {

TempLibrary::TempLibrary() : library_(library::Library::open(dir_.path())) {}

FakeAsset::FakeAsset(const std::string& key) {
  record_.sha256 = key;
  record_.source_path = "/photos/" + key + ".jpg";
  record_.width = record_.height = 100;
  record_.format = "jpeg";
  record_.ingested_at = "2026-01-01T00:00:00.000Z";
}

FakeAsset& FakeAsset::path(const std::string& source_path) {
  record_.source_path = source_path;
  return *this;
}
FakeAsset& FakeAsset::file_size(std::int64_t bytes) {
  record_.file_size = bytes;
  return *this;
}
FakeAsset& FakeAsset::size(int width, int height) {
  record_.width = width;
  record_.height = height;
  return *this;
}
FakeAsset& FakeAsset::format(const std::string& format) {
  record_.format = format;
  return *this;
}
FakeAsset& FakeAsset::phash(std::uint64_t hash) {
  record_.phash = hash;
  return *this;
}
FakeAsset& FakeAsset::ingested_at(const std::string& iso8601) {
  record_.ingested_at = iso8601;
  return *this;
}
FakeAsset& FakeAsset::colour(const std::string& family, const std::string& shade, double delta_e,
                             double share, std::array<std::uint8_t, 3> rgb) {
  DominantColour c;
  c.family = family;
  c.shade = shade;
  c.delta_e = delta_e;
  c.share = share;
  c.rgb = rgb;
  record_.colours.colours.push_back(std::move(c));
  return *this;
}
FakeAsset& FakeAsset::runner_up(const std::string& family, double delta_e) {
  if (!record_.colours.colours.empty()) {
    record_.colours.colours.back().alt_family = family;
    record_.colours.colours.back().alt_delta_e = delta_e;
  }
  return *this;
}
FakeAsset& FakeAsset::embedding(const std::string& model_version, std::vector<float> vector) {
  model_version_ = model_version;
  embedding_ = std::move(vector);
  return *this;
}

store::AssetId FakeAsset::add_to(store::AssetStore& store) const {
  const store::PathRecord path{record_.source_path, 0, record_.file_size, 1, false};
  return store.add_asset(record_, path, model_version_, embedding_);
}

}  // namespace tagsmith::test
