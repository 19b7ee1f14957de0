// AccountStore over SQLite: users, API tokens and browser sessions.
#include <fmt/format.h>

#include "sqlite_roles.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

// --- users (id assigned by the database on insert) ----------------------------------------
constexpr const char* kUserColumns = "id, name, role, password_hash, created_at";
UserRecord read_user(SQLite::Statement& q) {
  Row r(q);
  UserRecord u;
  u.id = r.int64();
  u.name = r.text();
  u.role = r.text();
  u.password_hash = r.text();
  u.created_at = r.text();
  r.end();
  return u;
}

// --- sessions -------------------------------------------------------------------------------
constexpr const char* kSessionColumns = "id_hash, user_id, csrf_token, created_at, expires_at";
SessionRecord read_session(SQLite::Statement& q) {
  Row r(q);
  SessionRecord s;
  s.id_hash = r.text();
  s.user_id = r.int64();
  s.csrf_token = r.text();
  s.created_at = r.text();
  s.expires_at = r.text();
  r.end();
  return s;
}
void bind_session(Binder& b, const SessionRecord& s) {
  b(s.id_hash)(s.user_id)(s.csrf_token)(s.created_at)(s.expires_at);
}

}  // namespace

std::int64_t SqliteAccountStore::add_user(const UserRecord& u) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("INSERT INTO users ({}) VALUES (NULL,?,?,?,?) "
                                           "ON CONFLICT(name) DO NOTHING",
                                           kUserColumns));
  Binder{q}(u.name)(u.role)(u.password_hash)(u.created_at);
  if (q.exec() == 0) throw InputError(fmt::format("a user named '{}' already exists", u.name));
  return c_.db().getLastInsertRowid();
}

std::optional<UserRecord> SqliteAccountStore::user_where(
    const std::string& where, const std::function<void(SQLite::Statement&)>& bind) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT {} FROM users WHERE {}", kUserColumns, where));
  bind(q);
  if (!q.executeStep()) return std::nullopt;
  return read_user(q);
}

std::optional<UserRecord> SqliteAccountStore::find_user(const std::string& name) {
  return user_where("name = ?", [&](SQLite::Statement& q) { Binder{q}(name); });
}

std::optional<UserRecord> SqliteAccountStore::find_user_by_id(std::int64_t id) {
  return user_where("id = ?", [&](SQLite::Statement& q) { Binder{q}(id); });
}

std::vector<UserRecord> SqliteAccountStore::users() {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT {} FROM users ORDER BY name", kUserColumns));
  std::vector<UserRecord> out;
  while (q.executeStep()) out.push_back(read_user(q));
  return out;
}

void SqliteAccountStore::update_user(const UserRecord& u) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "UPDATE users SET role = ?, password_hash = ? WHERE name = ?");
  Binder{q}(u.role)(u.password_hash)(u.name);
  if (q.exec() == 0) throw NotFoundError(fmt::format("no user named '{}'", u.name));
}

void SqliteAccountStore::add_api_token(std::int64_t user_id, const std::string& token_hash,
                                       const std::string& created_at) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "INSERT INTO api_tokens (token_hash, user_id, created_at) VALUES (?,?,?)");
  Binder{q}(token_hash)(user_id)(created_at);
  q.exec();
}

std::optional<UserRecord> SqliteAccountStore::find_user_by_token_hash(
    const std::string& token_hash) {
  return user_where("id = (SELECT user_id FROM api_tokens WHERE token_hash = ?)",
                    [&](SQLite::Statement& q) { Binder{q}(token_hash); });
}

void SqliteAccountStore::add_session(const SessionRecord& s) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("INSERT INTO sessions ({}) VALUES (?,?,?,?,?)", kSessionColumns));
  Binder b(q);
  bind_session(b, s);
  q.exec();
}

std::optional<SessionRecord> SqliteAccountStore::find_session(const std::string& id_hash) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("SELECT {} FROM sessions WHERE id_hash = ?", kSessionColumns));
  Binder{q}(id_hash);
  if (!q.executeStep()) return std::nullopt;
  return read_session(q);
}

void SqliteAccountStore::delete_session(const std::string& id_hash) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "DELETE FROM sessions WHERE id_hash = ?");
  Binder{q}(id_hash);
  q.exec();
}

void SqliteAccountStore::delete_sessions_expired_before(const std::string& now) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), "DELETE FROM sessions WHERE expires_at < ?");
  Binder{q}(now);
  q.exec();
}

void SqliteAccountStore::add_login_failure(const LoginFailureRecord& f) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), "INSERT INTO login_failures (at, account, client, throttled) VALUES (?,?,?,?)");
  Binder{q}(f.at)(f.account)(f.client)(f.throttled);
  q.exec();
}

std::vector<LoginFailureRecord> SqliteAccountStore::login_failures(std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT id, at, account, client, throttled FROM (SELECT * FROM "
                      "login_failures ORDER BY id DESC LIMIT ?) ORDER BY id");
  Binder{q}(static_cast<std::int64_t>(limit));
  std::vector<LoginFailureRecord> out;
  while (q.executeStep()) {
    LoginFailureRecord f;
    f.id = q.getColumn(0).getInt64();
    f.at = q.getColumn(1).getString();
    f.account = q.getColumn(2).getString();
    f.client = q.getColumn(3).getString();
    f.throttled = q.getColumn(4).getInt() != 0;
    out.push_back(std::move(f));
  }
  return out;
}

std::int64_t SqliteAccountStore::add_export_record(const ExportRecord& r) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "INSERT INTO export_events (at, actor, format, query, assets, destination) "
                      "VALUES (?,?,?,?,?,?)");
  Binder{q}(r.at)(r.actor)(r.format)(r.query)(r.assets)(r.destination);
  q.exec();
  return c_.db().getLastInsertRowid();
}

std::vector<ExportRecord> SqliteAccountStore::export_records(std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT id, at, actor, format, query, assets, destination FROM (SELECT * "
                      "FROM export_events ORDER BY id DESC LIMIT ?) ORDER BY id");
  Binder{q}(static_cast<std::int64_t>(limit));
  std::vector<ExportRecord> out;
  while (q.executeStep()) {
    ExportRecord r;
    r.id = q.getColumn(0).getInt64();
    r.at = q.getColumn(1).getString();
    r.actor = q.getColumn(2).getString();
    r.format = q.getColumn(3).getString();
    r.query = q.getColumn(4).getString();
    r.assets = q.getColumn(5).getInt64();
    r.destination = q.getColumn(6).getString();
    out.push_back(std::move(r));
  }
  return out;
}

}  // namespace tagsmith::store
