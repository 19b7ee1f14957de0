#pragma once
// How CLI commands open a library: global options → app::OpenOptions, and
// the application layer's notices written to stderr (once per process,
// unless --quiet).
#include <memory>
#include <string>

#include "tagsmith/app/context.h"
#include "tagsmith/cli/command.h"

namespace tagsmith::cli {

struct ModelChoice {
  std::string name;              // --model NAME; empty = the library's or the default model
  bool disabled = false;         // --no-model (the encoder only)
  bool person_disabled = false;  // --no-person-model
};

enum class OpenMode { create, existing };

std::unique_ptr<app::LibraryContext> open_library(const GlobalOptions& g, OpenMode mode,
                                                  const ModelChoice& model = {});
// Same, for a library directory other than --library (eval's scratch library).
std::unique_ptr<app::LibraryContext> open_library_at(const std::string& dir, const GlobalOptions& g,
                                                     OpenMode mode, const ModelChoice& model = {});

}  // namespace tagsmith::cli
