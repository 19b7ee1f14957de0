// tagsmith serve [--listen HOST:PORT] -- the JSON API and web UI over a library.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <thread>
#include <vector>

#include "commands.h"
#include "open_library.h"
#include "tagsmith/common/error.h"
#include "tagsmith/server/server.h"

namespace tagsmith::cli {
namespace {

volatile std::sig_atomic_t g_stop_requested = false;

struct ServeArgs {
  std::string listen = "127.0.0.1:8080";
  double max_upload_mb = 64;
  double max_file_mb = 50;
  double max_megapixels = 60;
  int workers = 32;
  std::string tls_cert, tls_key;
  bool secure_cookies = false;
  int header_timeout_s = 10, body_timeout_s = 60, keep_alive_timeout_s = 15;
  int max_connections = 2048, max_connections_per_address = 256;
  std::vector<std::string> trusted_proxies;
  int login_window_s = 15 * 60;
  int login_failures_per_account = 10, login_failures_per_address = 30;
};

// Loopback addresses only reach this machine; anything else crosses a network.
bool is_loopback(const std::string& host) {
  return host == "localhost" || host.rfind("127.", 0) == 0 || host == "::1";
}

std::pair<std::string, int> parse_listen(const std::string& s) {
  const auto colon = s.rfind(':');
  if (colon == std::string::npos || colon == 0)
    throw InputError(fmt::format("--listen expects HOST:PORT, got '{}'", s));
  std::string host = s.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  int port = -1;
  try {
    port = std::stoi(s.substr(colon + 1));
  } catch (const std::exception&) {
  }
  if (port < 0 || port > 65535) throw InputError(fmt::format("--listen: bad port in '{}'", s));
  return {host, port};
}

void serve(const GlobalOptions& g, const ServeArgs& a) {
  auto lib_context = open_library(g, OpenMode::existing);
  auto& lib = lib_context->library();
  server::ServerOptions o;
  std::tie(o.host, o.port) = parse_listen(a.listen);
  o.threads = a.workers;
  o.max_upload_bytes = static_cast<std::uint64_t>(a.max_upload_mb * 1024 * 1024);
  o.max_file_bytes = static_cast<std::uint64_t>(a.max_file_mb * 1024 * 1024);
  o.max_pixels = static_cast<std::uint64_t>(a.max_megapixels * 1e6);
  o.tls_cert = a.tls_cert;
  o.tls_key = a.tls_key;
  o.secure_cookies = a.secure_cookies;
  o.header_timeout = std::chrono::seconds(a.header_timeout_s);
  o.body_timeout = std::chrono::seconds(a.body_timeout_s);
  o.keep_alive_timeout = std::chrono::seconds(a.keep_alive_timeout_s);
  o.max_connections = a.max_connections;
  o.max_connections_per_address = a.max_connections_per_address;
  o.trusted_proxies = a.trusted_proxies;
  o.login_window = std::chrono::seconds(a.login_window_s);
  o.login_failures_per_account = a.login_failures_per_account;
  o.login_failures_per_address = a.login_failures_per_address;
  server::Server srv(*lib_context, o);
  const int port = srv.bind();

  // SIGINT/SIGTERM stop the server cleanly. Other libraries (libvips, BLAS)
  // run threads that could take the signal, so a handler (not sigwait) marks
  // it and a watcher thread stops the server.
  g_stop_requested = false;
  struct sigaction sa {};
  sa.sa_handler = [](int) { g_stop_requested = true; };
  sigemptyset(&sa.sa_mask);
  struct sigaction old_int = {};
  struct sigaction old_term = {};
  sigaction(SIGINT, &sa, &old_int);
  sigaction(SIGTERM, &sa, &old_term);
  std::atomic<bool> done{false};
  std::thread watcher([&srv, &done] {
    while (!done) {
      if (g_stop_requested) srv.stop();  // again until run() returns: it may not be listening yet
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  });

  const std::string scheme = srv.tls() ? "https" : "http";
  std::cout << fmt::format("tagsmith serve: listening on {}://{}:{}/ (library {})", scheme, o.host,
                           port, lib.dir().string())
            << std::endl;
  if (!srv.tls() && !is_loopback(o.host)) {
    std::cerr << fmt::format(
        "tagsmith serve: WARNING: listening on {} without TLS: passwords, session cookies and "
        "API tokens cross the network unencrypted. Use --tls-cert/--tls-key, or listen on "
        "127.0.0.1 behind a TLS-terminating reverse proxy (docs/deploy.md).\n",
        o.host);
  }
  if (lib.store().users().empty()) {
    std::cerr << "tagsmith serve: the library has no users yet; add one with: "
                 "tagsmith users add NAME --role admin --password-stdin\n";
  }
  srv.run();
  done = true;
  watcher.join();
  sigaction(SIGINT, &old_int, nullptr);
  sigaction(SIGTERM, &old_term, nullptr);
  std::cout << "tagsmith serve: stopped" << std::endl;
}

}  // namespace

void register_serve(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ServeArgs>();
  CLI::App* cmd =
      app.add_subcommand("serve", "Serve the JSON API (/api/v1) and the web UI over the library");
  cmd->add_option("--listen", a->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->capture_default_str();
  cmd->add_option("--workers", a->workers, "Worker threads")->capture_default_str();
  cmd->add_option("--max-upload-mb", a->max_upload_mb, "Largest request body")
      ->capture_default_str();
  cmd->add_option("--max-file-mb", a->max_file_mb, "Largest uploaded image")->capture_default_str();
  cmd->add_option("--max-megapixels", a->max_megapixels,
                  "Largest uploaded image in pixels (checked before decoding)")
      ->capture_default_str();
  cmd->add_option("--tls-cert", a->tls_cert, "PEM certificate: serve HTTPS");
  cmd->add_option("--tls-key", a->tls_key, "PEM private key for --tls-cert");
  cmd->add_flag("--secure-cookies", a->secure_cookies,
                "Mark cookies Secure (behind a TLS-terminating proxy)");
  cmd->add_option("--header-timeout", a->header_timeout_s,
                  "Seconds a client has to send a request's line and headers (in all)")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--body-timeout", a->body_timeout_s,
                  "Seconds a client has to send a request's body (in all)")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--keep-alive-timeout", a->keep_alive_timeout_s,
                  "Seconds an idle keep-alive connection stays open")
      ->capture_default_str()
      ->check(CLI::Range(1, 3600));
  cmd->add_option("--max-connections", a->max_connections, "Open connections in all")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--max-connections-per-address", a->max_connections_per_address,
                  "Open connections from one client address")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--trusted-proxy", a->trusted_proxies,
                  "Address of a reverse proxy whose X-Forwarded-For is trusted (repeatable)");
  cmd->add_option("--login-window", a->login_window_s,
                  "Seconds over which failed logins are counted")
      ->capture_default_str()
      ->check(CLI::Range(1, 86400));
  cmd->add_option("--login-failures-per-account", a->login_failures_per_account,
                  "Failed logins for one account within the window before 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->add_option("--login-failures-per-address", a->login_failures_per_address,
                  "Failed logins from one client address within the window before 429")
      ->capture_default_str()
      ->check(CLI::Range(1, 1000000));
  cmd->callback([a, &g] { serve(g, *a); });
}

}  // namespace tagsmith::cli
