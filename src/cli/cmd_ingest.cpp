// tagsmith ingest PATH… — add photos to the library.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "model_support.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/library/library.h"

namespace tagsmith::cli {

void register_ingest(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::vector<std::string> paths;
    std::uint64_t max_file_mb = 256;
    std::uint64_t max_megapixels = 120;
    bool no_tag = false;
    ModelChoice model;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("ingest", "Add photos (files or folders, recursively) to the library");
  cmd->add_option("paths", args->paths, "Files or directories")->required();
  cmd->add_option("--max-file-mb", args->max_file_mb, "Reject files larger than this")
      ->capture_default_str();
  cmd->add_option("--max-megapixels", args->max_megapixels,
                  "Reject images with more pixels (checked before decoding)")
      ->capture_default_str();
  cmd->add_flag("--no-tag", args->no_tag,
                "Do not tag the new assets (run `tagsmith tag --all` later)");
  cmd->add_option("--model", args->model.name,
                  "Vision model to embed with (default: the first one found)");
  cmd->add_flag("--no-model", args->model.disabled, "Skip recognition even if a model is present");
  cmd->footer(
      "Exit status: 0 every file ingested or already present; 3 some files were rejected (listed, "
      "and kept "
      "in `tagsmith errors`); 1 fatal error; 2 bad usage.");
  cmd->callback([args, &g] {
    auto library = library::Library::open(g.library);
    ingest::IngestOptions options;
    options.threads = g.threads;
    options.limits.max_file_bytes = args->max_file_mb << 20;
    options.limits.max_pixels = args->max_megapixels * 1'000'000;
    const auto model = load_vision_model(g, args->model, &library->store());
    std::unique_ptr<ClipImageEmbedder> embedder;
    if (model) {
      embedder = std::make_unique<ClipImageEmbedder>(*model);
      options.embedder = embedder.get();
    }
    ProgressBar bar("ingest", !g.quiet);
    options.on_progress = [&](const ingest::Progress& p) {
      bar.update(p.done, p.total, p.seconds);
    };
    std::vector<std::filesystem::path> inputs(args->paths.begin(), args->paths.end());
    const auto before = library->store().asset_ids();  // sorted
    const ingest::IngestReport r = ingest::ingest(*library, inputs, options);
    bar.finish();
    // Tag the new assets right away, so colour tags appear even with no model.
    std::optional<tagging::TagReport> tagged;
    std::int64_t taxonomy_version = 0;
    if (!args->no_tag && r.ingested > 0) {
      std::vector<store::AssetId> fresh;
      const auto after = library->store().asset_ids();
      std::set_difference(after.begin(), after.end(), before.begin(), before.end(),
                          std::back_inserter(fresh));
      auto service = make_tag_service(*library, g, args->model, model);
      tagging::TagOptions tag_options;
      tag_options.threads = g.threads;
      tagged = service->tag(fresh, tag_options);
      taxonomy_version = service->taxonomy_version();
    }
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
                  {"tagging",
                   tagged ? tag_report_json(*tagged, taxonomy_version) : nlohmann::json(nullptr)},
                  {"library", g.library}});
    } else {
      for (const auto& e : r.errors)
        std::cerr << "rejected: " << e.path << ": " << e.reason << "\n";
      std::cout << fmt::format(
          "{} files: {} ingested, {} skipped ({} duplicate paths), {} rejected in {:.1f} s "
          "({:.1f} files/s)\n",
          r.files, r.ingested, r.skipped, r.aliases, r.rejected, r.seconds,
          r.seconds > 0 ? r.files / r.seconds : 0.0);
      if (tagged) std::cout << tag_report_text("Tagged", *tagged, taxonomy_version);
    }
    if (r.rejected > 0) set_exit_code(kSomeRejected);
  });
}

}  // namespace tagsmith::cli
