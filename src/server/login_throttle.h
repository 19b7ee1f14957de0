#pragma once
// Failed-login throttling for POST /api/v1/session.
//
// Failures are counted over a sliding window, separately per account name
// and per client address. When either count has reached its limit, further
// attempts are refused (429) until the oldest failure in the window ages out;
// retry_after() says how long that is. A successful login clears the
// account's failures (not the address's, so one known password does not
// reopen guessing at others). Memory is bounded: each key keeps at most its
// limit of timestamps, and keys whose failures have all aged out are pruned.
// Thread-safe.
#include <chrono>
#include <deque>
#include <map>
#include <mutex>
#include <string>

namespace tagsmith::server::detail {

class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  LoginThrottle(std::chrono::seconds window, int per_account, int per_address);

  // Zero when an attempt may go ahead; otherwise how long to wait (>= 1 s).
  std::chrono::seconds retry_after(const std::string& account, const std::string& address,
                                   Clock::time_point now = Clock::now());
  void record_failure(const std::string& account, const std::string& address,
                      Clock::time_point now = Clock::now());
  void record_success(const std::string& account);

 private:
  using Failures = std::deque<Clock::time_point>;
  std::chrono::seconds wait_for(std::map<std::string, Failures>& map, const std::string& key,
                                int limit, Clock::time_point now);
  void add(std::map<std::string, Failures>& map, const std::string& key, int limit,
           Clock::time_point now);
  void prune(std::map<std::string, Failures>& map, Clock::time_point now);

  std::mutex mu_;
  const std::chrono::seconds window_;
  const int per_account_, per_address_;
  std::map<std::string, Failures> accounts_, addresses_;
};

}  // namespace tagsmith::server::detail
