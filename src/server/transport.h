#pragma once
// The HTTP transport under tagsmith serve: Boost.Beast on Asio, event-driven.
//
// Contract:
//  * a connection costs a socket and a small buffer, never a thread: requests
//    are read asynchronously by a few I/O threads, and only a COMPLETE request
//    is handed to the fixed worker pool (ServerOptions::threads), which runs
//    the handler; the answer is written asynchronously again;
//  * total deadlines, not per-read timeouts: the request head (request line
//    and headers, and the TLS handshake of a new connection) must arrive
//    within header_timeout of its first byte, the body within body_timeout,
//    an answer must be taken within write_timeout, and an idle keep-alive
//    connection is closed after keep_alive_timeout. A client that trickles a
//    byte a second is cut off at the deadline;
//  * limits: at most max_connections open connections in all and
//    max_connections_per_address from one client address (trusted proxies
//    count only towards the global cap); the excess is answered 503 and
//    closed. Heads over max_header_bytes get 431; bodies over
//    max_upload_bytes get 413 as soon as Content-Length says so; a malformed
//    or negative Content-Length gets 400 at once;
//  * every connection-level answer is the API's JSON error shape.
#include <httplib.h>

#include <functional>
#include <memory>
#include <string>

#include "tagsmith/server/server.h"

namespace tagsmith::server::detail {

class Transport {
 public:
  // Runs on a worker thread with a complete request; fills the response.
  // `res.headers` starts with the default headers.
  using Handler = std::function<void(const httplib::Request&, httplib::Response&)>;
  // Builds the JSON body of a connection-level error answer.
  using ErrorBody = std::function<std::string(int status, const std::string& message)>;

  Transport(const ServerOptions& options, httplib::Headers default_headers, Handler handler,
            ErrorBody error_body);
  ~Transport();
  Transport(const Transport&) = delete;
  Transport& operator=(const Transport&) = delete;

  int bind(const std::string& host, int port);  // throws Error
  void run();                                   // blocks until stop()
  void stop();                                  // any thread, any time
  bool running() const;
  bool tls() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace tagsmith::server::detail
