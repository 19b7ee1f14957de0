#pragma once
// A fresh PostgreSQL database per test, in the throw-away cluster that ctest
// starts (fixture `postgres`, scripts/postgres-test-cluster) and names in
// $TAGSMITH_TEST_POSTGRES. Outside ctest, or where PostgreSQL isn't
// installed, there is none and the tests that need one skip.
#include <optional>
#include <string>

namespace tagsmith::test {

// The cluster's URL (database "postgres"), or nullopt with `why_not` set.
std::optional<std::string> postgres_test_cluster(std::string* why_not = nullptr);

// Creates an empty database with a unique name and returns its URL; throws
// when there is no cluster (check postgres_test_cluster first).
std::string fresh_postgres_database();

// `url` (postgresql://…/DB?…) with its database replaced by `database`.
std::string with_database(const std::string& url, const std::string& database);

}  // namespace tagsmith::test

// Skips the current test, with the reason, when there is no test cluster.
#define TAGSMITH_REQUIRE_POSTGRES()                                            \
  do {                                                                         \
    std::string why_;                                                          \
    if (!::tagsmith::test::postgres_test_cluster(&why_)) GTEST_SKIP() << why_; \
  } while (0)
