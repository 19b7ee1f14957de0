#pragma once
// `tagsmith serve`: the JSON API under /api/v1 and the web UI, over one library.
//
// Contract:
//  * every route declares the least role it needs (public, viewer, reviewer,
//    admin); the check runs before the handler. No credentials -> 401, too
//    low a role -> 403, both with {"error": {"status", "message"}};
//  * credentials: "Authorization: Bearer <token>" (API clients) or the
//    session cookie set by POST /api/v1/session (browsers). Requests that
//    change state with a session cookie must carry its CSRF token in the
//    X-CSRF-Token header (403 otherwise), so another site cannot make a
//    logged-in browser act;
//  * request bodies are JSON (400 on malformed JSON) except uploads
//    (multipart/form-data); uploads are size-checked before anything is
//    written, stored under DIR/originals/<sha256>.<ext> (never a client
//    chosen path), and ingested with pixel limits checked before decoding;
//  * a handler that throws answers 500 with a JSON body; the server goes on;
//  * the route table is the OpenAPI document (GET /api/v1/openapi.json), so
//    the two cannot drift apart;
//  * static UI files are compiled into the binary: nothing is read from disk
//    for a URL, so no path can escape.
// Handlers keep per-request state on the stack; shared state (the tagging
// service, the search index) is guarded inside the server, and the Store is
// thread-safe, so requests run concurrently on the worker pool.
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "tagsmith/app/context.h"

namespace tagsmith::server {

struct ServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;  // 0: any free port (see Server::port())
  // Worker threads that run complete requests. Connections do not hold one:
  // requests are read and answers written by `io_threads` event loops.
  int threads = 32;
  int io_threads = 2;
  std::uint64_t max_upload_bytes = 64ull << 20;  // whole request body
  std::uint64_t max_file_bytes = 50ull << 20;    // one uploaded image
  std::uint64_t max_pixels = 60'000'000;
  std::size_t max_files_per_upload = 100;
  std::string tls_cert, tls_key;  // both set: HTTPS (and Secure cookies)
  bool secure_cookies = false;    // behind a TLS-terminating proxy
  std::chrono::seconds session_ttl{12 * 3600};

  // Slow or many clients (total deadlines, not per-read timeouts).
  std::chrono::seconds header_timeout{10};      // request line + headers (+ TLS handshake)
  std::chrono::seconds body_timeout{60};        // the whole body, once the head is in
  std::chrono::seconds write_timeout{30};       // the whole answer
  std::chrono::seconds keep_alive_timeout{15};  // idle between requests
  std::size_t max_header_bytes = 16 * 1024;     // 431 beyond
  int max_connections = 2048;                   // open connections in all
  int max_connections_per_address = 256;        // from one client address
  // Addresses of reverse proxies whose X-Forwarded-For is believed (exempt
  // from the per-address connection limit). Anyone else's is ignored.
  std::vector<std::string> trusted_proxies;

  // Login throttling: failed logins counted over a sliding window, per
  // account name and per client address; over the limit -> 429 + Retry-After.
  std::chrono::seconds login_window{15 * 60};
  int login_failures_per_account = 10;
  int login_failures_per_address = 30;
};

// What one route is, for the OpenAPI document and the tests.
struct RouteInfo {
  std::string method;  // "GET", "POST", "DELETE"
  std::string path;    // OpenAPI template: "/api/v1/assets/{id}"
  std::string access;  // "public" | "viewer" | "reviewer" | "admin"
  std::string summary;
  std::string tag;   // OpenAPI tag (group)
  std::string body;  // "" | "json" | "multipart"
};

class Server {
 public:
  // Serves the library of `context`, through its models: uploads and reviews
  // go through its tagging service (every score provider the library can
  // use); natural-language and similar-image search use its encoder (without
  // one, search uses facets and the taxonomy only, and similar images are
  // found by perceptual hash). `context` must outlive the server.
  Server(app::LibraryContext& context, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds the listening socket; returns the port (useful with port 0).
  // Throws Error when the address cannot be bound.
  int bind();
  // Serves until stop() (call bind() first). Blocks.
  void run();
  void stop();
  bool running() const;  // run() is accepting connections
  int port() const;
  bool tls() const;

  const std::vector<RouteInfo>& routes() const;
  nlohmann::json openapi() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tagsmith::server
