// CatalogueStore over SQLite: taxonomy versions, model versions, settings.
#include <fmt/format.h>

#include "sqlite_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

// --- taxonomy versions -----------------------------------------------------------------
constexpr const char* kTaxonomyColumns = "id, created_at, source, sha256, yaml";
// The same row with the YAML text left out (listing every version stays cheap).
constexpr const char* kTaxonomyColumnsWithoutYaml = "id, created_at, source, sha256, ''";
TaxonomyVersion read_taxonomy(SQLite::Statement& q) {
  Row r(q);
  TaxonomyVersion v;
  v.id = r.int64();
  v.created_at = r.text();
  v.source = r.text();
  v.sha256 = r.text();
  v.yaml = r.text();
  r.end();
  return v;
}

// --- model versions (id assigned by the database on insert) --------------------------------
constexpr const char* kModelColumns =
    "id, version, kind, parent, status, created_at, metrics_json, artifact_path";
ModelVersion read_model(SQLite::Statement& q) {
  Row r(q);
  ModelVersion m;
  m.id = r.int64();
  m.version = r.text();
  m.kind = model_kind_from_string(r.text());
  m.parent = r.text();
  m.status = model_status_from_string(r.text());
  m.created_at = r.text();
  m.metrics_json = r.text();
  m.artifact_path = r.text();
  r.end();
  return m;
}
// Binds every column but the id, for "VALUES (NULL, ?, …)".
void bind_model(Binder& b, const ModelVersion& m) {
  b(m.version)(to_string(m.kind))(m.parent)(to_string(m.status))(m.created_at)(m.metrics_json)(
      m.artifact_path);
}

}  // namespace

std::int64_t SqliteCatalogueStore::add_taxonomy_version(const TaxonomyVersion& v) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format("INSERT INTO taxonomy_versions ({}) VALUES (NULL,?,?,?,?)", kTaxonomyColumns));
  Binder{q}(v.created_at)(v.source)(v.sha256)(v.yaml);
  q.exec();
  return c_.db().getLastInsertRowid();
}

std::optional<TaxonomyVersion> SqliteCatalogueStore::taxonomy_version(std::int64_t id) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM taxonomy_versions WHERE id = ?", kTaxonomyColumns));
  Binder{q}(id);
  if (!q.executeStep()) return std::nullopt;
  return read_taxonomy(q);
}

std::optional<TaxonomyVersion> SqliteCatalogueStore::latest_taxonomy_version() {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format("SELECT {} FROM taxonomy_versions ORDER BY id DESC LIMIT 1", kTaxonomyColumns));
  if (!q.executeStep()) return std::nullopt;
  return read_taxonomy(q);
}

std::vector<TaxonomyVersion> SqliteCatalogueStore::taxonomy_versions() {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT {} FROM taxonomy_versions ORDER BY id",
                                           kTaxonomyColumnsWithoutYaml));
  std::vector<TaxonomyVersion> out;
  while (q.executeStep()) out.push_back(read_taxonomy(q));
  return out;
}

void SqliteCatalogueStore::add_model_version(const ModelVersion& v) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("INSERT INTO model_versions ({}) VALUES "
                                           "(NULL,?,?,?,?,?,?,?) ON CONFLICT(version) DO NOTHING",
                                           kModelColumns));
  Binder b(q);
  bind_model(b, v);
  q.exec();
}

void SqliteCatalogueStore::update_model_version(const ModelVersion& v) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "UPDATE model_versions SET status = ?, metrics_json = ?, artifact_path = ? "
                      "WHERE version = ?");
  Binder{q}(to_string(v.status))(v.metrics_json)(v.artifact_path)(v.version);
  if (q.exec() == 0) throw NotFoundError(fmt::format("no model version '{}'", v.version));
}

std::optional<ModelVersion> SqliteCatalogueStore::model_version(const std::string& version) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM model_versions WHERE version = ?", kModelColumns));
  Binder{q}(version);
  if (!q.executeStep()) return std::nullopt;
  return read_model(q);
}

std::vector<ModelVersion> SqliteCatalogueStore::model_versions() {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("SELECT {} FROM model_versions ORDER BY id", kModelColumns));
  std::vector<ModelVersion> out;
  while (q.executeStep()) out.push_back(read_model(q));
  return out;
}

std::optional<std::string> SqliteCatalogueStore::setting(const std::string& key) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "SELECT value FROM settings WHERE key = ?");
  Binder{q}(key);
  if (!q.executeStep()) return std::nullopt;
  return q.getColumn(0).getString();
}

void SqliteCatalogueStore::set_setting(const std::string& key, const std::string& value) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "INSERT INTO settings (key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE "
                      "SET value = excluded.value");
  Binder{q}(key)(value);
  q.exec();
}

}  // namespace tagsmith::store
