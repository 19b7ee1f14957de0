#include "tagsmith/search/library_index.h"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <fstream>
#include <mutex>
#include <nlohmann/json.hpp>
#include <numeric>
#include <unordered_map>

#include "tagsmith/common/error.h"

namespace tagsmith::search {

namespace fs = std::filesystem;

namespace {

// Changes are read from the store in pages of this many vectors.
constexpr std::size_t kPage = 4096;
// Version of the .json metadata: 2 has the change-sequence watermark.
constexpr int kMetaFormat = 2;

// An exclusive advisory lock on a file (flock), so that processes sharing an
// index directory never interleave writing (or reading and writing) the
// FAISS file, its id map and its metadata.
class FileLock {
 public:
  explicit FileLock(const fs::path& file) {
    fd_ = ::open(file.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd_ < 0) return;  // a read-only directory: nothing to guard against
    while (::flock(fd_, LOCK_EX) != 0 && errno == EINTR) {
    }
  }
  ~FileLock() {
    if (fd_ >= 0) ::close(fd_);  // closing releases the lock
  }
  FileLock(const FileLock&) = delete;
  FileLock& operator=(const FileLock&) = delete;

 private:
  int fd_ = -1;
};

fs::path lock_file(const fs::path& dir, const std::string& model) {
  return dir / (model_file_stem(model) + ".lock");
}

}  // namespace

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

IndexOptions index_options_from_environment() {
  IndexOptions o;
  if (const char* kind = std::getenv("TAGSMITH_VECTOR_INDEX"); kind && *kind) {
    try {
      o.approximate = index_kind_from_string(kind);
    } catch (const InputError& e) {
      throw InputError(std::string("$TAGSMITH_VECTOR_INDEX: ") + e.what());
    }
  }
  return o;
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
    std::error_code ec;
    if (!fs::exists(meta_file, ec)) throw Error("no index yet");
    FileLock held(lock_file(index_dir, model_version));
    std::ifstream in(meta_file);
    if (!in) throw Error("no index yet");
    auto meta = nlohmann::json::parse(in);
    if (meta.at("model_version").get<std::string>() != model_version)
      throw Error("index is for another model");
    if (meta.value("format", 1) < kMetaFormat || !meta.contains("embedding_seq"))
      throw Error("index was written before the embedding change sequence");
    const auto seq = meta.at("embedding_seq").get<std::int64_t>();
    if (seq > db.change_marker().last_embedding_seq)
      throw Error("index is ahead of the store (was the library restored from a backup?)");
    std::shared_ptr<VectorIndex> index;
    if (meta.at("count").get<std::size_t>() > 0) {
      index = load_vector_index(self->index_file(), options);
      if (index->size() != meta.at("count").get<std::size_t>())
        throw Error("index and its metadata disagree");
      // A kind chosen by an older version (HNSW was the default above 50k)
      // or other options is rebuilt once as the kind these options choose.
      if (const auto want = kind_for_size(index->size(), options); index->kind() != want)
        throw Error("index is " + to_string(index->kind()) + ", these options build " +
                    to_string(want));
    }
    self->index_ = std::move(index);
    self->synced_seq_ = seq;
    self->replaced_in_place_ = meta.value("replaced_in_place", std::size_t{0});
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
      if (ext == ".faiss" || ext == ".ids" || ext == ".json" || ext == ".tmp" || ext == ".lock")
        fs::remove(entry.path(), ec);
    }
  }
  if (!self->opened_.loaded) {
    self->rebuild();
    self->save();
    self->opened_.rebuilt = true;
    self->opened_.reason = why_rebuild;
    self->opened_.added = self->index_ ? self->index_->size() : 0;
  } else {
    auto s = self->sync();
    self->opened_.added = s.added;
    self->opened_.replaced = s.replaced;
    self->opened_.rebuilt = s.rebuilt;
    self->opened_.reason = s.reason;
  }
  return self;
}

// Exclusive access to the index. The turnstile is taken first and held
// throughout: readers pass it on their way in (read_lock), so once a writer
// waits, new readers queue behind it instead of overtaking it forever
// (glibc's rwlock prefers readers).
class LibraryVectorIndex::WriteLock {
 public:
  explicit WriteLock(const LibraryVectorIndex& li) : turn_(li.turnstile_), lock_(li.mu_) {}

 private:
  std::lock_guard<std::mutex> turn_;
  std::unique_lock<std::shared_mutex> lock_;
};

std::shared_lock<std::shared_mutex> LibraryVectorIndex::read_lock() const {
  { std::lock_guard pass(turnstile_); }
  return std::shared_lock(mu_);
}

void LibraryVectorIndex::replace_index(std::shared_ptr<VectorIndex> index) {
  WriteLock lock(*this);
  index_ = std::move(index);
}

void LibraryVectorIndex::rebuild() {
  // The whole sequence from the start. A vector replaced while we read shows
  // up twice (old number, then new): the later one wins.
  std::vector<AssetId> ids;
  std::vector<std::vector<float>> rows;
  std::unordered_map<AssetId, std::size_t> row_of;
  std::int64_t seq = 0;
  for (;;) {
    auto page = db_.embeddings_changed_since(model_, seq, kPage);
    for (auto& c : page) {
      auto [it, fresh] = row_of.emplace(c.asset_id, ids.size());
      if (fresh) {
        ids.push_back(c.asset_id);
        rows.push_back(std::move(c.vector));
      } else {
        rows[it->second] = std::move(c.vector);
      }
    }
    if (!page.empty()) seq = page.back().seq;
    if (page.size() < kPage) break;
  }
  std::shared_ptr<VectorIndex> index;
  if (!ids.empty()) {
    // By asset id, as an index built from a full scan always was.
    std::vector<std::size_t> order(ids.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::sort(order.begin(), order.end(), [&](auto a, auto b) { return ids[a] < ids[b]; });
    const std::size_t dim = rows[order.front()].size();
    std::vector<AssetId> sorted_ids;
    std::vector<float> vecs;
    sorted_ids.reserve(ids.size());
    vecs.reserve(ids.size() * dim);
    for (auto i : order) {
      if (rows[i].size() != dim)
        throw Error("vector index: the embeddings of " + model_ + " differ in dimension");
      sorted_ids.push_back(ids[i]);
      vecs.insert(vecs.end(), rows[i].begin(), rows[i].end());
    }
    index = build_vector_index(static_cast<int>(dim), sorted_ids, vecs, options_);
  }
  replace_index(std::move(index));
  synced_seq_ = seq;
  replaced_in_place_ = 0;
  unsaved_ = true;
}

void LibraryVectorIndex::apply(std::vector<store::EmbeddingChange>& changes, SyncReport& report) {
  // Each asset once per page (the sequence reports a row once), split into
  // vectors the index lacks and vectors it holds already.
  std::vector<AssetId> fresh_ids, replaced_ids;
  std::vector<float> fresh, replaced;
  const std::size_t dim = index_ ? static_cast<std::size_t>(index_->dim())
                                 : (changes.empty() ? 0 : changes.front().vector.size());
  for (const auto& c : changes) {
    if (c.vector.size() != dim)
      throw Error("vector index: the embeddings of " + model_ + " differ in dimension");
    const bool held = index_ && index_->contains(c.asset_id);
    (held ? replaced_ids : fresh_ids).push_back(c.asset_id);
    auto& into = held ? replaced : fresh;
    into.insert(into.end(), c.vector.begin(), c.vector.end());
  }
  if (!index_) {
    if (fresh_ids.empty()) return;
    replace_index(build_vector_index(static_cast<int>(dim), fresh_ids, fresh, options_));
    report.added += fresh_ids.size();
    return;
  }
  const std::size_t total = index_->size() + fresh_ids.size();
  if (index_->kind() == IndexKind::kFlat && kind_for_size(total, options_) != IndexKind::kFlat) {
    // Grown past the threshold: rebuild as the approximate kind, from the
    // vectors held (with this page's replacements) and this page's new ones.
    std::unordered_map<AssetId, std::size_t> replacement;
    for (std::size_t i = 0; i < replaced_ids.size(); ++i) replacement[replaced_ids[i]] = i;
    std::vector<AssetId> all = index_->ids();
    std::vector<float> all_vecs;
    all_vecs.reserve(total * dim);
    for (AssetId id : all) {
      if (auto r = replacement.find(id); r != replacement.end()) {
        auto from = replaced.begin() + static_cast<std::ptrdiff_t>(r->second * dim);
        all_vecs.insert(all_vecs.end(), from, from + static_cast<std::ptrdiff_t>(dim));
      } else {
        auto v = index_->vector(id);
        all_vecs.insert(all_vecs.end(), v->begin(), v->end());
      }
    }
    all.insert(all.end(), fresh_ids.begin(), fresh_ids.end());
    all_vecs.insert(all_vecs.end(), fresh.begin(), fresh.end());
    replace_index(build_vector_index(static_cast<int>(dim), all, all_vecs, options_));
    replaced_in_place_ = 0;
    report.rebuilt = true;
    report.reason = "grew past " + std::to_string(options_.approximate_threshold) +
                    " vectors: now " + to_string(index_->kind());
  } else {
    WriteLock lock(*this);
    index_->replace(replaced_ids, replaced);
    index_->add(fresh_ids, fresh);
    if (index_->kind() == IndexKind::kHnsw) replaced_in_place_ += replaced_ids.size();
  }
  report.added += fresh_ids.size();
  report.replaced += replaced_ids.size();
}

SyncReport LibraryVectorIndex::sync(Persist persist) {
  SyncReport report;
  report.loaded = opened_.loaded;
  for (;;) {
    auto page = db_.embeddings_changed_since(model_, synced_seq_, kPage);
    if (page.empty()) break;
    const std::int64_t last = page.back().seq;
    apply(page, report);
    synced_seq_ = last;
    unsaved_ = true;
    if (page.size() < kPage) break;
  }
  if (index_ && index_->kind() == IndexKind::kHnsw && replaced_in_place_ * 10 > index_->size()) {
    // Enough nodes keep links chosen for vectors they no longer hold that
    // approximate search could miss them: relink everything once.
    const auto replaced = replaced_in_place_;
    rebuild();
    report.rebuilt = true;
    report.reason = std::to_string(replaced) + " HNSW nodes were replaced in place";
  }
  if (persist == Persist::kIfChanged) save_if_changed();
  return report;
}

void LibraryVectorIndex::save_if_changed() {
  if (unsaved_) save();
}

void LibraryVectorIndex::save() {
  fs::create_directories(dir_);
  const std::string stem = model_file_stem(model_);
  // The index may be searched meanwhile (read_lock), never changed: saving
  // happens on the thread that syncs, the only one that changes it.
  FileLock held(lock_file(dir_, model_));
  if (index_) index_->save(index_file());
  nlohmann::json meta{{"format", kMetaFormat},
                      {"model_version", model_},
                      {"kind", index_ ? to_string(index_->kind()) : "none"},
                      {"dim", index_ ? index_->dim() : 0},
                      {"count", index_ ? index_->size() : 0},
                      {"embedding_seq", synced_seq_},
                      {"replaced_in_place", replaced_in_place_}};
  const fs::path meta_file = dir_ / (stem + ".json"), tmp = meta_file.string() + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    out << meta.dump(2) << "\n";
    if (!out) throw Error("cannot write " + tmp.string());
  }
  fs::rename(tmp, meta_file);
  unsaved_ = false;
}

}  // namespace tagsmith::search
