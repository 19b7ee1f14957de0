// Integration: a real CLIP checkpoint from ../shared/models on the labelled
// product photos of ../shared/datasets. Skips with a message when either is
// absent (they are not shipped with the repository).
#include <gtest/gtest.h>

#include <fstream>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <set>

#include "tagsmith/vision/model_locator.h"
#include "tagsmith/vision/zero_shot.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> split_csv_line(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (c == '"') {
      if (quoted && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else {
        quoted = !quoted;
      }
    } else if (c == ',' && !quoted) {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  return out;
}

TEST(ZeroShotIntegration, RealCheckpointRanksTheLabelledClassFirstForAMajority) {
  const fs::path shared = test::shared_dir();
  ModelLocator loc((shared / "models").string());
  auto model_name = loc.default_model("clip");
  std::error_code ec;
  if (!model_name) {
    for (const auto& e : fs::directory_iterator(shared / "models", ec))
      if (fs::exists(e.path() / "config.json") && loc.try_find(e.path().filename().string()))
        model_name = e.path().filename().string();  // a CLIP checkpoint outside the manifest
  }
  if (!model_name) GTEST_SKIP() << "no CLIP checkpoint under " << (shared / "models").string();
  std::vector<fs::path> datasets;
  for (const auto& e : fs::directory_iterator(shared / "datasets", ec))
    if (fs::exists(e.path() / "labels.csv")) datasets.push_back(e.path());
  if (datasets.empty())
    GTEST_SKIP() << "no labelled dataset (datasets/<name>/labels.csv) under " << shared.string();

  auto model = ClipModel::load(loc.find(*model_name), {.threads = 2});
  for (const auto& ds : datasets) {
    std::ifstream f(ds / "labels.csv");
    std::string line;
    std::getline(f, line);
    const auto header = split_csv_line(line);
    std::vector<std::vector<std::string>> rows;
    while (std::getline(f, line))
      if (!line.empty()) rows.push_back(split_csv_line(line));
    const auto image_col = std::find(header.begin(), header.end(), "image") - header.begin();
    ASSERT_LT(image_col, static_cast<long>(header.size())) << "no image column in " << ds;
    // The first attribute with 2..50 distinct values is the task.
    for (std::size_t col = 0; col < header.size(); ++col) {
      if (static_cast<long>(col) == image_col) continue;
      std::set<std::string> values;
      for (const auto& r : rows)
        if (col < r.size() && !r[col].empty()) values.insert(r[col]);
      if (values.size() < 2 || values.size() > 50) continue;
      std::vector<ZeroShotClass> classes;
      for (const auto& v : values) classes.push_back({v, {v}});
      ZeroShotClassifier zs(*model, classes);
      int right = 0, total = 0;
      const std::size_t limit = 200;  // keep the test under a minute
      for (const auto& r : rows) {
        if (col >= r.size() || r[col].empty() || total >= static_cast<int>(limit)) continue;
        cv::Mat bgr = cv::imread((ds / r[image_col]).string(), cv::IMREAD_COLOR);
        if (bgr.empty()) continue;
        cv::Mat rgb;
        cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
        auto s = zs.classify({rgb});
        right += s.class_ids[s.top(0)] == r[col];
        ++total;
      }
      ASSERT_GT(total, 0) << "no readable images in " << ds;
      const double acc = static_cast<double>(right) / total;
      std::printf("%s / %s: zero-shot top-1 %.1f%% over %d images (%zu classes, model %s)\n",
                  ds.filename().c_str(), header[col].c_str(), 100 * acc, total, values.size(),
                  model->version().c_str());
      EXPECT_GT(acc, 0.5) << ds << " column " << header[col];
      break;
    }
  }
}

}  // namespace
}  // namespace tagsmith::vision
