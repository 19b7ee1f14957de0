// tagsmith ingest PATH… — add photos to the library.
#include <CLI/CLI.hpp>

#include <iostream>
#include <memory>

#include <fmt/format.h>

#include "commands.h"
#include "output.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/store/library.h"

namespace tagsmith::cli {

void register_ingest(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::vector<std::string> paths;
    std::uint64_t max_file_mb = 256;
    std::uint64_t max_megapixels = 120;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand("ingest", "Add photos (files or folders, recursively) to the library");
  cmd->add_option("paths", args->paths, "Files or directories")->required();
  cmd->add_option("--max-file-mb", args->max_file_mb, "Reject files larger than this")->capture_default_str();
  cmd->add_option("--max-megapixels", args->max_megapixels, "Reject images with more pixels (checked before decoding)")
      ->capture_default_str();
  cmd->footer("Exit status: 0 every file ingested or already present; 3 some files were rejected (listed, and kept "
              "in `tagsmith errors`); 1 fatal error; 2 bad usage.");
  cmd->callback([args, &g] {
    auto library = store::Library::open(g.library);
    ingest::IngestOptions options;
    options.threads = g.threads;
    options.limits.max_file_bytes = args->max_file_mb << 20;
    options.limits.max_pixels = args->max_megapixels * 1'000'000;
    ProgressBar bar("ingest", !g.quiet);
    options.on_progress = [&](const ingest::Progress& p) { bar.update(p.done, p.total, p.seconds); };
    std::vector<std::filesystem::path> inputs(args->paths.begin(), args->paths.end());
    const ingest::IngestReport r = ingest::ingest(*library, inputs, options);
    bar.finish();
    if (g.json) {
      nlohmann::json errors = nlohmann::json::array();
      for (const auto& e : r.errors) errors.push_back({{"path", e.path}, {"reason", e.reason}});
      print_json({{"files", r.files},
                  {"ingested", r.ingested},
                  {"skipped", r.skipped},
                  {"aliases", r.aliases},
                  {"rejected", r.rejected},
                  {"embedded", r.embedded},
                  {"errors", errors},
                  {"seconds", r.seconds},
                  {"library", g.library}});
    } else {
      for (const auto& e : r.errors) std::cerr << "rejected: " << e.path << ": " << e.reason << "\n";
      std::cout << fmt::format("{} files: {} ingested, {} skipped ({} duplicate paths), {} rejected in {:.1f} s "
                               "({:.1f} files/s)\n",
                               r.files, r.ingested, r.skipped, r.aliases, r.rejected, r.seconds,
                               r.seconds > 0 ? r.files / r.seconds : 0.0);
    }
    if (r.rejected > 0) set_exit_code(kSomeRejected);
  });
}

}  // namespace tagsmith::cli
