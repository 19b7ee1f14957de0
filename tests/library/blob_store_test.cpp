#include "tagsmith/library/blob_store.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "temp_dir.h"

namespace tagsmith::library {
namespace {
namespace fs = std::filesystem;

TEST(DirectoryBlobStore, BlobsAreNamedByContentAndStoredOnce) {
  test::TempDir dir;
  DirectoryBlobStore blobs(dir / "blobs");
  const std::string sha = blobs.put("hello", ".jpg");
  EXPECT_EQ(sha, "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824");
  EXPECT_EQ(blobs.file(sha, ".jpg"), dir / "blobs" / "2c" / (sha.substr(2) + ".jpg"));
  EXPECT_TRUE(blobs.contains(sha, ".jpg"));
  EXPECT_FALSE(blobs.contains(sha, ".png"));
  EXPECT_EQ(blobs.get(sha, ".jpg"), "hello");
  const auto written = fs::last_write_time(blobs.file(sha, ".jpg"));
  EXPECT_EQ(blobs.put("hello", ".jpg"), sha);  // the same bytes: nothing rewritten
  EXPECT_EQ(fs::last_write_time(blobs.file(sha, ".jpg")), written);
  EXPECT_FALSE(blobs.get(std::string(64, 'a')).has_value());
}

// Names come from the store, but a forged one must never leave the store.
TEST(DirectoryBlobStore, NamesThatAreNotAHashAreRefused) {
  test::TempDir dir;
  DirectoryBlobStore blobs(dir.path());
  EXPECT_THROW(blobs.file("../../etc/passwd"), InputError);
  EXPECT_THROW(blobs.file(std::string(64, 'A')), InputError);  // upper case is not ours
  EXPECT_THROW(blobs.file(std::string(63, 'a')), InputError);
  EXPECT_THROW(blobs.file(std::string(64, 'a'), "/../x"), InputError);
  EXPECT_THROW(blobs.get("..%2f..%2fsecret"), InputError);
}

// Writers on several machines put the same blob at once: every reader sees
// all of it or nothing, and no temporary file is left behind.
TEST(DirectoryBlobStore, ConcurrentWritersOfOneBlobLeaveOneWholeFile) {
  test::TempDir dir;
  DirectoryBlobStore blobs(dir.path());
  const std::string bytes(1 << 20, 'x');
  std::vector<std::jthread> writers;
  for (int i = 0; i < 8; ++i) writers.emplace_back([&] { blobs.put(bytes, ".bin"); });
  writers.clear();
  std::size_t files = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir.path()))
    if (e.is_regular_file()) ++files;
  EXPECT_EQ(files, 1u);
  const auto sha = blobs.put(bytes, ".bin");
  EXPECT_EQ(blobs.get(sha, ".bin")->size(), bytes.size());
}

}  // namespace
}  // namespace tagsmith::library
