#include "open_library.h"

#include <iostream>
#include <mutex>
#include <set>

#include "tagsmith/vision/precision.h"

namespace tagsmith::cli {

std::unique_ptr<app::LibraryContext> open_library_at(const std::string& dir, const GlobalOptions& g,
                                                     OpenMode mode, const ModelChoice& model) {
  app::OpenOptions o;
  o.library = dir;
  o.create = mode == OpenMode::create;
  o.models.models_dir = g.models;
  o.models.name = model.name;
  o.models.disabled = model.disabled;
  o.models.person_disabled = model.person_disabled;
  o.models.threads = g.threads;
  o.models.precision = vision::parse_precision(g.precision);
  const bool quiet = g.quiet;
  o.notices = [quiet](const std::string& text) {
    // Each notice once per process: commands may open twice.
    static std::mutex mu;
    static std::set<std::string> said;
    const std::lock_guard lock(mu);
    if (said.insert(text).second && !quiet) std::cerr << "note: " << text << "\n";
  };
  return app::LibraryContext::open(o);
}

std::unique_ptr<app::LibraryContext> open_library(const GlobalOptions& g, OpenMode mode,
                                                  const ModelChoice& model) {
  return open_library_at(g.library, g, mode, model);
}

}  // namespace tagsmith::cli
