// --precision / $TAGSMITH_PRECISION: unknown values are refused at parse
// time with a usage error that names the value and the accepted ones.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdlib>

#include "tagsmith/cli/app.h"
#include "tagsmith/cli/command.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {
using ::testing::HasSubstr;

struct Result {
  int rc;
  std::string err;
};

Result run_cli(std::vector<std::string> args) {
  testing::internal::CaptureStdout();
  testing::internal::CaptureStderr();
  const int rc = cli::run(args);
  testing::internal::GetCapturedStdout();
  return {rc, testing::internal::GetCapturedStderr()};
}

TEST(PrecisionCli, UnknownPrecisionIsAUsageErrorNamingTheChoices) {
  test::TempDir dir;
  const auto r = run_cli({"--library", (dir.path() / "lib").string(), "--precision", "fp16",
                          "embed", "--text", "a red dress"});
  EXPECT_EQ(r.rc, kUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown precision 'fp16': expected fp32 (default), bf16 or int8"));
}

TEST(PrecisionCli, UnknownPrecisionFromTheEnvironmentIsRefusedToo) {
  test::TempDir dir;
  ::setenv("TAGSMITH_PRECISION", "int4", 1);
  const auto r = run_cli({"--library", (dir.path() / "lib").string(), "--models",
                          (dir.path() / "none").string(), "embed", "--text", "a red dress"});
  ::unsetenv("TAGSMITH_PRECISION");
  EXPECT_EQ(r.rc, kUsage);
  EXPECT_THAT(r.err, HasSubstr("unknown precision 'int4'"));
}

}  // namespace
}  // namespace tagsmith::cli
