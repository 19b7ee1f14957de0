// Crash safety: ingest a folder in a child process (the real binary), kill it
// with SIGKILL part-way, run it again, and check that the library holds
// exactly the expected assets, once each, with no orphan rows or files, and
// the same assets, tags, audit events and thumbnails as an uninterrupted run
// (scripts/check-resume repeats this at random moments on a larger folder).
#include <SQLiteCpp/SQLiteCpp.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <set>
#include <thread>

#include "fixtures.h"
#include "tagsmith/library/library.h"
#include "temp_dir.h"

extern char** environ;

namespace tagsmith {
namespace {
namespace fs = std::filesystem;

pid_t spawn_ingest(const fs::path& library, const fs::path& photos) {
  std::vector<std::string> args = {TAGSMITH_BINARY, "ingest", "--library", library.string(),
                                   "--threads",     "1",      "--quiet",   photos.string()};
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, TAGSMITH_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

std::int64_t count_assets(const fs::path& db) {
  try {
    SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
    raw.setBusyTimeout(1000);
    return raw.execAndGet("SELECT count(*) FROM assets").getInt64();
  } catch (const std::exception&) {
    return 0;  // not created yet
  }
}

// What a run decided, independent of asset ids and timestamps.
struct Outcome {
  std::multiset<std::string> assets, tags, events, thumbnails;
};

Outcome outcome_of(const fs::path& db) {
  SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
  Outcome o;
  auto collect = [&raw](const char* sql, std::multiset<std::string>& into) {
    SQLite::Statement q(raw, sql);
    while (q.executeStep()) into.insert(q.getColumn(0).getString());
  };
  collect("SELECT sha256 || ' ' || width || 'x' || height || ' ' || colour_mask FROM assets",
          o.assets);
  collect(
      "SELECT a.sha256 || ' ' || t.attribute || ' ' || t.node || ' ' || t.state || ' ' || "
      "printf('%.6f', t.confidence) || ' ' || t.actor FROM tags t JOIN assets a ON a.id = "
      "t.asset_id",
      o.tags);
  collect(
      "SELECT a.sha256 || ' ' || e.attribute || ' ' || e.node || ' ' || e.action || ' ' || "
      "printf('%.6f', e.confidence) FROM tag_events e JOIN assets a ON a.id = e.asset_id",
      o.events);
  collect("SELECT a.sha256 || ' ' || t.sha256 FROM thumbnails t JOIN assets a ON a.id = t.asset_id",
          o.thumbnails);
  return o;
}

TEST(IngestCrash, KillNineThenRerunLosesNothingAndDuplicatesNothing) {
  test::TempDir dir;
  const fs::path photos = dir / "photos";
  fs::create_directories(photos);
  constexpr int kDistinct = 120;
  for (int i = 0; i < kDistinct; ++i) {
    test::write_jpeg(
        photos / ("p" + std::to_string(1000 + i) + ".jpg"),
        test::synthetic_product(900, 900, 100 + i, {static_cast<double>(i * 2), 80, 120}));
  }
  // Exact copies become aliases, not assets.
  for (int i = 0; i < 5; ++i) {
    fs::copy_file(photos / ("p" + std::to_string(1000 + i) + ".jpg"),
                  photos / ("copy" + std::to_string(i) + ".jpg"));
  }
  const fs::path library = dir / "lib";
  const fs::path db = library / "library.db";

  // The uninterrupted run to compare with.
  const fs::path reference = dir / "reference";
  int status = 0;
  ::waitpid(spawn_ingest(reference, photos), &status, 0);
  ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  const Outcome expected = outcome_of(reference / "library.db");
  ASSERT_EQ(expected.assets.size(), static_cast<std::size_t>(kDistinct));
  ASSERT_FALSE(expected.tags.empty());

  const pid_t pid = spawn_ingest(library, photos);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  std::int64_t seen = 0;
  while ((seen = count_assets(db)) < 10 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFSIGNALED(status))
      << "ingest finished before it could be killed; make the fixture larger";
  const std::int64_t at_kill = count_assets(db);
  EXPECT_GE(at_kill, 10);
  EXPECT_LT(at_kill, kDistinct) << "killed too late to test anything";

  // The re-run completes the rest.
  const pid_t again = spawn_ingest(library, photos);
  ::waitpid(again, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);

  SQLite::Database raw(db.string(), SQLite::OPEN_READONLY);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM assets").getInt64(), kDistinct);
  EXPECT_EQ(raw.execAndGet("SELECT count(DISTINCT sha256) FROM assets").getInt64(), kDistinct);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM asset_paths").getInt64(), kDistinct + 5);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM asset_paths WHERE is_alias = 1").getInt64(), 5);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM thumbnails").getInt64(), kDistinct);
  // No orphans: every dependent row points at an asset, every asset is complete.
  EXPECT_EQ(raw.execAndGet(
                   "SELECT count(*) FROM asset_paths WHERE asset_id NOT IN (SELECT id FROM assets)")
                .getInt64(),
            0);
  EXPECT_EQ(raw.execAndGet(
                   "SELECT count(*) FROM thumbnails WHERE asset_id NOT IN (SELECT id FROM assets)")
                .getInt64(),
            0);
  EXPECT_EQ(
      raw.execAndGet(
             "SELECT count(*) FROM asset_colours WHERE asset_id NOT IN (SELECT id FROM assets)")
          .getInt64(),
      0);
  EXPECT_EQ(raw.execAndGet(
                   "SELECT count(*) FROM assets WHERE id NOT IN (SELECT asset_id FROM thumbnails)")
                .getInt64(),
            0);
  EXPECT_EQ(
      raw.execAndGet(
             "SELECT count(*) FROM assets WHERE id NOT IN (SELECT asset_id FROM asset_colours)")
          .getInt64(),
      0);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM ingest_errors").getInt64(), 0);
  EXPECT_EQ(raw.execAndGet("PRAGMA integrity_check").getString(), "ok");
  // Everything the uninterrupted run did, the interrupted one did too: every
  // asset tagged (the first run never reached tagging), nothing twice.
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM work_queue").getInt64(), 0);
  const Outcome got = outcome_of(db);
  EXPECT_EQ(got.assets, expected.assets);
  EXPECT_EQ(got.thumbnails, expected.thumbnails);
  EXPECT_EQ(got.tags.size(), expected.tags.size());
  EXPECT_EQ(got.tags, expected.tags);
  EXPECT_EQ(got.events.size(), expected.events.size());
  EXPECT_EQ(got.events, expected.events);
  // Every thumbnail the database names is on disk and complete.
  SQLite::Statement q(raw, "SELECT sha256 FROM thumbnails");
  auto lib = library::Library::open(library);
  while (q.executeStep()) {
    const fs::path thumb = lib->thumbnail_path(q.getColumn(0).getString());
    ASSERT_TRUE(fs::exists(thumb)) << thumb;
    EXPECT_GT(fs::file_size(thumb), 100u);
  }
  // No temporary files left behind where readers would see them.
  for (const auto& e : fs::recursive_directory_iterator(library / "thumbs")) {
    if (e.is_regular_file()) EXPECT_EQ(e.path().extension(), ".jpg") << e.path();
  }
}

}  // namespace
}  // namespace tagsmith
