// What ingest does with what it finds besides photos: FIFOs and devices,
// /proc files, unreadable folders, broken symbolic links and link loops,
// links out of the folder it was given. Nothing may hang, and nothing may be
// left out without a word.
#include <dirent.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <linux/capability.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <future>

#include "fixtures.h"
#include "tagsmith/ingest/ingest.h"
#include "temp_dir.h"

namespace tagsmith::ingest {
namespace {
namespace fs = std::filesystem;
using test::TempDir;

// Root reads every folder whatever its mode: this drops the capabilities
// that let it (for the calling thread only, where ingest lists files) and
// gives them back at the end of the scope.
class WithoutReadOverride {
 public:
  WithoutReadOverride() {
    if (::syscall(SYS_capget, &header_, saved_) != 0) return;
    __user_cap_data_struct reduced[2] = {saved_[0], saved_[1]};
    reduced[0].effective &= ~((1u << CAP_DAC_OVERRIDE) | (1u << CAP_DAC_READ_SEARCH));
    dropped_ = ::syscall(SYS_capset, &header_, reduced) == 0;
  }
  ~WithoutReadOverride() {
    if (dropped_) ::syscall(SYS_capset, &header_, saved_);
  }
  WithoutReadOverride(const WithoutReadOverride&) = delete;
  WithoutReadOverride& operator=(const WithoutReadOverride&) = delete;

 private:
  __user_cap_header_struct header_{_LINUX_CAPABILITY_VERSION_3, 0};
  __user_cap_data_struct saved_[2]{};
  bool dropped_ = false;
};

bool can_open_folder(const fs::path& dir) {
  DIR* d = ::opendir(dir.c_str());
  if (d) ::closedir(d);
  return d != nullptr;
}

class FileListingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(photos / "sub");
    fs::create_directories(outside);
    test::write_jpeg(photos / "red.jpg", test::synthetic_product(200, 240, 1, {200, 20, 30}));
    test::write_png(photos / "sub" / "blue.png",
                    test::synthetic_product(200, 200, 2, {20, 40, 160}));
    test::write_jpeg(outside / "secret.jpg", test::synthetic_product(200, 200, 3, {30, 140, 40}));
    library = library::Library::open(dir / "lib");
  }

  IngestReport run(const std::vector<fs::path>& inputs) {
    IngestOptions options;
    options.threads = 2;
    return ingest(*library, inputs, options);
  }

  // The reason recorded for `path`, or "" when none was.
  std::string reason_for(const IngestReport& r, const fs::path& path) {
    for (const auto& e : r.errors)
      if (e.path == path.string()) return e.reason;
    return "";
  }

  TempDir dir;
  fs::path photos = dir / "photos";
  fs::path outside = dir / "elsewhere";
  std::unique_ptr<library::Library> library;
};

// Opening a FIFO waits for a writer; before, ingest waited forever. If it
// blocks again, the test opens the FIFO's other end itself so that it fails
// instead of hanging.
TEST_F(FileListingTest, AFifoIsRejectedWithoutBeingOpened) {
  const fs::path fifo = photos / "pipe.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  for (const std::vector<fs::path>& inputs : {std::vector<fs::path>{fifo}, {photos}}) {
    SCOPED_TRACE(inputs[0].string());
    auto done = std::async(std::launch::async, [&] { return run(inputs); });
    if (done.wait_for(std::chrono::seconds(20)) != std::future_status::ready) {
      const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
      if (fd >= 0) ::close(fd);
      done.wait();
      FAIL() << "ingest waited on the FIFO";
    }
    const IngestReport r = done.get();
    EXPECT_EQ(r.rejected, 1);
    EXPECT_NE(reason_for(r, fifo).find("FIFO"), std::string::npos) << reason_for(r, fifo);
  }
  const auto recorded = library->store().ingest_errors();
  ASSERT_EQ(recorded.size(), 1u);
  EXPECT_EQ(recorded[0].path, fifo.string());
}

TEST_F(FileListingTest, ADeviceNamedOnTheCommandLineIsRejected) {
  const IngestReport r = run({"/dev/null"});
  EXPECT_EQ(r.rejected, 1);
  EXPECT_NE(reason_for(r, "/dev/null").find("character device"), std::string::npos)
      << reason_for(r, "/dev/null");
}

// /proc files report size 0; reading them by that size once threw "cannot
// create std::vector larger than max_size()".
TEST_F(FileListingTest, AProcFileIsReadAndRejectedForWhatItHolds) {
  const IngestReport r = run({"/proc/self/status"});
  EXPECT_EQ(r.rejected, 1);
  EXPECT_NE(reason_for(r, "/proc/self/status").find("not an image"), std::string::npos)
      << reason_for(r, "/proc/self/status");
}

TEST_F(FileListingTest, BrokenLinksAndLinkLoopsAreReported) {
  fs::create_symlink(dir / "gone.jpg", photos / "gone.jpg");
  fs::create_symlink(photos / "loop-b.jpg", photos / "loop-a.jpg");
  fs::create_symlink(photos / "loop-a.jpg", photos / "loop-b.jpg");
  fs::create_symlink(dir / "unmounted-nas", photos / "2023");  // a folder, once
  fs::create_symlink(dir / "gone.txt", photos / "notes.txt");  // no photo: not our business
  const IngestReport r = run({photos});
  EXPECT_EQ(r.ingested, 2);
  EXPECT_EQ(r.rejected, 4);
  EXPECT_NE(reason_for(r, photos / "gone.jpg").find("broken symbolic link"), std::string::npos)
      << reason_for(r, photos / "gone.jpg");
  EXPECT_NE(reason_for(r, photos / "2023").find("broken symbolic link"), std::string::npos);
  EXPECT_NE(reason_for(r, photos / "loop-a.jpg").find("loop"), std::string::npos)
      << reason_for(r, photos / "loop-a.jpg");
  EXPECT_NE(reason_for(r, photos / "loop-b.jpg").find("loop"), std::string::npos);
  EXPECT_EQ(reason_for(r, photos / "notes.txt"), "");
  EXPECT_EQ(library->store().ingest_errors().size(), 4u);
}

TEST_F(FileListingTest, AnUnreadableFolderIsReported) {
  const fs::path locked = photos / "locked";
  fs::create_directories(locked);
  test::write_jpeg(locked / "hidden-from-us.jpg", test::synthetic_product(50, 50, 5));
  fs::permissions(locked, fs::perms::none);
  IngestReport r;
  {
    const WithoutReadOverride as_a_user;
    if (can_open_folder(locked)) {
      fs::permissions(locked, fs::perms::owner_all);
      GTEST_SKIP() << "cannot make a folder unreadable here";
    }
    r = run({photos});
  }
  fs::permissions(locked, fs::perms::owner_all);  // so that TempDir can remove it
  EXPECT_EQ(r.ingested, 2);
  EXPECT_EQ(r.rejected, 1);
  EXPECT_NE(reason_for(r, locked).find("cannot read folder"), std::string::npos)
      << reason_for(r, locked);
  EXPECT_NE(reason_for(r, locked).find("ermission denied"), std::string::npos)
      << reason_for(r, locked);
}

// The user gave a folder: a link inside it that leads out of it is not
// followed (and said so); links that stay inside are fine; a path named on
// the command line is used wherever it leads.
TEST_F(FileListingTest, LinksOutOfTheFolderAreNotFollowed) {
  fs::create_symlink(outside / "secret.jpg", photos / "secret.jpg");
  fs::create_symlink(outside, photos / "elsewhere");
  fs::create_symlink(photos / "red.jpg", photos / "sub" / "red-link.jpg");
  fs::create_symlink(photos / "sub", photos / "sub-link");
  fs::create_symlink(photos, photos / "sub" / "up");  // a cycle, if it were followed
  const IngestReport r = run({photos});
  EXPECT_EQ(r.ingested, 2);  // red, blue
  EXPECT_EQ(r.aliases, 1);   // sub/red-link.jpg
  EXPECT_EQ(r.rejected, 2);
  EXPECT_NE(reason_for(r, photos / "secret.jpg").find("outside"), std::string::npos)
      << reason_for(r, photos / "secret.jpg");
  EXPECT_NE(reason_for(r, photos / "elsewhere").find("not followed"), std::string::npos)
      << reason_for(r, photos / "elsewhere");
  for (const auto& a : library->store().asset_ids())
    EXPECT_EQ(library->store().find_asset(a)->source_path.find("secret"), std::string::npos);

  // Named on the command line: used.
  const IngestReport named = run({photos / "secret.jpg"});
  EXPECT_EQ(named.ingested, 1);
  EXPECT_EQ(named.rejected, 0);
}

TEST_F(FileListingTest, ALinkLoopNamedOnTheCommandLineIsAnInputError) {
  fs::create_symlink(photos / "b.jpg", photos / "a.jpg");
  fs::create_symlink(photos / "a.jpg", photos / "b.jpg");
  try {
    run({photos / "a.jpg"});
    ADD_FAILURE() << "no error";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("symbolic links"), std::string::npos) << e.what();
  }
}

}  // namespace
}  // namespace tagsmith::ingest
