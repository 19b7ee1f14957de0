#pragma once
// The `tagsmith` command line, callable in-process (tests drive it this way).
#include <string>
#include <vector>

namespace tagsmith::cli {

// Parses `args` (without the program name), runs the command and returns the
// exit status documented in command.h.
int run(const std::vector<std::string>& args);

}  // namespace tagsmith::cli
