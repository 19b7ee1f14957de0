#pragma once
// Terminal output shared by commands: progress bars and JSON printing.
#include <chrono>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>

namespace tagsmith::cli {

// A progress line on stderr. On a terminal it redraws in place
// ("[#####     ] 512/1000  48.1 img/s  ETA 0:10"); otherwise it prints a plain
// line at most every 5 seconds, so logs stay readable.
class ProgressBar {
 public:
  ProgressBar(std::string label, bool enabled);
  ~ProgressBar();
  void update(std::int64_t done, std::int64_t total, double seconds);
  void finish();

 private:
  std::string label_;
  bool enabled_, tty_, finished_ = false;
  std::chrono::steady_clock::time_point last_;
};

// JSON as text, every string UTF-8: bytes that are not (file names from old
// camera cards) are written as U+FFFD instead of failing the output.
std::string json_text(const nlohmann::json& j, int indent = -1);
// json_text(j, 2) and a newline on stdout.
void print_json(const nlohmann::json& j);

}  // namespace tagsmith::cli
