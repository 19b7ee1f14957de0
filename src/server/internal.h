#pragma once
// Server internals shared by the route files (not installed; not a contract).
#include <httplib.h>

#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <nlohmann/json.hpp>
#include <optional>
#include <regex>
#include <string>
#include <vector>

#include "login_throttle.h"
#include "tagsmith/common/error.h"
#include "tagsmith/library/library.h"
#include "tagsmith/review/queue.h"
#include "tagsmith/search/encoders.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/server/auth.h"
#include "tagsmith/server/server.h"
#include "tagsmith/tagging/record_json.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::server::detail {

using nlohmann::json;

// Thrown by handlers for an HTTP status other than the mapped exception types.
class HttpError : public Error {
 public:
  HttpError(int status, const std::string& message, json details = nullptr)
      : Error(message), status_(status), details_(std::move(details)) {}
  int status() const { return status_; }
  const json& details() const { return details_; }

 private:
  int status_;
  json details_;
};

struct Principal {
  std::int64_t id = 0;
  std::string name;
  Role role = Role::kViewer;
  bool via_session = false;
  std::string csrf_token;    // for session principals
  std::string session_hash;  // for logout
};

// One request as a handler sees it.
struct Call {
  const httplib::Request& req;
  httplib::Response& res;
  std::optional<Principal> user;
  std::vector<std::string> params;  // path parameters, in template order

  // The body as a JSON object; 400 when it is not one.
  json body() const;
  std::string query(const std::string& name, const std::string& fallback = {}) const;
  std::int64_t query_int(const std::string& name, std::int64_t fallback, std::int64_t min,
                         std::int64_t max) const;
  bool query_bool(const std::string& name) const;
  std::int64_t id_param(std::size_t i = 0) const;
  const Principal& who() const { return *user; }
  std::string actor() const { return user ? user->name : std::string(); }
};

void send_json(httplib::Response& res, int status, const json& body);
json error_body(int status, const std::string& message, const json& details = nullptr);
// Required string field of a JSON object; 400 naming the field otherwise.
std::string field(const json& body, const char* name);
std::string field_or(const json& body, const char* name, const std::string& fallback);
std::int64_t int_field(const json& body, const char* name);

using Handler = std::function<void(Call&)>;

struct Route {
  RouteInfo info;
  std::regex pattern;
  std::optional<Role> least;  // nullopt: public
  Handler handler;
};

class Router {
 public:
  // access: "public", "viewer", "reviewer" or "admin"; body: "", "json", "multipart".
  void add(const std::string& method, const std::string& path, const std::string& access,
           const std::string& tag, const std::string& summary, Handler handler,
           const std::string& body = {});
  const std::vector<Route>& routes() const { return routes_; }

 private:
  std::vector<Route> routes_;
};

// Shared services, guarded where they are not thread-safe themselves.
class Search;  // api_search.cpp
struct Context {
  Context(app::LibraryContext& app, const ServerOptions& options);
  ~Context();

  app::LibraryContext& app;
  library::Library& lib;
  const ServerOptions& options;
  // The library's encoder for search (null without one; the text encoder is
  // also null for image-only encoders).
  std::shared_ptr<search::TextEncoder> text_encoder;
  std::shared_ptr<search::ImageEncoder> image_encoder;
  std::unique_ptr<ingest::ImageEmbedder> embedder;  // uploads; used under ingest_mu
  // Uploads' colour analysis finds the product on people when a person
  // model is present (null otherwise).
  std::unique_ptr<ingest::PersonMasker> person_masker;

  // The TagService caches the taxonomy and is not documented thread-safe:
  // one call at a time (they are short store transactions anyway).
  std::mutex tag_mu;
  std::unique_ptr<tagging::TagService> tags;
  template <typename F>
  auto with_tags(F&& f) {
    std::lock_guard lock(tag_mu);
    return f(*tags);
  }

  // The review library's queue. It drives the same TagService, so it is used
  // under tag_mu as well.
  std::unique_ptr<review::ReviewQueue> review_queue;
  template <typename F>
  auto with_review(F&& f) {
    std::lock_guard lock(tag_mu);
    return f(*review_queue);
  }
  std::unique_ptr<Search> search;
  // Ingest is parallel inside; uploads run one at a time.
  std::mutex ingest_mu;
  // Set after a write through the API so the next search reloads its index.
  std::atomic<bool> tags_changed{true};
  bool secure_cookies = false;  // TLS, or told the proxy terminates it
  LoginThrottle login_throttle;
};

// The client's address: the peer, or, when the peer is one of the trusted
// proxies, the nearest address in X-Forwarded-For that is not a trusted proxy
// (entries further left are the client's own claims and are not believed).
std::string client_address(const httplib::Request& req, const std::vector<std::string>& trusted);

// Items waiting for a person, by kind (audit samples are counted in neither).
struct ReviewCounts {
  std::int64_t flagged = 0;
  std::int64_t suggested = 0;
  std::int64_t pending() const { return flagged + suggested; }
};
ReviewCounts review_counts(Context& c);  // api_review.cpp
// A server path (an asset's source) as the page shows it: relative to the
// library's folder root (search::FacetIndex::folder_root). api_search.cpp.
std::string display_path(Context& c, const std::string& path);
// Near-duplicate groups (search::near_duplicate_view): the first `limit`
// with their size and first `members` assets, and how many there are.
// api_search.cpp.
json duplicate_groups_json(Context& c, std::size_t limit, std::size_t members);

void register_session_routes(Router& r, Context& c);    // login, logout, whoami, users
void register_asset_routes(Router& r, Context& c);      // assets, tags, audit, why
void register_review_routes(Router& r, Context& c);     // review queue and decisions
void register_search_routes(Router& r, Context& c);     // search, facets, similar
void register_admin_routes(Router& r, Context& c);      // taxonomy, models, metrics
void register_dashboard_routes(Router& r, Context& c);  // the manager's dashboard
json dashboard_json(Context& c, int days);
void register_export_routes(Router& r, Context& c);  // export (CSV/JSON download), exports audit

// The taxonomy and facet index searches answer from right now (api_search.cpp),
// for routes that select assets exactly as search does (export). Valid while
// `keep_alive` is held.
struct SearchView {
  std::shared_ptr<const void> keep_alive;
  const taxonomy::Taxonomy* taxonomy = nullptr;
  const search::FacetIndex* facets = nullptr;
};
SearchView search_view(Context& c);
json openapi_document(const std::vector<RouteInfo>& routes);

// Web UI files compiled into the binary (web_assets.cpp, generated).
struct WebFile {
  const char* path;  // "/index.html"
  const char* content_type;
  std::string_view (*content)();
};
const std::vector<WebFile>& web_files();

// An asset for the API: its record (record_json.h, the admin view for admins)
// and the links to its thumbnail and original.
json asset_json(const store::AssetRecord& a, tagging::View view);
// Which view of stored records (record_json.h) the caller may see.
inline tagging::View view_of(const Call& call) {
  return call.who().role == Role::kAdmin ? tagging::View::kAdmin : tagging::View::kPublic;
}

}  // namespace tagsmith::server::detail
