// The HTTP server: one catch-all httplib handler per method feeds our own
// router, so authentication, CSRF, error mapping and the OpenAPI document all
// come from one route table.
#include "tagsmith/server/server.h"

#include <fmt/format.h>

#include <algorithm>
#include <iostream>
#include <regex>
#include <sstream>

#include "internal.h"
#include "tagsmith/common/clock.h"
#include "tagsmith/taxonomy/validation.h"
#include "transport.h"

namespace tagsmith::server {
namespace detail {

// ---- Call helpers ---------------------------------------------------------------

json Call::body() const {
  json j;
  try {
    j = json::parse(req.body);
  } catch (const json::exception& e) {
    // parse_error, and out_of_range for numbers no double holds (1e999).
    throw HttpError(400, fmt::format("malformed JSON body: {}", e.what()));
  }
  if (!j.is_object()) throw HttpError(400, "the request body must be a JSON object");
  return j;
}

std::string Call::query(const std::string& name, const std::string& fallback) const {
  return req.has_param(name) ? req.get_param_value(name) : fallback;
}

std::int64_t Call::query_int(const std::string& name, std::int64_t fallback, std::int64_t min,
                             std::int64_t max) const {
  if (!req.has_param(name)) return fallback;
  const std::string v = req.get_param_value(name);
  std::int64_t n = 0;
  try {
    std::size_t used = 0;
    n = std::stoll(v, &used);
    if (used != v.size()) throw std::invalid_argument(v);
  } catch (const std::exception&) {
    throw HttpError(400, fmt::format("query parameter '{}' must be an integer", name));
  }
  if (n < min || n > max)
    throw HttpError(400, fmt::format("query parameter '{}' must be in [{}, {}]", name, min, max));
  return n;
}

bool Call::query_bool(const std::string& name) const {
  const std::string v = query(name);
  return v == "1" || v == "true" || v == "yes";
}

std::int64_t Call::id_param(std::size_t i) const {
  try {
    return std::stoll(params.at(i));
  } catch (const std::exception&) {
    throw HttpError(404, "no such asset");
  }
}

json error_body(int status, const std::string& message, const json& details) {
  json e = {{"status", status}, {"message", message}};
  if (!details.is_null()) e["details"] = details;
  return {{"error", e}};
}

void send_json(httplib::Response& res, int status, const json& body) {
  res.status = status;
  // error_handler_t::replace: a stray invalid UTF-8 byte in stored data must
  // not turn a whole answer into a 500.
  std::string text = body.dump(-1, ' ', false, json::error_handler_t::replace);
  // '<', '>' and '&' only occur inside JSON strings, where \u escapes mean
  // the same: an answer can never be read as markup, even if mis-sniffed.
  std::string out;
  out.reserve(text.size());
  for (char ch : text) {
    switch (ch) {
      case '<':
        out += "\\u003c";
        break;
      case '>':
        out += "\\u003e";
        break;
      case '&':
        out += "\\u0026";
        break;
      default:
        out += ch;
    }
  }
  res.set_content(std::move(out), "application/json; charset=utf-8");
}

std::string field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_string() || it->get<std::string>().empty()) {
    throw HttpError(400, fmt::format("field '{}' (a non-empty string) is required", name));
  }
  return it->get<std::string>();
}

std::string field_or(const json& body, const char* name, const std::string& fallback) {
  auto it = body.find(name);
  if (it == body.end() || it->is_null()) return fallback;
  if (!it->is_string()) throw HttpError(400, fmt::format("field '{}' must be a string", name));
  return it->get<std::string>();
}

std::int64_t int_field(const json& body, const char* name) {
  auto it = body.find(name);
  if (it == body.end() || !it->is_number_integer()) {
    throw HttpError(400, fmt::format("field '{}' (an integer) is required", name));
  }
  return it->get<std::int64_t>();
}

std::string client_address(const httplib::Request& req, const std::vector<std::string>& trusted) {
  auto is_trusted = [&](const std::string& a) {
    return std::find(trusted.begin(), trusted.end(), a) != trusted.end();
  };
  std::string client = req.remote_addr;
  if (!is_trusted(client)) return client;
  // Every proxy appends the address it got the request from; walk from the
  // right past our own proxies.
  std::vector<std::string> hops;
  const auto n = req.get_header_value_count("X-Forwarded-For");
  for (std::size_t h = 0; h < n; ++h) {
    std::stringstream list(req.get_header_value("X-Forwarded-For", h));
    for (std::string entry; std::getline(list, entry, ',');) {
      entry.erase(0, entry.find_first_not_of(" \t"));
      entry.erase(entry.find_last_not_of(" \t") + 1);
      if (!entry.empty()) hops.push_back(entry);
    }
  }
  for (auto it = hops.rbegin(); it != hops.rend(); ++it) {
    client = *it;
    if (!is_trusted(client)) break;
  }
  return client;
}

// ---- Router ----------------------------------------------------------------------

void Router::add(const std::string& method, const std::string& path, const std::string& access,
                 const std::string& tag, const std::string& summary, Handler handler,
                 const std::string& body) {
  // "/api/v1/assets/{id}/tags/{attribute}" -> ^/api/v1/assets/(\d+)/tags/([^/]+)$
  std::string re;
  for (std::size_t i = 0; i < path.size(); ++i) {
    if (path[i] == '{') {
      const auto end = path.find('}', i);
      const std::string name = path.substr(i + 1, end - i - 1);
      re += name == "id" ? "(\\d{1,18})" : "([^/]+)";
      i = end;
    } else if (std::string_view(".+*?^$()[]|\\").find(path[i]) != std::string_view::npos) {
      re += '\\';
      re += path[i];
    } else {
      re += path[i];
    }
  }
  Route r;
  r.info = {method, path, access, summary, tag, body};
  r.pattern = std::regex(re);
  if (access != "public") r.least = role_from_string(access);
  r.handler = std::move(handler);
  routes_.push_back(std::move(r));
}

}  // namespace detail

using namespace detail;

struct Server::Impl {
  Impl(app::LibraryContext& app, ServerOptions o) : options(std::move(o)), ctx(app, options) {
    register_session_routes(router, ctx);
    register_asset_routes(router, ctx);
    register_review_routes(router, ctx);
    register_search_routes(router, ctx);
    register_admin_routes(router, ctx);
    register_dashboard_routes(router, ctx);
    register_export_routes(router, ctx);
    router.add("GET", "/api/v1/openapi.json", "public", "meta", "This document (OpenAPI 3)",
               [this](Call& call) { send_json(call.res, 200, openapi_document(infos)); });
    for (const auto& r : router.routes()) infos.push_back(r.info);
    if (!options.tls_cert.empty() || !options.tls_key.empty()) {
      if (options.tls_cert.empty() || options.tls_key.empty())
        throw InputError("--tls-cert and --tls-key go together");
      secure = true;
    } else {
      secure = options.secure_cookies;
    }
    const httplib::Headers default_headers = {
        // The UI builds its DOM with textContent; the CSP is the second line of defence.
        {"Content-Security-Policy",
         "default-src 'self'; img-src 'self' blob:; object-src 'none'; base-uri 'none'; "
         "frame-ancestors 'none'; "
         "form-action 'self'"},
        {"X-Content-Type-Options", "nosniff"},
        {"X-Frame-Options", "DENY"},
        {"Referrer-Policy", "no-referrer"},
        {"Cache-Control", "no-store"},
    };
    transport = std::make_unique<Transport>(
        options, default_headers,
        [this](const httplib::Request& req, httplib::Response& res) { dispatch(req, res); },
        [](int status, const std::string& message) {
          return error_body(status, message).dump(-1, ' ', false, json::error_handler_t::replace);
        });
  }

  std::optional<Principal> authenticate(const httplib::Request& req) {
    store::Store& db = ctx.lib.store();
    const std::string auth = req.get_header_value("Authorization");
    if (!auth.empty()) {
      static constexpr std::string_view kBearer = "Bearer ";
      if (auth.rfind(kBearer, 0) != 0)
        throw HttpError(401, "unsupported Authorization scheme: use Bearer <token>");
      const auto user = db.find_user_by_token_hash(secret_hash(auth.substr(kBearer.size())));
      if (!user) throw HttpError(401, "invalid API token");
      return Principal{user->id, user->name, role_from_string(user->role), false, {}, {}};
    }
    const std::string sid = session_cookie(req);
    if (sid.empty()) return std::nullopt;
    const std::string hash = secret_hash(sid);
    const auto session = db.find_session(hash);
    if (!session || session->expires_at < now_utc_iso8601()) return std::nullopt;
    const auto user = db.find_user_by_id(session->user_id);
    if (!user) return std::nullopt;
    return Principal{user->id, user->name,          role_from_string(user->role),
                     true,     session->csrf_token, hash};
  }

  static std::string session_cookie(const httplib::Request& req) {
    const std::string cookies = req.get_header_value("Cookie");
    static const std::regex re("(?:^|;\\s*)tagsmith_session=([0-9a-f]{64})(?:;|$)");
    std::smatch m;
    if (std::regex_search(cookies, m, re)) return m[1];
    return {};
  }

  void dispatch(const httplib::Request& req, httplib::Response& res) {
    const std::string& path = req.path;
    if (path.rfind("/api/", 0) != 0) return serve_static(req, res);
    const Route* found = nullptr;
    bool path_known = false;
    std::smatch m;
    for (const auto& r : router.routes()) {
      if (!std::regex_match(path, m, r.pattern)) continue;
      path_known = true;
      const bool head = req.method == "HEAD" && r.info.method == "GET";
      if (r.info.method == req.method || head) {
        found = &r;
        break;
      }
    }
    if (!found) {
      if (path_known)
        return send_json(res, 405, error_body(405, "method not allowed on this path"));
      return send_json(res, 404, error_body(404, "no such API route"));
    }
    Call call{req, res, std::nullopt, {}};
    for (std::size_t i = 1; i < m.size(); ++i) call.params.push_back(m[i]);
    try {
      if (found->least) {
        call.user = authenticate(req);
        if (!call.user)
          throw HttpError(401,
                          "authentication required: log in or send Authorization: Bearer <token>");
        if (call.user->role < *found->least) {
          throw HttpError(403, fmt::format("this needs the {} role; you are {}",
                                           to_string(*found->least), to_string(call.user->role)));
        }
        // A cookie is sent by the browser on its own; a state change must also
        // prove the page read the session's CSRF token.
        const bool safe = req.method == "GET" || req.method == "HEAD" || req.method == "OPTIONS";
        if (call.user->via_session && !safe &&
            !constant_time_equal(req.get_header_value("X-CSRF-Token"), call.user->csrf_token)) {
          throw HttpError(403, "missing or wrong X-CSRF-Token header");
        }
      }
      found->handler(call);
    } catch (const HttpError& e) {
      send_json(res, e.status(), error_body(e.status(), e.what(), e.details()));
    } catch (const taxonomy::ValidationError& e) {
      json errors = json::array();
      for (const auto& d : e.errors())
        errors.push_back({{"line", d.line}, {"column", d.column}, {"message", d.message}});
      send_json(res, 422,
                error_body(422, "the taxonomy is invalid",
                           {{"source", e.source_name()}, {"errors", errors}}));
    } catch (const NotFoundError& e) {
      send_json(res, 404, error_body(404, e.what()));
    } catch (const InputError& e) {
      send_json(res, 400, error_body(400, e.what()));
    } catch (const json::type_error& e) {
      // A body field of the wrong JSON type that a handler read directly
      // (e.g. body.value("force", false) on a string): the caller's mistake.
      send_json(
          res, 400,
          error_body(400, fmt::format("a field of the body has the wrong type: {}", e.what())));
    } catch (const std::exception& e) {
      std::cerr << "tagsmith serve: " << req.method << " " << req.path << ": " << e.what() << "\n";
      send_json(res, 500, error_body(500, "internal error"));
    }
  }

  void serve_static(const httplib::Request& req, httplib::Response& res) {
    if (req.method != "GET" && req.method != "HEAD")
      return send_json(res, 405, error_body(405, "method not allowed"));
    // Exact lookup in the compiled-in table: no file system, no traversal.
    const std::string path = req.path == "/" ? "/index.html" : req.path;
    for (const auto& f : web_files()) {
      if (path == f.path) {
        const auto content = f.content();
        res.set_header("Cache-Control", "no-cache");
        res.set_content(std::string(content), f.content_type);
        return;
      }
    }
    send_json(res, 404, error_body(404, "not found"));
  }

  ServerOptions options;
  Context ctx;
  Router router;
  std::vector<RouteInfo> infos;
  bool secure = false;
  int port = 0;
  // Last: destroyed first, so no request runs while the rest goes away.
  std::unique_ptr<Transport> transport;
};

Server::Server(app::LibraryContext& context, ServerOptions options)
    : impl_(std::make_unique<Impl>(context, std::move(options))) {
  impl_->ctx.secure_cookies = impl_->secure;
}
Server::~Server() {
  stop();
}

int Server::bind() {
  impl_->port = impl_->transport->bind(impl_->options.host, impl_->options.port);
  return impl_->port;
}
void Server::run() {
  impl_->transport->run();
}
void Server::stop() {
  if (impl_->transport) impl_->transport->stop();
}
bool Server::running() const {
  return impl_->transport->running();
}
int Server::port() const {
  return impl_->port;
}
bool Server::tls() const {
  return impl_->secure;
}
const std::vector<RouteInfo>& Server::routes() const {
  return impl_->infos;
}
nlohmann::json Server::openapi() const {
  return openapi_document(impl_->infos);
}

}  // namespace tagsmith::server
