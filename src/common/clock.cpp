#include "tagsmith/common/clock.h"

#include <fmt/chrono.h>
#include <fmt/format.h>

#include <chrono>

namespace tagsmith {

std::string now_utc_iso8601() {
  const auto now = std::chrono::system_clock::now();
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch());
  const auto secs = std::chrono::floor<std::chrono::seconds>(now);
  return fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03d}Z", secs, static_cast<int>(ms.count() % 1000));
}

}  // namespace tagsmith
