#include "tagsmith/server/auth.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <vector>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::server {
namespace {

std::string to_hex(const unsigned char* p, std::size_t n) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kHex[p[i] >> 4];
    out[2 * i + 1] = kHex[p[i] & 15];
  }
  return out;
}

std::optional<std::vector<unsigned char>> from_hex(std::string_view s) {
  if (s.size() % 2) return std::nullopt;
  std::vector<unsigned char> out(s.size() / 2);
  auto nibble = [](char c) -> int {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    return -1;
  };
  for (std::size_t i = 0; i < out.size(); ++i) {
    const int hi = nibble(s[2 * i]), lo = nibble(s[2 * i + 1]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out[i] = static_cast<unsigned char>(hi * 16 + lo);
  }
  return out;
}

std::vector<unsigned char> random_bytes(std::size_t n) {
  std::vector<unsigned char> out(n);
  if (RAND_bytes(out.data(), static_cast<int>(n)) != 1)
    throw Error("OpenSSL could not produce random bytes");
  return out;
}

std::array<unsigned char, 32> pbkdf2(std::string_view password,
                                     const std::vector<unsigned char>& salt, int iterations) {
  std::array<unsigned char, 32> out{};
  if (PKCS5_PBKDF2_HMAC(password.data(), static_cast<int>(password.size()), salt.data(),
                        static_cast<int>(salt.size()), iterations, EVP_sha256(),
                        static_cast<int>(out.size()), out.data()) != 1) {
    throw Error("OpenSSL PBKDF2 failed");
  }
  return out;
}

bool valid_name(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-' || c == '@';
  });
}

}  // namespace

std::string to_string(Role r) {
  switch (r) {
    case Role::kViewer:
      return "viewer";
    case Role::kReviewer:
      return "reviewer";
    case Role::kAdmin:
      return "admin";
  }
  return "viewer";
}

Role role_from_string(std::string_view s) {
  if (s == "viewer") return Role::kViewer;
  if (s == "reviewer") return Role::kReviewer;
  if (s == "admin") return Role::kAdmin;
  throw InputError(fmt::format("unknown role '{}': use viewer, reviewer or admin", s));
}

std::string hash_password(std::string_view password, int iterations) {
  const auto salt = random_bytes(16);
  const auto h = pbkdf2(password, salt, iterations);
  return fmt::format("pbkdf2-sha256${}${}${}", iterations, to_hex(salt.data(), salt.size()),
                     to_hex(h.data(), h.size()));
}

bool verify_password(std::string_view password, std::string_view stored) {
  // pbkdf2-sha256$<iterations>$<salt>$<hash>
  std::vector<std::string_view> parts;
  std::size_t start = 0;
  for (std::size_t i = 0; i <= stored.size(); ++i) {
    if (i == stored.size() || stored[i] == '$') {
      parts.push_back(stored.substr(start, i - start));
      start = i + 1;
    }
  }
  if (parts.size() != 4 || parts[0] != "pbkdf2-sha256") return false;
  int iterations = 0;
  for (char c : parts[1]) {
    if (c < '0' || c > '9' || iterations > 100'000'000) return false;
    iterations = iterations * 10 + (c - '0');
  }
  const auto salt = from_hex(parts[2]);
  if (iterations <= 0 || !salt || parts[3].size() != 64) return false;
  const auto h = pbkdf2(password, *salt, iterations);
  return constant_time_equal(to_hex(h.data(), h.size()), parts[3]);
}

std::string random_token() {
  const auto b = random_bytes(32);
  return to_hex(b.data(), b.size());
}

std::string secret_hash(std::string_view token) {
  return sha256_hex(token);
}

bool constant_time_equal(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  return CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

store::UserRecord add_user(store::Store& db, const std::string& name, Role role,
                           const std::string& password) {
  if (!valid_name(name)) {
    throw InputError(fmt::format(
        "invalid user name '{}': use 1-64 letters, digits, '.', '_', '-' or '@'", name));
  }
  store::UserRecord u;
  u.name = name;
  u.role = to_string(role);
  u.password_hash = password.empty() ? std::string() : hash_password(password);
  u.created_at = now_utc_iso8601();
  u.id = db.add_user(u);
  return u;
}

std::string issue_token(store::Store& db, const std::string& name) {
  const auto user = db.find_user(name);
  if (!user) throw NotFoundError(fmt::format("no user named '{}'", name));
  // "tsk_" marks the string as a tagsmith key (easy to spot in a leaked log).
  std::string token = "tsk_" + random_token();
  db.add_api_token(user->id, secret_hash(token), now_utc_iso8601());
  return token;
}

}  // namespace tagsmith::server
