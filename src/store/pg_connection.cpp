#include "pg_connection.h"

#include <fmt/format.h>

#include <cstdlib>
#include <regex>
#include <thread>

#include "pg_schema.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {
namespace {

// Any constant will do, as long as every tagsmith process uses the same one:
// it names the advisory lock that serialises schema migrations.
constexpr std::int64_t kMigrationLock = 0x7461677331;  // "tags1"

std::size_t default_pool_size() {
  if (const char* env = std::getenv("TAGSMITH_PG_POOL")) {
    const long n = std::strtol(env, nullptr, 10);
    if (n > 0 && n <= 256) return static_cast<std::size_t>(n);
  }
  return std::max<std::size_t>(4, 2 * std::thread::hardware_concurrency());
}

// libpq's message, first line, without the "connection to server … failed:" preamble.
std::string first_line(const std::string& s) {
  std::string line = s.substr(0, s.find('\n'));
  while (!line.empty() && (line.back() == ' ' || line.back() == '\r')) line.pop_back();
  return line;
}

std::string connect_hint(const std::string& message) {
  if (message.find("password authentication failed") != std::string::npos ||
      message.find("no password supplied") != std::string::npos ||
      (message.find("role") != std::string::npos &&
       message.find("does not exist") != std::string::npos))
    return "check the user name and password in the URL (or ~/.pgpass)";
  if (message.find("database") != std::string::npos &&
      message.find("does not exist") != std::string::npos)
    return "create it first (createdb NAME) or fix the database name in the URL";
  if (message.find("Connection refused") != std::string::npos ||
      message.find("No such file or directory") != std::string::npos ||
      message.find("could not translate host name") != std::string::npos ||
      message.find("timeout expired") != std::string::npos)
    return "is PostgreSQL running and reachable at that host and port?";
  if (message.find("invalid") != std::string::npos || message.find("URI") != std::string::npos ||
      message.find("missing \"=\"") != std::string::npos)
    return "the library URL looks like postgresql://USER[:PASSWORD]@HOST[:PORT]/DATABASE";
  return "";
}

}  // namespace

std::string redact_postgres_url(const std::string& url) {
  static const std::regex password(R"(^(postgres(?:ql)?://[^:/@?]*):[^@/?]*@)");
  std::string out = std::regex_replace(url, password, "$1:***@");
  static const std::regex keyword(R"((password\s*=\s*)(\S+))");
  return std::regex_replace(out, keyword, "$1***");
}

PgConnection::PgConnection(std::string url, std::size_t pool_size)
    : url_(std::move(url)),
      display_url_(redact_postgres_url(url_)),
      pool_size_(pool_size ? pool_size : default_pool_size()) {
  // Fails early, with the reason, when the database can't be reached.
  idle_.push_back(connect());
  open_ = 1;
  migrate();
}

PgConnection::~PgConnection() = default;

std::unique_ptr<pqxx::connection> PgConnection::connect() {
  try {
    auto c = std::make_unique<pqxx::connection>(url_);
    // Timestamps written by the database (claims, leases) are UTC like ours.
    pqxx::nontransaction(*c).exec("SET TIME ZONE 'UTC'");
    return c;
  } catch (const pqxx::broken_connection& e) {
    const std::string why = first_line(e.what());
    const std::string hint = connect_hint(e.what());
    throw Error(fmt::format("cannot connect to the PostgreSQL library {}: {}{}", display_url_, why,
                            hint.empty() ? "" : " (" + hint + ")"));
  } catch (const pqxx::failure& e) {
    throw Error(fmt::format("cannot connect to the PostgreSQL library {}: {}", display_url_,
                            first_line(e.what())));
  }
}

std::unique_ptr<pqxx::connection> PgConnection::acquire() {
  std::unique_lock lock(mu_);
  available_.wait(lock, [&] { return !idle_.empty() || open_ < pool_size_; });
  if (!idle_.empty()) {
    auto c = std::move(idle_.back());
    idle_.pop_back();
    return c;
  }
  ++open_;
  lock.unlock();
  try {
    return connect();
  } catch (...) {
    std::lock_guard relock(mu_);
    --open_;
    available_.notify_one();
    throw;
  }
}

void PgConnection::release(std::unique_ptr<pqxx::connection> c) {
  std::lock_guard lock(mu_);
  if (c && c->is_open()) {
    idle_.push_back(std::move(c));
  } else {
    --open_;
  }
  available_.notify_one();
}

void PgConnection::run(const std::function<void(pqxx::work&)>& fn) {
  for (int attempt = 0;; ++attempt) {
    auto c = acquire();
    bool started = false;
    try {
      pqxx::work w(*c);
      started = true;
      fn(w);
      w.commit();
      release(std::move(c));
      return;
    } catch (const pqxx::in_doubt_error& e) {
      release(nullptr);
      throw Error(
          fmt::format("PostgreSQL connection lost while committing; the last change may "
                      "or may not have been applied: {}",
                      first_line(e.what())));
    } catch (const pqxx::broken_connection& e) {
      release(nullptr);
      // Before anything ran, a stale pooled connection: retry on a new one.
      if (!started && attempt == 0) continue;
      throw Error(fmt::format("lost the connection to PostgreSQL ({}): {}", display_url_,
                              first_line(e.what())));
    } catch (const pqxx::unique_violation& e) {
      release(std::move(c));
      throw Error(fmt::format("already stored: {}", first_line(e.what())));
    } catch (const pqxx::sql_error& e) {
      release(std::move(c));
      throw Error(fmt::format("PostgreSQL error: {}", first_line(e.what())));
    } catch (...) {
      // Our own exceptions (NotFoundError, InputError…) from inside `fn`: the
      // transaction rolled back when `w` went out of scope.
      release(c && c->is_open() ? std::move(c) : nullptr);
      throw;
    }
  }
}

void PgConnection::migrate() {
  const auto& all = pg_migrations();
  transact([&](pqxx::work& w) {
    w.exec_params("SELECT pg_advisory_xact_lock($1)", kMigrationLock);
    w.exec("CREATE TABLE IF NOT EXISTS tagsmith_schema (version integer NOT NULL)");
    auto r = w.exec("SELECT version FROM tagsmith_schema");
    int current = 0;
    if (r.empty()) {
      w.exec("INSERT INTO tagsmith_schema (version) VALUES (0)");
    } else {
      current = r[0][0].as<int>();
    }
    if (current > static_cast<int>(all.size())) {
      throw Error(fmt::format(
          "library schema version {} is newer than this tagsmith supports ({}); upgrade tagsmith",
          current, all.size()));
    }
    for (const auto& m : all) {
      if (m.number <= current) continue;
      w.exec(m.sql);
      w.exec_params("UPDATE tagsmith_schema SET version = $1", m.number);
    }
  });
}

int PgConnection::schema_version() {
  return transact(
      [](pqxx::work& w) { return w.exec1("SELECT version FROM tagsmith_schema")[0].as<int>(); });
}

pqxx::field PgRow::next() {
  if (index_ >= row_.size())
    throw Error(fmt::format("row reader read past the {} columns of a result", row_.size()));
  return row_[index_++];
}

void PgRow::end() const {
  if (index_ != row_.size())
    throw Error(
        fmt::format("row reader read {} of the {} columns of a result", index_, row_.size()));
}

}  // namespace tagsmith::store
