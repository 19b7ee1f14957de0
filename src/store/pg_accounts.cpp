// AccountStore over PostgreSQL: users, API tokens, browser sessions and the
// failed-login audit. Because they live in the database, every server on it
// accepts the same tokens and sessions.
#include <fmt/format.h>

#include "pg_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

constexpr const char* kUserColumns = "id, name, role, password_hash, created_at";
UserRecord read_user(const pqxx::row& row) {
  PgRow r(row);
  UserRecord u;
  u.id = r.int64();
  u.name = r.text();
  u.role = r.text();
  u.password_hash = r.text();
  u.created_at = r.text();
  r.end();
  return u;
}

constexpr const char* kSessionColumns = "id_hash, user_id, csrf_token, created_at, expires_at";
SessionRecord read_session(const pqxx::row& row) {
  PgRow r(row);
  SessionRecord s;
  s.id_hash = r.text();
  s.user_id = r.int64();
  s.csrf_token = r.text();
  s.created_at = r.text();
  s.expires_at = r.text();
  r.end();
  return s;
}

template <class Value>
std::optional<UserRecord> user_where(PgConnection& c, const std::string& where,
                                     const Value& value) {
  return c.transact([&](pqxx::work& w) -> std::optional<UserRecord> {
    const auto r =
        w.exec_params(fmt::format("SELECT {} FROM users WHERE {}", kUserColumns, where), value);
    if (r.empty()) return std::nullopt;
    return read_user(r[0]);
  });
}

}  // namespace

std::int64_t PgAccountStore::add_user(const UserRecord& u) {
  return c_.transact([&](pqxx::work& w) {
    const auto r = w.exec_params(
        "INSERT INTO users (name, role, password_hash, created_at) VALUES ($1,$2,$3,$4) "
        "ON CONFLICT (name) DO NOTHING RETURNING id",
        u.name, u.role, u.password_hash, u.created_at);
    if (r.empty()) throw InputError(fmt::format("a user named '{}' already exists", u.name));
    return r[0][0].as<std::int64_t>();
  });
}

std::optional<UserRecord> PgAccountStore::find_user(const std::string& name) {
  return user_where(c_, "name = $1", name);
}
std::optional<UserRecord> PgAccountStore::find_user_by_id(std::int64_t id) {
  return user_where(c_, "id = $1", id);
}

std::vector<UserRecord> PgAccountStore::users() {
  return c_.transact([&](pqxx::work& w) {
    std::vector<UserRecord> out;
    for (const auto& row : w.exec(fmt::format("SELECT {} FROM users ORDER BY name", kUserColumns)))
      out.push_back(read_user(row));
    return out;
  });
}

void PgAccountStore::update_user(const UserRecord& u) {
  c_.transact([&](pqxx::work& w) {
    const auto r = w.exec_params("UPDATE users SET role = $1, password_hash = $2 WHERE name = $3",
                                 u.role, u.password_hash, u.name);
    if (r.affected_rows() == 0) throw NotFoundError(fmt::format("no user named '{}'", u.name));
  });
}

void PgAccountStore::add_api_token(std::int64_t user_id, const std::string& token_hash,
                                   const std::string& created_at) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params("INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES ($1,$2,$3)",
                  token_hash, user_id, created_at);
  });
}

std::optional<UserRecord> PgAccountStore::find_user_by_token_hash(const std::string& token_hash) {
  return user_where(c_, "id = (SELECT user_id FROM api_tokens WHERE token_hash = $1)", token_hash);
}

void PgAccountStore::add_session(const SessionRecord& s) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(fmt::format("INSERT INTO sessions ({}) VALUES ($1,$2,$3,$4,$5)", kSessionColumns),
                  s.id_hash, s.user_id, s.csrf_token, s.created_at, s.expires_at);
  });
}

std::optional<SessionRecord> PgAccountStore::find_session(const std::string& id_hash) {
  return c_.transact([&](pqxx::work& w) -> std::optional<SessionRecord> {
    const auto r = w.exec_params(
        fmt::format("SELECT {} FROM sessions WHERE id_hash = $1", kSessionColumns), id_hash);
    if (r.empty()) return std::nullopt;
    return read_session(r[0]);
  });
}

void PgAccountStore::delete_session(const std::string& id_hash) {
  c_.transact(
      [&](pqxx::work& w) { w.exec_params("DELETE FROM sessions WHERE id_hash = $1", id_hash); });
}

void PgAccountStore::delete_sessions_expired_before(const std::string& now) {
  c_.transact(
      [&](pqxx::work& w) { w.exec_params("DELETE FROM sessions WHERE expires_at < $1", now); });
}

void PgAccountStore::add_login_failure(const LoginFailureRecord& f) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO login_failures (at, account, client, throttled) VALUES ($1,$2,$3,$4)", f.at,
        f.account, f.client, f.throttled ? 1 : 0);
  });
}

std::vector<LoginFailureRecord> PgAccountStore::login_failures(std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<LoginFailureRecord> out;
    for (const auto& row :
         w.exec_params("SELECT id, at, account, client, throttled FROM (SELECT * FROM "
                       "login_failures ORDER BY id DESC LIMIT $1) newest ORDER BY id",
                       static_cast<std::int64_t>(limit))) {
      PgRow r(row);
      LoginFailureRecord f;
      f.id = r.int64();
      f.at = r.text();
      f.account = r.text();
      f.client = r.text();
      f.throttled = r.flag();
      r.end();
      out.push_back(std::move(f));
    }
    return out;
  });
}

std::int64_t PgAccountStore::add_export_record(const ExportRecord& r) {
  return c_.transact([&](pqxx::work& w) {
    const auto row = w.exec_params(
        "INSERT INTO export_events (at, actor, format, query, assets, destination) "
        "VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        r.at, r.actor, r.format, r.query, r.assets, r.destination);
    return row[0][0].as<std::int64_t>();
  });
}

std::vector<ExportRecord> PgAccountStore::export_records(std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<ExportRecord> out;
    for (const auto& row :
         w.exec_params("SELECT id, at, actor, format, query, assets, destination FROM (SELECT * "
                       "FROM export_events ORDER BY id DESC LIMIT $1) newest ORDER BY id",
                       static_cast<std::int64_t>(limit))) {
      PgRow p(row);
      ExportRecord r;
      r.id = p.int64();
      r.at = p.text();
      r.actor = p.text();
      r.format = p.text();
      r.query = p.text();
      r.assets = p.int64();
      r.destination = p.text();
      p.end();
      out.push_back(std::move(r));
    }
    return out;
  });
}

}  // namespace tagsmith::store
