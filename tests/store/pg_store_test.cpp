// The PostgreSQL store: the role conformance suites instantiated for it, plus
// what only PostgreSQL has (migrations under an advisory lock, the audit
// trigger, connection errors). Each test gets a fresh database in ctest's
// throw-away cluster; without one the tests skip.
#include <gtest/gtest.h>

#include <pqxx/pqxx>
#include <thread>

#include "../../src/store/pg_connection.h"
#include "../../src/store/pg_schema.h"
#include "conformance.h"
#include "postgres_test_db.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"

namespace tagsmith::store {
namespace {

using conformance::AccountStoreConformance;
using conformance::AssetStoreConformance;
using conformance::CatalogueStoreConformance;
using conformance::first_path_of;
using conformance::sample_asset;
using conformance::StoreBackend;
using conformance::TagStoreConformance;
using conformance::WholeStoreConformance;
using conformance::WorkQueueConformance;

std::unique_ptr<Store> open_empty_postgres() {
  std::string why;
  if (!test::postgres_test_cluster(&why)) return nullptr;
  return open_postgres_store(test::fresh_postgres_database());
}

const StoreBackend kPostgres{"Postgres", open_empty_postgres};

INSTANTIATE_TEST_SUITE_P(Postgres, AssetStoreConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, TagStoreConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, CatalogueStoreConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, AccountStoreConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, WorkQueueConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Postgres, WholeStoreConformance, ::testing::Values(kPostgres),
                         conformance::backend_name);

TEST(PostgresStore, ProcessesStartingTogetherMigrateOnce) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string url = test::fresh_postgres_database();
  std::vector<std::thread> openers;
  std::atomic<int> opened{0};
  for (int i = 0; i < 6; ++i) {
    openers.emplace_back([&] {
      if (open_postgres_store(url)->schema_version() == static_cast<int>(pg_migrations().size()))
        ++opened;
    });
  }
  for (auto& t : openers) t.join();
  EXPECT_EQ(opened.load(), 6);
  pqxx::connection raw(url);
  pqxx::work w(raw);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM tagsmith_schema")[0].as<int>(), 1);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM information_schema.tables WHERE table_name = 'assets'")[0]
                .as<int>(),
            1);
}

TEST(PostgresStore, RefusesADatabaseFromTheFuture) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string url = test::fresh_postgres_database();
  open_postgres_store(url);
  {
    pqxx::connection raw(url);
    pqxx::work w(raw);
    w.exec("UPDATE tagsmith_schema SET version = 999");
    w.commit();
  }
  try {
    open_postgres_store(url);
    FAIL() << "opened a schema newer than the binary";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("newer than this tagsmith"), std::string::npos)
        << e.what();
  }
}

TEST(PostgresStore, NotEvenRawSqlCanRewriteTheAuditTrail) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string url = test::fresh_postgres_database();
  auto s = open_postgres_store(url);
  const AssetRecord a = sample_asset("ccc");
  const AssetId id = s->add_asset(a, first_path_of(a));
  TagChange c =
      conformance::tag_change(id, "colour_family", "red", TagState::kAuto, TagAction::kApplied);
  s->apply_tag_changes(std::span(&c, 1));
  pqxx::connection raw(url);
  for (const char* sql : {"UPDATE tag_events SET actor = 'someone else'", "DELETE FROM tag_events",
                          "TRUNCATE tag_events"}) {
    pqxx::work w(raw);
    EXPECT_THROW(w.exec(sql), pqxx::sql_error) << sql;
  }
  ASSERT_EQ(s->tag_events(id).size(), 1u);
  EXPECT_EQ(s->tag_events(id)[0].actor, "model:m@1");
}

// Each way of getting the URL wrong gets a message that says which.
TEST(PostgresStore, ConnectionErrorsSayWhatIsWrong) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string cluster = *test::postgres_test_cluster();
  auto message_of = [](const std::string& url) -> std::string {
    try {
      open_postgres_store(url);
    } catch (const Error& e) {
      return e.what();
    }
    return "opened";
  };
  const std::string missing_db = message_of(test::with_database(cluster, "no_such_db"));
  EXPECT_NE(missing_db.find("does not exist"), std::string::npos) << missing_db;
  EXPECT_NE(missing_db.find("createdb"), std::string::npos) << missing_db;

  const std::string refused = message_of("postgresql://tagsmith@127.0.0.1:1/x?connect_timeout=5");
  EXPECT_NE(refused.find("is PostgreSQL running"), std::string::npos) << refused;

  const std::string wrong_user = message_of("postgresql://nobody_here:secret@/postgres?host=" +
                                            cluster.substr(cluster.find("host=") + 5));
  EXPECT_NE(wrong_user.find("user name and password"), std::string::npos) << wrong_user;
  EXPECT_EQ(wrong_user.find("secret"), std::string::npos) << "password leaked: " << wrong_user;

  const std::string bad_url = message_of("postgresql://tagsmith@/x?nonsense_option=1");
  EXPECT_NE(bad_url.find("cannot connect"), std::string::npos) << bad_url;
}

TEST(PostgresUrl, PasswordsAreRedacted) {
  EXPECT_EQ(redact_postgres_url("postgresql://ada:s3cret@db:5432/lib"),
            "postgresql://ada:***@db:5432/lib");
  EXPECT_EQ(redact_postgres_url("postgresql://ada@db/lib"), "postgresql://ada@db/lib");
  EXPECT_EQ(redact_postgres_url("host=db password=s3cret dbname=lib"),
            "host=db password=*** dbname=lib");
  EXPECT_TRUE(is_postgres_url("postgres://x/y"));
  EXPECT_FALSE(is_postgres_url("./library"));
}

}  // namespace
}  // namespace tagsmith::store
