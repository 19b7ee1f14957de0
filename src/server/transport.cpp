// Boost.Beast transport: see transport.h for the contract.
#include "transport.h"

#include <fmt/format.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <deque>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <thread>
#include <type_traits>
#include <vector>

#include "http_message.h"
#include "tagsmith/common/error.h"

namespace tagsmith::server::detail {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = asio::ip::tcp;
using Clock = std::chrono::steady_clock;

// The client's address as text, IPv4-mapped IPv6 shown as IPv4.
std::string address_text(const asio::ip::address& a) {
  if (a.is_v6() && a.to_v6().is_v4_mapped())
    return asio::ip::make_address_v4(asio::ip::v4_mapped, a.to_v6()).to_string();
  return a.to_string();
}

// Open connections, in all and per client address. A Slot is one open
// connection; it gives its place back when destroyed.
class ConnectionLimits {
 public:
  class Slot {
   public:
    Slot() = default;
    Slot(ConnectionLimits* owner, std::string address)
        : owner_(owner), address_(std::move(address)) {}
    Slot(Slot&& o) noexcept : owner_(std::exchange(o.owner_, nullptr)), address_(o.address_) {}
    Slot& operator=(Slot&&) = delete;
    ~Slot() {
      if (owner_) owner_->release(address_);
    }

   private:
    ConnectionLimits* owner_ = nullptr;
    std::string address_;
  };

  ConnectionLimits(int total, int per_address, std::set<std::string> exempt)
      : max_total_(total), max_per_address_(per_address), exempt_(std::move(exempt)) {}

  // nullopt with the reason when the connection must be refused.
  std::optional<Slot> try_acquire(const std::string& address, std::string& why) {
    std::lock_guard lock(mu_);
    if (total_ >= max_total_) {
      why = "the server has too many open connections; try again shortly";
      return std::nullopt;
    }
    const bool counted = !exempt_.contains(address);
    if (counted) {
      int& n = per_address_[address];
      if (n >= max_per_address_) {
        why = "too many open connections from your address; close some and try again";
        return std::nullopt;
      }
      ++n;
    }
    ++total_;
    return std::optional<Slot>(std::in_place, this, counted ? address : std::string());
  }

 private:
  void release(const std::string& address) {
    std::lock_guard lock(mu_);
    --total_;
    if (address.empty()) return;
    auto it = per_address_.find(address);
    if (it != per_address_.end() && --it->second <= 0) per_address_.erase(it);
  }

  std::mutex mu_;
  int total_ = 0;
  const int max_total_;
  const int max_per_address_;
  const std::set<std::string> exempt_;
  std::map<std::string, int> per_address_;
};

// A fixed pool of threads that run complete requests.
class WorkerPool {
 public:
  explicit WorkerPool(int threads) {
    for (int i = 0; i < threads; ++i) threads_.emplace_back([this] { work(); });
  }
  ~WorkerPool() {
    {
      std::lock_guard lock(mu_);
      stopping_ = true;
      queue_.clear();
    }
    cv_.notify_all();
    for (auto& t : threads_) t.join();
  }
  void post(std::function<void()> task) {
    {
      std::lock_guard lock(mu_);
      if (stopping_) return;
      queue_.push_back(std::move(task));
    }
    cv_.notify_one();
  }

 private:
  void work() {
    while (true) {
      std::function<void()> task;
      {
        std::unique_lock lock(mu_);
        cv_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (stopping_) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }
  std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::vector<std::thread> threads_;
};

using Response = http::response<http::string_body>;

// What the sessions share (owned by Transport::Impl, which outlives them:
// the io_context that holds the sessions is destroyed first).
struct Shared {
  const ServerOptions& options;
  httplib::Headers default_headers;
  Transport::Handler handler;
  Transport::ErrorBody error_body;
  WorkerPool* pool = nullptr;

  Response error_response(int status, const std::string& message) const {
    Response r;
    r.version(11);
    r.result(static_cast<unsigned>(status));
    for (const auto& [k, v] : default_headers) r.insert(k, v);
    r.set(http::field::content_type, "application/json; charset=utf-8");
    r.set(http::field::connection, "close");
    r.body() = error_body(status, message);
    r.keep_alive(false);
    r.prepare_payload();
    return r;
  }
};

httplib::Request to_httplib(http::request<http::string_body>&& m, const tcp::endpoint& remote,
                            const tcp::endpoint& local) {
  httplib::Request r;
  r.method = std::string(m.method_string());
  r.target = std::string(m.target());
  r.version = m.version() == 10 ? "HTTP/1.0" : "HTTP/1.1";
  parse_target(r.target, r.path, r.params);
  for (const auto& f : m) r.headers.emplace(std::string(f.name_string()), std::string(f.value()));
  r.body = std::move(m.body());
  r.remote_addr = address_text(remote.address());
  r.remote_port = remote.port();
  r.local_addr = address_text(local.address());
  r.local_port = local.port();
  return r;
}

// `idle`: how long the connection may then wait for the next request. Two
// thirds of it are announced (Keep-Alive: timeout=N) so that clients retire an
// idle connection well before the server closes it, instead of racing the
// close with a new request (Node's fetch, for one, does not retry a POST that
// loses that race, and a loaded machine can stall a client for a second).
Response to_beast(httplib::Response&& res, bool head, bool keep_alive, std::chrono::seconds idle) {
  Response out;
  out.version(11);
  out.result(static_cast<unsigned>(res.status <= 0 ? 200 : res.status));
  for (const auto& [k, v] : res.headers) {
    // The transport frames the message itself.
    if (beast::iequals(k, "Content-Length") || beast::iequals(k, "Transfer-Encoding") ||
        beast::iequals(k, "Connection"))
      continue;
    out.insert(k, v);
  }
  out.keep_alive(keep_alive);
  if (keep_alive)
    out.set("Keep-Alive", "timeout=" + std::to_string(std::max<long>(1, idle.count() * 2 / 3)));
  if (head) {
    out.content_length(res.body.size());
  } else {
    out.body() = std::move(res.body);
    out.prepare_payload();
  }
  return out;
}

template <class Stream>
class Session : public std::enable_shared_from_this<Session<Stream>> {
  static constexpr bool kTls = !std::is_same_v<Stream, beast::tcp_stream>;

 public:
  template <class... Args>
  Session(const Shared& shared, ConnectionLimits::Slot slot, tcp::socket&& socket, Args&&... args)
      : shared_(shared),
        slot_(std::move(slot)),
        remote_(socket.remote_endpoint(ignored_)),
        local_(socket.local_endpoint(ignored_)),
        stream_(std::move(socket), std::forward<Args>(args)...) {}

  void start() {
    // The first request's head (and the handshake) must arrive within
    // header_timeout of the connection.
    lowest().expires_after(shared_.options.header_timeout);
    if constexpr (kTls) {
      stream_.async_handshake(asio::ssl::stream_base::server,
                              [self = this->shared_from_this()](beast::error_code ec) {
                                if (ec) return;  // the socket closes with the session
                                self->read_header();
                              });
    } else {
      read_header();
    }
  }

 private:
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }

  // Between requests: wait for the next one's first byte without a deadline
  // on the head yet (keep_alive_timeout bounds the wait).
  void wait_for_next_request() {
    if (buffer_.size() > 0) {
      lowest().expires_after(shared_.options.header_timeout);
      return read_header();
    }
    lowest().expires_after(shared_.options.keep_alive_timeout);
    stream_.async_read_some(buffer_.prepare(4096),
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t n) {
                              if (ec) return self->close();
                              self->buffer_.commit(n);
                              self->lowest().expires_after(self->shared_.options.header_timeout);
                              self->read_header();
                            });
  }

  void read_header() {
    parser_.emplace();
    parser_->header_limit(static_cast<std::uint32_t>(shared_.options.max_header_bytes));
    parser_->body_limit(shared_.options.max_upload_bytes);
    http::async_read_header(stream_, buffer_, *parser_,
                            [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                              self->on_header(ec);
                            });
  }

  // A read error: answer what the client got wrong, or just close.
  void fail_read(beast::error_code ec) {
    if (ec == http::error::header_limit)
      return send_error(431, "the request head is larger than the server accepts");
    if (ec == http::error::body_limit)
      return send_error(413, "the request is larger than the server accepts");
    if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close();
    if (ec.category() == http::make_error_code(http::error::bad_method).category())
      return send_error(400, fmt::format("malformed HTTP request: {}", ec.message()));
    close();  // timeout, reset, TLS failure: nobody to answer
  }

  void on_header(beast::error_code ec) {
    if (ec) return fail_read(ec);
    const auto& h = parser_->get();
    if (beast::iequals(h[http::field::expect], "100-continue") && !parser_->is_done()) {
      auto cont = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
      return http::async_write(
          stream_, *cont,
          [self = this->shared_from_this(), cont](beast::error_code ec2, std::size_t) {
            if (ec2) return self->close();
            self->read_body();
          });
    }
    read_body();
  }

  void read_body() {
    if (parser_->is_done()) return on_request();
    lowest().expires_after(shared_.options.body_timeout);
    http::async_read(stream_, buffer_, *parser_,
                     [self = this->shared_from_this()](beast::error_code ec, std::size_t) {
                       if (ec) return self->fail_read(ec);
                       self->on_request();
                     });
  }

  void on_request() {
    lowest().expires_never();  // the handler may take its time; the client waits
    auto message = parser_->release();
    parser_.reset();
    const bool keep_alive = message.keep_alive();
    const bool head = message.method() == http::verb::head;
    const std::string content_type(message[http::field::content_type]);
    auto req = std::make_shared<httplib::Request>(to_httplib(std::move(message), remote_, local_));
    if (req->is_multipart_form_data() && !parse_multipart(content_type, req->body, req->files)) {
      return send_error(400, "malformed multipart/form-data body");
    }
    shared_.pool->post([self = this->shared_from_this(), req, head, keep_alive] {
      httplib::Response res;
      res.headers = self->shared_.default_headers;
      try {
        self->shared_.handler(*req, res);
      } catch (const std::exception& e) {
        std::cerr << "tagsmith serve: " << req->method << " " << req->path << ": " << e.what()
                  << "\n";
        res = httplib::Response();
        res.status = 500;
        res.headers = self->shared_.default_headers;
        res.set_content(self->shared_.error_body(500, "internal error"),
                        "application/json; charset=utf-8");
      }
      auto out = std::make_shared<Response>(
          to_beast(std::move(res), head, keep_alive, self->shared_.options.keep_alive_timeout));
      asio::post(self->stream_.get_executor(), [self, out] { self->write(out); });
    });
  }

  void send_error(int status, const std::string& message) {
    write(std::make_shared<Response>(shared_.error_response(status, message)));
  }

  void write(std::shared_ptr<Response> res) {
    lowest().expires_after(shared_.options.write_timeout);
    http::async_write(stream_, *res,
                      [self = this->shared_from_this(), res](beast::error_code ec, std::size_t) {
                        if (ec) return self->close();
                        if (!res->keep_alive()) return self->close();
                        self->wait_for_next_request();
                      });
  }

  void close() {
    if constexpr (kTls) {
      if (!lowest().socket().is_open()) return;
      lowest().expires_after(std::chrono::seconds(2));
      stream_.async_shutdown([self = this->shared_from_this()](beast::error_code) {
        beast::error_code ignored;
        self->lowest().socket().shutdown(tcp::socket::shutdown_both, ignored);
      });
    } else {
      beast::error_code ignored;
      lowest().socket().shutdown(tcp::socket::shutdown_send, ignored);
      // The session (and the socket) ends with the last handler holding it.
    }
  }

  const Shared& shared_;
  ConnectionLimits::Slot slot_;
  beast::error_code ignored_;
  tcp::endpoint remote_, local_;
  Stream stream_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
};

}  // namespace

struct Transport::Impl {
  Impl(const ServerOptions& o, httplib::Headers headers, Handler handler, ErrorBody error_body)
      : options(o),
        limits(o.max_connections, o.max_connections_per_address,
               std::set<std::string>(o.trusted_proxies.begin(), o.trusted_proxies.end())),
        shared{o, std::move(headers), std::move(handler), std::move(error_body)},
        acceptor(ioc),
        retry_timer(ioc) {
    if (!o.tls_cert.empty()) {
      ssl.emplace(asio::ssl::context::tls_server);
      ssl->set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                       asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                       asio::ssl::context::no_tlsv1_1);
      try {
        ssl->use_certificate_chain_file(o.tls_cert);
        ssl->use_private_key_file(o.tls_key, asio::ssl::context::pem);
      } catch (const std::exception&) {
        throw InputError("cannot load the TLS certificate or key");
      }
    }
  }

  void accept() {
    acceptor.async_accept(asio::make_strand(ioc), [this](beast::error_code ec, tcp::socket socket) {
      if (ec) {
        if (!acceptor.is_open() || ec == asio::error::operation_aborted) return;
        // Out of file descriptors and the like: back off a little, go on.
        retry_timer.expires_after(std::chrono::milliseconds(50));
        retry_timer.async_wait([this](beast::error_code) { accept(); });
        return;
      }
      on_accept(std::move(socket));
      accept();
    });
  }

  void on_accept(tcp::socket socket) {
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    if (ec) return;
    std::string why;
    auto slot = limits.try_acquire(address_text(remote.address()), why);
    if (!slot) return refuse(std::move(socket), why);
    socket.set_option(tcp::no_delay(true), ec);
    if (ssl) {
      std::make_shared<Session<beast::ssl_stream<beast::tcp_stream>>>(shared, std::move(*slot),
                                                                      std::move(socket), *ssl)
          ->start();
    } else {
      std::make_shared<Session<beast::tcp_stream>>(shared, std::move(*slot), std::move(socket))
          ->start();
    }
  }

  // Over a limit: a plain-text 503 in one non-blocking write, then close. It
  // costs no buffer and no timer (TLS clients just see the close).
  void refuse(tcp::socket socket, const std::string& why) {
    beast::error_code ec;
    if (!ssl) {
      socket.non_blocking(true, ec);
      const std::string body = shared.error_body(503, why);
      const std::string text = fmt::format(
          "HTTP/1.1 503 Service Unavailable\r\nContent-Type: application/json; "
          "charset=utf-8\r\nContent-Length: {}\r\nRetry-After: 1\r\nConnection: close\r\n\r\n{}",
          body.size(), body);
      socket.write_some(asio::buffer(text), ec);
      socket.shutdown(tcp::socket::shutdown_send, ec);
    }
    socket.close(ec);
  }

  const ServerOptions& options;
  // Declaration order is destruction order reversed: the pool (whose tasks
  // hold sessions and post into the io_context) goes first, then the
  // io_context (holding the rest of the sessions), then what they use.
  ConnectionLimits limits;
  Shared shared;
  std::optional<asio::ssl::context> ssl;
  asio::io_context ioc;
  tcp::acceptor acceptor;
  asio::steady_timer retry_timer;
  std::unique_ptr<WorkerPool> pool;
  std::atomic<bool> running{false};
  std::atomic<bool> stopped{false};
};

Transport::Transport(const ServerOptions& options, httplib::Headers default_headers,
                     Handler handler, ErrorBody error_body)
    : impl_(std::make_unique<Impl>(options, std::move(default_headers), std::move(handler),
                                   std::move(error_body))) {
  // A client that hangs up mid-answer must cost an error code, not the
  // process (TLS writes go through OpenSSL, which does not ask for
  // MSG_NOSIGNAL).
  std::signal(SIGPIPE, SIG_IGN);
}

Transport::~Transport() {
  stop();
  impl_->pool.reset();
}

int Transport::bind(const std::string& host, int port) {
  auto& a = impl_->acceptor;
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  const auto results = resolver.resolve(
      host, std::to_string(port), tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty())
    throw Error(fmt::format("cannot listen on {}:{} (not a local address?)", host, port));
  const tcp::endpoint endpoint = results.begin()->endpoint();
  a.open(endpoint.protocol(), ec);
  if (!ec) a.set_option(asio::socket_base::reuse_address(true), ec);
  if (!ec) a.bind(endpoint, ec);
  if (!ec) a.listen(asio::socket_base::max_listen_connections, ec);
  if (ec) {
    a.close(ec);
    throw Error(
        fmt::format("cannot listen on {}:{} (in use, or not a local address?)", host, port));
  }
  return a.local_endpoint().port();
}

void Transport::run() {
  auto& i = *impl_;
  if (i.stopped) return;
  i.pool = std::make_unique<WorkerPool>(std::max(2, i.options.threads));
  i.shared.pool = i.pool.get();
  i.accept();
  const int io_threads = std::max(1, i.options.io_threads);
  std::vector<std::thread> extra;
  i.running = true;
  for (int t = 1; t < io_threads; ++t) extra.emplace_back([&i] { i.ioc.run(); });
  i.ioc.run();
  for (auto& t : extra) t.join();
  i.running = false;
}

void Transport::stop() {
  auto& i = *impl_;
  i.stopped = true;
  asio::post(i.ioc, [&i] {
    beast::error_code ec;
    i.acceptor.close(ec);
  });
  i.ioc.stop();
  i.running = false;
}

bool Transport::running() const {
  return impl_->running;
}

bool Transport::tls() const {
  return impl_->ssl.has_value();
}

}  // namespace tagsmith::server::detail
