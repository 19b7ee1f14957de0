#pragma once
// What the PostgreSQL role implementations share: a pool of connections to
// one database, a way to run one unit of work as one transaction on a pooled
// connection, and PgRow, which reads a result row column by column (the
// counterpart of sqlite_connection.h's Row).
//
// Why a pool: a server answers requests on several threads and a worker
// tags on several threads; one libpq connection serves one transaction at a
// time, so each unit of work borrows a connection for its duration.
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <pqxx/pqxx>
#include <string>
#include <vector>

namespace tagsmith::store {

class PgConnection {
 public:
  // Connects to `url` (postgresql://user[:password]@host[:port]/db?…, or a
  // libpq key=value string) and applies the missing schema migrations under
  // an advisory lock, so processes started together migrate once. Throws
  // tagsmith::Error with a message for people: wrong URL, server refused,
  // authentication failed, no such database, schema newer than this binary.
  // At most `pool_size` connections are open at once.
  explicit PgConnection(std::string url, std::size_t pool_size = 0);
  ~PgConnection();
  PgConnection(const PgConnection&) = delete;
  PgConnection& operator=(const PgConnection&) = delete;

  // Runs `fn` inside one transaction on a pooled connection and commits when
  // it returns. A connection that broke before the transaction started is
  // replaced and the unit retried once; any other failure rolls back and is
  // rethrown (database errors as tagsmith::Error with the statement's reason).
  template <class Fn>
  auto transact(Fn&& fn) -> decltype(fn(std::declval<pqxx::work&>())) {
    using Result = decltype(fn(std::declval<pqxx::work&>()));
    if constexpr (std::is_void_v<Result>) {
      run([&](pqxx::work& w) { fn(w); });
    } else {
      std::optional<Result> out;
      run([&](pqxx::work& w) { out.emplace(fn(w)); });
      return std::move(*out);
    }
  }

  int schema_version();
  // The URL with any password replaced by "***", for messages and logs.
  const std::string& display_url() const { return display_url_; }

 private:
  std::unique_ptr<pqxx::connection> connect();
  void run(const std::function<void(pqxx::work&)>& fn);
  std::unique_ptr<pqxx::connection> acquire();
  void release(std::unique_ptr<pqxx::connection> c);
  void migrate();

  std::string url_, display_url_;
  std::size_t pool_size_;
  std::mutex mu_;
  std::condition_variable available_;
  std::vector<std::unique_ptr<pqxx::connection>> idle_;
  std::size_t open_ = 0;  // idle + borrowed
};

// Reads `row` left to right; end() throws unless every column was read once.
class PgRow {
 public:
  explicit PgRow(const pqxx::row& row) : row_(row) {}
  std::int64_t int64() { return next().as<std::int64_t>(); }
  int integer() { return next().as<int>(); }
  double real() { return next().as<double>(); }
  std::string text() { return next().as<std::string>(); }
  bool flag() { return next().as<int>() != 0; }
  bool next_is_null() const { return row_[index_].is_null(); }
  pqxx::field field() { return next(); }
  void end() const;

 private:
  pqxx::field next();
  const pqxx::row& row_;
  pqxx::row::size_type index_ = 0;
};

// The password in a libpq URL replaced by "***".
std::string redact_postgres_url(const std::string& url);

}  // namespace tagsmith::store
