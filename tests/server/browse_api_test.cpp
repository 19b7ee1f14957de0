// The API the web UI browses with: search pages and sort orders (the pages
// cover the result once, the total is the search's count), hints for empty
// results, folders shown relative to the library's root, similar-by-upload's
// "no close match", and the manager's dashboard.
#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <opencv2/imgcodecs.hpp>
#include <optional>
#include <set>
#include <thread>

#include "fixtures.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/library/library.h"
#include "tagsmith/server/auth.h"
#include "tagsmith/server/server.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class BrowseApiTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image::init_decoder();
    dir_ = new test::TempDir();
    // Seven photos in two folders, so that pages of 3 split them unevenly.
    const std::vector<cv::Scalar> colours = {{240, 240, 235}, {25, 35, 90},    {200, 20, 30},
                                             {30, 140, 40},   {235, 230, 220}, {20, 20, 20},
                                             {210, 180, 40}};
    for (int i = 0; i < static_cast<int>(colours.size()); ++i) {
      const fs::path folder = *dir_ / "photos" / (i % 2 ? "shoes" : "dresses");
      fs::create_directories(folder);
      // Names not in id order, so that sorting by name is visible.
      test::write_jpeg(folder / (std::string(1, static_cast<char>('g' - i)) + ".jpg"),
                       test::synthetic_product(240, 280, 10 + i, colours[i]));
    }
    app::ModelOptions no_model;
    no_model.disabled = true;
    context_ = new app::LibraryContext(library::Library::open(*dir_ / "lib"), no_model);
    lib_ = &context_->library();
    ingest::IngestOptions o;
    o.threads = 2;
    ingest::ingest(*lib_, {*dir_ / "photos"}, o);
    tagging::TagService(*lib_).tag_all();
    add_user(lib_->store(), "vera", Role::kViewer, "correct horse battery");
    token_ = issue_token(lib_->store(), "vera");
    ServerOptions so;
    so.port = 0;
    so.threads = 4;
    server_ = new Server(*context_, so);
    port_ = server_->bind();
    thread_ = new std::thread([] { server_->run(); });
    for (int i = 0; i < 200 && !server_->running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  static void TearDownTestSuite() {
    server_->stop();
    thread_->join();
    delete thread_;
    delete server_;
    delete context_;
    delete dir_;
  }

  static json get(const std::string& path, int want = 200) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    auto r = c.Get(path.c_str(), {{"Authorization", "Bearer " + token_}});
    EXPECT_TRUE(r);
    if (!r) return nullptr;
    EXPECT_EQ(r->status, want) << path << ": " << r->body;
    return json::parse(r->body);
  }
  static json similar(const std::string& bytes) {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    httplib::MultipartFormDataItems items = {{"file", bytes, "q.png", "image/png"}};
    auto r = c.Post("/api/v1/search/similar", {{"Authorization", "Bearer " + token_}}, items);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    return r ? json::parse(r->body) : json(nullptr);
  }

  static test::TempDir* dir_;
  static app::LibraryContext* context_;
  static library::Library* lib_;
  static Server* server_;
  static std::thread* thread_;
  static int port_;
  static std::string token_;
};
test::TempDir* BrowseApiTest::dir_ = nullptr;
app::LibraryContext* BrowseApiTest::context_ = nullptr;
library::Library* BrowseApiTest::lib_ = nullptr;
Server* BrowseApiTest::server_ = nullptr;
std::thread* BrowseApiTest::thread_ = nullptr;
int BrowseApiTest::port_ = 0;
std::string BrowseApiTest::token_;

TEST_F(BrowseApiTest, EverySortsPagesCoverTheResultOnceWithTheSearchsTotal) {
  const std::size_t assets = lib_->store().asset_ids().size();
  ASSERT_EQ(assets, 7u);
  for (const std::string sort :
       {"relevance", "newest", "oldest", "name", "confidence", "least_confident"}) {
    std::vector<std::int64_t> ids;
    std::vector<std::string> names;
    for (int page = 1; page <= 4; ++page) {
      const json res =
          get("/api/v1/search?flagged=1&limit=3&sort=" + sort + "&page=" + std::to_string(page));
      EXPECT_EQ(res["total"], assets) << sort;
      EXPECT_EQ(res["sort"], sort);
      EXPECT_EQ(res["offset"], (page - 1) * 3);
      EXPECT_EQ(res["hits"].size(), page <= 2 ? 3u : page == 3 ? 1u : 0u) << sort << " " << page;
      for (const auto& h : res["hits"]) {
        ids.push_back(h["id"]);
        names.push_back(h["name"]);
      }
    }
    EXPECT_EQ(std::set<std::int64_t>(ids.begin(), ids.end()).size(), assets) << sort;
    if (sort == "newest") EXPECT_TRUE(std::is_sorted(ids.rbegin(), ids.rend()));
    if (sort == "oldest") EXPECT_TRUE(std::is_sorted(ids.begin(), ids.end()));
    if (sort == "name") EXPECT_TRUE(std::is_sorted(names.begin(), names.end())) << names.front();
  }
  // offset is the same as page.
  EXPECT_EQ(get("/api/v1/search?flagged=1&limit=3&sort=name&offset=3")["hits"],
            get("/api/v1/search?flagged=1&limit=3&sort=name&page=2")["hits"]);
  get("/api/v1/search?sort=sideways", 400);
}

TEST_F(BrowseApiTest, HitsCarryABadgeWithTheirLeastCertainTag) {
  const json res = get("/api/v1/search?flagged=1&suggested=1&limit=10");
  ASSERT_FALSE(res["hits"].empty());
  // Lower is less certain; the badge is the asset's least certain visible
  // tag (rejected ones are not visible), least confident within its tier.
  static const std::map<std::string, int> rank = {
      {"flagged", 0}, {"suggested", 1}, {"auto", 2}, {"confirmed", 3}, {"human_set", 3}};
  int badges = 0;
  for (const auto& h : res["hits"]) {
    EXPECT_FALSE(h["ingested_at"].get<std::string>().empty());
    const json asset = get("/api/v1/assets/" + std::to_string(h["id"].get<std::int64_t>()));
    std::optional<json> weakest;
    for (const auto& t : asset["tags"]) {
      if (!rank.contains(t["state"])) continue;
      if (!weakest || rank.at(t["state"]) < rank.at((*weakest)["state"]) ||
          (rank.at(t["state"]) == rank.at((*weakest)["state"]) &&
           t["confidence"].get<double>() < (*weakest)["confidence"].get<double>()))
        weakest = t;
    }
    if (!weakest) {
      EXPECT_TRUE(h["badge"].is_null());
      continue;
    }
    ++badges;
    EXPECT_EQ(h["badge"]["tier"], (*weakest)["state"]);
    if (rank.at((*weakest)["state"]) < 3)
      EXPECT_NEAR(h["badge"]["confidence"].get<double>(), (*weakest)["confidence"].get<double>(),
                  1e-6);
  }
  EXPECT_GT(badges, 0);
}

TEST_F(BrowseApiTest, AnEmptyResultSaysWhy) {
  // No recogniser in this library: nothing carries a garment type.
  json res = get("/api/v1/search?flagged=1&q=white%20dress");
  EXPECT_EQ(res["total"], 0);
  EXPECT_NE(res["hint"].get<std::string>().find("garment_type"), std::string::npos) << res["hint"];
  EXPECT_NE(res["hint"].get<std::string>().find("recogniser"), std::string::npos) << res["hint"];
  // Chinese too.
  res = get("/api/v1/search?flagged=1&q=%E8%93%9D%E8%89%B2%E8%BF%9E%E8%A1%A3%E8%A3%99");
  EXPECT_EQ(res["total"], 0);
  EXPECT_NE(res["hint"].get<std::string>().find("garment_type"), std::string::npos) << res["hint"];
  // Words the taxonomy does not know, and no text model.
  res = get("/api/v1/search?q=zzqx");
  EXPECT_EQ(res["total"], 0);
  EXPECT_NE(res["hint"].get<std::string>().find("text model"), std::string::npos) << res["hint"];
  // A result is not explained.
  res = get("/api/v1/search?flagged=1");
  EXPECT_GT(res["total"], 0);
  EXPECT_EQ(res["hint"], "");
}

TEST_F(BrowseApiTest, FoldersAreShownRelativeToTheLibrarysRoot) {
  const json all = get("/api/v1/search?flagged=1&lang=zh");
  std::set<std::string> labels;
  for (const auto& c : all["counts"]) {
    if (c["attribute"] == "folder") labels.insert(c["label"]);
    if (c["attribute"] == "colour_family") EXPECT_NE(c["attribute_label"], "colour_family");
  }
  EXPECT_EQ(labels, (std::set<std::string>{"dresses", "shoes"}));
  const auto id = all["hits"][0]["id"].get<std::int64_t>();
  const json asset = get("/api/v1/assets/" + std::to_string(id));
  const std::string shown = asset["display_path"];
  EXPECT_TRUE(shown.rfind("dresses/", 0) == 0 || shown.rfind("shoes/", 0) == 0) << shown;
}

TEST_F(BrowseApiTest, SimilarByUploadSaysNoCloseMatchInsteadOfListingUnrelatedPhotos) {
  // A checkerboard: no product photo is anywhere near it.
  cv::Mat board(200, 200, CV_8UC3);
  for (int y = 0; y < 200; ++y)
    for (int x = 0; x < 200; ++x)
      board.at<cv::Vec3b>(y, x) =
          ((x / 8) ^ (y / 8)) & 1 ? cv::Vec3b(255, 0, 255) : cv::Vec3b(0, 255, 0);
  std::vector<unsigned char> png;
  cv::imencode(".png", board, png);
  json res = similar(std::string(png.begin(), png.end()));
  EXPECT_TRUE(res["hits"].empty()) << res.dump();
  EXPECT_EQ(res["total"], 0);
  EXPECT_NE(res["hint"].get<std::string>().find("no close match"), std::string::npos);

  // A photo of the library itself is a close match (distance 0).
  const auto a = lib_->store().find_asset(lib_->store().asset_ids().front());
  std::ifstream in(a->source_path, std::ios::binary);
  res = similar({std::istreambuf_iterator<char>(in), {}});
  ASSERT_FALSE(res["hits"].empty());
  EXPECT_EQ(res["hits"][0]["id"], a->id);
  EXPECT_FALSE(res.contains("hint"));
}

TEST_F(BrowseApiTest, DashboardCountsEveryRecentAuditEventByTier) {
  const json d = get("/api/v1/dashboard?days=7");
  EXPECT_EQ(d["days"], 7);
  EXPECT_FALSE(d["truncated"]);
  std::int64_t counted = 0;
  for (const auto& day : d["tiers_per_day"])
    for (auto& [tier, n] : day["tiers"].items()) counted += n.get<std::int64_t>();
  std::int64_t events = 0;
  for (std::int64_t before = 0;;) {
    const auto page = lib_->store().recent_tag_events(before, 500);
    events += static_cast<std::int64_t>(page.size());
    if (page.size() < 500) break;
    before = page.back().id;
  }
  EXPECT_GT(events, 0);
  EXPECT_EQ(counted, events);
  EXPECT_EQ(d["events_read"], events);
  for (const char* key : {"throughput_per_day", "audit", "accuracy", "drift"})
    EXPECT_TRUE(d[key].is_array()) << key;
  get("/api/v1/dashboard?days=0", 400);
}

}  // namespace
}  // namespace tagsmith::server
