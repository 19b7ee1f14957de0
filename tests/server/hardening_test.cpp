// The server under hostile or careless clients: slow and many connections,
// malformed framing, password guessing. Each test runs its own server with
// short deadlines; the only timing in the assertions is a generous client
// timeout that says "this was answered at all".
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <httplib.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "../../src/server/http_message.h"
#include "../../src/server/login_throttle.h"
#include "tagsmith/server/auth.h"
#include "tagsmith/server/server.h"
#include "temp_dir.h"

namespace tagsmith::server {
namespace {

using nlohmann::json;
using namespace std::chrono_literals;

// A server over an empty library with one admin, run on its own thread.
class RunningServer {
 public:
  explicit RunningServer(ServerOptions o) {
    app::ModelOptions no_model;
    no_model.disabled = true;
    context_ =
        std::make_unique<app::LibraryContext>(library::Library::open(dir_ / "lib"), no_model);
    add_user(context_->library().store(), "ada", Role::kAdmin, "correct horse battery");
    o.port = 0;
    if (o.threads == 32) o.threads = 4;
    server_ = std::make_unique<Server>(*context_, o);
    port_ = server_->bind();
    thread_ = std::thread([this] { server_->run(); });
    for (int i = 0; i < 500 && !server_->running(); ++i) std::this_thread::sleep_for(10ms);
  }
  ~RunningServer() {
    server_->stop();
    thread_.join();
  }
  int port() const { return port_; }
  store::Store& store() { return context_->library().store(); }
  httplib::Client client() const {
    httplib::Client c("127.0.0.1", port_);
    c.set_connection_timeout(10);
    c.set_read_timeout(20);
    c.set_write_timeout(20);
    return c;
  }

 private:
  test::TempDir dir_;
  std::unique_ptr<app::LibraryContext> context_;
  std::unique_ptr<Server> server_;
  std::thread thread_;
  int port_ = 0;
};

// A raw TCP connection to the server, for what no HTTP client would send.
class RawConnection {
 public:
  explicit RawConnection(int port) {
    fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<std::uint16_t>(port));
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    connected_ = ::connect(fd_, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
    timeval tv{30, 0};  // generous: only says "no answer at all"
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  }
  ~RawConnection() {
    if (fd_ >= 0) ::close(fd_);
  }
  RawConnection(const RawConnection&) = delete;
  RawConnection& operator=(const RawConnection&) = delete;
  bool connected() const { return connected_; }
  bool send(const std::string& s) {
    return ::send(fd_, s.data(), s.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(s.size());
  }
  // Everything until the peer closes (or the receive timeout).
  std::string read_until_closed(bool* closed = nullptr) {
    std::string out;
    char buf[4096];
    while (true) {
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n > 0) {
        out.append(buf, static_cast<std::size_t>(n));
        continue;
      }
      if (closed) *closed = n == 0 || errno == ECONNRESET;
      return out;
    }
  }
  // One response with a Content-Length body (enough for our answers).
  std::string read_response() {
    std::string out;
    char buf[4096];
    while (true) {
      const auto head_end = out.find("\r\n\r\n");
      if (head_end != std::string::npos) {
        const auto cl = out.find("Content-Length: ");
        const std::size_t len = cl == std::string::npos ? 0 : std::stoul(out.substr(cl + 16));
        if (out.size() >= head_end + 4 + len) return out;
      }
      const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n <= 0) return out;
      out.append(buf, static_cast<std::size_t>(n));
    }
  }

 private:
  int fd_ = -1;
  bool connected_ = false;
};

TEST(ServerHardening, SlowLorisClientsDoNotStopNormalRequests) {
  ServerOptions o;
  o.threads = 4;
  o.header_timeout = 3s;
  RunningServer s(o);
  // 64 connections that each send a request head one byte a second, far more
  // than the 4 workers.
  std::vector<std::unique_ptr<RawConnection>> slow;
  for (int i = 0; i < 64; ++i) slow.push_back(std::make_unique<RawConnection>(s.port()));
  std::atomic<bool> done{false};
  std::thread trickle([&] {
    const std::string head = "GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    for (std::size_t i = 0; !done && i < head.size() + 60; ++i) {
      for (auto& c : slow) c->send(std::string(1, i < head.size() ? head[i] : 'a'));
      for (int k = 0; k < 10 && !done; ++k) std::this_thread::sleep_for(100ms);
    }
  });
  // Normal requests are answered all the while.
  for (int i = 0; i < 20; ++i) {
    auto c = s.client();
    auto r = c.Get("/api/v1/openapi.json");
    ASSERT_TRUE(r) << "request " << i << ": " << httplib::to_string(r.error());
    EXPECT_EQ(r->status, 200);
  }
  // And the slow connections are cut off by the head deadline, not served.
  bool closed = false;
  const std::string got = slow.front()->read_until_closed(&closed);
  EXPECT_TRUE(closed);
  EXPECT_EQ(got.find("200 OK"), std::string::npos);
  done = true;
  trickle.join();
}

TEST(ServerHardening, NegativeContentLengthIsRejectedAtOnce) {
  RunningServer s(ServerOptions{});
  RawConnection c(s.port());
  ASSERT_TRUE(c.connected());
  ASSERT_TRUE(c.send("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: -5\r\n\r\n"));
  const std::string r = c.read_response();
  ASSERT_EQ(r.rfind("HTTP/1.1 400", 0), 0u) << r;
  EXPECT_NE(r.find("\"error\""), std::string::npos) << r;
}

TEST(ServerHardening, MalformedContentLengthIsRejected) {
  RunningServer s(ServerOptions{});
  RawConnection c(s.port());
  ASSERT_TRUE(c.send("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 12abc\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 400", 0), 0u);
}

TEST(ServerHardening, OversizedBodyIsRefusedFromItsContentLength) {
  ServerOptions o;
  o.max_upload_bytes = 1000;
  RunningServer s(o);
  RawConnection c(s.port());
  // The body never comes: the answer must not wait for it.
  ASSERT_TRUE(
      c.send("POST /api/v1/session HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 413", 0), 0u);
}

TEST(ServerHardening, OversizedHeadIsRefused) {
  ServerOptions o;
  o.max_header_bytes = 2048;
  RunningServer s(o);
  RawConnection c(s.port());
  ASSERT_TRUE(c.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(4096, 'a') + "\r\n\r\n"));
  EXPECT_EQ(c.read_response().rfind("HTTP/1.1 431", 0), 0u);
}

TEST(ServerHardening, IdleKeepAliveConnectionIsClosed) {
  ServerOptions o;
  o.keep_alive_timeout = 3s;  // the second request comes well within it
  RunningServer s(o);
  RawConnection c(s.port());
  ASSERT_TRUE(c.send("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"));
  const std::string first = c.read_response();
  ASSERT_EQ(first.rfind("HTTP/1.1 200", 0), 0u);
  // Kept alive for a second request...
  ASSERT_TRUE(c.send("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"));
  ASSERT_EQ(c.read_response().rfind("HTTP/1.1 200", 0), 0u);
  // ...but closed by the server once idle past the limit.
  bool closed = false;
  EXPECT_EQ(c.read_until_closed(&closed), "");
  EXPECT_TRUE(closed);
}

TEST(ServerHardening, ConnectionsPerAddressAreLimited) {
  ServerOptions o;
  o.max_connections_per_address = 4;
  RunningServer s(o);
  std::vector<std::unique_ptr<RawConnection>> held;
  for (int i = 0; i < 4; ++i) {
    held.push_back(std::make_unique<RawConnection>(s.port()));
    // A full round trip: the server has surely accepted this one.
    ASSERT_TRUE(held.back()->send("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n"));
    ASSERT_EQ(held.back()->read_response().rfind("HTTP/1.1 200", 0), 0u);
  }
  RawConnection excess(s.port());
  const std::string refused = excess.read_until_closed();
  EXPECT_EQ(refused.rfind("HTTP/1.1 503", 0), 0u) << refused;
  // A place freed is a place taken again.
  held.pop_back();
  bool answered = false;
  for (int attempt = 0; attempt < 200 && !answered; ++attempt) {
    RawConnection again(s.port());
    again.send("GET /api/v1/openapi.json HTTP/1.1\r\nHost: x\r\n\r\n");
    answered = again.read_response().rfind("HTTP/1.1 200", 0) == 0;
    if (!answered) std::this_thread::sleep_for(100ms);  // the close is noticed asynchronously
  }
  EXPECT_TRUE(answered);
}

TEST(ServerHardening, NumberOverflowInJsonIsABadRequest) {
  RunningServer s(ServerOptions{});
  auto c = s.client();
  auto r = c.Post("/api/v1/session", R"({"name": "ada", "password": 1e999})", "application/json");
  ASSERT_TRUE(r);
  EXPECT_EQ(r->status, 400);
  EXPECT_EQ(json::parse(r->body)["error"]["status"], 400);
}

json login_body(const std::string& password) {
  return {{"name", "ada"}, {"password", password}};
}

TEST(ServerHardening, PasswordGuessingIsThrottled) {
  ServerOptions o;
  o.login_window = 3600s;  // long enough that no failure ages out during the test
  o.login_failures_per_account = 5;
  RunningServer s(o);
  auto c = s.client();
  std::vector<int> statuses;
  for (int i = 0; i < 25; ++i) {
    auto r = c.Post("/api/v1/session", login_body("wrong " + std::to_string(i)).dump(),
                    "application/json");
    ASSERT_TRUE(r);
    statuses.push_back(r->status);
    if (r->status == 429) {
      ASSERT_TRUE(r->has_header("Retry-After"));
      const int wait = std::stoi(r->get_header_value("Retry-After"));
      EXPECT_GE(wait, 1);
      EXPECT_LE(wait, 3600);
      const json b = json::parse(r->body);
      EXPECT_EQ(b["error"]["status"], 429);
      EXPECT_NE(b["error"]["message"].get<std::string>().find("try again"), std::string::npos);
      EXPECT_EQ(b["error"]["details"]["retry_after_seconds"], wait);
    }
  }
  // Five guesses, then 429 from there on.
  EXPECT_EQ(std::count(statuses.begin(), statuses.begin() + 5, 401), 5);
  EXPECT_EQ(std::count(statuses.begin() + 5, statuses.end(), 429), 20);
  // While throttled, even the right password is refused.
  auto refused =
      c.Post("/api/v1/session", login_body("correct horse battery").dump(), "application/json");
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->status, 429);
  // Every failure, wrong or refused, is in the audit.
  const auto audit = s.store().login_failures(100);
  EXPECT_EQ(audit.size(), 26u);
  EXPECT_EQ(audit.front().account, "ada");
  EXPECT_EQ(audit.front().client, "127.0.0.1");
  EXPECT_FALSE(audit.front().throttled);
  EXPECT_TRUE(audit.back().throttled);
}

TEST(ServerHardening, TheRightPasswordWorksAfterTheStatedWait) {
  ServerOptions o;
  o.login_window = 2s;
  o.login_failures_per_account = 3;
  RunningServer s(o);
  auto c = s.client();
  int retry_after = 0;
  for (int i = 0; i < 100 && retry_after == 0; ++i) {
    auto r = c.Post("/api/v1/session", login_body("wrong").dump(), "application/json");
    ASSERT_TRUE(r);
    if (r->status == 429) retry_after = std::stoi(r->get_header_value("Retry-After"));
  }
  ASSERT_GT(retry_after, 0) << "never throttled";
  std::this_thread::sleep_for(std::chrono::seconds(retry_after) + 100ms);
  auto ok =
      c.Post("/api/v1/session", login_body("correct horse battery").dump(), "application/json");
  ASSERT_TRUE(ok);
  EXPECT_EQ(ok->status, 200) << ok->body;
}

TEST(ServerHardening, ForwardedForIsBelievedOnlyFromTrustedProxies) {
  for (const bool trusted : {false, true}) {
    ServerOptions o;
    o.login_failures_per_address = 3;
    if (trusted) o.trusted_proxies = {"127.0.0.1"};
    RunningServer s(o);
    auto c = s.client();
    // Three failures "from" 10.0.0.1, each against a different account.
    for (int i = 0; i < 3; ++i) {
      json b = {{"name", "nobody" + std::to_string(i)}, {"password", "x"}};
      auto r = c.Post("/api/v1/session", {{"X-Forwarded-For", "10.0.0.1"}}, b.dump(),
                      "application/json");
      ASSERT_TRUE(r);
      EXPECT_EQ(r->status, 401);
    }
    // Another address behind the proxy is throttled only if the header was ignored.
    auto r = c.Post("/api/v1/session", {{"X-Forwarded-For", "203.0.113.9, 10.0.0.2"}},
                    login_body("correct horse battery").dump(), "application/json");
    ASSERT_TRUE(r);
    EXPECT_EQ(r->status, trusted ? 200 : 429);
    const auto audit = s.store().login_failures(10);
    ASSERT_FALSE(audit.empty());
    EXPECT_EQ(audit.front().client, trusted ? "10.0.0.1" : "127.0.0.1");
  }
}

TEST(ServerHardening, ServesHttpsAndCutsOffSilentTlsClients) {
  test::TempDir d;
  const std::string cert = (d / "cert.pem").string(), key = (d / "key.pem").string();
  const std::string cmd =
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=localhost "
      "-keyout '" +
      key + "' -out '" + cert + "' >/dev/null 2>&1";
  if (std::system(cmd.c_str()) != 0) GTEST_SKIP() << "the openssl command is not available";
  ServerOptions o;
  o.tls_cert = cert;
  o.tls_key = key;
  o.header_timeout = 2s;
  RunningServer s(o);
  httplib::SSLClient c("127.0.0.1", s.port());
  c.enable_server_certificate_verification(false);
  c.set_read_timeout(20);
  auto r =
      c.Post("/api/v1/session", login_body("correct horse battery").dump(), "application/json");
  ASSERT_TRUE(r) << httplib::to_string(r.error());
  EXPECT_EQ(r->status, 200);
  EXPECT_NE(r->get_header_value("Set-Cookie").find("Secure"), std::string::npos);
  // A connection that never says hello is closed at the head deadline.
  RawConnection silent(s.port());
  bool closed = false;
  silent.read_until_closed(&closed);
  EXPECT_TRUE(closed);
}

TEST(LoginThrottle, SlidingWindowPerAccountAndPerAddress) {
  using detail::LoginThrottle;
  LoginThrottle t(10s, 2, 3);
  const auto t0 = LoginThrottle::Clock::time_point{} + 1000s;
  EXPECT_EQ(t.retry_after("a", "ip", t0).count(), 0);
  t.record_failure("a", "ip", t0);
  t.record_failure("a", "ip", t0 + 4s);
  EXPECT_EQ(t.retry_after("a", "ip", t0 + 5s).count(), 5);  // until the first ages out
  EXPECT_EQ(t.retry_after("b", "ip2", t0 + 5s).count(), 0);
  EXPECT_EQ(t.retry_after("a", "ip", t0 + 10s).count(), 0);
  t.record_failure("b", "ip", t0 + 5s);
  t.record_failure("d", "ip", t0 + 5s);  // third in the window from "ip": the address is full
  EXPECT_GT(t.retry_after("c", "ip", t0 + 6s).count(), 0);
  t.record_success("a");
  EXPECT_EQ(t.retry_after("a", "ip9", t0 + 6s).count(), 0);
}

TEST(HttpMessage, QueryAndPathDecoding) {
  std::string path;
  httplib::Params params;
  detail::parse_target("/api/v1/a%20b?q=white+dress&facet=a%3Db&facet=c&flag", path, params);
  EXPECT_EQ(path, "/api/v1/a b");
  EXPECT_EQ(params.count("facet"), 2u);
  EXPECT_EQ(params.find("q")->second, "white dress");
  EXPECT_EQ(params.find("flag")->second, "");
  EXPECT_EQ(detail::url_decode("%zz%4", false), "%zz%4");
}

TEST(HttpMessage, MultipartFormData) {
  const std::string body =
      "--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a b.jpg\"\r\n"
      "Content-Type: image/jpeg\r\n\r\n\x01\x02\r\n--X\r\n--XyZ\r\n"
      "Content-Disposition: form-data; name=\"note\"\r\n\r\nhello\r\n--XyZ--\r\n";
  httplib::MultipartFormDataMap files;
  ASSERT_TRUE(detail::parse_multipart("multipart/form-data; boundary=XyZ", body, files));
  ASSERT_EQ(files.size(), 2u);
  const auto& f = files.find("file")->second;
  EXPECT_EQ(f.filename, "a b.jpg");
  EXPECT_EQ(f.content_type, "image/jpeg");
  EXPECT_EQ(f.content, "\x01\x02\r\n--X");
  EXPECT_EQ(files.find("note")->second.content, "hello");
  httplib::MultipartFormDataMap none;
  EXPECT_FALSE(detail::parse_multipart(
      "multipart/form-data; boundary=XyZ",
      "--XyZ\r\nContent-Disposition: form-data; name=\"a\"\r\n\r\nno end", none));
  EXPECT_FALSE(detail::parse_multipart("multipart/form-data", body, none));
}

}  // namespace
}  // namespace tagsmith::server
