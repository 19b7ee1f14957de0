// The JSON API end to end: a real server on 127.0.0.1 (random free port)
// over a small generated library, driven with httplib's client.
#include "tagsmith/server/server.h"

#include <gtest/gtest.h>
#include <httplib.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

#include "fixtures.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/library/library.h"
#include "tagsmith/server/auth.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith::server {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

class ServerTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    image::init_decoder();
    dir_ = new test::TempDir();
    const fs::path photos = *dir_ / "photos";
    fs::create_directories(photos);
    const std::vector<cv::Scalar> colours = {
        {240, 240, 235}, {25, 35, 90}, {200, 20, 30}, {30, 140, 40}, {235, 230, 220}};
    for (int i = 0; i < static_cast<int>(colours.size()); ++i) {
      test::write_jpeg(photos / ("p" + std::to_string(i) + ".jpg"),
                       test::synthetic_product(240, 280, 10 + i, colours[i]));
    }
    app::ModelOptions no_model;
    no_model.disabled = true;
    context_ = new app::LibraryContext(library::Library::open(*dir_ / "lib"), no_model);
    lib_ = &context_->library();
    ingest::IngestOptions o;
    o.threads = 2;
    ingest::ingest(*lib_, {photos}, o);
    tagging::TagService(*lib_).tag_all();
    for (const auto& [name, role] : std::vector<std::pair<std::string, Role>>{
             {"vera", Role::kViewer}, {"rex", Role::kReviewer}, {"ada", Role::kAdmin}}) {
      add_user(lib_->store(), name, role, "correct horse battery");
      tokens_[name] = issue_token(lib_->store(), name);
    }
    ServerOptions so;
    so.port = 0;
    so.threads = 16;
    so.max_file_bytes = 300 * 1024;
    so.max_upload_bytes = 1024 * 1024;
    so.max_pixels = 4'000'000;
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

  static httplib::Headers auth(const std::string& who) {
    if (who.empty()) return {};
    return {{"Authorization", "Bearer " + tokens_.at(who)}};
  }
  httplib::Client client() {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }
  httplib::Result send(const std::string& method, const std::string& path, const std::string& who,
                       const std::string& body = {}, const std::string& type = "application/json") {
    auto c = client();
    const auto h = auth(who);
    if (method == "GET") return c.Get(path.c_str(), h);
    if (method == "DELETE") return c.Delete(path.c_str(), h, body, type.c_str());
    if (method == "PUT") return c.Put(path.c_str(), h, body, type.c_str());
    return c.Post(path.c_str(), h, body, type.c_str());
  }
  static json body(const httplib::Result& r) { return json::parse(r->body); }
  static std::int64_t first_asset() { return lib_->store().asset_ids().front(); }

  static test::TempDir* dir_;
  static app::LibraryContext* context_;
  static library::Library* lib_;
  static Server* server_;
  static std::thread* thread_;
  static int port_;
  static std::map<std::string, std::string> tokens_;
};
test::TempDir* ServerTest::dir_ = nullptr;
app::LibraryContext* ServerTest::context_ = nullptr;
library::Library* ServerTest::lib_ = nullptr;
Server* ServerTest::server_ = nullptr;
std::thread* ServerTest::thread_ = nullptr;
int ServerTest::port_ = 0;
std::map<std::string, std::string> ServerTest::tokens_;

std::string jpeg_bytes(int w, int h, unsigned seed) {
  test::TempDir d;
  test::write_jpeg(d / "x.jpg", test::synthetic_product(w, h, seed, {240, 240, 240}));
  std::ifstream in(d / "x.jpg", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

TEST_F(ServerTest, OpenApiListsExactlyTheRegisteredRoutes) {
  auto r = send("GET", "/api/v1/openapi.json", "");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  const json doc = body(r);
  EXPECT_EQ(doc["openapi"], "3.0.3");
  std::set<std::pair<std::string, std::string>> documented, registered;
  for (auto& [path, ops] : doc["paths"].items()) {
    for (auto& [method, op] : ops.items()) {
      std::string m = method;
      for (auto& ch : m) ch = static_cast<char>(std::toupper(ch));
      documented.insert({m, path});
    }
  }
  for (const auto& route : server_->routes()) registered.insert({route.method, route.path});
  EXPECT_EQ(documented, registered);
  EXPECT_GE(registered.size(), 30u);
  // And each documented route is really answered (not 404 "no such route").
  for (const auto& [method, path] : documented) {
    std::string p = path;
    auto sub = [&](const std::string& from, const std::string& to) {
      if (auto i = p.find(from); i != std::string::npos) p.replace(i, from.size(), to);
    };
    sub("{id}", std::to_string(first_asset()));
    sub("{attribute}", "colour_family");
    sub("{node}", "white");
    sub("{name}", "vera");
    sub("{version}", "nope");
    auto res = send(method, p, "");
    ASSERT_TRUE(res) << method << " " << p;
    std::string lower = method;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(ch));
    const bool is_public = doc["paths"][path][lower]["x-required-role"] == "public";
    if (!is_public) {
      EXPECT_EQ(res->status, 401) << method << " " << p;
    } else {
      EXPECT_NE(res->status, 404) << method << " " << p;
    }
  }
}

TEST_F(ServerTest, EveryRouteChecksTheRoleOfEveryCaller) {
  const std::map<std::string, int> rank = {{"viewer", 1}, {"reviewer", 2}, {"admin", 3}};
  const std::map<std::string, std::string> role_of = {
      {"vera", "viewer"}, {"rex", "reviewer"}, {"ada", "admin"}};
  for (const auto& route : server_->routes()) {
    if (route.access == "public") continue;
    std::string p = route.path;
    auto sub = [&](const std::string& from, const std::string& to) {
      if (auto i = p.find(from); i != std::string::npos) p.replace(i, from.size(), to);
    };
    sub("{id}", std::to_string(first_asset()));
    sub("{attribute}", "colour_family");
    sub("{node}", "not_a_node");
    sub("{name}", "vera");
    sub("{version}", "no-such-model");
    // DELETE /api/v1/session would end nothing for a token; harmless.
    auto none = send(route.method, p, "", "{}");
    ASSERT_TRUE(none);
    EXPECT_EQ(none->status, 401) << route.method << " " << p;
    EXPECT_EQ(body(none)["error"]["status"], 401);
    for (const auto& [who, role] : role_of) {
      auto r = send(route.method, p, who, "{}");
      ASSERT_TRUE(r) << route.method << " " << p;
      if (rank.at(role) < rank.at(route.access)) {
        EXPECT_EQ(r->status, 403) << who << " " << route.method << " " << p;
        EXPECT_EQ(body(r)["error"]["status"], 403);
      } else {
        EXPECT_NE(r->status, 401) << who << " " << route.method << " " << p;
        EXPECT_NE(r->status, 403) << who << " " << route.method << " " << p;
        EXPECT_LT(r->status, 500) << who << " " << route.method << " " << p << " " << r->body;
      }
    }
  }
}

TEST_F(ServerTest, BadTokensAndSchemesAre401) {
  auto c = client();
  auto r = c.Get("/api/v1/assets", {{"Authorization", "Bearer tsk_nope"}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Get("/api/v1/assets", {{"Authorization", "Basic dXNlcjpwdw=="}});
  EXPECT_EQ(r->status, 401);
}

TEST_F(ServerTest, AssetsListGetThumbnailOriginalAndHistory) {
  auto r = send("GET", "/api/v1/assets?limit=2&offset=1", "vera");
  ASSERT_EQ(r->status, 200);
  const json list = body(r);
  EXPECT_EQ(list["total"], lib_->store().asset_ids().size());
  EXPECT_EQ(list["assets"].size(), 2u);
  const auto id = std::to_string(first_asset());
  r = send("GET", "/api/v1/assets/" + id, "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_FALSE(body(r)["tags"].empty());
  const std::string name = body(r)["name"];  // viewers see the file name, not server paths
  EXPECT_EQ(name.find('/'), std::string::npos) << name;
  EXPECT_NE(name.find(".jpg"), std::string::npos) << name;
  r = send("GET", "/api/v1/assets/" + id + "/thumbnail", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->get_header_value("Content-Type"), "image/jpeg");
  r = send("GET", "/api/v1/assets/" + id + "/original", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(static_cast<unsigned char>(r->body[0]), 0xFF);
  r = send("GET", "/api/v1/assets/" + id + "/history", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_FALSE(body(r)["events"].empty());
  r = send("GET", "/api/v1/assets/" + id + "/why/colour_family", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_FALSE(body(r)["text"].get<std::string>().empty());
  r = send("GET", "/api/v1/assets/999999", "vera");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"]["status"], 404);
  r = send("GET", "/api/v1/audit/events?limit=5", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_LE(body(r)["events"].size(), 5u);
}

TEST_F(ServerTest, TagsSetAndRemoveWriteAuditEvents) {
  const auto id = std::to_string(first_asset());
  auto r = send("POST", "/api/v1/assets/" + id + "/tags", "rex",
                R"({"attribute":"garment_type","node":"dress"})");
  ASSERT_EQ(r->status, 200) << r->body;
  r = send("GET", "/api/v1/assets/" + id + "/tags", "vera");
  bool found = false;
  const json tags = body(r)["tags"];
  for (const auto& t : tags) {
    if (t["attribute"] == "garment_type" && t["node"] == "dress") {
      found = true;
      EXPECT_EQ(t["state"], "human_set");
      EXPECT_EQ(t["actor"], "user:rex");
    }
  }
  EXPECT_TRUE(found) << r->body;
  r = send("DELETE", "/api/v1/assets/" + id + "/tags/garment_type/dress", "rex");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(body(r)["changed"]);
  r = send("POST", "/api/v1/assets/" + id + "/tags", "rex",
           R"({"attribute":"garment_type","node":"no_such_node"})");
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, ReviewQueueConfirmRejectCorrectAndBatch) {
  // Make sure there is something to review: a suggestion on every asset.
  std::vector<store::TagChange> changes;
  for (auto id : lib_->store().asset_ids()) {
    store::TagChange c;
    c.tag = {id,           "garment_type", "dress", store::TagState::kSuggested, 0.5,
             "model:test", "test",         1,       "2026-01-01T00:00:00.000Z",  "{}"};
    c.event = {0,
               id,
               "garment_type",
               "dress",
               store::TagAction::kProposed,
               "model:test",
               0.5,
               "test",
               1,
               "2026-01-01T00:00:00.000Z",
               "{}",
               ""};
    changes.push_back(c);
  }
  lib_->store().apply_tag_changes(changes);
  auto r = send("GET", "/api/v1/review/next?limit=50&attribute=garment_type", "rex");
  ASSERT_EQ(r->status, 200) << r->body;
  const json items = body(r)["items"];
  ASSERT_GE(items.size(), 4u);
  EXPECT_TRUE(items[0].contains("reason"));
  EXPECT_TRUE(items[0].contains("alternatives"));
  auto decision = [&](const json& item) {
    return json{{"asset", item["asset"]}, {"attribute", item["attribute"]}, {"node", item["node"]}};
  };
  r = send("POST", "/api/v1/review/confirm", "rex", decision(items[0]).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(body(r)["changed"]);
  r = send("POST", "/api/v1/review/reject", "rex", decision(items[1]).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json corr = decision(items[2]);
  corr["from"] = "dress";
  corr["to"] = "skirt";
  r = send("POST", "/api/v1/review/correct", "rex", corr.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  json batch = {
      {"decisions",
       json::array(
           {json{{"action", "confirm"},
                 {"asset", items[3]["asset"]},
                 {"attribute", "garment_type"},
                 {"node", "dress"}},
            json{{"action", "explode"}, {"asset", 1}, {"attribute", "x"}, {"node", "y"}}})}};
  r = send("POST", "/api/v1/review/batch", "rex", batch.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["failed"], 1);
  EXPECT_TRUE(body(r)["results"][0]["ok"]);
  // The confirmed one left the queue; the audit trail names the reviewer.
  const auto events =
      lib_->store().tag_events(items[0]["asset"].get<std::int64_t>(), "garment_type");
  ASSERT_FALSE(events.empty());
  EXPECT_EQ(events.back().actor, "user:rex");
  r = send("GET", "/api/v1/metrics", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_GE(body(r)["review"]["decisions_last_hour"].get<int>(), 4);
}

TEST_F(ServerTest, SearchWithTextFacetsAndCounts) {
  auto r = send("GET", "/api/v1/search?q=white", "vera");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json res = body(r);
  EXPECT_TRUE(res.contains("counts"));
  EXPECT_TRUE(res.contains("hits"));
  r = send("GET", "/api/v1/search?facet=format%3Djpeg", "vera");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(body(r)["total"], lib_->store().asset_ids().size());
  r = send("GET", "/api/v1/search?q=%E7%99%BD%E8%89%B2", "vera");  // 白色
  ASSERT_EQ(r->status, 200) << r->body;
  r = send("GET", "/api/v1/search?facet=nonsense%3Dx", "vera");
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, ExportDownloadsTheSearchSelectionAndIsAudited) {
  const std::size_t before = lib_->store().export_records(1000).size();
  // The count of a search equals the rows of its export.
  auto s = send("GET", "/api/v1/search?facet=format%3Djpeg&limit=1", "vera");
  ASSERT_EQ(s->status, 200) << s->body;
  const std::size_t total = body(s)["total"];
  auto r = send("GET", "/api/v1/export?format=json&facet=format%3Djpeg&lang=zh", "vera");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "application/json; charset=utf-8");
  EXPECT_NE(
      r->get_header_value("Content-Disposition").find("attachment; filename=\"tagsmith-export-"),
      std::string::npos);
  const json assets = body(r);
  ASSERT_EQ(assets.size(), total);
  EXPECT_EQ(assets[0]["path"], "") << "server paths are for admins";
  EXPECT_FALSE(assets[0]["file_name"].get<std::string>().empty());

  r = send("GET", "/api/v1/export?format=csv", "ada");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(r->get_header_value("Content-Type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r->body.rfind("asset_id,file_name,path,", 0), 0u);
  EXPECT_NE(r->body.find((*dir_ / "photos").string()), std::string::npos) << "admins see paths";

  EXPECT_EQ(send("GET", "/api/v1/export?format=xml", "vera")->status, 400);
  EXPECT_EQ(send("GET", "/api/v1/export?facet=nonsense%3Dx", "vera")->status, 400);
  EXPECT_EQ(send("GET", "/api/v1/export?q=zzkq", "vera")->status, 400);

  const auto records = lib_->store().export_records(1000);
  ASSERT_EQ(records.size(), before + 2) << "one audit record per download, none for refusals";
  EXPECT_EQ(records[before].actor, "user:vera");
  EXPECT_EQ(records[before].format, "json");
  EXPECT_EQ(records[before].query, "--facet format=jpeg");
  EXPECT_EQ(records[before].assets, static_cast<std::int64_t>(total));
  EXPECT_EQ(records[before].destination, "http");
  auto list = send("GET", "/api/v1/exports?limit=2", "ada");
  ASSERT_EQ(list->status, 200);
  EXPECT_EQ(body(list)["exports"].size(), 2u);
}

TEST_F(ServerTest, SimilarByUploadStoresNothing) {
  auto c = client();
  httplib::MultipartFormDataItems items = {
      {"file", jpeg_bytes(200, 200, 10), "q.jpg", "image/jpeg"}};
  auto r = c.Post("/api/v1/search/similar", auth("vera"), items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_FALSE(body(r)["hits"].empty());
  EXPECT_FALSE(fs::exists(lib_->dir() / "originals" / "q.jpg"));
}

TEST_F(ServerTest, UploadIngestsInsideTheLibraryOnly) {
  auto c = client();
  const std::string bytes = jpeg_bytes(220, 260, 77);
  httplib::MultipartFormDataItems items = {
      {"file", bytes, "../../../../tmp/evil.jpg", "image/jpeg"}};
  auto r = c.Post("/api/v1/assets", auth("rex"), items);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json res = body(r);
  ASSERT_EQ(res["files"].size(), 1u);
  EXPECT_EQ(res["files"][0]["status"], "ingested");
  EXPECT_FALSE(fs::exists("/tmp/evil.jpg"));
  const auto asset = lib_->store().find_asset(res["files"][0]["asset"]["id"].get<std::int64_t>());
  ASSERT_TRUE(asset);
  const fs::path stored = fs::weakly_canonical(asset->source_path);
  EXPECT_EQ(stored.string().rfind(fs::weakly_canonical(lib_->dir() / "originals").string(), 0), 0u)
      << stored;
  // Again: already there.
  r = c.Post("/api/v1/assets", auth("rex"), items);
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["files"][0]["status"], "exists");
  // Not an image.
  httplib::MultipartFormDataItems junk = {{"file", "hello, I am text", "a.jpg", "image/jpeg"}};
  r = c.Post("/api/v1/assets", auth("rex"), junk);
  EXPECT_EQ(r->status, 422);
  // Viewers may not upload.
  r = c.Post("/api/v1/assets", auth("vera"), items);
  EXPECT_EQ(r->status, 403);
}

TEST_F(ServerTest, OversizeUploadsAreRefusedBeforeDecoding) {
  auto c = client();
  // Over the per-file limit (300 KiB) but under the request limit.
  httplib::MultipartFormDataItems big = {
      {"file", std::string(400 * 1024, 'x'), "big.jpg", "image/jpeg"}};
  auto r = c.Post("/api/v1/assets", auth("rex"), big);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 413);
  EXPECT_EQ(body(r)["error"]["status"], 413);
  // Over the whole-request limit (1 MiB): httplib refuses it, still as JSON.
  httplib::MultipartFormDataItems huge = {
      {"file", std::string(2 * 1024 * 1024, 'x'), "huge.jpg", "image/jpeg"}};
  r = c.Post("/api/v1/assets", auth("rex"), huge);
  if (r) EXPECT_EQ(r->status, 413);  // the server may also just close the connection
  // A header claiming 40000x40000 pixels: refused on the header, nothing kept.
  test::TempDir d;
  test::write_png_bomb_header(d / "bomb.png", 40000, 40000);
  std::ifstream in(d / "bomb.png", std::ios::binary);
  const std::string bomb{std::istreambuf_iterator<char>(in), {}};
  httplib::MultipartFormDataItems items = {{"file", bomb, "bomb.png", "image/png"}};
  r = c.Post("/api/v1/assets", auth("rex"), items);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 422) << r->body;
  EXPECT_NE(body(r)["files"][0]["reason"].get<std::string>().find("pixels"), std::string::npos)
      << r->body;
  std::size_t pngs = 0;
  if (fs::exists(lib_->dir() / "originals")) {
    for (const auto& e : fs::recursive_directory_iterator(lib_->dir() / "originals"))
      pngs += e.path().extension() == ".png";
  }
  EXPECT_EQ(pngs, 0u);
  r = c.Post("/api/v1/search/similar", auth("vera"), items);
  EXPECT_EQ(r->status, 422);
}

TEST_F(ServerTest, MalformedJsonIs400WithAJsonError) {
  for (const std::string bad : {"{not json", "[1,2]", "", "\"str\""}) {
    auto r = send("POST", "/api/v1/review/confirm", "rex", bad);
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, 400) << bad;
    EXPECT_EQ(body(r)["error"]["status"], 400);
  }
  auto r = send("POST", "/api/v1/review/confirm", "rex", R"({"asset":"one"})");
  EXPECT_EQ(r->status, 400);
  r = send("GET", "/api/v1/assets?limit=abc", "vera");
  EXPECT_EQ(r->status, 400);
}

TEST_F(ServerTest, PathTraversalFindsNothing) {
  auto c = client();
  for (const std::string p :
       {"/api/v1/assets/..%2f..%2fetc%2fpasswd/original", "/api/v1/assets/../../etc/passwd",
        "/../../etc/passwd", "/%2e%2e/%2e%2e/etc/passwd", "/..%2f..%2fetc%2fpasswd",
        "/views/../../../etc/passwd", "/api/v1/assets/1/original/../../../../etc/passwd"}) {
    auto r = c.Get(p.c_str(), auth("ada"));
    ASSERT_TRUE(r) << p;
    EXPECT_TRUE(r->status == 404 || r->status == 400) << p << " -> " << r->status;
    EXPECT_EQ(r->body.find("root:"), std::string::npos) << p;
  }
}

TEST_F(ServerTest, ScriptInNamesIsEscapedJsonNeverHtml) {
  const auto id = first_asset();
  const std::string evil = "<script>alert(1)</script>";
  store::TagChange ch;
  ch.tag = {id,           "garment_type", evil, store::TagState::kSuggested, 0.4,
            "model:test", "test",         1,    "2026-01-01T00:00:00.000Z",  "{}"};
  ch.event = {0,
              id,
              "garment_type",
              evil,
              store::TagAction::kProposed,
              "model:test",
              0.4,
              "test",
              1,
              "2026-01-01T00:00:00.000Z",
              "{}",
              ""};
  lib_->store().apply_tag_changes(std::vector<store::TagChange>{ch});
  const std::vector<std::string> paths = {"/api/v1/assets/" + std::to_string(id) + "/tags",
                                          // a 0.4 suggestion is low-value: asked for
                                          "/api/v1/review/next?limit=200&include_low_value=1",
                                          "/api/v1/assets/" + std::to_string(id) + "/history"};
  for (const std::string& path : paths) {
    auto r = send("GET", path, "rex");
    ASSERT_EQ(r->status, 200) << path;
    EXPECT_EQ(r->body.find("<script>"), std::string::npos) << path;
    EXPECT_NE(r->get_header_value("Content-Type").find("application/json"), std::string::npos);
    EXPECT_EQ(r->get_header_value("X-Content-Type-Options"), "nosniff");
    EXPECT_NE(r->body.find(evil.substr(1, 6)), std::string::npos);  // the text survives, escaped
  }
  auto r = send("GET", "/api/v1/assets/" + std::to_string(id) + "/tags", "rex");
  bool round_trip = false;
  const json tags = body(r)["tags"];
  for (const auto& t : tags) round_trip |= t["node"] == evil;
  EXPECT_TRUE(round_trip) << r->body;
  // In a request: refused, and the message does not echo raw markup.
  r = send("POST", "/api/v1/assets/" + std::to_string(id) + "/tags", "rex",
           json{{"attribute", "garment_type"}, {"node", evil}}.dump());
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(r->body.find("<script>"), std::string::npos);
  r = send("POST", "/api/v1/users", "ada", json{{"name", evil}, {"role", "viewer"}}.dump());
  EXPECT_EQ(r->status, 400);
  // Remove the row again so other tests see a clean queue.
  store::TagChange rm = ch;
  rm.kind = store::TagChange::Kind::kRemove;
  rm.event.action = store::TagAction::kRemoved;
  lib_->store().apply_tag_changes(std::vector<store::TagChange>{rm});
}

TEST_F(ServerTest, BrowserSessionNeedsItsCsrfToken) {
  auto c = client();
  auto r = c.Post("/api/v1/session", R"({"name":"rex","password":"wrong password"})",
                  "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
  r = c.Post("/api/v1/session", R"({"name":"rex","password":"correct horse battery"})",
             "application/json");
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string set_cookie = r->get_header_value("Set-Cookie");
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = body(r)["csrf_token"];
  r = c.Get("/api/v1/session", {{"Cookie", cookie}});
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["name"], "rex");
  EXPECT_EQ(body(r)["csrf_token"], csrf);
  const std::string decision =
      json{{"asset", first_asset()}, {"attribute", "garment_type"}, {"node", "dress"}}.dump();
  r = c.Post("/api/v1/review/reject", {{"Cookie", cookie}}, decision, "application/json");
  EXPECT_EQ(r->status, 403);
  r = c.Post("/api/v1/review/reject",
             {{"Cookie", cookie}, {"X-CSRF-Token", (csrf[0] == '0' ? "1" : "0") + csrf.substr(1)}},
             decision, "application/json");
  EXPECT_EQ(r->status, 403);
  r = c.Post("/api/v1/review/reject", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}}, decision,
             "application/json");
  EXPECT_EQ(r->status, 200) << r->body;
  r = c.Delete("/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  EXPECT_EQ(r->status, 200);
  r = c.Get("/api/v1/session", {{"Cookie", cookie}});
  EXPECT_EQ(r->status, 401);
}

TEST_F(ServerTest, AdminRoutes) {
  auto r = send("GET", "/api/v1/taxonomy", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_FALSE(body(r)["attributes"].empty());
  r = send("POST", "/api/v1/taxonomy", "ada",
           json{{"yaml", "attributes:\n  - id: [oops\n"}}.dump());
  ASSERT_EQ(r->status, 422) << r->body;
  EXPECT_FALSE(body(r)["error"]["details"]["errors"].empty());
  EXPECT_GT(body(r)["error"]["details"]["errors"][0]["line"].get<int>(), 0);
  r = send("POST", "/api/v1/taxonomy", "rex", json{{"yaml", "x"}}.dump());
  EXPECT_EQ(r->status, 403);
  r = send("GET", "/api/v1/taxonomy/versions", "vera");
  ASSERT_EQ(r->status, 200);
  // Models: promote a candidate, then roll back to the one it replaced.
  lib_->store().add_model_version({0, "heads-1", store::ModelKind::kHeads, "",
                                   store::ModelStatus::kActive, "2026-01-01T00:00:00.000Z",
                                   "{\"macro_f1\":0.8}", ""});
  lib_->store().add_model_version({0, "heads-2", store::ModelKind::kHeads, "",
                                   store::ModelStatus::kCandidate, "2026-01-02T00:00:00.000Z", "{}",
                                   ""});
  r = send("POST", "/api/v1/models/heads-2/promote", "ada", R"({"force": "yes"})");
  EXPECT_EQ(r->status, 400) << r->body;  // not a boolean: the caller's mistake, not a 500
  r = send("POST", "/api/v1/models/heads-2/promote", "ada");
  ASSERT_EQ(r->status, 200) << r->body;
  // The promotion queued the catalogue's re-tag.
  EXPECT_EQ(body(r)["pending_tagging"], lib_->store().stats().assets);
  EXPECT_EQ(lib_->store().model_version("heads-1")->status, store::ModelStatus::kRetired);
  EXPECT_EQ(lib_->store().model_version("heads-2")->status, store::ModelStatus::kActive);
  r = send("POST", "/api/v1/models/rollback", "ada", R"({"kind":"heads"})");
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(lib_->store().model_version("heads-1")->status, store::ModelStatus::kActive);
  r = send("GET", "/api/v1/models", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(body(r)["models"].size(), 2u);
  r = send("GET", "/api/v1/metrics", "vera");
  ASSERT_EQ(r->status, 200);
  EXPECT_TRUE(body(r)["tier_shares"].contains("auto"));
  // Users.
  r = send("POST", "/api/v1/users", "ada",
           R"({"name":"newbie","role":"viewer","password":"long enough pw"})");
  EXPECT_EQ(r->status, 201) << r->body;
  r = send("POST", "/api/v1/users", "ada", R"({"name":"newbie","role":"viewer"})");
  EXPECT_EQ(r->status, 400);
  r = send("POST", "/api/v1/users/newbie/tokens", "ada");
  ASSERT_EQ(r->status, 201);
  const std::string token = body(r)["token"];
  auto c = client();
  r = c.Get("/api/v1/assets", {{"Authorization", "Bearer " + token}});
  EXPECT_EQ(r->status, 200);
  r = send("GET", "/api/v1/users", "ada");
  ASSERT_EQ(r->status, 200);
  EXPECT_EQ(r->body.find("pbkdf2"), std::string::npos);  // hashes never leave
}

TEST_F(ServerTest, StaticUiWithSecurityHeaders) {
  auto c = client();
  auto r = c.Get("/");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("text/html"), std::string::npos);
  EXPECT_NE(r->get_header_value("Content-Security-Policy").find("default-src 'self'"),
            std::string::npos);
  r = c.Get("/app.js");
  ASSERT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Content-Type").find("javascript"), std::string::npos);
  r = c.Get("/nope.js");
  EXPECT_EQ(r->status, 404);
  r = c.Post("/api/v1/nowhere", "{}", "application/json");
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(body(r)["error"]["status"], 404);
  r = c.Put("/api/v1/assets", "{}", "application/json");
  EXPECT_EQ(r->status, 405);
}

TEST_F(ServerTest, ConcurrentRequestsAllSucceed) {
  std::atomic<int> failures{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 12; ++t) {
    threads.emplace_back([&, t] {
      httplib::Client c("127.0.0.1", port_);
      const auto h = auth(t % 2 ? "rex" : "vera");
      for (int i = 0; i < 15; ++i) {
        const int k = (t + i) % 4;
        const std::string path = k == 0   ? "/api/v1/search?q=white"
                                 : k == 1 ? "/api/v1/assets?limit=10"
                                 : k == 2 ? "/api/v1/metrics"
                                          : "/api/v1/assets/" + std::to_string(first_asset());
        auto r = c.Get(path.c_str(), h);
        if (!r || (r->status != 200 && r->status != 503)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(failures.load(), 0);
}

// Review for a team over HTTP: claims keep two reviewers apart, a stale or
// held decision is 409 with a message naming who, undo restores the tag and
// is audited, and a selection batch reports each item's conflict alone.
TEST_F(ServerTest, ReviewForATeamClaimsConflictsAndUndo) {
  std::vector<store::TagChange> changes;
  for (auto id : lib_->store().asset_ids()) {
    store::TagChange c;
    c.tag = {id,           "garment_type", "dress", store::TagState::kSuggested, 0.5,
             "model:test", "test",         1,       "2026-01-01T00:00:00.000Z",  "{}"};
    c.event.asset_id = id;
    c.event.attribute = "garment_type";
    c.event.node = "dress";
    c.event.action = store::TagAction::kProposed;
    c.event.actor = "model:test";
    c.event.confidence = 0.5;
    c.event.at = c.tag.updated_at;
    changes.push_back(c);
  }
  lib_->store().apply_tag_changes(changes);
  // Earlier tests left Rex holding what he fetched; he gives it back.
  auto r = send("POST", "/api/v1/review/release", "rex", "{}");
  ASSERT_EQ(r->status, 200) << r->body;
  r = send("GET", "/api/v1/review/next?limit=2&attribute=garment_type", "ada");
  ASSERT_EQ(r->status, 200) << r->body;
  const json ada_items = body(r)["items"];
  ASSERT_EQ(ada_items.size(), 2u);
  EXPECT_EQ(ada_items[0]["claimed_by"], "ada");
  EXPECT_GT(ada_items[0]["version"].get<std::int64_t>(), 0);
  r = send("GET", "/api/v1/review/next?limit=50&attribute=garment_type", "rex");
  for (const auto& i : body(r)["items"])
    for (const auto& mine : ada_items) EXPECT_NE(i["asset"], mine["asset"]) << "handed to both";
  auto decision = [](const json& item, bool with_version = true) {
    json d = {{"asset", item["asset"]}, {"attribute", item["attribute"]}, {"node", item["node"]}};
    if (with_version) d["version"] = item["version"];
    return d;
  };
  // Ada holds it: Rex's decision is refused, naming her. (Ada, an admin,
  // reviews here: Rex's decisions of the other tests are his to undo.)
  r = send("POST", "/api/v1/review/confirm", "rex", decision(ada_items[0], false).dump());
  ASSERT_EQ(r->status, 409) << r->body;
  EXPECT_NE(r->body.find("being reviewed by ada"), std::string::npos) << r->body;
  r = send("POST", "/api/v1/review/confirm", "ada", decision(ada_items[0]).dump());
  ASSERT_EQ(r->status, 200) << r->body;
  // The version she saw is stale now: a second decision is refused.
  r = send("POST", "/api/v1/review/reject", "ada", decision(ada_items[0]).dump());
  ASSERT_EQ(r->status, 409) << r->body;
  EXPECT_NE(r->body.find("confirmed by ada"), std::string::npos) << r->body;
  // Undo: back to a suggestion, with an `undone` event, and the new version.
  r = send("POST", "/api/v1/review/undo", "vera", "{}");
  EXPECT_EQ(r->status, 403);
  r = send("POST", "/api/v1/review/undo", "ada", R"({"count":1})");
  ASSERT_EQ(r->status, 200) << r->body;
  const json undone = body(r)["undone"];
  ASSERT_EQ(undone.size(), 1u);
  EXPECT_EQ(undone[0]["action"], "confirm");
  EXPECT_EQ(undone[0]["item"]["state"], "suggested");
  EXPECT_GT(undone[0]["item"]["version"], ada_items[0]["version"]);
  const auto events =
      lib_->store().tag_events(ada_items[0]["asset"].get<std::int64_t>(), "garment_type");
  EXPECT_EQ(events.back().action, store::TagAction::kUndone);
  EXPECT_EQ(events.back().actor, "user:ada");
  r = send("POST", "/api/v1/review/undo", "ada", "{}");
  EXPECT_EQ(r->status, 404) << r->body;
  // A selection decided in one batch: the stale one fails alone.
  const json batch = {{"action", "reject"},
                      {"items", json::array({decision(ada_items[1]), decision(ada_items[0])})}};
  r = send("POST", "/api/v1/review/batch", "ada", batch.dump());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_TRUE(body(r)["results"][0]["ok"]);
  EXPECT_EQ(body(r)["results"][1]["status"], 409);
  EXPECT_EQ(body(r)["conflicts"], 1);
  for (const char* who : {"ada", "rex"}) {
    r = send("POST", "/api/v1/review/release", who, "{}");
    EXPECT_EQ(r->status, 200) << r->body;
  }
}

}  // namespace
}  // namespace tagsmith::server
