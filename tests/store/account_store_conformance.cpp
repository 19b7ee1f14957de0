// AccountStore: users by name, id and token; sessions until they expire.
#include "conformance.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store::conformance {
namespace {

TEST_P(AccountStoreConformance, UsersAreFoundByNameIdAndTokenAndNamesAreUnique) {
  const auto ada = accounts().add_user({0, "ada", "admin", "pbkdf2$x", "t"});
  const auto bob = accounts().add_user({0, "bob", "viewer", "", "t"});
  EXPECT_NE(ada, bob);
  EXPECT_THROW(accounts().add_user({0, "ada", "viewer", "", "t2"}), InputError);
  const auto found = accounts().find_user("ada");
  ASSERT_TRUE(found);
  EXPECT_EQ(found->id, ada);
  EXPECT_EQ(found->role, "admin");
  EXPECT_EQ(found->password_hash, "pbkdf2$x");
  EXPECT_EQ(accounts().find_user_by_id(bob)->name, "bob");
  EXPECT_FALSE(accounts().find_user("carol"));
  accounts().add_api_token(bob, "tokenhash", "t");
  EXPECT_EQ(accounts().find_user_by_token_hash("tokenhash")->id, bob);
  EXPECT_FALSE(accounts().find_user_by_token_hash("other"));
  const auto all = accounts().users();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].name, "ada");
}

TEST_P(AccountStoreConformance, UpdatingAUserChangesRoleAndPasswordByName) {
  accounts().add_user({0, "ada", "viewer", "", "t"});
  accounts().update_user({0, "ada", "reviewer", "pbkdf2$y", ""});
  const auto ada = accounts().find_user("ada");
  EXPECT_EQ(ada->role, "reviewer");
  EXPECT_EQ(ada->password_hash, "pbkdf2$y");
  EXPECT_EQ(ada->created_at, "t");
  EXPECT_THROW(accounts().update_user({0, "nobody", "admin", "", ""}), NotFoundError);
}

TEST_P(AccountStoreConformance, SessionsAreFoundUntilDeletedOrExpired) {
  const auto id = accounts().add_user({0, "ada", "admin", "", "t"});
  accounts().add_session({"s1", id, "csrf1", "2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"});
  accounts().add_session({"s2", id, "csrf2", "2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z"});
  accounts().add_session({"s3", id, "csrf3", "2026-01-01T00:00:00Z", "2026-01-09T00:00:00Z"});
  const auto s1 = accounts().find_session("s1");
  ASSERT_TRUE(s1);
  EXPECT_EQ(s1->user_id, id);
  EXPECT_EQ(s1->csrf_token, "csrf1");
  EXPECT_EQ(s1->expires_at, "2026-01-02T00:00:00Z");
  accounts().delete_sessions_expired_before("2026-01-05T00:00:00Z");
  EXPECT_FALSE(accounts().find_session("s1"));
  EXPECT_TRUE(accounts().find_session("s2"));
  accounts().delete_session("s2");
  EXPECT_FALSE(accounts().find_session("s2"));
  EXPECT_TRUE(accounts().find_session("s3"));
}

TEST_P(AccountStoreConformance, FailedLoginsAreAuditedNewestLast) {
  EXPECT_TRUE(accounts().login_failures(10).empty());
  accounts().add_login_failure({0, "2026-01-01T00:00:00Z", "ada", "10.0.0.1", false});
  accounts().add_login_failure({0, "2026-01-01T00:00:01Z", "ada", "10.0.0.1", true});
  accounts().add_login_failure({0, "2026-01-01T00:00:02Z", "bob", "10.0.0.2", false});
  const auto all = accounts().login_failures(10);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].account, "ada");
  EXPECT_EQ(all[0].client, "10.0.0.1");
  EXPECT_FALSE(all[0].throttled);
  EXPECT_TRUE(all[1].throttled);
  EXPECT_EQ(all[2].at, "2026-01-01T00:00:02Z");
  const auto newest = accounts().login_failures(2);
  ASSERT_EQ(newest.size(), 2u);
  EXPECT_EQ(newest[0].at, "2026-01-01T00:00:01Z");
  EXPECT_EQ(newest[1].account, "bob");
}

TEST_P(AccountStoreConformance, ExportsAreAuditedNewestLast) {
  EXPECT_TRUE(accounts().export_records(10).empty());
  const auto first = accounts().add_export_record(
      {0, "2026-01-01T00:00:00Z", "user:ada", "csv", "white dress", 12, "http"});
  const auto second = accounts().add_export_record(
      {0, "2026-01-01T00:00:05Z", "cli:bob", "xmp", "--facet season=summer", 3, "/tmp/out"});
  EXPECT_LT(first, second);
  const auto all = accounts().export_records(10);
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, first);
  EXPECT_EQ(all[0].actor, "user:ada");
  EXPECT_EQ(all[0].format, "csv");
  EXPECT_EQ(all[0].query, "white dress");
  EXPECT_EQ(all[0].assets, 12);
  EXPECT_EQ(all[0].destination, "http");
  EXPECT_EQ(all[1].at, "2026-01-01T00:00:05Z");
  const auto newest = accounts().export_records(1);
  ASSERT_EQ(newest.size(), 1u);
  EXPECT_EQ(newest[0].actor, "cli:bob");
}

}  // namespace
}  // namespace tagsmith::store::conformance
