// `tagsmith ingest`, `errors` and `info` with the file names and folders
// people really have: names that are not UTF-8 (Latin-1 from an old camera
// card, a stray byte), broken symbolic links.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;
using ::testing::HasSubstr;

struct Result {
  int rc;
  std::string out, err;
};

class IngestCliTest : public ::testing::Test {
 protected:
  void SetUp() override { fs::create_directories(photos); }

  Result run(std::vector<std::string> args) {
    args.insert(args.end(), {"--library", lib.string(), "--quiet"});
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    return {rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
  }

  test::TempDir dir;
  fs::path photos = dir / "photos";
  fs::path lib = dir / "lib";
};

// JSON text must be UTF-8; a name that is not cannot go into it as it is.
// Before, the JSON library threw and the three commands printed nothing and
// exited 1, though the ingest had been saved. Now each byte that is not
// UTF-8 is written as U+FFFD; the text output keeps the name's bytes.
TEST_F(IngestCliTest, NamesThatAreNotUtf8KeepJsonOutputWorking) {
  const std::string latin1 = "caf\xe9.jpg";  // "café.jpg" in Latin-1
  const std::string stray = "bad\xff.jpg";
  test::write_jpeg(photos / latin1, test::synthetic_product(200, 240, 1, {200, 20, 30}));
  test::write_bytes(photos / stray, "not a photo\n");

  const Result ingest = run({"ingest", photos.string(), "--json"});
  EXPECT_EQ(ingest.rc, 3) << ingest.err;  // one rejected
  const auto report = nlohmann::json::parse(ingest.out);
  EXPECT_EQ(report["ingested"], 1);
  ASSERT_EQ(report["errors"].size(), 1u);
  EXPECT_EQ(report["errors"][0]["path"], (photos / "bad\xEF\xBF\xBD.jpg").string());

  const Result errors = run({"errors", "--json"});
  EXPECT_EQ(errors.rc, 0) << errors.err;
  const auto list = nlohmann::json::parse(errors.out);
  ASSERT_EQ(list.size(), 1u);
  EXPECT_THAT(list[0]["path"].get<std::string>(), HasSubstr("bad\xEF\xBF\xBD.jpg"));

  // The raw name still finds the asset; JSON shows it with U+FFFD.
  const Result info = run({"info", (photos / latin1).string(), "--json"});
  EXPECT_EQ(info.rc, 0) << info.err;
  EXPECT_THAT(nlohmann::json::parse(info.out).dump(), HasSubstr("caf\xEF\xBF\xBD.jpg"));

  // Text output writes names as they are on disk.
  const Result text = run({"errors"});
  EXPECT_EQ(text.rc, 0);
  EXPECT_THAT(text.out, HasSubstr(stray));
}

// Found but not taken: reported like any rejection, exit status 3, and kept
// in `tagsmith errors`. Before, a broken link was skipped without a word.
TEST_F(IngestCliTest, ABrokenLinkIsARejectionWithItsReason) {
  test::write_jpeg(photos / "a.jpg", test::synthetic_product(200, 240, 1, {200, 20, 30}));
  fs::create_symlink(dir / "moved-away.jpg", photos / "b.jpg");
  const Result ingest = run({"ingest", photos.string()});
  EXPECT_EQ(ingest.rc, 3) << ingest.err;
  EXPECT_THAT(ingest.err, HasSubstr("b.jpg: broken symbolic link"));
  EXPECT_THAT(ingest.out, HasSubstr("1 ingested"));
  const Result errors = run({"errors"});
  EXPECT_THAT(errors.out, HasSubstr("moved-away.jpg does not exist"));
}

}  // namespace
}  // namespace tagsmith::cli
