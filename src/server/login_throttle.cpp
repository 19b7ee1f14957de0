#include "login_throttle.h"

#include <algorithm>

namespace tagsmith::server::detail {

LoginThrottle::LoginThrottle(std::chrono::seconds window, int per_account, int per_address)
    : window_(window),
      per_account_(std::max(1, per_account)),
      per_address_(std::max(1, per_address)) {}

std::chrono::seconds LoginThrottle::wait_for(std::map<std::string, Failures>& map,
                                             const std::string& key, int limit,
                                             Clock::time_point now) {
  auto it = map.find(key);
  if (it == map.end()) return std::chrono::seconds(0);
  Failures& f = it->second;
  while (!f.empty() && f.front() + window_ <= now) f.pop_front();
  if (static_cast<int>(f.size()) < limit) return std::chrono::seconds(0);
  // The attempt is allowed again once the oldest counted failure ages out.
  const auto wait = f.front() + window_ - now;
  return std::max(std::chrono::seconds(1), std::chrono::ceil<std::chrono::seconds>(wait));
}

std::chrono::seconds LoginThrottle::retry_after(const std::string& account,
                                                const std::string& address, Clock::time_point now) {
  std::lock_guard lock(mu_);
  return std::max(wait_for(accounts_, account, per_account_, now),
                  wait_for(addresses_, address, per_address_, now));
}

void LoginThrottle::add(std::map<std::string, Failures>& map, const std::string& key, int limit,
                        Clock::time_point now) {
  if (map.size() > 100'000) prune(map, now);
  Failures& f = map[key];
  f.push_back(now);
  while (static_cast<int>(f.size()) > limit) f.pop_front();
}

void LoginThrottle::prune(std::map<std::string, Failures>& map, Clock::time_point now) {
  std::erase_if(
      map, [&](const auto& kv) { return kv.second.empty() || kv.second.back() + window_ <= now; });
}

void LoginThrottle::record_failure(const std::string& account, const std::string& address,
                                   Clock::time_point now) {
  std::lock_guard lock(mu_);
  add(accounts_, account, per_account_, now);
  add(addresses_, address, per_address_, now);
}

void LoginThrottle::record_success(const std::string& account) {
  std::lock_guard lock(mu_);
  accounts_.erase(account);
}

}  // namespace tagsmith::server::detail
