// Several servers on one library (docs/deploy.md, "Many servers on one
// library"): what is written through one is served by the others within a
// second, and a browser session made on one is valid on the others.
//
// Each server is a separate in-process Server with its own LibraryContext
// (its own Store connection, facet snapshot and vector index), as separate
// `tagsmith serve` processes would have. The library is named by one string,
// its location: a directory, and a PostgreSQL database (with a files
// directory) in ctest's throw-away cluster.
#include <gtest/gtest.h>
#include <httplib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "fixtures.h"
#include "postgres_test_db.h"
#include "tagsmith/app/context.h"
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
using Clock = std::chrono::steady_clock;

const fs::path kShared = TAGSMITH_SHARED_DIR;
const char* const kModel = "mobilenet-v2-1.0-224-quant";

// Where the shared library lives, as the servers are told (--library).
struct LibraryLocation {
  std::string name;
  // A fresh, empty library location under `scratch` (a directory the test
  // removes afterwards).
  std::function<std::string(const fs::path& scratch)> make;
};
void PrintTo(const LibraryLocation& l, std::ostream* os) {
  *os << l.name;
}

const LibraryLocation kDirectory{
    "Directory", [](const fs::path& scratch) { return (scratch / "lib").string(); }};

// A fresh database in ctest's PostgreSQL test cluster, its files directory
// in the scratch directory; "" when there is no cluster (the test skips).
const LibraryLocation kPostgres{"Postgres", [](const fs::path& scratch) -> std::string {
                                  if (!test::postgres_test_cluster()) return "";
                                  ::setenv("TAGSMITH_FILES", (scratch / "files").c_str(), 1);
                                  return test::fresh_postgres_database();
                                }};

// One `tagsmith serve` on the library: its own context, server and thread.
class RunningServer {
 public:
  RunningServer(const std::string& library, const app::ModelOptions& models)
      : context_(library::Library::open(library), models) {
    ServerOptions so;
    so.port = 0;
    so.threads = 4;
    server_ = std::make_unique<Server>(context_, so);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    for (int i = 0; i < 200 && !server_->running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  RunningServer(const RunningServer&) = delete;
  RunningServer& operator=(const RunningServer&) = delete;

  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_read_timeout(30);
    return c;
  }

 private:
  app::LibraryContext context_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

httplib::Headers bearer(const std::string& token) {
  return {{"Authorization", "Bearer " + token}};
}

std::string jpeg_bytes(int w, int h, unsigned seed, cv::Scalar colour) {
  test::TempDir d;
  test::write_jpeg(d / "x.jpg", test::synthetic_product(w, h, seed, colour));
  std::ifstream in(d / "x.jpg", std::ios::binary);
  return {std::istreambuf_iterator<char>(in), {}};
}

// Writes a few product photos to `dir` and ingests them into `lib` (with the
// embedder when given).
void ingest_photos(library::Library& lib, const fs::path& dir, ingest::ImageEmbedder* embedder) {
  fs::create_directories(dir);
  const std::vector<cv::Scalar> colours = {
      {240, 240, 235}, {25, 35, 90}, {200, 20, 30}, {30, 140, 40}, {235, 230, 220}};
  for (int i = 0; i < static_cast<int>(colours.size()); ++i) {
    test::write_jpeg(dir / ("p" + std::to_string(i) + ".jpg"),
                     test::synthetic_product(240, 280, 10 + i, colours[i]));
  }
  ingest::IngestOptions o;
  o.threads = 2;
  o.embedder = embedder;
  ingest::ingest(lib, {dir}, o);
}

// Asks `ask` until it says yes or `within` has passed since `since`; true
// when a request started before the deadline said yes.
bool eventually(Clock::time_point since, std::chrono::milliseconds within,
                const std::function<bool()>& ask) {
  for (;;) {
    const auto started = Clock::now();
    if (started - since > within) return false;
    if (ask()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
}

class ManyServers : public ::testing::TestWithParam<LibraryLocation> {
 protected:
  static void SetUpTestSuite() { image::init_decoder(); }
  void SetUp() override {
    library_ = GetParam().make(scratch_.path());
    if (library_.empty()) GTEST_SKIP() << "no PostgreSQL test cluster (run via ctest)";
  }

  test::TempDir scratch_;
  std::string library_;
};

TEST_P(ManyServers, ATagConfirmedOnOneIsFoundOnTheOtherAndSessionsAreShared) {
  app::ModelOptions no_model;
  no_model.disabled = true;
  no_model.person_disabled = true;
  std::string token;
  store::AssetId target = 0;
  {
    // The library, prepared by someone else (the CLI): photos, machine tags,
    // a reviewer, and a suggestion on every photo for the reviewer to decide.
    auto lib = library::Library::open(library_);
    ingest_photos(*lib, scratch_ / "photos", nullptr);
    tagging::TagService(*lib).tag_all();
    add_user(lib->store(), "rex", Role::kReviewer, "correct horse battery");
    token = issue_token(lib->store(), "rex");
    std::vector<store::TagChange> changes;
    for (auto id : lib->store().asset_ids()) {
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
    lib->store().apply_tag_changes(changes);
    target = lib->store().asset_ids().at(1);
  }
  RunningServer a(library_, no_model), b(library_, no_model);
  auto ca = a.client(), cb = b.client();

  // Both serve the library as it is: suggestions are not search results.
  const std::string dresses = "/api/v1/search?facet=garment_type%3Ddress&limit=500";
  auto hits_on_b = [&]() -> std::vector<store::AssetId> {
    auto r = cb.Get(dresses.c_str(), bearer(token));
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    std::vector<store::AssetId> ids;
    if (!r || r->status != 200) return ids;
    const json res = json::parse(r->body);
    for (const auto& h : res["hits"]) ids.push_back(h["id"].get<store::AssetId>());
    return ids;
  };
  ASSERT_TRUE(hits_on_b().empty());

  // Confirmed through A ...
  const json decision = {{"asset", target}, {"attribute", "garment_type"}, {"node", "dress"}};
  auto r = ca.Post("/api/v1/review/confirm", bearer(token), decision.dump(), "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const auto confirmed_at = Clock::now();

  // ... found through B within a second.
  std::vector<store::AssetId> seen;
  EXPECT_TRUE(eventually(confirmed_at, std::chrono::milliseconds(1000),
                         [&] {
                           seen = hits_on_b();
                           return seen == std::vector<store::AssetId>{target};
                         }))
      << "B still answers " << seen.size() << " hits a second after the confirmation on A";

  // A browser session made on A is valid on B, and so is its CSRF token.
  r = ca.Post("/api/v1/session", R"({"name":"rex","password":"correct horse battery"})",
              "application/json");
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const std::string set_cookie = r->get_header_value("Set-Cookie");
  const std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  const std::string csrf = json::parse(r->body)["csrf_token"];
  r = cb.Get("/api/v1/session", {{"Cookie", cookie}});
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_EQ(json::parse(r->body)["name"], "rex");
  EXPECT_EQ(json::parse(r->body)["csrf_token"], csrf);
  r = cb.Post("/api/v1/review/reject", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}},
              decision.dump(), "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200) << r->body;
  // Logged out on B: gone on A too.
  r = cb.Delete("/api/v1/session", {{"Cookie", cookie}, {"X-CSRF-Token", csrf}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 200);
  r = ca.Get("/api/v1/session", {{"Cookie", cookie}});
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 401);
}

// The vector index follows too: a photo uploaded through A (embedded there)
// is the best match on B for the same photo within a second. Needs a real
// encoder (../shared); a fake one could not go through the server's model
// loading.
TEST_P(ManyServers, APhotoUploadedOnOneIsSimilarOnTheOther) {
  if (!fs::exists(kShared / "models" / kModel))
    GTEST_SKIP() << "../shared/models/" << kModel << " is absent";
  app::ModelOptions model;
  model.models_dir = (kShared / "models").string();
  model.name = kModel;
  model.person_disabled = true;
  model.threads = 1;
  std::string token;
  {
    app::LibraryContext ctx(library::Library::open(library_), model);
    ASSERT_TRUE(ctx.adopt_encoder());
    auto embedder = ctx.embedder();
    ingest_photos(ctx.library(), scratch_ / "photos", embedder.get());
    add_user(ctx.store(), "rex", Role::kReviewer, "correct horse battery");
    token = issue_token(ctx.store(), "rex");
  }
  RunningServer a(library_, model), b(library_, model);
  auto ca = a.client(), cb = b.client();
  const std::string photo = jpeg_bytes(230, 270, 99, {60, 120, 200});
  auto best_on_b = [&]() -> store::AssetId {
    httplib::MultipartFormDataItems items = {{"file", photo, "q.jpg", "image/jpeg"}};
    auto r = cb.Post("/api/v1/search/similar", bearer(token), items);
    EXPECT_TRUE(r && r->status == 200) << (r ? r->body : "no answer");
    if (!r || r->status != 200) return 0;
    const json res = json::parse(r->body);
    EXPECT_EQ(res["method"], "embedding");
    return res["hits"].empty() ? 0 : res["hits"][0]["id"].get<store::AssetId>();
  };
  best_on_b();  // B has its index before the upload

  httplib::MultipartFormDataItems upload = {{"file", photo, "new.jpg", "image/jpeg"}};
  auto r = ca.Post("/api/v1/assets", bearer(token), upload);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->status, 200) << r->body;
  const json files = json::parse(r->body)["files"];
  ASSERT_EQ(files.size(), 1u);
  ASSERT_EQ(files[0]["status"], "ingested") << files.dump();
  const store::AssetId uploaded = files[0]["asset"]["id"];
  const auto uploaded_at = Clock::now();
  store::AssetId best = 0;
  EXPECT_TRUE(eventually(uploaded_at, std::chrono::milliseconds(1000),
                         [&] {
                           best = best_on_b();
                           return best == uploaded;
                         }))
      << "B's best match is still asset " << best << ", not the upload " << uploaded;
}

INSTANTIATE_TEST_SUITE_P(Stores, ManyServers, ::testing::Values(kDirectory, kPostgres),
                         [](const auto& info) { return info.param.name; });

}  // namespace
}  // namespace tagsmith::server
