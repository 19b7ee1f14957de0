// `tagsmith migrate` as people run it: the real binary in a child process,
// killed with SIGKILL part-way through the copy, then run again -- it must
// finish and verify. Also its JSON report, --verify-only, and the exit status
// when a table differs.
#include <fcntl.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "postgres_test_db.h"
#include "sample_library.h"
#include "tagsmith/store/migrate.h"
#include "tagsmith/store/store.h"
#include "temp_dir.h"

extern char** environ;

namespace tagsmith::store {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

// Starts `tagsmith ARGS…` with stdout and stderr going to files.
pid_t spawn_tagsmith(std::vector<std::string> args, const fs::path& out, const fs::path& err) {
  args.insert(args.begin(), TAGSMITH_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, out.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, err.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, TAGSMITH_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

struct Exit {
  int rc = -1;
  bool killed = false;
  std::string out, err;
};

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

Exit wait_for(pid_t pid, const fs::path& out, const fs::path& err) {
  int status = 0;
  EXPECT_EQ(::waitpid(pid, &status, 0), pid);
  Exit e;
  if (WIFEXITED(status)) e.rc = WEXITSTATUS(status);
  e.killed = WIFSIGNALED(status);
  e.out = slurp(out);
  e.err = slurp(err);
  return e;
}

Exit run_tagsmith(const std::vector<std::string>& args, const test::TempDir& dir) {
  const fs::path out = dir / "out.txt", err = dir / "err.txt";
  return wait_for(spawn_tagsmith(args, out, err), out, err);
}

std::int64_t count_rows(const std::string& url, const std::string& table) {
  try {
    pqxx::connection c(url);
    pqxx::work w(c);
    return w.exec1("SELECT count(*) FROM " + table)[0].as<std::int64_t>();
  } catch (const std::exception&) {
    return 0;  // the schema isn't there yet
  }
}

TEST(MigrateCommandEndToEnd, KilledPartWayAndRunAgainItFinishesAndVerifies) {
  TAGSMITH_REQUIRE_POSTGRES();
  test::TempDir dir;
  const fs::path lib = dir / "lib";
  fs::create_directories(lib);
  test_library::fill(*open_sqlite_store((lib / "library.db").string()), 2'000);
  const std::string url = test::fresh_postgres_database();

  // Small batches, so the copy is many transactions long; killed once the
  // tags are being copied (after the assets, before the audit trail).
  const std::vector<std::string> migrate = {"migrate", "--from",  lib.string(), "--to",
                                            url,       "--batch", "50",         "--quiet"};
  const pid_t pid = spawn_tagsmith(migrate, dir / "out1.txt", dir / "err1.txt");
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (count_rows(url, "tags") == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  const Exit killed = wait_for(pid, dir / "out1.txt", dir / "err1.txt");
  ASSERT_TRUE(killed.killed) << "migrate finished before it could be killed (rc " << killed.rc
                             << "): " << killed.err;
  const std::int64_t tags_at_kill = count_rows(url, "tags");
  EXPECT_GT(tags_at_kill, 0);
  EXPECT_FALSE(compare_sqlite_with_postgres((lib / "library.db").string(), url).verified());

  std::vector<std::string> again = migrate;
  again.push_back("--json");
  const Exit done = run_tagsmith(again, dir);
  ASSERT_EQ(done.rc, 0) << done.err;
  const auto report = nlohmann::json::parse(done.out);
  EXPECT_TRUE(report["verified"].get<bool>());
  EXPECT_EQ(report["files_dir"], lib.string());
  EXPECT_EQ(report["tables"].size(), library_tables().size());
  std::int64_t copied = 0, rows = 0;
  for (const auto& t : report["tables"]) {
    EXPECT_TRUE(t["matches"].get<bool>()) << t["table"];
    copied += t["copied"].get<std::int64_t>();
    rows += t["source_rows"].get<std::int64_t>();
    if (t["table"] == "tags") {
      EXPECT_EQ(t["copied"].get<std::int64_t>(),
                t["source_rows"].get<std::int64_t>() - tags_at_kill);
    }
  }
  EXPECT_LT(copied, rows);
  EXPECT_EQ(count_rows(url, "assets"), 2'000);

  // The copy opens as a library of its own, with the old directory's files.
  EXPECT_EQ(open_postgres_store(url)->setting("files_dir"), lib.string());

  const Exit verify =
      run_tagsmith({"migrate", "--from", lib.string(), "--to", url, "--verify-only"}, dir);
  EXPECT_EQ(verify.rc, 0) << verify.err;
  EXPECT_THAT(verify.out, HasSubstr("Verified"));

  {
    pqxx::connection c(url);
    pqxx::work w(c);
    w.exec("UPDATE users SET role = 'admin' WHERE name = 'carol'");
    w.commit();
  }
  const Exit mismatch =
      run_tagsmith({"migrate", "--from", lib.string(), "--to", url, "--verify-only"}, dir);
  EXPECT_EQ(mismatch.rc, 1);
  EXPECT_THAT(mismatch.out, HasSubstr("MISMATCH"));
  EXPECT_THAT(mismatch.err, HasSubstr("verification failed: users differ"));
}

}  // namespace
}  // namespace tagsmith::store
