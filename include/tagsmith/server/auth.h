#pragma once
// Accounts for `tagsmith serve`: roles, password and token hashing, users.
//
// Secrets never reach the Store in clear:
//  * passwords: PBKDF2-HMAC-SHA256 (OpenSSL) with a 16-byte random salt,
//    stored as "pbkdf2-sha256$<iterations>$<salt hex>$<hash hex>", so the
//    work factor can grow without invalidating old hashes;
//  * API tokens and session ids: 32 random bytes, stored as their SHA-256.
//    They are high-entropy, so a fast hash is enough (no dictionary to try).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "tagsmith/store/store.h"

namespace tagsmith::server {

// Ordered: each role may do everything the ones below it may.
enum class Role { kViewer = 1, kReviewer = 2, kAdmin = 3 };
std::string to_string(Role r);
Role role_from_string(std::string_view s);  // throws InputError naming the roles

inline constexpr int kPasswordIterations = 210'000;

std::string hash_password(std::string_view password, int iterations = kPasswordIterations);
// Constant-time comparison; false for malformed stored hashes.
bool verify_password(std::string_view password, std::string_view stored);

// 32 random bytes as 64 hex characters (OpenSSL RAND_bytes).
std::string random_token();
// SHA-256 hex of a token or session id, as stored.
std::string secret_hash(std::string_view token);
bool constant_time_equal(std::string_view a, std::string_view b);

// User management shared by `tagsmith users` and the admin API.
// Names: 1-64 characters of [A-Za-z0-9._-@]; throws InputError otherwise or
// when the name is taken.
store::UserRecord add_user(store::Store& db, const std::string& name, Role role,
                           const std::string& password = {});
// Issues a new API token for an existing user and returns it: this is the only
// time it is ever visible. Throws NotFoundError for an unknown user.
std::string issue_token(store::Store& db, const std::string& name);

}  // namespace tagsmith::server
