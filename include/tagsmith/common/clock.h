#pragma once
// Wall-clock time as stored in the library: UTC, ISO-8601 with milliseconds
// ("2026-11-25T08:00:00.123Z"), which sorts lexically in time order.
#include <string>

namespace tagsmith {

std::string now_utc_iso8601();

}  // namespace tagsmith
