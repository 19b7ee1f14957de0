#pragma once
// AccountStore: who may use the HTTP server (tagsmith serve) — users with a
// role, their API tokens and browser sessions — and the audit of what people
// did outside the tag trail (failed logins, exports).
//
// Secrets are never stored: passwords as salted PBKDF2 hashes, API tokens and
// session ids as SHA-256. Implementations are safe to call from several threads.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

class AccountStore {
 public:
  virtual ~AccountStore() = default;

  // --- users ------------------------------------------------------------------------
  virtual std::int64_t add_user(const UserRecord& user) = 0;  // InputError when the name exists
  virtual std::optional<UserRecord> find_user(const std::string& name) = 0;
  virtual std::optional<UserRecord> find_user_by_id(std::int64_t id) = 0;
  virtual std::vector<UserRecord> users() = 0;  // by name
  // Role and password hash, by name; throws NotFoundError.
  virtual void update_user(const UserRecord& user) = 0;

  // --- API tokens and browser sessions ---------------------------------------------
  virtual void add_api_token(std::int64_t user_id, const std::string& token_hash,
                             const std::string& created_at) = 0;
  virtual std::optional<UserRecord> find_user_by_token_hash(const std::string& token_hash) = 0;
  virtual void add_session(const SessionRecord& session) = 0;
  virtual std::optional<SessionRecord> find_session(const std::string& id_hash) = 0;
  virtual void delete_session(const std::string& id_hash) = 0;
  // Sessions whose expires_at sorts before `now` (ISO-8601 UTC).
  virtual void delete_sessions_expired_before(const std::string& now) = 0;

  // --- audit of failed logins -------------------------------------------------------
  virtual void add_login_failure(const LoginFailureRecord& failure) = 0;
  // The newest `limit` failures, oldest first.
  virtual std::vector<LoginFailureRecord> login_failures(std::size_t limit) = 0;

  // --- audit of exports (who took which assets and tags out) ------------------------
  virtual std::int64_t add_export_record(const ExportRecord& record) = 0;  // returns the id
  // The newest `limit` exports, oldest first.
  virtual std::vector<ExportRecord> export_records(std::size_t limit) = 0;
};

}  // namespace tagsmith::store
