// Workers on one PostgreSQL library, killed while they work: 4 `tagsmith
// worker` processes ingest and tag 2,000 photos (plus duplicate copies) from
// the job queue while the test kills two of them with SIGKILL at random
// moments and starts replacements. At the end every photo is in exactly once,
// each tag has exactly one audit event (the one that applied it), and no job
// is stuck or failed.
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <pqxx/pqxx>
#include <random>
#include <thread>

#include "fixtures.h"
#include "postgres_test_db.h"
#include "tagsmith/common/hash.h"
#include "tagsmith/store/store.h"
#include "temp_dir.h"

extern char** environ;

namespace tagsmith {
namespace {
namespace fs = std::filesystem;
using namespace std::chrono_literals;

pid_t spawn(std::vector<std::string> args, const fs::path& log) {
  args.insert(args.begin(), TAGSMITH_BINARY);
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  posix_spawn_file_actions_addopen(&actions, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, TAGSMITH_BINARY, &actions, nullptr, argv.data(), environ), 0);
  posix_spawn_file_actions_destroy(&actions);
  return pid;
}

std::string file_sha256(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::string bytes((std::istreambuf_iterator<char>(in)), {});
  return sha256_hex(std::span<const std::uint8_t>(
      reinterpret_cast<const std::uint8_t*>(bytes.data()), bytes.size()));
}

TEST(WorkerFaultEndToEnd, KilledWorkersLoseNothingAndWriteNothingTwice) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string url = test::fresh_postgres_database();
  test::TempDir dir;
  const fs::path photos = dir / "photos", files = dir / "files";
  constexpr int kPhotos = 2000, kCopies = 40;
  std::map<std::string, std::string> sha_of;  // path -> content hash
  for (int i = 0; i < kPhotos; ++i) {
    const fs::path p = photos / fmt::format("{:02d}", i % 50) / fmt::format("p{:04d}.jpg", i);
    fs::create_directories(p.parent_path());
    test::write_jpeg(p,
                     test::synthetic_product(
                         72, 72, static_cast<unsigned>(i),
                         cv::Scalar(40 + (i * 37) % 200, 30 + (i * 91) % 200, 20 + (i * 53) % 200)),
                     85);
  }
  // Exact copies under other names: the same content reached by two workers.
  fs::create_directories(photos / "copies");
  for (int i = 0; i < kCopies; ++i) {
    const fs::path from = photos / fmt::format("{:02d}", i % 50) / fmt::format("p{:04d}.jpg", i);
    fs::copy_file(from, photos / "copies" / fmt::format("copy{:02d}.jpg", i));
  }
  for (const auto& e : fs::recursive_directory_iterator(photos))
    if (e.is_regular_file()) sha_of[e.path().string()] = file_sha256(e.path());
  ASSERT_EQ(sha_of.size(), static_cast<std::size_t>(kPhotos + kCopies));

  const fs::path log = dir / "workers.log";
  const std::vector<std::string> common = {"--library", url, "--files", files.string(), "--quiet"};
  auto with_common = [&](std::vector<std::string> args) {
    args.insert(args.end(), common.begin(), common.end());
    return args;
  };
  {
    const pid_t enqueue = spawn(with_common({"ingest", "--enqueue", photos.string()}), log);
    int status = 0;
    ASSERT_EQ(waitpid(enqueue, &status, 0), enqueue);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "enqueue failed, see " << log;
  }
  auto db = store::open_postgres_store(url);
  ASSERT_EQ(db->job_counts(store::JobKind::kIngest).queued, kPhotos + kCopies);

  auto start_worker = [&] {
    return spawn(
        with_common({"worker", "--until-idle", "--lease", "4", "--ingest-batch", "8", "--tag-batch",
                     "64", "--threads", "1", "--no-model", "--no-person-model"}),
        log);
  };
  std::vector<pid_t> workers;
  for (int i = 0; i < 4; ++i) workers.push_back(start_worker());

  // Two kills at random moments of the whole job (ingest, then tagging),
  // each followed by a replacement.
  std::mt19937 rng(std::random_device{}());
  const std::int64_t total = 2 * kPhotos + kCopies;  // jobs, then assets to tag
  std::vector<std::int64_t> kill_at = {
      std::uniform_int_distribution<std::int64_t>(total / 20, total / 2)(rng),
      std::uniform_int_distribution<std::int64_t>(total / 2, total * 9 / 10)(rng)};
  auto progress = [&] {
    const auto c = db->job_counts(store::JobKind::kIngest);
    const std::int64_t assets = db->stats().assets;
    return c.done + c.failed + (assets - db->pending_count(store::WorkStep::kTag));
  };
  std::size_t victim = 0;
  const auto deadline = std::chrono::steady_clock::now() + 480s;
  int killed = 0;
  for (const std::int64_t at : kill_at) {
    while (progress() < at && std::chrono::steady_clock::now() < deadline)
      std::this_thread::sleep_for(20ms);
    ::kill(workers[victim], SIGKILL);
    int status = 0;
    waitpid(workers[victim], &status, 0);
    if (WIFSIGNALED(status)) ++killed;  // it had not finished already
    workers[victim] = start_worker();
    victim += 2;
  }
  for (pid_t w : workers) {
    int status = 0;
    while (waitpid(w, &status, WNOHANG) == 0) {
      ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "workers did not finish; " << log;
      std::this_thread::sleep_for(50ms);
    }
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << "a worker failed; see " << log;
  }
  EXPECT_GE(killed, 1) << "no worker was killed while working";

  // Every photo in exactly once, each path pointing at its content.
  const auto stats = db->stats();
  EXPECT_EQ(stats.assets, kPhotos);
  EXPECT_EQ(stats.aliases, kCopies);
  for (const auto& [path, sha] : sha_of) {
    const auto a = db->find_asset_by_path(path);
    ASSERT_TRUE(a) << path << " is missing";
    EXPECT_EQ(a->sha256, sha) << path;
  }
  // No job stuck or failed, nothing left to tag.
  const auto jobs = db->job_counts(store::JobKind::kIngest);
  EXPECT_EQ(jobs.done, kPhotos + kCopies);
  EXPECT_EQ(jobs.queued + jobs.running + jobs.failed, 0);
  EXPECT_EQ(db->pending_count(store::WorkStep::kTag), 0);
  EXPECT_TRUE(db->ingest_errors().empty());
  // Each tag applied once: one audit event per tag, none repeated.
  pqxx::connection raw(url);
  pqxx::work w(raw);
  const auto tags = w.exec1("SELECT count(*) FROM tags")[0].as<std::int64_t>();
  EXPECT_GE(tags, kPhotos);  // at least a colour per photo
  EXPECT_EQ(w.exec1("SELECT count(*) FROM tag_events")[0].as<std::int64_t>(), tags);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM (SELECT 1 FROM tag_events GROUP BY asset_id, "
                    "attribute, node HAVING count(*) > 1) repeated")[0]
                .as<std::int64_t>(),
            0);
  EXPECT_EQ(w.exec1("SELECT count(*) FROM tags t WHERE NOT EXISTS (SELECT 1 FROM tag_events e "
                    "WHERE e.asset_id = t.asset_id AND e.attribute = t.attribute AND e.node = "
                    "t.node AND e.action IN ('applied', 'flagged', 'proposed'))")[0]
                .as<std::int64_t>(),
            0);
}

}  // namespace
}  // namespace tagsmith
