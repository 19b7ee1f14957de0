// Login, logout, who am I, and user management for admins.
#include <fmt/format.h>

#include "internal.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::server::detail {
namespace {

std::string iso_after(std::chrono::seconds ttl) {
  const auto t = std::chrono::system_clock::now() + ttl;
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
  return buf;
}

json user_json(const store::UserRecord& u) {
  return {{"name", u.name},
          {"role", u.role},
          {"created_at", u.created_at},
          {"has_password", !u.password_hash.empty()}};
}

}  // namespace

void register_session_routes(Router& r, Context& c) {
  r.add(
      "POST", "/api/v1/session", "public", "session",
      "Log in with name and password; sets the session cookie",
      [&c](Call& call) {
        const json body = call.body();
        const std::string name = field(body, "name");
        const std::string password = field(body, "password");
        store::Store& db = c.lib.store();
        const std::string client = client_address(call.req, c.options.trusted_proxies);
        auto audit = [&](bool throttled) {
          store::LoginFailureRecord f;
          f.at = now_utc_iso8601();
          f.account = name.substr(0, 200);
          f.client = client;
          f.throttled = throttled;
          db.add_login_failure(f);
        };
        // Refused before the password is even checked, so guessing gains nothing.
        if (const auto wait = c.login_throttle.retry_after(name, client); wait.count() > 0) {
          audit(true);
          call.res.set_header("Retry-After", std::to_string(wait.count()));
          throw HttpError(
              429, fmt::format("too many failed logins; try again in {} seconds", wait.count()),
              {{"retry_after_seconds", wait.count()}});
        }
        const auto user = db.find_user(name);
        // Hash even for unknown users so the answer takes as long either way.
        static const std::string kDummy = hash_password("not a password");
        const bool ok =
            verify_password(password,
                            user && !user->password_hash.empty() ? user->password_hash : kDummy) &&
            user && !user->password_hash.empty();
        if (!ok) {
          c.login_throttle.record_failure(name, client);
          audit(false);
          throw HttpError(401, "wrong name or password");
        }
        c.login_throttle.record_success(name);
        const std::string sid = random_token();
        store::SessionRecord s;
        s.id_hash = secret_hash(sid);
        s.user_id = user->id;
        s.csrf_token = random_token();
        s.created_at = now_utc_iso8601();
        s.expires_at = iso_after(c.options.session_ttl);
        db.delete_sessions_expired_before(s.created_at);
        db.add_session(s);
        call.res.set_header(
            "Set-Cookie",
            fmt::format("tagsmith_session={}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}", sid,
                        c.options.session_ttl.count(), c.secure_cookies ? "; Secure" : ""));
        send_json(call.res, 200,
                  {{"name", user->name}, {"role", user->role}, {"csrf_token", s.csrf_token}});
      },
      "json");

  r.add("GET", "/api/v1/session", "viewer", "session",
        "Who is logged in (and the session's CSRF token)", [](Call& call) {
          const Principal& p = call.who();
          json j = {{"name", p.name}, {"role", to_string(p.role)}};
          if (p.via_session) j["csrf_token"] = p.csrf_token;
          send_json(call.res, 200, j);
        });

  r.add("DELETE", "/api/v1/session", "viewer", "session", "Log out (ends the browser session)",
        [&c](Call& call) {
          if (call.who().via_session) c.lib.store().delete_session(call.who().session_hash);
          call.res.set_header("Set-Cookie",
                              "tagsmith_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
          send_json(call.res, 200, {{"ok", true}});
        });

  r.add("GET", "/api/v1/users", "admin", "users", "List users and their roles", [&c](Call& call) {
    json out = json::array();
    for (const auto& u : c.lib.store().users()) out.push_back(user_json(u));
    send_json(call.res, 200, {{"users", out}});
  });

  r.add(
      "POST", "/api/v1/users", "admin", "users", "Add a user {name, role, password?}",
      [&c](Call& call) {
        const json body = call.body();
        const auto u =
            add_user(c.lib.store(), field(body, "name"), role_from_string(field(body, "role")),
                     field_or(body, "password", ""));
        send_json(call.res, 201, user_json(u));
      },
      "json");

  r.add("POST", "/api/v1/users/{name}/tokens", "admin", "users", "Issue an API token (shown once)",
        [&c](Call& call) {
          const std::string token = issue_token(c.lib.store(), call.params.at(0));
          send_json(call.res, 201, {{"name", call.params.at(0)}, {"token", token}});
        });
}

}  // namespace tagsmith::server::detail
