#pragma once
// How CLI commands plug in. Each command lives in src/cli/cmd_<name>.cpp and
// exposes `void register_<name>(CLI::App&, GlobalOptions&)`; main.cpp calls
// them all. A command's callback throws tagsmith::Error for failures; main
// turns that into a message and an exit status (see ExitCode).
#include <string>

namespace CLI {
class App;
}

namespace tagsmith::cli {

// Options every command accepts (given before or after the command name).
struct GlobalOptions {
  std::string library = "./tagsmith-library";  // --library DIR
  std::string models;                          // --models DIR (only place looked at when set)
  bool json = false;                           // --json: machine-readable output on stdout
  int threads = 0;                             // --threads N (0 = number of cores)
  bool quiet = false;                          // --quiet: no progress bars
  std::string precision =
      "fp32";  // --precision fp32|bf16|int8 ($TAGSMITH_PRECISION), checked at parse
};

// Documented exit statuses.
enum ExitCode : int {
  kOk = 0,
  kFatal = 1,        // anything unexpected
  kUsage = 2,        // bad flags or bad input (tagsmith::InputError)
  kSomeRejected = 3  // ingest: some files were rejected, the rest ingested
};

// Set by a command callback to ask main for a non-zero exit status.
void set_exit_code(int code);
int exit_code();

}  // namespace tagsmith::cli
