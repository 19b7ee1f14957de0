// AssetStore over SQLite: assets with their thumbnail and colour rows, paths,
// ingest errors and embeddings.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "sqlite_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

// --- assets (with their thumbnail) --------------------------------------------
constexpr const char* kAssetColumns =
    "a.id, a.sha256, a.source_path, a.file_size, a.width, a.height, a.format, a.phash, "
    "a.ingested_at, a.product_fraction, a.background_removed, a.colour_mask, "
    "coalesce(t.sha256, ''), coalesce(t.width, 0), coalesce(t.height, 0)";
AssetRecord read_asset(SQLite::Statement& q) {
  Row r(q);
  AssetRecord a;
  a.id = r.int64();
  a.sha256 = r.text();
  a.source_path = r.text();
  a.file_size = r.int64();
  a.width = r.integer();
  a.height = r.integer();
  a.format = r.text();
  a.phash = static_cast<std::uint64_t>(r.int64());
  a.ingested_at = r.text();
  a.colours.product_fraction = r.real();
  a.colours.background_removed = r.flag();
  a.colours.mask = r.text();
  a.thumbnail_sha256 = r.text();
  a.thumbnail_width = r.integer();
  a.thumbnail_height = r.integer();
  r.end();
  return a;
}

// --- dominant colours, in rank order ----------------------------------------------
std::string rgb_hex(const std::array<std::uint8_t, 3>& rgb) {
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}
std::array<std::uint8_t, 3> parse_hex(const std::string& s) {
  std::array<std::uint8_t, 3> out{};
  if (s.size() == 7) {
    for (int i = 0; i < 3; ++i)
      out[i] = static_cast<std::uint8_t>(std::stoi(s.substr(1 + 2 * i, 2), nullptr, 16));
  }
  return out;
}
constexpr const char* kColourColumns =
    "lab_l, lab_a, lab_b, rgb_hex, share, family, shade, delta_e, alt_family, alt_delta_e";
DominantColour read_colour_fields(Row& r) {
  DominantColour d;
  d.lab.L = r.real();
  d.lab.a = r.real();
  d.lab.b = r.real();
  d.rgb = parse_hex(r.text());
  d.share = r.real();
  d.family = r.text();
  d.shade = r.text();
  d.delta_e = r.real();
  d.alt_family = r.text();
  d.alt_delta_e = r.real();
  return d;
}
DominantColour read_colour(SQLite::Statement& q) {
  Row r(q);
  DominantColour d = read_colour_fields(r);
  r.end();
  return d;
}
void bind_colour(Binder& b, const DominantColour& d) {
  b(d.lab.L)(d.lab.a)(d.lab.b)(rgb_hex(d.rgb))(d.share)(d.family)(d.shade)(d.delta_e)(d.alt_family)(
      d.alt_delta_e);
}

// --- paths -------------------------------------------------------------------------
constexpr const char* kPathColumns = "path, asset_id, file_size, mtime_ns, is_alias";
PathRecord read_path(SQLite::Statement& q) {
  Row r(q);
  PathRecord p;
  p.path = r.text();
  p.asset_id = r.int64();
  p.file_size = r.int64();
  p.mtime_ns = r.int64();
  p.is_alias = r.flag();
  r.end();
  return p;
}
void bind_path(Binder& b, const PathRecord& p) {
  b(p.path)(p.asset_id)(p.file_size)(p.mtime_ns)(p.is_alias);
}

// --- fingerprints: the hash and the largest colour ------------------------------------
constexpr const char* kFingerprintColumns = "a.id, a.phash, c.lab_l, c.lab_a, c.lab_b";
AssetFingerprint read_fingerprint(SQLite::Statement& q) {
  Row r(q);
  AssetFingerprint f;
  f.id = r.int64();
  f.phash = static_cast<std::uint64_t>(r.int64());
  f.has_colour = !r.next_is_null();
  const double l = r.real(), a = r.real(), b = r.real();
  if (f.has_colour) f.main_colour = {l, a, b};
  r.end();
  return f;
}

// --- ingest errors --------------------------------------------------------------------
constexpr const char* kIngestErrorColumns = "path, reason, at";
IngestError read_ingest_error(SQLite::Statement& q) {
  Row r(q);
  IngestError e;
  e.path = r.text();
  e.reason = r.text();
  e.at = r.text();
  r.end();
  return e;
}

// --- embeddings: a dimension and that many floats --------------------------------------
std::vector<float> read_vector(Row& r) {
  const int dim = r.integer();
  const auto blob = r.column();
  if (blob.getBytes() != dim * static_cast<int>(sizeof(float))) {
    throw Error("corrupt embedding row: size does not match its dimension");
  }
  std::vector<float> v(static_cast<std::size_t>(dim));
  std::memcpy(v.data(), blob.getBlob(), blob.getBytes());
  return v;
}

}  // namespace

std::optional<AssetRecord> SqliteAssetStore::find_asset(AssetId id) {
  return asset_where("a.id = ?", [&](SQLite::Statement& q) { Binder{q}(id); });
}
std::optional<AssetRecord> SqliteAssetStore::find_asset_by_sha256(const std::string& sha) {
  return asset_where("a.sha256 = ?", [&](SQLite::Statement& q) { Binder{q}(sha); });
}
std::optional<AssetRecord> SqliteAssetStore::find_asset_by_path(const std::string& path) {
  return asset_where("a.id = (SELECT asset_id FROM asset_paths WHERE path = ?)",
                     [&](SQLite::Statement& q) { Binder{q}(path); });
}

std::optional<AssetRecord> SqliteAssetStore::asset_where(
    const std::string& where, const std::function<void(SQLite::Statement&)>& bind) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format("SELECT {} FROM assets a LEFT JOIN thumbnails t ON t.asset_id = a.id WHERE {}",
                  kAssetColumns, where));
  bind(q);
  if (!q.executeStep()) return std::nullopt;
  AssetRecord a = read_asset(q);
  SQLite::Statement c(
      c_.db(),
      fmt::format("SELECT {} FROM asset_colours WHERE asset_id = ? ORDER BY rank", kColourColumns));
  Binder{c}(a.id);
  while (c.executeStep()) a.colours.colours.push_back(read_colour(c));
  return a;
}

std::optional<PathRecord> SqliteAssetStore::find_path(const std::string& path) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("SELECT {} FROM asset_paths WHERE path = ?", kPathColumns));
  Binder{q}(path);
  if (!q.executeStep()) return std::nullopt;
  return read_path(q);
}

AssetId SqliteAssetStore::add_asset(const AssetRecord& a, const PathRecord& p,
                                    const std::string& model, std::span<const float> embedding) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  SQLite::Statement ins(
      c_.db(),
      "INSERT INTO assets (sha256, source_path, file_size, width, height, format, phash, "
      "ingested_at, product_fraction, background_removed, colour_mask) "
      "VALUES (?,?,?,?,?,?,?,?,?,?,?)");
  Binder{ins}(a.sha256)(a.source_path)(a.file_size)(a.width)(a.height)(a.format)(
      static_cast<std::int64_t>(a.phash))(a.ingested_at)(a.colours.product_fraction)(
      a.colours.background_removed)(a.colours.mask);
  ins.exec();
  const AssetId id = c_.db().getLastInsertRowid();
  if (!a.thumbnail_sha256.empty()) {
    SQLite::Statement th(
        c_.db(), "INSERT INTO thumbnails (asset_id, sha256, width, height) VALUES (?,?,?,?)");
    Binder{th}(id)(a.thumbnail_sha256)(a.thumbnail_width)(a.thumbnail_height);
    th.exec();
  }
  SQLite::Statement col(
      c_.db(),
      fmt::format("INSERT INTO asset_colours (asset_id, rank, {}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                  kColourColumns));
  int rank = 0;
  for (const auto& c : a.colours.colours) {
    col.reset();
    Binder b(col);
    b(id)(rank++);
    bind_colour(b, c);
    col.exec();
  }
  PathRecord first = p;
  first.asset_id = id;
  first.is_alias = false;
  insert_path(first);
  if (!model.empty() && !embedding.empty()) insert_embedding(id, model, embedding);
  insert_work(c_.db(), id, WorkStep::kTag);
  tx.commit();
  return id;
}

void SqliteAssetStore::add_path(const PathRecord& p) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  insert_path(p);
  tx.commit();
}

void SqliteAssetStore::insert_path(const PathRecord& p) {
  SQLite::Statement q(c_.db(),
                      fmt::format("INSERT INTO asset_paths ({}) VALUES (?,?,?,?,?) "
                                  "ON CONFLICT(path) DO UPDATE SET asset_id = excluded.asset_id, "
                                  "file_size = excluded.file_size, mtime_ns = excluded.mtime_ns, "
                                  "is_alias = excluded.is_alias",
                                  kPathColumns));
  Binder b(q);
  bind_path(b, p);
  q.exec();
  SQLite::Statement clear(c_.db(), "DELETE FROM ingest_errors WHERE path = ?");
  Binder{clear}(p.path);
  clear.exec();
}

std::vector<PathRecord> SqliteAssetStore::paths_of(AssetId id) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM asset_paths WHERE asset_id = ? ORDER BY is_alias, path",
                           kPathColumns));
  Binder{q}(id);
  std::vector<PathRecord> out;
  while (q.executeStep()) out.push_back(read_path(q));
  return out;
}

std::vector<AssetId> SqliteAssetStore::asset_ids() {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "SELECT id FROM assets ORDER BY id");
  std::vector<AssetId> out;
  while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
  return out;
}

std::vector<AssetFingerprint> SqliteAssetStore::fingerprints() {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT {} FROM assets a LEFT JOIN asset_colours c "
                                           "ON c.asset_id = a.id AND c.rank = 0 ORDER BY a.id",
                                           kFingerprintColumns));
  std::vector<AssetFingerprint> out;
  while (q.executeStep()) out.push_back(read_fingerprint(q));
  return out;
}

void SqliteAssetStore::for_each_asset(const std::function<void(const AssetRecord&)>& fn) {
  // One asset at a time without holding the lock across `fn`, which may call
  // back into the store.
  for (AssetId id : asset_ids()) {
    if (auto a = find_asset(id)) fn(*a);
  }
}

std::vector<AssetRecord> SqliteAssetStore::find_assets(std::span<const AssetId> ids) {
  const auto wanted = sorted_ids(ids);
  std::vector<AssetRecord> out;
  out.reserve(wanted.size());
  auto reader = c_.bulk_reader();
  SQLite::Statement assets(
      reader.db, fmt::format("SELECT {} FROM assets a LEFT JOIN thumbnails t ON t.asset_id = a.id "
                             "WHERE a.id BETWEEN ? AND ? ORDER BY a.id",
                             kAssetColumns));
  SQLite::Statement colours(
      reader.db,
      fmt::format("SELECT asset_id, {} FROM asset_colours WHERE asset_id BETWEEN ? AND ? "
                  "ORDER BY asset_id, rank",
                  kColourColumns));
  for (const IdRun& run : id_runs(wanted)) {
    const std::size_t first = out.size();
    assets.reset();
    Binder{assets}(run.first)(run.last);
    while (assets.executeStep()) {
      const AssetId id = assets.getColumn(0).getInt64();
      if (std::binary_search(wanted.begin(), wanted.end(), id)) out.push_back(read_asset(assets));
    }
    // Both scans are by id: a merge puts each colour on its asset.
    colours.reset();
    Binder{colours}(run.first)(run.last);
    std::size_t at = first;
    while (colours.executeStep()) {
      Row r(colours);
      const AssetId id = r.int64();
      while (at < out.size() && out[at].id < id) ++at;
      if (at == out.size()) break;
      if (out[at].id != id) continue;
      out[at].colours.colours.push_back(read_colour_fields(r));
      r.end();
    }
  }
  return out;
}

void SqliteAssetStore::record_ingest_error(const IngestError& e) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("INSERT INTO ingest_errors ({}) VALUES (?,?,?) ON CONFLICT(path) DO "
                           "UPDATE SET reason = excluded.reason, at = excluded.at",
                           kIngestErrorColumns));
  Binder{q}(e.path)(e.reason)(e.at);
  q.exec();
}

std::vector<IngestError> SqliteAssetStore::ingest_errors() {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM ingest_errors ORDER BY path", kIngestErrorColumns));
  std::vector<IngestError> out;
  while (q.executeStep()) out.push_back(read_ingest_error(q));
  return out;
}

void SqliteAssetStore::put_embedding(AssetId id, const std::string& model,
                                     std::span<const float> v) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  insert_embedding(id, model, v);
  insert_work(c_.db(), id, WorkStep::kTag);
  tx.commit();
}

void SqliteAssetStore::insert_embedding(AssetId id, const std::string& model,
                                        std::span<const float> v) {
  // The next number of the change sequence, in this transaction: SQLite
  // commits one writer at a time, so numbers become visible in order.
  SQLite::Statement next(c_.db(),
                         "UPDATE change_counters SET value = value + 1 "
                         "WHERE name = 'embedding_seq' RETURNING value");
  if (!next.executeStep()) throw Error("the embedding change counter is missing");
  const std::int64_t seq = next.getColumn(0).getInt64();
  next.reset();
  SQLite::Statement q(
      c_.db(),
      "INSERT INTO embeddings (asset_id, model_version, dim, vector, seq) VALUES (?,?,?,?,?) "
      "ON CONFLICT(asset_id, model_version) DO UPDATE SET dim = excluded.dim, vector = "
      "excluded.vector, seq = excluded.seq");
  Binder{q}(id)(model)(static_cast<int>(v.size()));
  q.bind(4, v.data(), static_cast<int>(v.size_bytes()));
  q.bind(5, seq);
  q.exec();
}

std::optional<std::vector<float>> SqliteAssetStore::embedding(AssetId id,
                                                              const std::string& model) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), "SELECT dim, vector FROM embeddings WHERE asset_id = ? AND model_version = ?");
  Binder{q}(id)(model);
  if (!q.executeStep()) return std::nullopt;
  Row r(q);
  auto v = read_vector(r);
  r.end();
  return v;
}

std::vector<std::pair<AssetId, std::vector<float>>> SqliteAssetStore::embeddings(
    std::span<const AssetId> ids, const std::string& model) {
  const auto wanted = sorted_ids(ids);
  std::vector<std::pair<AssetId, std::vector<float>>> out;
  out.reserve(wanted.size());
  auto reader = c_.bulk_reader();
  // "+model_version": the scan must follow the primary key's asset_id range,
  // not the (model_version, seq) index, which would visit every vector of
  // the model.
  SQLite::Statement q(reader.db,
                      "SELECT asset_id, dim, vector FROM embeddings WHERE asset_id BETWEEN ? AND ? "
                      "AND +model_version = ? ORDER BY asset_id");
  for (const IdRun& run : id_runs(wanted)) {
    q.reset();
    Binder{q}(run.first)(run.last)(model);
    while (q.executeStep()) {
      Row r(q);
      const AssetId id = r.int64();
      if (!std::binary_search(wanted.begin(), wanted.end(), id)) continue;
      auto v = read_vector(r);
      r.end();
      out.emplace_back(id, std::move(v));
    }
  }
  return out;
}

void SqliteAssetStore::for_each_embedding(
    const std::string& model, const std::function<void(AssetId, std::span<const float>)>& fn) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      "SELECT asset_id, dim, vector FROM embeddings WHERE model_version = ? ORDER BY asset_id");
  Binder{q}(model);
  while (q.executeStep()) {
    Row r(q);
    const AssetId id = r.int64();
    const auto v = read_vector(r);
    r.end();
    fn(id, v);
  }
}

std::vector<EmbeddingChange> SqliteAssetStore::embeddings_changed_since(const std::string& model,
                                                                        std::int64_t after_seq,
                                                                        std::size_t limit) {
  std::vector<EmbeddingChange> out;
  if (limit == 0) return out;
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT seq, asset_id, dim, vector FROM embeddings "
                      "WHERE model_version = ? AND seq > ? ORDER BY seq LIMIT ?");
  Binder{q}(model)(after_seq)(static_cast<std::int64_t>(limit));
  while (q.executeStep()) {
    Row r(q);
    EmbeddingChange c;
    c.seq = r.int64();
    c.asset_id = r.int64();
    c.vector = read_vector(r);
    r.end();
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tagsmith::store
