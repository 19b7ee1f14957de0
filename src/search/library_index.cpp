#include "tagsmith/search/library_index.h"

#include <algorithm>
#include <fstream>
#include <nlohmann/json.hpp>

#include "tagsmith/common/error.h"

namespace tagsmith::search {

namespace fs = std::filesystem;

std::string model_file_stem(const std::string& model) {
  std::string out;
  bool changed = model.empty();
  for (char c : model) {
    if (std::isalnum(static_cast<unsigned char>(c)) || c == '.' || c == '-' || c == '_' ||
        c == '@') {
      out += c;
    } else {
      out += '_';
      changed = true;
    }
  }
  if (out.empty() || out[0] == '.') out.insert(out.begin(), '_');
  // Two versions differing only in unsafe characters must not share files.
  if (changed) {
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a: stable across builds, unlike std::hash
    for (unsigned char c : model) h = (h ^ c) * 1099511628211ull;
    out += "-" + std::to_string(h % 1000000007ull);
  }
  return out;
}

LibraryVectorIndex::LibraryVectorIndex(store::Store& db, fs::path dir, std::string model,
                                       IndexOptions o)
    : db_(db), dir_(std::move(dir)), model_(std::move(model)), options_(o) {}

fs::path LibraryVectorIndex::index_file() const {
  return dir_ / (model_file_stem(model_) + ".faiss");
}

std::unique_ptr<LibraryVectorIndex> LibraryVectorIndex::open(library::Library& lib,
                                                             const std::string& model_version,
                                                             const IndexOptions& options) {
  return open(lib.store(), lib.dir() / "index", model_version, options);
}

std::unique_ptr<LibraryVectorIndex> LibraryVectorIndex::open(store::Store& db,
                                                             const fs::path& index_dir,
                                                             const std::string& model_version,
                                                             const IndexOptions& options) {
  if (model_version.empty()) throw InputError("vector index: no model version given");
  std::unique_ptr<LibraryVectorIndex> self(
      new LibraryVectorIndex(db, index_dir, model_version, options));
  const std::string stem = model_file_stem(model_version);
  const fs::path meta_file = index_dir / (stem + ".json");
  std::string why_rebuild;
  try {
    std::ifstream in(meta_file);
    if (!in) throw Error("no index yet");
    auto meta = nlohmann::json::parse(in);
    if (meta.at("model_version").get<std::string>() != model_version)
      throw Error("index is for another model");
    auto index = load_vector_index(self->index_file(), options);
    if (index->size() != meta.at("count").get<std::size_t>())
      throw Error("index and its metadata disagree");
    self->index_ = std::move(index);
    self->synced_embeddings_ = meta.at("store_embeddings").get<std::int64_t>();
    self->checked_max_id_ = meta.at("checked_max_asset").get<AssetId>();
    self->opened_.loaded = true;
  } catch (const std::exception& e) {
    why_rebuild = e.what();
  }
  // Indexes of other model versions are stale for good: their vectors are
  // still in the store if that model comes back.
  std::error_code ec;
  if (fs::is_directory(index_dir, ec)) {
    for (const auto& entry : fs::directory_iterator(index_dir, ec)) {
      const std::string name = entry.path().filename().string();
      if (name.rfind(stem + ".", 0) == 0) continue;
      auto ext = entry.path().extension();
      if (ext == ".faiss" || ext == ".ids" || ext == ".json" || ext == ".tmp")
        fs::remove(entry.path(), ec);
    }
  }
  if (!self->opened_.loaded) {
    self->rebuild(why_rebuild);
    self->opened_.rebuilt = true;
    self->opened_.reason = why_rebuild;
    self->opened_.added = self->index_ ? self->index_->size() : 0;
  } else {
    auto s = self->sync();
    self->opened_.added = s.added;
    self->opened_.rebuilt = s.rebuilt;
    self->opened_.reason = s.reason;
  }
  return self;
}

void LibraryVectorIndex::rebuild(const std::string& reason) {
  (void)reason;
  // Watermarks first: anything stored during the scan shows up in the next sync.
  const auto stats = db_.stats();
  const auto ids_now = db_.asset_ids();
  std::vector<AssetId> ids;
  std::vector<float> vecs;
  db_.for_each_embedding(model_, [&](AssetId id, std::span<const float> v) {
    ids.push_back(id);
    vecs.insert(vecs.end(), v.begin(), v.end());
  });
  index_.reset();
  if (!ids.empty()) {
    const int dim = static_cast<int>(vecs.size() / ids.size());
    index_ = build_vector_index(dim, ids, vecs, options_);
  }
  synced_embeddings_ = stats.embeddings;
  checked_max_id_ = ids_now.empty() ? 0 : *std::max_element(ids_now.begin(), ids_now.end());
  save();
}

void LibraryVectorIndex::add_batch(std::vector<AssetId>& ids, std::vector<float>& vecs) {
  if (ids.empty()) return;
  const int dim = static_cast<int>(vecs.size() / ids.size());
  if (!index_) {
    index_ = build_vector_index(dim, ids, vecs, options_);
    return;
  }
  const std::size_t total = index_->size() + ids.size();
  if (index_->kind() == IndexKind::kFlat && kind_for_size(total, options_) != IndexKind::kFlat) {
    // Grown past the threshold: rebuild as the approximate kind.
    std::vector<AssetId> all = index_->ids();
    std::vector<float> all_vecs;
    all_vecs.reserve(total * dim);
    for (AssetId id : all) {
      auto v = index_->vector(id);
      all_vecs.insert(all_vecs.end(), v->begin(), v->end());
    }
    all.insert(all.end(), ids.begin(), ids.end());
    all_vecs.insert(all_vecs.end(), vecs.begin(), vecs.end());
    index_ = build_vector_index(dim, all, all_vecs, options_);
    return;
  }
  index_->add(ids, vecs);
}

SyncReport LibraryVectorIndex::sync() {
  SyncReport report;
  report.loaded = opened_.loaded;
  const auto stats = db_.stats();
  if (stats.embeddings == synced_embeddings_) return report;

  std::vector<AssetId> ids;
  std::vector<float> vecs;
  // Newly ingested assets: look each up (cheap; the common case).
  AssetId max_id = checked_max_id_;
  for (AssetId id : db_.asset_ids()) {
    max_id = std::max(max_id, id);
    if (id <= checked_max_id_ || (index_ && index_->contains(id))) continue;
    if (auto v = db_.embedding(id, model_)) {
      ids.push_back(id);
      vecs.insert(vecs.end(), v->begin(), v->end());
    }
  }
  // Embeddings the new assets don't explain (a backfill of older assets, or
  // another model's): scan for ours.
  if (stats.embeddings - synced_embeddings_ != static_cast<std::int64_t>(ids.size())) {
    std::vector<AssetId> seen = ids;
    std::sort(seen.begin(), seen.end());
    db_.for_each_embedding(model_, [&](AssetId id, std::span<const float> v) {
      if ((index_ && index_->contains(id)) || std::binary_search(seen.begin(), seen.end(), id))
        return;
      ids.push_back(id);
      vecs.insert(vecs.end(), v.begin(), v.end());
    });
  }
  const auto before_kind = index_ ? index_->kind() : IndexKind::kFlat;
  report.added = ids.size();
  add_batch(ids, vecs);
  if (index_ && index_->kind() != before_kind) {
    report.rebuilt = true;
    report.reason = "grew past " + std::to_string(options_.approximate_threshold) +
                    " vectors: now " + to_string(index_->kind());
  }
  synced_embeddings_ = stats.embeddings;
  checked_max_id_ = max_id;
  save();
  return report;
}

void LibraryVectorIndex::save() {
  fs::create_directories(dir_);
  const std::string stem = model_file_stem(model_);
  if (index_) index_->save(index_file());
  nlohmann::json meta{{"model_version", model_},
                      {"kind", index_ ? to_string(index_->kind()) : "none"},
                      {"dim", index_ ? index_->dim() : 0},
                      {"count", index_ ? index_->size() : 0},
                      {"store_embeddings", synced_embeddings_},
                      {"checked_max_asset", checked_max_id_}};
  const fs::path meta_file = dir_ / (stem + ".json"), tmp = meta_file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << meta.dump(2) << "\n";
    if (!out) throw Error("cannot write " + tmp.string());
  }
  fs::rename(tmp, meta_file);
}

}  // namespace tagsmith::search
