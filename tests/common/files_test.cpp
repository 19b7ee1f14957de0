// Atomic writes: the guarantee the library's thumbnails, palette and model
// files rely on — a reader sees the old content or the new, never a mix, and
// nothing is left behind.
#include "tagsmith/common/files.h"

#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <string>

#include "tagsmith/common/error.h"
#include "temp_dir.h"

namespace tagsmith {
namespace {
namespace fs = std::filesystem;

std::vector<std::string> names_in(const fs::path& dir) {
  std::vector<std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) out.push_back(e.path().filename().string());
  std::sort(out.begin(), out.end());
  return out;
}

TEST(AtomicWrite, CreatesParentsAndReplacesTheContentWhole) {
  test::TempDir dir;
  const fs::path file = dir / "a" / "b" / "palette.yaml";
  write_file_atomic(file, std::string(10'000, 'x'));
  EXPECT_EQ(read_file_text(file), std::string(10'000, 'x'));
  write_file_atomic(file, "short");
  EXPECT_EQ(read_file_text(file), "short");  // no tail of the longer old content
  write_file_atomic(file, "");
  EXPECT_EQ(fs::file_size(file), 0u);
}

TEST(AtomicWrite, LeavesNoTemporaryFileBehind) {
  test::TempDir dir;
  for (int i = 0; i < 5; ++i) write_file_atomic(dir / "f.bin", std::string(i * 100, 'z'));
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"f.bin"});
}

// A write that fails half-way (here: the file-size limit, which stops root
// too) must leave the old content and no temporary file.
TEST(AtomicWrite, AFailedWriteLeavesTheOldContentAndNoTemporary) {
  test::TempDir dir;
  const fs::path file = dir / "model.json";
  write_file_atomic(file, "old");

  rlimit saved{};
  ASSERT_EQ(::getrlimit(RLIMIT_FSIZE, &saved), 0);
  const auto old_handler = std::signal(SIGXFSZ, SIG_IGN);  // fail with EFBIG, don't die
  rlimit small = saved;
  small.rlim_cur = 16;
  ASSERT_EQ(::setrlimit(RLIMIT_FSIZE, &small), 0);
  bool threw = false;
  try {
    write_file_atomic(file, std::string(4096, 'n'));
  } catch (const Error&) {
    threw = true;
  }
  ::setrlimit(RLIMIT_FSIZE, &saved);
  std::signal(SIGXFSZ, old_handler);

  EXPECT_TRUE(threw);
  EXPECT_EQ(read_file_text(file), "old");
  EXPECT_EQ(names_in(dir.path()), std::vector<std::string>{"model.json"});
}

TEST(AtomicWrite, StaleTemporariesOfDeadWritersAreRemovedLiveOnesKept) {
  test::TempDir dir;
  // A pid that cannot be running: above the kernel's pid limit.
  const std::string dead = ".thumb.jpg.99999999.1a2b.tmp";
  const std::string live = ".thumb.jpg." + std::to_string(::getpid()) + ".3c4d.tmp";
  write_file_atomic(dir / "sub" / "keep.jpg", "x");
  for (const auto& name : {dead, live}) {
    std::FILE* f = std::fopen((dir / "sub" / name).c_str(), "w");
    ASSERT_NE(f, nullptr);
    std::fclose(f);
  }
  EXPECT_EQ(remove_stale_temporaries(dir.path()), 1u);
  EXPECT_EQ(names_in(dir / "sub"), (std::vector<std::string>{live, "keep.jpg"}));
}

// /proc files say their size is 0 (and seeking in them fails): the bytes
// read decide, not stat, and no allocation is ever sized from either.
TEST(ReadFile, ProcFilesAreReadWhateverTheirReportedSize) {
  std::error_code ec;
  ASSERT_EQ(fs::file_size("/proc/self/status", ec), 0u) << "this kernel reports a size";
  const std::string status = read_file_text("/proc/self/status");
  EXPECT_NE(status.find("Name:"), std::string::npos) << status;
  EXPECT_GT(status.size(), 100u);
}

TEST(ReadFile, ALimitIsNeverExceeded) {
  test::TempDir dir;
  write_file_atomic(dir / "f", std::string(1000, 'x'));
  EXPECT_EQ(read_file_bytes(dir / "f", 1000).size(), 1000u);
  EXPECT_THROW(read_file_bytes(dir / "f", 999), FileTooLargeError);
  EXPECT_THROW(read_regular_file_bytes(dir / "f", 10), FileTooLargeError);
  // A file whose size stat cannot know: still stopped at the limit.
  EXPECT_THROW(read_file_bytes("/proc/self/status", 10), FileTooLargeError);
  EXPECT_THROW(read_file_bytes(dir / "missing", 10), Error);
}

// Opening a FIFO for reading waits for a writer: the regular-file reader must
// refuse it (and devices) at once, saying what it is.
TEST(ReadFile, TheRegularFileReaderRefusesFifosAndDevicesWithoutBlocking) {
  test::TempDir dir;
  const fs::path fifo = dir / "pipe.jpg";
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0644), 0);
  try {
    read_regular_file_bytes(fifo, 1000);
    ADD_FAILURE() << "a FIFO was read";
  } catch (const NotRegularFileError& e) {
    EXPECT_NE(std::string(e.what()).find("FIFO"), std::string::npos) << e.what();
  }
  try {
    read_regular_file_bytes("/dev/zero", 1000);
    ADD_FAILURE() << "a device was read";
  } catch (const NotRegularFileError& e) {
    EXPECT_NE(std::string(e.what()).find("character device"), std::string::npos) << e.what();
  }
  write_file_atomic(dir / "photo.jpg", "bytes");
  const auto bytes = read_regular_file_bytes(dir / "photo.jpg", 1000);
  EXPECT_EQ(std::string(bytes.begin(), bytes.end()), "bytes");
}

}  // namespace
}  // namespace tagsmith
