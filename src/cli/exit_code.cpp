#include <atomic>

#include "tagsmith/cli/command.h"

namespace tagsmith::cli {
namespace {
std::atomic<int> g_exit_code{kOk};
}
void set_exit_code(int code) {
  g_exit_code = code;
}
int exit_code() {
  return g_exit_code;
}
}  // namespace tagsmith::cli
