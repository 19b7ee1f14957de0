// CatalogueStore over PostgreSQL: taxonomy versions, model versions, settings.
#include <fmt/format.h>

#include "pg_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

constexpr const char* kTaxonomyColumns = "id, created_at, source, sha256, yaml";
constexpr const char* kTaxonomyColumnsWithoutYaml = "id, created_at, source, sha256, ''";
TaxonomyVersion read_taxonomy(const pqxx::row& row) {
  PgRow r(row);
  TaxonomyVersion v;
  v.id = r.int64();
  v.created_at = r.text();
  v.source = r.text();
  v.sha256 = r.text();
  v.yaml = r.text();
  r.end();
  return v;
}

constexpr const char* kModelColumns =
    "id, version, kind, parent, status, created_at, metrics_json, artifact_path";
ModelVersion read_model(const pqxx::row& row) {
  PgRow r(row);
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

}  // namespace

std::int64_t PgCatalogueStore::add_taxonomy_version(const TaxonomyVersion& v) {
  return c_.transact([&](pqxx::work& w) {
    const auto id = w.exec_params1(
                         "INSERT INTO taxonomy_versions (created_at, source, sha256, yaml) "
                         "VALUES ($1,$2,$3,$4) RETURNING id",
                         v.created_at, v.source, v.sha256, v.yaml)[0]
                        .as<std::int64_t>();
    pg_bump_counter(w, "taxonomy_versions");
    return id;
  });
}

std::optional<TaxonomyVersion> PgCatalogueStore::taxonomy_version(std::int64_t id) {
  return c_.transact([&](pqxx::work& w) -> std::optional<TaxonomyVersion> {
    const auto r = w.exec_params(
        fmt::format("SELECT {} FROM taxonomy_versions WHERE id = $1", kTaxonomyColumns), id);
    if (r.empty()) return std::nullopt;
    return read_taxonomy(r[0]);
  });
}

std::optional<TaxonomyVersion> PgCatalogueStore::latest_taxonomy_version() {
  return c_.transact([&](pqxx::work& w) -> std::optional<TaxonomyVersion> {
    const auto r = w.exec(
        fmt::format("SELECT {} FROM taxonomy_versions ORDER BY id DESC LIMIT 1", kTaxonomyColumns));
    if (r.empty()) return std::nullopt;
    return read_taxonomy(r[0]);
  });
}

std::vector<TaxonomyVersion> PgCatalogueStore::taxonomy_versions() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<TaxonomyVersion> out;
    for (const auto& row : w.exec(fmt::format("SELECT {} FROM taxonomy_versions ORDER BY id",
                                              kTaxonomyColumnsWithoutYaml)))
      out.push_back(read_taxonomy(row));
    return out;
  });
}

void PgCatalogueStore::add_model_version(const ModelVersion& m) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO model_versions (version, kind, parent, status, created_at, metrics_json, "
        "artifact_path) VALUES ($1,$2,$3,$4,$5,$6,$7) ON CONFLICT (version) DO NOTHING",
        m.version, to_string(m.kind), m.parent, to_string(m.status), m.created_at, m.metrics_json,
        m.artifact_path);
  });
}

void PgCatalogueStore::update_model_version(const ModelVersion& m) {
  c_.transact([&](pqxx::work& w) {
    const auto r = w.exec_params(
        "UPDATE model_versions SET status = $1, metrics_json = $2, artifact_path = $3 "
        "WHERE version = $4",
        to_string(m.status), m.metrics_json, m.artifact_path, m.version);
    if (r.affected_rows() == 0)
      throw NotFoundError(fmt::format("no model version '{}'", m.version));
  });
}

std::optional<ModelVersion> PgCatalogueStore::model_version(const std::string& version) {
  return c_.transact([&](pqxx::work& w) -> std::optional<ModelVersion> {
    const auto r = w.exec_params(
        fmt::format("SELECT {} FROM model_versions WHERE version = $1", kModelColumns), version);
    if (r.empty()) return std::nullopt;
    return read_model(r[0]);
  });
}

std::vector<ModelVersion> PgCatalogueStore::model_versions() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<ModelVersion> out;
    for (const auto& row :
         w.exec(fmt::format("SELECT {} FROM model_versions ORDER BY id", kModelColumns)))
      out.push_back(read_model(row));
    return out;
  });
}

std::optional<std::string> PgCatalogueStore::setting(const std::string& key) {
  return c_.transact([&](pqxx::work& w) -> std::optional<std::string> {
    const auto r = w.exec_params("SELECT value FROM settings WHERE key = $1", key);
    if (r.empty()) return std::nullopt;
    return r[0][0].as<std::string>();
  });
}

void PgCatalogueStore::set_setting(const std::string& key, const std::string& value) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO settings (key, value) VALUES ($1,$2) "
        "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        key, value);
  });
}

}  // namespace tagsmith::store
