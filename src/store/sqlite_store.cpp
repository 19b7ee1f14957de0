// The embedded default Store: one SQLite database file in the library
// directory, in WAL mode so readers never block the single writer, with
// foreign keys on and each unit of work in one transaction.
#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>

#include <mutex>

#include "sqlite_schema.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"

namespace tagsmith::store {
namespace {

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

constexpr const char* kAssetColumns =
    "a.id, a.sha256, a.source_path, a.file_size, a.width, a.height, a.format, a.phash, "
    "a.ingested_at, a.product_fraction, a.background_removed, "
    "coalesce(t.sha256, ''), coalesce(t.width, 0), coalesce(t.height, 0)";

constexpr const char* kTagColumns =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, evidence_json";

constexpr const char* kEventColumns =
    "id, asset_id, attribute, node, action, actor, confidence, model_version, taxonomy_version, "
    "at, evidence_json, previous_node";

class SqliteStore final : public Store {
 public:
  explicit SqliteStore(const std::string& path)
      : db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {
    db_.setBusyTimeout(30'000);
    db_.exec("PRAGMA journal_mode=WAL");
    // NORMAL is durable against application crashes (kill -9) in WAL mode;
    // only a power loss can drop the last few commits, never corrupt.
    db_.exec("PRAGMA synchronous=NORMAL");
    db_.exec("PRAGMA foreign_keys=ON");
    migrate();
  }

  int schema_version() const override {
    std::lock_guard lock(mu_);
    return db_.execAndGet("PRAGMA user_version").getInt();
  }

  std::optional<AssetRecord> find_asset(AssetId id) override {
    std::lock_guard lock(mu_);
    return asset_where("a.id = ?",
                       [&](SQLite::Statement& q) { q.bind(1, static_cast<std::int64_t>(id)); });
  }
  std::optional<AssetRecord> find_asset_by_sha256(const std::string& sha) override {
    std::lock_guard lock(mu_);
    return asset_where("a.sha256 = ?", [&](SQLite::Statement& q) { q.bind(1, sha); });
  }
  std::optional<AssetRecord> find_asset_by_path(const std::string& path) override {
    std::lock_guard lock(mu_);
    return asset_where("a.id = (SELECT asset_id FROM asset_paths WHERE path = ?)",
                       [&](SQLite::Statement& q) { q.bind(1, path); });
  }
  std::optional<PathRecord> find_path(const std::string& path) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT path, asset_id, file_size, mtime_ns, is_alias FROM asset_paths WHERE path = ?");
    q.bind(1, path);
    if (!q.executeStep()) return std::nullopt;
    return read_path(q);
  }

  AssetId add_asset(const AssetRecord& a, const PathRecord& p, const std::string& model,
                    std::span<const float> embedding) override {
    std::lock_guard lock(mu_);
    SQLite::Transaction tx(db_);
    SQLite::Statement ins(
        db_,
        "INSERT INTO assets (sha256, source_path, file_size, width, height, format, phash, "
        "ingested_at, product_fraction, background_removed) VALUES (?,?,?,?,?,?,?,?,?,?)");
    ins.bind(1, a.sha256);
    ins.bind(2, a.source_path);
    ins.bind(3, static_cast<std::int64_t>(a.file_size));
    ins.bind(4, a.width);
    ins.bind(5, a.height);
    ins.bind(6, a.format);
    ins.bind(7, static_cast<std::int64_t>(a.phash));
    ins.bind(8, a.ingested_at);
    ins.bind(9, a.colours.product_fraction);
    ins.bind(10, a.colours.background_removed ? 1 : 0);
    ins.exec();
    const AssetId id = db_.getLastInsertRowid();
    if (!a.thumbnail_sha256.empty()) {
      SQLite::Statement th(
          db_, "INSERT INTO thumbnails (asset_id, sha256, width, height) VALUES (?,?,?,?)");
      th.bind(1, static_cast<std::int64_t>(id));
      th.bind(2, a.thumbnail_sha256);
      th.bind(3, a.thumbnail_width);
      th.bind(4, a.thumbnail_height);
      th.exec();
    }
    SQLite::Statement col(
        db_,
        "INSERT INTO asset_colours (asset_id, rank, lab_l, lab_a, lab_b, rgb_hex, share, family, "
        "shade, delta_e) VALUES (?,?,?,?,?,?,?,?,?,?)");
    int rank = 0;
    for (const auto& c : a.colours.colours) {
      col.reset();
      col.bind(1, static_cast<std::int64_t>(id));
      col.bind(2, rank++);
      col.bind(3, c.lab.L);
      col.bind(4, c.lab.a);
      col.bind(5, c.lab.b);
      col.bind(6, rgb_hex(c.rgb));
      col.bind(7, c.share);
      col.bind(8, c.family);
      col.bind(9, c.shade);
      col.bind(10, c.delta_e);
      col.exec();
    }
    PathRecord first = p;
    first.asset_id = id;
    first.is_alias = false;
    insert_path(first);
    if (!model.empty() && !embedding.empty()) insert_embedding(id, model, embedding);
    tx.commit();
    return id;
  }

  void add_path(const PathRecord& p) override {
    std::lock_guard lock(mu_);
    SQLite::Transaction tx(db_);
    insert_path(p);
    tx.commit();
  }

  std::vector<PathRecord> paths_of(AssetId id) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT path, asset_id, file_size, mtime_ns, is_alias FROM asset_paths WHERE asset_id = ? "
        "ORDER BY is_alias, path");
    q.bind(1, static_cast<std::int64_t>(id));
    std::vector<PathRecord> out;
    while (q.executeStep()) out.push_back(read_path(q));
    return out;
  }

  std::vector<AssetId> asset_ids() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "SELECT id FROM assets ORDER BY id");
    std::vector<AssetId> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getInt64());
    return out;
  }

  std::vector<AssetFingerprint> fingerprints() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT a.id, a.phash, c.lab_l, c.lab_a, c.lab_b FROM assets a "
        "LEFT JOIN asset_colours c ON c.asset_id = a.id AND c.rank = 0 ORDER BY a.id");
    std::vector<AssetFingerprint> out;
    while (q.executeStep()) {
      AssetFingerprint f;
      f.id = q.getColumn(0).getInt64();
      f.phash = static_cast<std::uint64_t>(q.getColumn(1).getInt64());
      f.has_colour = !q.getColumn(2).isNull();
      if (f.has_colour)
        f.main_colour = {q.getColumn(2).getDouble(), q.getColumn(3).getDouble(),
                         q.getColumn(4).getDouble()};
      out.push_back(f);
    }
    return out;
  }

  void for_each_asset(const std::function<void(const AssetRecord&)>& fn) override {
    std::vector<AssetId> ids = asset_ids();
    for (AssetId id : ids) {
      if (auto a = find_asset(id)) fn(*a);
    }
  }

  void record_ingest_error(const IngestError& e) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "INSERT INTO ingest_errors (path, reason, at) VALUES (?,?,?) "
        "ON CONFLICT(path) DO UPDATE SET reason = excluded.reason, at = excluded.at");
    q.bind(1, e.path);
    q.bind(2, e.reason);
    q.bind(3, e.at);
    q.exec();
  }

  std::vector<IngestError> ingest_errors() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "SELECT path, reason, at FROM ingest_errors ORDER BY path");
    std::vector<IngestError> out;
    while (q.executeStep())
      out.push_back(
          {q.getColumn(0).getString(), q.getColumn(1).getString(), q.getColumn(2).getString()});
    return out;
  }

  void put_embedding(AssetId id, const std::string& model, std::span<const float> v) override {
    std::lock_guard lock(mu_);
    insert_embedding(id, model, v);
  }

  void insert_embedding(AssetId id, const std::string& model, std::span<const float> v) {
    SQLite::Statement q(
        db_,
        "INSERT INTO embeddings (asset_id, model_version, dim, vector) VALUES (?,?,?,?) "
        "ON CONFLICT(asset_id, model_version) DO UPDATE SET dim = excluded.dim, vector = "
        "excluded.vector");
    q.bind(1, static_cast<std::int64_t>(id));
    q.bind(2, model);
    q.bind(3, static_cast<int>(v.size()));
    q.bind(4, v.data(), static_cast<int>(v.size_bytes()));
    q.exec();
  }

  std::optional<std::vector<float>> embedding(AssetId id, const std::string& model) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, "SELECT dim, vector FROM embeddings WHERE asset_id = ? AND model_version = ?");
    q.bind(1, static_cast<std::int64_t>(id));
    q.bind(2, model);
    if (!q.executeStep()) return std::nullopt;
    return read_vector(q, 0);
  }

  void for_each_embedding(const std::string& model,
                          const std::function<void(AssetId, std::span<const float>)>& fn) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT asset_id, dim, vector FROM embeddings WHERE model_version = ? ORDER BY asset_id");
    q.bind(1, model);
    while (q.executeStep()) {
      const auto v = read_vector(q, 1);
      fn(q.getColumn(0).getInt64(), v);
    }
  }

  std::vector<Tag> tags_of(AssetId id) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, fmt::format(
                 "SELECT {} FROM tags WHERE asset_id = ? ORDER BY attribute, confidence DESC, node",
                 kTagColumns));
    q.bind(1, static_cast<std::int64_t>(id));
    std::vector<Tag> out;
    while (q.executeStep()) out.push_back(read_tag(q));
    return out;
  }

  void apply_tag_changes(std::span<const TagChange> changes) override {
    if (changes.empty()) return;
    std::lock_guard lock(mu_);
    SQLite::Transaction tx(db_);
    SQLite::Statement upsert(
        db_,
        fmt::format(
            "INSERT INTO tags ({}) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(asset_id, attribute, "
            "node) DO UPDATE SET "
            "state = excluded.state, confidence = excluded.confidence, actor = excluded.actor, "
            "model_version = excluded.model_version, taxonomy_version = excluded.taxonomy_version, "
            "updated_at = excluded.updated_at, evidence_json = excluded.evidence_json",
            kTagColumns));
    SQLite::Statement remove(db_,
                             "DELETE FROM tags WHERE asset_id = ? AND attribute = ? AND node = ?");
    SQLite::Statement event(
        db_, fmt::format("INSERT INTO tag_events ({}) VALUES (NULL,?,?,?,?,?,?,?,?,?,?,?)",
                         kEventColumns));
    auto write_tag = [&upsert](const Tag& t) {
      upsert.reset();
      upsert.bind(1, static_cast<std::int64_t>(t.asset_id));
      upsert.bind(2, t.attribute);
      upsert.bind(3, t.node);
      upsert.bind(4, to_string(t.state));
      upsert.bind(5, t.confidence);
      upsert.bind(6, t.actor);
      upsert.bind(7, t.model_version);
      upsert.bind(8, static_cast<std::int64_t>(t.taxonomy_version));
      upsert.bind(9, t.updated_at);
      upsert.bind(10, t.evidence_json);
      upsert.exec();
    };
    for (const auto& c : changes) {
      const Tag& t = c.tag;
      for (const Tag& extra : c.covered) write_tag(extra);
      if (c.kind == TagChange::Kind::kUpsert) {
        write_tag(t);
      } else {
        remove.reset();
        remove.bind(1, static_cast<std::int64_t>(t.asset_id));
        remove.bind(2, t.attribute);
        remove.bind(3, t.node);
        remove.exec();
      }
      const TagEvent& e = c.event;
      event.reset();
      event.bind(1, static_cast<std::int64_t>(e.asset_id));
      event.bind(2, e.attribute);
      event.bind(3, e.node);
      event.bind(4, to_string(e.action));
      event.bind(5, e.actor);
      event.bind(6, e.confidence);
      event.bind(7, e.model_version);
      event.bind(8, static_cast<std::int64_t>(e.taxonomy_version));
      event.bind(9, e.at);
      event.bind(10, e.evidence_json);
      event.bind(11, e.previous_node);
      event.exec();
    }
    tx.commit();
  }

  std::vector<TagEvent> tag_events(AssetId id, const std::string& attribute) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM tag_events WHERE asset_id = ? AND (? = '' "
                                         "OR attribute = ?) ORDER BY id",
                                         kEventColumns));
    q.bind(1, static_cast<std::int64_t>(id));
    q.bind(2, attribute);
    q.bind(3, attribute);
    std::vector<TagEvent> out;
    while (q.executeStep()) out.push_back(read_event(q));
    return out;
  }

  void for_each_tag(const std::function<void(const Tag&)>& fn) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, fmt::format("SELECT {} FROM tags ORDER BY asset_id, attribute, node", kTagColumns));
    while (q.executeStep()) fn(read_tag(q));
  }

  std::int64_t add_taxonomy_version(const TaxonomyVersion& v) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, "INSERT INTO taxonomy_versions (created_at, source, sha256, yaml) VALUES (?,?,?,?)");
    q.bind(1, v.created_at);
    q.bind(2, v.source);
    q.bind(3, v.sha256);
    q.bind(4, v.yaml);
    q.exec();
    return db_.getLastInsertRowid();
  }
  std::optional<TaxonomyVersion> taxonomy_version(std::int64_t id) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, "SELECT id, created_at, source, sha256, yaml FROM taxonomy_versions WHERE id = ?");
    q.bind(1, static_cast<std::int64_t>(id));
    if (!q.executeStep()) return std::nullopt;
    return read_taxonomy(q, true);
  }
  std::optional<TaxonomyVersion> latest_taxonomy_version() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "SELECT id, created_at, source, sha256, yaml FROM taxonomy_versions ORDER "
                        "BY id DESC LIMIT 1");
    if (!q.executeStep()) return std::nullopt;
    return read_taxonomy(q, true);
  }
  std::vector<TaxonomyVersion> taxonomy_versions() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, "SELECT id, created_at, source, sha256, '' FROM taxonomy_versions ORDER BY id");
    std::vector<TaxonomyVersion> out;
    while (q.executeStep()) out.push_back(read_taxonomy(q, false));
    return out;
  }

  void add_model_version(const ModelVersion& v) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "INSERT INTO model_versions (version, kind, parent, status, created_at, "
                        "metrics_json, artifact_path) "
                        "VALUES (?,?,?,?,?,?,?) ON CONFLICT(version) DO NOTHING");
    q.bind(1, v.version);
    q.bind(2, v.kind);
    q.bind(3, v.parent);
    q.bind(4, v.status);
    q.bind(5, v.created_at);
    q.bind(6, v.metrics_json);
    q.bind(7, v.artifact_path);
    q.exec();
  }
  void update_model_version(const ModelVersion& v) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "UPDATE model_versions SET status = ?, metrics_json = ?, artifact_path = ? "
                        "WHERE version = ?");
    q.bind(1, v.status);
    q.bind(2, v.metrics_json);
    q.bind(3, v.artifact_path);
    q.bind(4, v.version);
    if (q.exec() == 0) throw NotFoundError(fmt::format("no model version '{}'", v.version));
  }
  std::optional<ModelVersion> model_version(const std::string& version) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT id, version, kind, parent, status, created_at, metrics_json, artifact_path "
        "FROM model_versions WHERE version = ?");
    q.bind(1, version);
    if (!q.executeStep()) return std::nullopt;
    return read_model(q);
  }
  std::vector<ModelVersion> model_versions() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT id, version, kind, parent, status, created_at, metrics_json, artifact_path "
        "FROM model_versions ORDER BY id");
    std::vector<ModelVersion> out;
    while (q.executeStep()) out.push_back(read_model(q));
    return out;
  }

  std::optional<std::string> setting(const std::string& key) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "SELECT value FROM settings WHERE key = ?");
    q.bind(1, key);
    if (!q.executeStep()) return std::nullopt;
    return q.getColumn(0).getString();
  }
  void set_setting(const std::string& key, const std::string& value) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "INSERT INTO settings (key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE "
                        "SET value = excluded.value");
    q.bind(1, key);
    q.bind(2, value);
    q.exec();
  }

  // --- accounts (tagsmith serve) ----------------------------------------------
  std::int64_t add_user(const UserRecord& u) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "INSERT INTO users (name, role, password_hash, created_at) VALUES (?,?,?,?) "
        "ON CONFLICT(name) DO NOTHING");
    q.bind(1, u.name);
    q.bind(2, u.role);
    q.bind(3, u.password_hash);
    q.bind(4, u.created_at);
    if (q.exec() == 0) throw InputError(fmt::format("a user named '{}' already exists", u.name));
    return db_.getLastInsertRowid();
  }
  std::optional<UserRecord> find_user(const std::string& name) override {
    std::lock_guard lock(mu_);
    return user_where("name = ?", [&](SQLite::Statement& q) { q.bind(1, name); });
  }
  std::optional<UserRecord> find_user_by_id(std::int64_t id) override {
    std::lock_guard lock(mu_);
    return user_where("id = ?",
                      [&](SQLite::Statement& q) { q.bind(1, static_cast<std::int64_t>(id)); });
  }
  std::vector<UserRecord> users() override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_, "SELECT id, name, role, password_hash, created_at FROM users ORDER BY name");
    std::vector<UserRecord> out;
    while (q.executeStep()) out.push_back(read_user(q));
    return out;
  }
  void update_user(const UserRecord& u) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "UPDATE users SET role = ?, password_hash = ? WHERE name = ?");
    q.bind(1, u.role);
    q.bind(2, u.password_hash);
    q.bind(3, u.name);
    if (q.exec() == 0) throw NotFoundError(fmt::format("no user named '{}'", u.name));
  }
  void add_api_token(std::int64_t user_id, const std::string& token_hash,
                     const std::string& created_at) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?,?,?)");
    q.bind(1, token_hash);
    q.bind(2, static_cast<std::int64_t>(user_id));
    q.bind(3, created_at);
    q.exec();
  }
  std::optional<UserRecord> find_user_by_token_hash(const std::string& token_hash) override {
    std::lock_guard lock(mu_);
    return user_where("id = (SELECT user_id FROM api_tokens WHERE token_hash = ?)",
                      [&](SQLite::Statement& q) { q.bind(1, token_hash); });
  }
  void add_session(const SessionRecord& s) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "INSERT INTO sessions (id_hash, user_id, csrf_token, created_at, "
                        "expires_at) VALUES (?,?,?,?,?)");
    q.bind(1, s.id_hash);
    q.bind(2, static_cast<std::int64_t>(s.user_id));
    q.bind(3, s.csrf_token);
    q.bind(4, s.created_at);
    q.bind(5, s.expires_at);
    q.exec();
  }
  std::optional<SessionRecord> find_session(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "SELECT id_hash, user_id, csrf_token, created_at, expires_at FROM sessions "
                        "WHERE id_hash = ?");
    q.bind(1, id_hash);
    if (!q.executeStep()) return std::nullopt;
    return SessionRecord{q.getColumn(0).getString(), q.getColumn(1).getInt64(),
                         q.getColumn(2).getString(), q.getColumn(3).getString(),
                         q.getColumn(4).getString()};
  }
  void delete_session(const std::string& id_hash) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "DELETE FROM sessions WHERE id_hash = ?");
    q.bind(1, id_hash);
    q.exec();
  }
  void delete_sessions_expired_before(const std::string& now) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_, "DELETE FROM sessions WHERE expires_at < ?");
    q.bind(1, now);
    q.exec();
  }
  std::vector<TagEvent> recent_tag_events(std::int64_t before_id, std::size_t limit) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        fmt::format("SELECT {} FROM tag_events WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
                    kEventColumns));
    q.bind(1, static_cast<std::int64_t>(before_id));
    q.bind(2, static_cast<std::int64_t>(before_id));
    q.bind(3, static_cast<std::int64_t>(limit));
    std::vector<TagEvent> out;
    while (q.executeStep()) out.push_back(read_event(q));
    return out;
  }

  std::vector<Tag> tags_in_states(const std::vector<TagState>& states) override {
    std::lock_guard lock(mu_);
    std::string in;
    for (auto st : states) in += (in.empty() ? "'" : ",'") + to_string(st) + "'";
    if (in.empty()) return {};
    SQLite::Statement q(
        db_,
        fmt::format("SELECT {} FROM tags WHERE state IN ({}) ORDER BY asset_id, attribute, node",
                    kTagColumns, in));
    std::vector<Tag> out;
    while (q.executeStep()) out.push_back(read_tag(q));
    return out;
  }

  void add_review_log(const ReviewLogEntry& e) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "INSERT INTO review_log (asset_id, attribute, node, action, reviewer, seconds, at) "
        "VALUES (?,?,?,?,?,?,?)");
    q.bind(1, static_cast<std::int64_t>(e.asset_id));
    q.bind(2, e.attribute);
    q.bind(3, e.node);
    q.bind(4, e.action);
    q.bind(5, e.reviewer);
    q.bind(6, e.seconds);
    q.bind(7, e.at);
    q.exec();
  }

  std::vector<ReviewLogEntry> review_log(const std::string& since) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        "SELECT id, asset_id, attribute, node, action, reviewer, seconds, at FROM review_log "
        "WHERE at >= ? ORDER BY id");
    q.bind(1, since);
    std::vector<ReviewLogEntry> out;
    while (q.executeStep()) {
      out.push_back({q.getColumn(0).getInt64(), q.getColumn(1).getInt64(),
                     q.getColumn(2).getString(), q.getColumn(3).getString(),
                     q.getColumn(4).getString(), q.getColumn(5).getString(),
                     q.getColumn(6).getDouble(), q.getColumn(7).getString()});
    }
    return out;
  }

  std::int64_t add_audit_samples(const std::vector<AuditSample>& samples) override {
    std::lock_guard lock(mu_);
    SQLite::Transaction tx(db_);
    const std::int64_t batch =
        db_.execAndGet("SELECT coalesce(max(batch), 0) + 1 FROM audit_samples").getInt64();
    SQLite::Statement q(
        db_,
        "INSERT INTO audit_samples (batch, asset_id, attribute, node, tier, confidence, "
        "created_at) VALUES (?,?,?,?,?,?,?)");
    for (const auto& s : samples) {
      q.reset();
      q.bind(1, batch);
      q.bind(2, static_cast<std::int64_t>(s.asset_id));
      q.bind(3, s.attribute);
      q.bind(4, s.node);
      q.bind(5, s.tier);
      q.bind(6, s.confidence);
      q.bind(7, s.created_at);
      q.exec();
    }
    tx.commit();
    return batch;
  }

  std::vector<AuditSample> audit_samples(bool pending_only) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(
        db_,
        std::string("SELECT id, batch, asset_id, attribute, node, tier, confidence, created_at, "
                    "outcome, reviewer, reviewed_at FROM audit_samples") +
            (pending_only ? " WHERE outcome = ''" : "") + " ORDER BY id");
    std::vector<AuditSample> out;
    while (q.executeStep()) {
      AuditSample s;
      s.id = q.getColumn(0).getInt64();
      s.batch = q.getColumn(1).getInt64();
      s.asset_id = q.getColumn(2).getInt64();
      s.attribute = q.getColumn(3).getString();
      s.node = q.getColumn(4).getString();
      s.tier = q.getColumn(5).getString();
      s.confidence = q.getColumn(6).getDouble();
      s.created_at = q.getColumn(7).getString();
      s.outcome = q.getColumn(8).getString();
      s.reviewer = q.getColumn(9).getString();
      s.reviewed_at = q.getColumn(10).getString();
      out.push_back(std::move(s));
    }
    return out;
  }

  void resolve_audit_samples(AssetId asset, const std::string& attribute, const std::string& node,
                             const std::string& outcome, const std::string& reviewer,
                             const std::string& at) override {
    std::lock_guard lock(mu_);
    SQLite::Statement q(db_,
                        "UPDATE audit_samples SET outcome = ?, reviewer = ?, reviewed_at = ? "
                        "WHERE asset_id = ? AND attribute = ? AND node = ? AND outcome = ''");
    q.bind(1, outcome);
    q.bind(2, reviewer);
    q.bind(3, at);
    q.bind(4, static_cast<std::int64_t>(asset));
    q.bind(5, attribute);
    q.bind(6, node);
    q.exec();
  }

  LibraryStats stats() override {
    std::lock_guard lock(mu_);
    LibraryStats s;
    s.assets = db_.execAndGet("SELECT count(*) FROM assets").getInt64();
    s.aliases = db_.execAndGet("SELECT count(*) FROM asset_paths WHERE is_alias = 1").getInt64();
    s.rejected_files = db_.execAndGet("SELECT count(*) FROM ingest_errors").getInt64();
    s.embeddings = db_.execAndGet("SELECT count(*) FROM embeddings").getInt64();
    s.tag_events = db_.execAndGet("SELECT count(*) FROM tag_events").getInt64();
    SQLite::Statement q(db_, "SELECT state, count(*) FROM tags GROUP BY state");
    while (q.executeStep()) {
      const auto n = q.getColumn(1).getInt64();
      switch (tag_state_from_string(q.getColumn(0).getString())) {
        case TagState::kAuto:
          s.tags_auto = n;
          break;
        case TagState::kFlagged:
          s.tags_flagged = n;
          break;
        case TagState::kSuggested:
          s.tags_suggested = n;
          break;
        case TagState::kConfirmed:
          s.tags_confirmed = n;
          break;
        case TagState::kRejected:
          s.tags_rejected = n;
          break;
        case TagState::kHumanSet:
          s.tags_human_set = n;
          break;
      }
    }
    return s;
  }

 private:
  void migrate() {
    const int current = db_.execAndGet("PRAGMA user_version").getInt();
    const auto& all = sqlite_migrations();
    if (current > static_cast<int>(all.size())) {
      throw Error(fmt::format(
          "library schema version {} is newer than this tagsmith supports ({}); upgrade tagsmith",
          current, all.size()));
    }
    for (const auto& m : all) {
      if (m.number <= current) continue;
      SQLite::Transaction tx(db_);
      db_.exec(m.sql);
      db_.exec(fmt::format("PRAGMA user_version = {}", m.number));
      tx.commit();
    }
  }

  void insert_path(const PathRecord& p) {
    SQLite::Statement q(db_,
                        "INSERT INTO asset_paths (path, asset_id, file_size, mtime_ns, is_alias) "
                        "VALUES (?,?,?,?,?) "
                        "ON CONFLICT(path) DO UPDATE SET asset_id = excluded.asset_id, file_size = "
                        "excluded.file_size, "
                        "mtime_ns = excluded.mtime_ns, is_alias = excluded.is_alias");
    q.bind(1, p.path);
    q.bind(2, static_cast<std::int64_t>(p.asset_id));
    q.bind(3, static_cast<std::int64_t>(p.file_size));
    q.bind(4, static_cast<std::int64_t>(p.mtime_ns));
    q.bind(5, p.is_alias ? 1 : 0);
    q.exec();
    SQLite::Statement clear(db_, "DELETE FROM ingest_errors WHERE path = ?");
    clear.bind(1, p.path);
    clear.exec();
  }

  template <typename Bind>
  std::optional<AssetRecord> asset_where(const std::string& where, Bind bind) {
    SQLite::Statement q(
        db_,
        fmt::format("SELECT {} FROM assets a LEFT JOIN thumbnails t ON t.asset_id = a.id WHERE {}",
                    kAssetColumns, where));
    bind(q);
    if (!q.executeStep()) return std::nullopt;
    AssetRecord a;
    a.id = q.getColumn(0).getInt64();
    a.sha256 = q.getColumn(1).getString();
    a.source_path = q.getColumn(2).getString();
    a.file_size = q.getColumn(3).getInt64();
    a.width = q.getColumn(4).getInt();
    a.height = q.getColumn(5).getInt();
    a.format = q.getColumn(6).getString();
    a.phash = static_cast<std::uint64_t>(q.getColumn(7).getInt64());
    a.ingested_at = q.getColumn(8).getString();
    a.colours.product_fraction = q.getColumn(9).getDouble();
    a.colours.background_removed = q.getColumn(10).getInt() != 0;
    a.thumbnail_sha256 = q.getColumn(11).getString();
    a.thumbnail_width = q.getColumn(12).getInt();
    a.thumbnail_height = q.getColumn(13).getInt();
    SQLite::Statement c(
        db_,
        "SELECT lab_l, lab_a, lab_b, rgb_hex, share, family, shade, delta_e FROM asset_colours "
        "WHERE asset_id = ? ORDER BY rank");
    c.bind(1, static_cast<std::int64_t>(a.id));
    while (c.executeStep()) {
      image::DominantColour d;
      d.lab = {c.getColumn(0).getDouble(), c.getColumn(1).getDouble(), c.getColumn(2).getDouble()};
      d.rgb = parse_hex(c.getColumn(3).getString());
      d.share = c.getColumn(4).getDouble();
      d.family = c.getColumn(5).getString();
      d.shade = c.getColumn(6).getString();
      d.delta_e = c.getColumn(7).getDouble();
      a.colours.colours.push_back(std::move(d));
    }
    return a;
  }

  template <typename Bind>
  std::optional<UserRecord> user_where(const std::string& where, Bind bind) {
    SQLite::Statement q(
        db_,
        fmt::format("SELECT id, name, role, password_hash, created_at FROM users WHERE {}", where));
    bind(q);
    if (!q.executeStep()) return std::nullopt;
    return read_user(q);
  }
  static UserRecord read_user(SQLite::Statement& q) {
    return {q.getColumn(0).getInt64(), q.getColumn(1).getString(), q.getColumn(2).getString(),
            q.getColumn(3).getString(), q.getColumn(4).getString()};
  }
  static PathRecord read_path(SQLite::Statement& q) {
    return {q.getColumn(0).getString(), q.getColumn(1).getInt64(), q.getColumn(2).getInt64(),
            q.getColumn(3).getInt64(), q.getColumn(4).getInt() != 0};
  }
  static std::vector<float> read_vector(SQLite::Statement& q, int first) {
    const int dim = q.getColumn(first).getInt();
    const auto blob = q.getColumn(first + 1);
    if (blob.getBytes() != dim * static_cast<int>(sizeof(float))) {
      throw Error("corrupt embedding row: size does not match its dimension");
    }
    std::vector<float> v(static_cast<std::size_t>(dim));
    std::memcpy(v.data(), blob.getBlob(), blob.getBytes());
    return v;
  }
  static TagEvent read_event(SQLite::Statement& q) {
    TagEvent e;
    e.id = q.getColumn(0).getInt64();
    e.asset_id = q.getColumn(1).getInt64();
    e.attribute = q.getColumn(2).getString();
    e.node = q.getColumn(3).getString();
    e.action = tag_action_from_string(q.getColumn(4).getString());
    e.actor = q.getColumn(5).getString();
    e.confidence = q.getColumn(6).getDouble();
    e.model_version = q.getColumn(7).getString();
    e.taxonomy_version = q.getColumn(8).getInt64();
    e.at = q.getColumn(9).getString();
    e.evidence_json = q.getColumn(10).getString();
    e.previous_node = q.getColumn(11).getString();
    return e;
  }
  static Tag read_tag(SQLite::Statement& q) {
    Tag t;
    t.asset_id = q.getColumn(0).getInt64();
    t.attribute = q.getColumn(1).getString();
    t.node = q.getColumn(2).getString();
    t.state = tag_state_from_string(q.getColumn(3).getString());
    t.confidence = q.getColumn(4).getDouble();
    t.actor = q.getColumn(5).getString();
    t.model_version = q.getColumn(6).getString();
    t.taxonomy_version = q.getColumn(7).getInt64();
    t.updated_at = q.getColumn(8).getString();
    t.evidence_json = q.getColumn(9).getString();
    return t;
  }
  static TaxonomyVersion read_taxonomy(SQLite::Statement& q, bool with_yaml) {
    TaxonomyVersion v;
    v.id = q.getColumn(0).getInt64();
    v.created_at = q.getColumn(1).getString();
    v.source = q.getColumn(2).getString();
    v.sha256 = q.getColumn(3).getString();
    if (with_yaml) v.yaml = q.getColumn(4).getString();
    return v;
  }
  static ModelVersion read_model(SQLite::Statement& q) {
    ModelVersion m;
    m.id = q.getColumn(0).getInt64();
    m.version = q.getColumn(1).getString();
    m.kind = q.getColumn(2).getString();
    m.parent = q.getColumn(3).getString();
    m.status = q.getColumn(4).getString();
    m.created_at = q.getColumn(5).getString();
    m.metrics_json = q.getColumn(6).getString();
    m.artifact_path = q.getColumn(7).getString();
    return m;
  }

  mutable std::recursive_mutex mu_;
  mutable SQLite::Database db_;
};

}  // namespace

// Account defaults for stores without them (see store.h).
namespace {
[[noreturn]] void no_accounts() {
  throw Error("this store does not support accounts");
}
}  // namespace
std::int64_t Store::add_user(const UserRecord&) {
  no_accounts();
}
std::optional<UserRecord> Store::find_user(const std::string&) {
  no_accounts();
}
std::optional<UserRecord> Store::find_user_by_id(std::int64_t) {
  no_accounts();
}
std::vector<UserRecord> Store::users() {
  no_accounts();
}
void Store::update_user(const UserRecord&) {
  no_accounts();
}
void Store::add_api_token(std::int64_t, const std::string&, const std::string&) {
  no_accounts();
}
std::optional<UserRecord> Store::find_user_by_token_hash(const std::string&) {
  no_accounts();
}
void Store::add_session(const SessionRecord&) {
  no_accounts();
}
std::optional<SessionRecord> Store::find_session(const std::string&) {
  no_accounts();
}
void Store::delete_session(const std::string&) {
  no_accounts();
}
void Store::delete_sessions_expired_before(const std::string&) {
  no_accounts();
}
std::vector<TagEvent> Store::recent_tag_events(std::int64_t, std::size_t) {
  no_accounts();
}

std::unique_ptr<Store> open_sqlite_store(const std::string& db_path) {
  try {
    return std::make_unique<SqliteStore>(db_path);
  } catch (const SQLite::Exception& e) {
    throw Error(fmt::format("cannot open library database {}: {}", db_path, e.what()));
  }
}

}  // namespace tagsmith::store
