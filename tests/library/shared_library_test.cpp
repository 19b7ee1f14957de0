// A library on PostgreSQL: the database holds the rows, a files directory
// (given once, remembered in the database) holds thumbnails and the palette.
#include <gtest/gtest.h>

#include <cstdlib>
#include <optional>

#include "postgres_test_db.h"
#include "tagsmith/common/error.h"
#include "tagsmith/library/library.h"
#include "temp_dir.h"

namespace tagsmith::library {
namespace {
namespace fs = std::filesystem;

// Sets an environment variable for one scope.
class ScopedEnv {
 public:
  ScopedEnv(const char* name, const std::string& value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    ::setenv(name, value.c_str(), 1);
  }
  ~ScopedEnv() {
    if (old_) {
      ::setenv(name_, old_->c_str(), 1);
    } else {
      ::unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::optional<std::string> old_;
};

TEST(SharedLibrary, APostgresLibraryRemembersItsFilesDirectory) {
  TAGSMITH_REQUIRE_POSTGRES();
  const std::string url = test::fresh_postgres_database();
  test::TempDir dir;
  {
    ScopedEnv none("TAGSMITH_FILES", "");
    try {
      Library::open(url);
      FAIL() << "opened without a files directory";
    } catch (const InputError& e) {
      EXPECT_NE(std::string(e.what()).find("--files"), std::string::npos) << e.what();
    }
  }
  {
    ScopedEnv files("TAGSMITH_FILES", (dir / "files").string());
    auto lib = Library::open(url);
    EXPECT_TRUE(lib->shared());
    EXPECT_EQ(lib->dir(), dir / "files");
    EXPECT_TRUE(fs::exists(dir / "files" / "palette.yaml"));
    const std::string sha = lib->thumbnails().put("jpeg bytes", ".jpg");
    EXPECT_TRUE(fs::exists(dir / "files" / "thumbs" / sha.substr(0, 2) / (sha.substr(2) + ".jpg")));
  }
  // Another process, without the variable: the database knows where.
  ScopedEnv none("TAGSMITH_FILES", "");
  auto again = Library::open_existing(url);
  EXPECT_EQ(again->dir(), dir / "files");
  EXPECT_EQ(again->thumbnails().get(again->thumbnails().put("jpeg bytes", ".jpg"), ".jpg"),
            "jpeg bytes");
}

TEST(SharedLibrary, ADirectoryLibraryIsNotShared) {
  test::TempDir dir;
  auto lib = Library::open((dir / "lib").string());
  EXPECT_FALSE(lib->shared());
  EXPECT_TRUE(fs::exists(dir / "lib" / "library.db"));
}

}  // namespace
}  // namespace tagsmith::library
