#pragma once
// Small helpers the benchmarks share: knobs from the environment and the
// process's resident memory and the calling thread's CPU time.
#include <time.h>

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

// CPU time the calling thread has used, in milliseconds.
inline double thread_cpu_ms() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

}  // namespace tagsmith::bench
