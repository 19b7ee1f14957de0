#include "output.h"

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <iostream>

namespace tagsmith::cli {

ProgressBar::ProgressBar(std::string label, bool enabled)
    : label_(std::move(label)), enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {}

ProgressBar::~ProgressBar() {
  finish();
}

void ProgressBar::update(std::int64_t done, std::int64_t total, double seconds) {
  if (!enabled_ || finished_) return;
  const auto now = std::chrono::steady_clock::now();
  const bool last = done >= total;
  if (!last && now - last_ < (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5)))
    return;
  last_ = now;
  const double rate = seconds > 0 ? done / seconds : 0;
  const double eta = rate > 0 ? (total - done) / rate : 0;
  const int eta_s = static_cast<int>(eta);
  const std::string stats =
      fmt::format("{}/{}  {:.1f} img/s  ETA {}:{:02d}", done, total, rate, eta_s / 60, eta_s % 60);
  if (tty_) {
    constexpr int kWidth = 30;
    const int filled = total > 0 ? static_cast<int>(kWidth * done / total) : kWidth;
    std::fprintf(stderr, "\r%s [%s%s] %s\x1b[K", label_.c_str(), std::string(filled, '#').c_str(),
                 std::string(kWidth - filled, ' ').c_str(), stats.c_str());
  } else {
    std::fprintf(stderr, "%s %s\n", label_.c_str(), stats.c_str());
  }
  std::fflush(stderr);
}

void ProgressBar::finish() {
  if (enabled_ && tty_ && !finished_) std::fprintf(stderr, "\n");
  finished_ = true;
}

std::string json_text(const nlohmann::json& j, int indent) {
  // JSON text is UTF-8, and file names need not be: a byte that is not UTF-8
  // is written as U+FFFD rather than failing the whole output (the library
  // keeps the name's bytes; text output and the raw path still reach them).
  return j.dump(indent, ' ', false, nlohmann::json::error_handler_t::replace);
}

void print_json(const nlohmann::json& j) {
  std::cout << json_text(j, 2) << std::endl;
}

}  // namespace tagsmith::cli
