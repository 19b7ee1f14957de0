// AssetStore over PostgreSQL: the statements of sqlite_assets.cpp in
// PostgreSQL's dialect, each call one transaction.
#include <fmt/format.h>

#include <algorithm>
#include <cstring>

#include "pg_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

constexpr const char* kAssetColumns =
    "a.id, a.sha256, a.source_path, a.file_size, a.width, a.height, a.format, a.phash, "
    "a.ingested_at, a.product_fraction, a.background_removed, a.colour_mask, "
    "coalesce(t.sha256, ''), coalesce(t.width, 0), coalesce(t.height, 0)";
AssetRecord read_asset(const pqxx::row& row) {
  PgRow r(row);
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
DominantColour read_colour(const pqxx::row& row) {
  PgRow r(row);
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
  r.end();
  return d;
}

constexpr const char* kPathColumns = "path, asset_id, file_size, mtime_ns, is_alias";
PathRecord read_path(const pqxx::row& row) {
  PgRow r(row);
  PathRecord p;
  p.path = r.text();
  p.asset_id = r.int64();
  p.file_size = r.int64();
  p.mtime_ns = r.int64();
  p.is_alias = r.flag();
  r.end();
  return p;
}

std::vector<float> read_vector(PgRow& r) {
  const int dim = r.integer();
  const pqxx::binarystring blob(r.field());
  if (blob.size() != static_cast<std::size_t>(dim) * sizeof(float))
    throw Error("corrupt embedding row: size does not match its dimension");
  std::vector<float> v(static_cast<std::size_t>(dim));
  std::memcpy(v.data(), blob.data(), blob.size());
  return v;
}

std::optional<AssetRecord> asset_where(pqxx::work& w, const std::string& where,
                                       const std::string& value) {
  const auto r = w.exec_params(
      fmt::format("SELECT {} FROM assets a LEFT JOIN thumbnails t ON t.asset_id = a.id WHERE {}",
                  kAssetColumns, where),
      value);
  if (r.empty()) return std::nullopt;
  AssetRecord a = read_asset(r[0]);
  for (const auto& row :
       w.exec_params(fmt::format("SELECT {} FROM asset_colours WHERE asset_id = $1 ORDER BY rank",
                                 kColourColumns),
                     a.id))
    a.colours.colours.push_back(read_colour(row));
  return a;
}

void insert_path(pqxx::work& w, const PathRecord& p) {
  w.exec_params(fmt::format("INSERT INTO asset_paths ({}) VALUES ($1,$2,$3,$4,$5) "
                            "ON CONFLICT (path) DO UPDATE SET asset_id = excluded.asset_id, "
                            "file_size = excluded.file_size, mtime_ns = excluded.mtime_ns, "
                            "is_alias = excluded.is_alias",
                            kPathColumns),
                p.path, p.asset_id, p.file_size, p.mtime_ns, p.is_alias ? 1 : 0);
  w.exec_params("DELETE FROM ingest_errors WHERE path = $1", p.path);
}

void insert_embedding(pqxx::work& w, AssetId id, const std::string& model,
                      std::span<const float> v) {
  // A new number on every write: followers see a replaced vector as a change.
  const std::int64_t seq = pg_bump_counter(w, "embedding_seq");
  w.exec_params(
      "INSERT INTO embeddings (asset_id, model_version, dim, vector, seq) VALUES ($1,$2,$3,$4,$5) "
      "ON CONFLICT (asset_id, model_version) DO UPDATE SET dim = excluded.dim, "
      "vector = excluded.vector, seq = excluded.seq",
      id, model, static_cast<int>(v.size()), pqxx::binarystring(v.data(), v.size_bytes()), seq);
}

}  // namespace

std::optional<AssetRecord> PgAssetStore::find_asset(AssetId id) {
  return c_.transact(
      [&](pqxx::work& w) { return asset_where(w, "a.id = $1", std::to_string(id)); });
}
std::optional<AssetRecord> PgAssetStore::find_asset_by_sha256(const std::string& sha) {
  return c_.transact([&](pqxx::work& w) { return asset_where(w, "a.sha256 = $1", sha); });
}
std::optional<AssetRecord> PgAssetStore::find_asset_by_path(const std::string& path) {
  return c_.transact([&](pqxx::work& w) {
    return asset_where(w, "a.id = (SELECT asset_id FROM asset_paths WHERE path = $1)", path);
  });
}

// One lookup per asset: PostgreSQL is reached over a connection pool, and
// none of its callers re-tags a whole catalogue from one process yet
// (`tagsmith worker` shares the queue among machines).
std::vector<AssetRecord> PgAssetStore::find_assets(std::span<const AssetId> ids) {
  std::vector<AssetId> wanted(ids.begin(), ids.end());
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<AssetRecord> out;
  for (const AssetId id : wanted)
    if (auto a = find_asset(id)) out.push_back(std::move(*a));
  return out;
}

std::optional<PathRecord> PgAssetStore::find_path(const std::string& path) {
  return c_.transact([&](pqxx::work& w) -> std::optional<PathRecord> {
    const auto r = w.exec_params(
        fmt::format("SELECT {} FROM asset_paths WHERE path = $1", kPathColumns), path);
    if (r.empty()) return std::nullopt;
    return read_path(r[0]);
  });
}

AssetId PgAssetStore::add_asset(const AssetRecord& a, const PathRecord& p, const std::string& model,
                                std::span<const float> embedding) {
  return c_.transact([&](pqxx::work& w) {
    const AssetId id =
        w.exec_params1(
             "INSERT INTO assets (sha256, source_path, file_size, width, height, format, phash, "
             "ingested_at, product_fraction, background_removed, colour_mask) "
             "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) RETURNING id",
             a.sha256, a.source_path, a.file_size, a.width, a.height, a.format,
             static_cast<std::int64_t>(a.phash), a.ingested_at, a.colours.product_fraction,
             a.colours.background_removed ? 1 : 0, a.colours.mask)[0]
            .as<AssetId>();
    if (!a.thumbnail_sha256.empty()) {
      w.exec_params("INSERT INTO thumbnails (asset_id, sha256, width, height) VALUES ($1,$2,$3,$4)",
                    id, a.thumbnail_sha256, a.thumbnail_width, a.thumbnail_height);
    }
    int rank = 0;
    for (const auto& d : a.colours.colours) {
      w.exec_params(fmt::format("INSERT INTO asset_colours (asset_id, rank, {}) VALUES "
                                "($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
                                kColourColumns),
                    id, rank++, d.lab.L, d.lab.a, d.lab.b, rgb_hex(d.rgb), d.share, d.family,
                    d.shade, d.delta_e, d.alt_family, d.alt_delta_e);
    }
    PathRecord first = p;
    first.asset_id = id;
    first.is_alias = false;
    insert_path(w, first);
    pg_insert_work(w, id, WorkStep::kTag);
    if (!model.empty() && !embedding.empty()) insert_embedding(w, id, model, embedding);
    pg_bump_counter(w, "assets");
    return id;
  });
}

void PgAssetStore::add_path(const PathRecord& p) {
  c_.transact([&](pqxx::work& w) { insert_path(w, p); });
}

std::vector<PathRecord> PgAssetStore::paths_of(AssetId id) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<PathRecord> out;
    for (const auto& row :
         w.exec_params(fmt::format("SELECT {} FROM asset_paths WHERE asset_id = $1 "
                                   "ORDER BY is_alias, path",
                                   kPathColumns),
                       id))
      out.push_back(read_path(row));
    return out;
  });
}

std::vector<AssetId> PgAssetStore::asset_ids() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<AssetId> out;
    for (const auto& row : w.exec("SELECT id FROM assets ORDER BY id"))
      out.push_back(row[0].as<AssetId>());
    return out;
  });
}

std::vector<AssetFingerprint> PgAssetStore::fingerprints() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<AssetFingerprint> out;
    for (const auto& row :
         w.exec("SELECT a.id, a.phash, c.lab_l, c.lab_a, c.lab_b FROM assets a "
                "LEFT JOIN asset_colours c ON c.asset_id = a.id AND c.rank = 0 ORDER BY a.id")) {
      PgRow r(row);
      AssetFingerprint f;
      f.id = r.int64();
      f.phash = static_cast<std::uint64_t>(r.int64());
      f.has_colour = !r.next_is_null();
      if (f.has_colour) {
        f.main_colour.L = r.real();
        f.main_colour.a = r.real();
        f.main_colour.b = r.real();
      } else {
        r.field(), r.field(), r.field();
      }
      r.end();
      out.push_back(f);
    }
    return out;
  });
}

void PgAssetStore::for_each_asset(const std::function<void(const AssetRecord&)>& fn) {
  // In pages, without a transaction held across `fn` (which may call back
  // into the store): one query per page of assets and one for their colours.
  AssetId after = 0;
  constexpr int kPage = 2000;
  for (;;) {
    auto page = c_.transact([&](pqxx::work& w) {
      std::vector<AssetRecord> out;
      for (const auto& row : w.exec_params(
               fmt::format("SELECT {} FROM assets a LEFT JOIN thumbnails t ON t.asset_id = a.id "
                           "WHERE a.id > $1 ORDER BY a.id LIMIT $2",
                           kAssetColumns),
               after, kPage))
        out.push_back(read_asset(row));
      if (out.empty()) return out;
      std::size_t i = 0;
      for (const auto& row :
           w.exec_params(fmt::format("SELECT asset_id, {} FROM asset_colours WHERE asset_id "
                                     "BETWEEN $1 AND $2 ORDER BY asset_id, rank",
                                     kColourColumns),
                         out.front().id, out.back().id)) {
        const AssetId id = row[0].as<AssetId>();
        while (i < out.size() && out[i].id < id) ++i;
        if (i == out.size()) break;
        if (out[i].id != id) continue;
        pqxx::row colour = row.slice(1, row.size());
        out[i].colours.colours.push_back(read_colour(colour));
      }
      return out;
    });
    if (page.empty()) return;
    after = page.back().id;
    for (const auto& a : page) fn(a);
  }
}

void PgAssetStore::record_ingest_error(const IngestError& e) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO ingest_errors (path, reason, at) VALUES ($1,$2,$3) "
        "ON CONFLICT (path) DO UPDATE SET reason = excluded.reason, at = excluded.at",
        e.path, e.reason, e.at);
  });
}

std::vector<IngestError> PgAssetStore::ingest_errors() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<IngestError> out;
    for (const auto& row : w.exec("SELECT path, reason, at FROM ingest_errors ORDER BY path")) {
      PgRow r(row);
      IngestError e;
      e.path = r.text();
      e.reason = r.text();
      e.at = r.text();
      r.end();
      out.push_back(std::move(e));
    }
    return out;
  });
}

void PgAssetStore::put_embedding(AssetId id, const std::string& model, std::span<const float> v) {
  c_.transact([&](pqxx::work& w) {
    pg_insert_work(w, id, WorkStep::kTag);
    insert_embedding(w, id, model, v);
  });
}

std::optional<std::vector<float>> PgAssetStore::embedding(AssetId id, const std::string& model) {
  return c_.transact([&](pqxx::work& w) -> std::optional<std::vector<float>> {
    const auto r = w.exec_params(
        "SELECT dim, vector FROM embeddings WHERE asset_id = $1 AND model_version = $2", id, model);
    if (r.empty()) return std::nullopt;
    PgRow row(r[0]);
    auto v = read_vector(row);
    row.end();
    return v;
  });
}

std::vector<std::pair<AssetId, std::vector<float>>> PgAssetStore::embeddings(
    std::span<const AssetId> ids, const std::string& model) {
  std::vector<AssetId> wanted(ids.begin(), ids.end());
  std::sort(wanted.begin(), wanted.end());
  wanted.erase(std::unique(wanted.begin(), wanted.end()), wanted.end());
  std::vector<std::pair<AssetId, std::vector<float>>> out;
  for (const AssetId id : wanted)
    if (auto v = embedding(id, model)) out.emplace_back(id, std::move(*v));
  return out;
}

void PgAssetStore::for_each_embedding(
    const std::string& model, const std::function<void(AssetId, std::span<const float>)>& fn) {
  // Pages of vectors, so a million of them never sit in one result.
  AssetId after = 0;
  constexpr int kPage = 5000;
  for (;;) {
    auto page = c_.transact([&](pqxx::work& w) {
      std::vector<std::pair<AssetId, std::vector<float>>> out;
      for (const auto& row :
           w.exec_params("SELECT asset_id, dim, vector FROM embeddings WHERE model_version = $1 "
                         "AND asset_id > $2 ORDER BY asset_id LIMIT $3",
                         model, after, kPage)) {
        PgRow r(row);
        const AssetId id = r.int64();
        auto v = read_vector(r);
        r.end();
        out.emplace_back(id, std::move(v));
      }
      return out;
    });
    if (page.empty()) return;
    after = page.back().first;
    for (const auto& [id, v] : page) fn(id, v);
  }
}

std::vector<EmbeddingChange> PgAssetStore::embeddings_changed_since(const std::string& model,
                                                                    std::int64_t after_seq,
                                                                    std::size_t limit) {
  if (limit == 0) return {};
  return c_.transact([&](pqxx::work& w) {
    std::vector<EmbeddingChange> out;
    for (const auto& row : w.exec_params(
             "SELECT seq, asset_id, dim, vector FROM embeddings WHERE model_version = $1 AND "
             "seq > $2 ORDER BY seq LIMIT $3",
             model, after_seq, static_cast<std::int64_t>(limit))) {
      PgRow r(row);
      EmbeddingChange c;
      c.seq = r.int64();
      c.asset_id = r.int64();
      c.vector = read_vector(r);
      r.end();
      out.push_back(std::move(c));
    }
    return out;
  });
}

}  // namespace tagsmith::store
