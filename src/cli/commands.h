#pragma once
// Registration of every CLI command (one cmd_<name>.cpp each).
#include "tagsmith/cli/command.h"

namespace CLI {
class App;
}

namespace tagsmith::cli {

void register_ingest(CLI::App& app, GlobalOptions& g);
void register_library_commands(CLI::App& app, GlobalOptions& g);  // info, stats, errors, duplicates
void register_sample(CLI::App& app, GlobalOptions& g);            // sample-photos

inline void register_all_commands(CLI::App& app, GlobalOptions& g) {
  register_ingest(app, g);
  register_library_commands(app, g);
  register_sample(app, g);
}

}  // namespace tagsmith::cli
