#pragma once
// Small helpers the benchmarks share: knobs from the environment and the
// process's resident memory.
#include <cstdlib>
#include <fstream>
#include <string>

namespace tagsmith::bench {

// $name as an integer, or `def` when unset.
inline long env_int(const char* name, long def) {
  const char* v = std::getenv(name);
  return v ? std::atol(v) : def;
}

// The process's resident set (VmRSS) in GiB.
inline double rss_gib() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::atof(line.c_str() + 6) / (1024.0 * 1024.0);
  return 0;
}

}  // namespace tagsmith::bench
