// The written report: report.json stays valid JSON whatever the image paths.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

#include "tagsmith/common/files.h"
#include "tagsmith/eval/harness.h"
#include "temp_dir.h"

namespace tagsmith::eval {
namespace {

// Before, a rejected image whose name was not UTF-8 (Latin-1 "café.jpg")
// made the JSON library throw and no report was written.
TEST(Report, PathsThatAreNotUtf8KeepReportJsonValid) {
  test::TempDir dir;
  EvalResult r;
  r.ingest.errors.push_back({"/photos/caf\xe9.jpg", "not an image"});
  write_report(r, dir / "report");
  const auto j = nlohmann::json::parse(read_file_text(dir / "report" / "report.json"));
  EXPECT_NE(j.dump().find("caf\xEF\xBF\xBD.jpg"), std::string::npos) << j.dump();
}

}  // namespace
}  // namespace tagsmith::eval
