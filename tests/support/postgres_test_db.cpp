#include "postgres_test_db.h"

#include <fmt/format.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <pqxx/pqxx>
#include <stdexcept>

namespace tagsmith::test {

std::optional<std::string> postgres_test_cluster(std::string* why_not) {
  const char* url = std::getenv("TAGSMITH_TEST_POSTGRES");
  if (!url || !*url) {
    if (why_not)
      *why_not = "no PostgreSQL test cluster ($TAGSMITH_TEST_POSTGRES unset; run via ctest)";
    return std::nullopt;
  }
  // Connect once per process to tell "not installed here" from a URL.
  static const std::optional<std::string> reachable = [&]() -> std::optional<std::string> {
    try {
      pqxx::connection c(url);
      return std::string(url);
    } catch (const std::exception&) {
      return std::nullopt;
    }
  }();
  if (!reachable && why_not)
    *why_not = fmt::format(
        "PostgreSQL test cluster at {} is not running (is postgresql-15 "
        "installed? scripts/setup)",
        url);
  return reachable;
}

std::string with_database(const std::string& url, const std::string& database) {
  const auto query = url.find('?');
  const auto slash = url.rfind('/', query == std::string::npos ? url.size() : query);
  if (slash == std::string::npos || slash < url.find("://") + 3)
    throw std::invalid_argument("not a postgresql:// URL with a database: " + url);
  return url.substr(0, slash + 1) + database +
         (query == std::string::npos ? "" : url.substr(query));
}

std::string fresh_postgres_database() {
  const auto cluster = postgres_test_cluster();
  if (!cluster) throw std::runtime_error("no PostgreSQL test cluster");
  static std::atomic<int> n{0};
  const std::string name =
      fmt::format("t_{}_{}_{}", ::getpid(), ++n,
                  std::chrono::steady_clock::now().time_since_epoch().count() % 1000000);
  pqxx::connection c(*cluster);
  pqxx::nontransaction(c).exec("CREATE DATABASE " + name);
  return with_database(*cluster, name);
}

}  // namespace tagsmith::test
