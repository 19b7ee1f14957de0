// Fuzzes the HTTP API's JSON request bodies through the public server only:
// one Server per process over a small temporary library (a few synthetic
// photos, ingested and tagged), bound to a free loopback port and run on its
// own thread; each input is sent as the body of one of the routes that take
// JSON, with an admin token, over one keep-alive connection. The contract
// under test: a request body never makes the server answer 5xx (malformed or
// unexpected JSON is the client's mistake: 4xx) and never stops it answering.
//
// Input layout: byte 0 picks the route, byte 1 the path parameters (an
// existing id, a missing one, an odd one), the rest is the body.
#include <httplib.h>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <memory>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include "tagsmith/app/context.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/image/synthetic.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/library/library.h"
#include "tagsmith/server/auth.h"
#include "tagsmith/server/server.h"
#include "tagsmith/tagging/service.h"

namespace {

using namespace tagsmith;
namespace fs = std::filesystem;

struct Route {
  std::string method, path;
};

// Everything lives for the whole process: libFuzzer never returns from its
// loop normally, and a server torn down at exit would only add noise.
struct Fixture {
  fs::path dir;
  std::unique_ptr<app::LibraryContext> context;
  std::unique_ptr<server::Server> server;
  std::thread thread;
  std::unique_ptr<httplib::Client> client;
  httplib::Headers headers;
  std::vector<Route> routes;
  std::int64_t asset_id = 1;

  Fixture() {
    image::init_decoder();
    char tmpl[] = "/tmp/tagsmith-fuzz-http-XXXXXX";
    if (!mkdtemp(tmpl)) std::abort();
    dir = tmpl;
    image::SampleCatalogueOptions photos;
    photos.count = 4;
    photos.size = 160;
    photos.with_problem_files = false;
    image::write_sample_catalogue(dir / "photos", photos);
    app::ModelOptions no_model;
    no_model.disabled = true;
    no_model.person_disabled = true;
    context = std::make_unique<app::LibraryContext>(library::Library::open(dir / "lib"), no_model);
    auto& lib = context->library();
    ingest::IngestOptions o;
    o.threads = 1;
    ingest::ingest(lib, {dir / "photos"}, o);
    tagging::TagService(lib).tag_all();
    if (!lib.store().asset_ids().empty()) asset_id = lib.store().asset_ids().front();
    server::add_user(lib.store(), "ada", server::Role::kAdmin, "correct horse battery");
    headers = {{"Authorization", "Bearer " + server::issue_token(lib.store(), "ada")}};

    server::ServerOptions so;
    so.port = 0;
    so.threads = 4;
    server = std::make_unique<server::Server>(*context, so);
    const int port = server->bind();
    thread = std::thread([this] { server->run(); });
    for (int i = 0; i < 500 && !server->running(); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(10));

    for (const auto& r : server->routes()) {
      if (r.body == "json") routes.push_back({r.method, r.path});
    }
    if (routes.empty()) std::abort();
    client = std::make_unique<httplib::Client>("127.0.0.1", port);
    client->set_keep_alive(true);
    client->set_read_timeout(20);
  }
};

Fixture& fixture() {
  static Fixture* f = new Fixture();  // never destroyed, see above
  return *f;
}

// "/api/v1/assets/{id}/tags" with the parameters `variant` picks.
std::string fill_path(const std::string& path, unsigned variant, std::int64_t asset_id) {
  static const std::regex param(R"(\{([^}]+)\})");
  const char* odd[] = {"0", "999999999", "-1", "x", "%2e%2e", "ada"};
  std::string out;
  std::sregex_iterator it(path.begin(), path.end(), param), end;
  std::size_t last = 0;
  for (; it != end; ++it) {
    out += path.substr(last, it->position() - last);
    const std::string name = (*it)[1];
    if (variant % 4 != 3) {
      if (name == "id")
        out += std::to_string(asset_id);
      else if (name == "name")
        out += "ada";
      else if (name == "version")
        out += "1";
      else
        out += "colour";
    } else {
      out += odd[(variant / 4) % std::size(odd)];
    }
    last = it->position() + it->length();
  }
  return out + path.substr(last);
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  (void)fixture();
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  Fixture& f = fixture();
  if (size < 2) return 0;
  const Route& route = f.routes[data[0] % f.routes.size()];
  const std::string path = fill_path(route.path, data[1], f.asset_id);
  const std::string body(reinterpret_cast<const char*>(data + 2), size - 2);
  const auto send = [&]() {
    const char* type = "application/json";
    if (route.method == "PUT") return f.client->Put(path, f.headers, body, type);
    if (route.method == "PATCH") return f.client->Patch(path, f.headers, body, type);
    if (route.method == "DELETE") return f.client->Delete(path, f.headers, body, type);
    return f.client->Post(path, f.headers, body, type);
  };
  const httplib::Result r = send();
  if (!r) {
    std::fprintf(stderr, "no answer to %s %s: %s\n", route.method.c_str(), path.c_str(),
                 httplib::to_string(r.error()).c_str());
    std::abort();
  }
  if (r->status >= 500) {
    std::fprintf(stderr, "%s %s answered %d: %s\n", route.method.c_str(), path.c_str(), r->status,
                 r->body.c_str());
    std::abort();
  }
  return 0;
}
