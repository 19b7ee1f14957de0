// tagsmith ingest PATH… — add photos to the library.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/common/clock.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/ingest/reembed.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/keywords.h"

namespace tagsmith::cli {

namespace {

// ingest --enqueue: one job per file, by absolute path, for the workers.
void enqueue_ingest(const GlobalOptions& g, const std::vector<std::string>& paths) {
  auto context = open_library(g, OpenMode::create, ModelChoice{"", true, true});
  store::Store& db = context->store();
  std::vector<std::filesystem::path> inputs(paths.begin(), paths.end());
  const ingest::FileListing listing = ingest::list_image_files(inputs);
  std::vector<std::string> targets;
  targets.reserve(listing.files.size());
  for (const auto& f : listing.files)
    targets.push_back(std::filesystem::absolute(f).lexically_normal().string());
  const std::int64_t added = db.enqueue_jobs(store::JobKind::kIngest, targets);
  for (const auto& e : listing.not_taken) {
    db.record_ingest_error({e.path, e.reason, now_utc_iso8601()});
    std::cerr << "rejected: " << e.path << ": " << e.reason << "\n";
  }
  if (g.json) {
    print_json({{"files", targets.size()},
                {"queued", added},
                {"already_queued", static_cast<std::int64_t>(targets.size()) - added},
                {"rejected", listing.not_taken.size()}});
  } else {
    std::cout << fmt::format(
        "Queued {} of {} files for ingest ({} already queued); start `tagsmith worker` "
        "processes to ingest them, `tagsmith jobs` shows progress.\n",
        added, targets.size(), static_cast<std::int64_t>(targets.size()) - added);
  }
  if (!listing.not_taken.empty()) set_exit_code(kSomeRejected);
}

nlohmann::json keywords_json(const ingest::IngestReport& r) {
  nlohmann::json unmatched = nlohmann::json::array();
  for (const auto& [k, n] : r.unmatched_keywords)
    unmatched.push_back({{"keyword", k}, {"photos", n}});
  nlohmann::json errors = nlohmann::json::array();
  for (const auto& e : r.metadata_errors)
    errors.push_back({{"path", e.path}, {"reason", e.reason}});
  return {{"photos", r.with_keywords},
          {"imported_tags", r.keyword_tags},
          {"actor", tagging::kKeywordImportActor},
          {"not_imported", r.keywords_unmatched},
          {"not_imported_keywords", unmatched},
          {"metadata_errors", errors}};
}

}  // namespace

void register_ingest(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::vector<std::string> paths;
    std::uint64_t max_file_mb = 256;
    std::uint64_t max_megapixels = 120;
    bool no_tag = false;
    bool enqueue = false;
    bool no_keywords = false;
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
                "Do not tag the new assets (run `tagsmith tag --pending` later)");
  cmd->add_flag("--enqueue", args->enqueue,
                "Only list the files and queue them as jobs for `tagsmith worker` processes "
                "(on any machine that sees the same paths)");
  cmd->add_flag("--no-keywords", args->no_keywords,
                "Do not import the keywords photos carry (XMP dc:subject, lr:hierarchicalSubject, "
                "IPTC Keywords, sidecars) as tags");
  cmd->add_option("--model", args->model.name,
                  "Vision model to embed with (default: the first one found)");
  cmd->add_flag("--no-model", args->model.disabled, "Skip recognition even if a model is present");
  cmd->add_flag("--no-person-model", args->model.person_disabled,
                "Analyse colours without the person model even if it is present");
  cmd->footer(
      "Folders are walked recursively for image files (by extension), skipping hidden ones. "
      "Symbolic links are not walked through: a link to a photo inside the folder is ingested, a "
      "link out of the folder is not followed. Unreadable folders, broken links, link loops, links "
      "out of the folder and FIFOs or devices are rejected with a reason. A path named here is "
      "always used, wherever it leads.\n"
      "Exit status: 0 every file ingested or already present; 3 some files were rejected (listed, "
      "and kept in `tagsmith errors`); 1 fatal error; 2 bad usage.");
  cmd->callback([args, &g] {
    if (args->enqueue) return enqueue_ingest(g, args->paths);
    auto context = open_library(g, OpenMode::create, args->model);
    auto& library = context->library();
    ingest::IngestOptions options;
    options.threads = g.threads;
    options.limits.max_file_bytes = args->max_file_mb << 20;
    options.limits.max_pixels = args->max_megapixels * 1'000'000;
    // Ingest stores vectors: the encoder it uses becomes the library's.
    context->adopt_encoder();
    const auto embedder = context->embedder();
    options.embedder = embedder.get();
    const auto person_masker = context->person_masker();
    options.person_masker = person_masker.get();
    const auto keyword_importer = context->keyword_importer();
    if (!args->no_keywords) options.keywords = keyword_importer.get();
    ProgressBar bar("ingest", !g.quiet);
    options.on_progress = [&](const ingest::Progress& p) {
      bar.update(p.done, p.total, p.seconds);
    };
    std::vector<std::filesystem::path> inputs(args->paths.begin(), args->paths.end());
    const ingest::IngestReport r = ingest::ingest(library, inputs, options);
    bar.finish();
    // A new encoder: the assets already in the library get its vectors too.
    ingest::ReembedOptions reembed;
    reembed.threads = g.threads;
    ProgressBar rebar("re-embed", !g.quiet);
    reembed.on_progress = [&](std::int64_t done, std::int64_t total, double s) {
      rebar.update(done, total, s);
    };
    const auto reembedded = context->embed_back_catalogue(reembed);
    rebar.finish();
    if (reembedded && !g.json) {
      std::cout << fmt::format(
          "re-embedded {} of the library's {} earlier assets with {} in {:.1f} s\n",
          reembedded->embedded, reembedded->missing, embedder->version(), reembedded->seconds);
      for (const auto& e : reembedded->errors)
        std::cerr << "not re-embedded: " << e.path << ": " << e.reason << "\n";
    }
    // Tag what is pending: the new assets (so colour tags appear even with
    // no model), the re-embedded ones (whose model evidence is new), and
    // whatever an interrupted earlier run committed but did not tag.
    std::optional<tagging::TagReport> tagged;
    std::int64_t taxonomy_version = 0;
    const std::int64_t pending = library.store().pending_count(store::WorkStep::kTag);
    if (!args->no_tag && pending > 0) {
      auto service = context->tag_service();
      tagging::TagOptions tag_options;
      tag_options.threads = g.threads;
      ProgressBar tag_bar("tag", !g.quiet && !g.json);
      tag_options.on_progress = [&](std::int64_t done, std::int64_t total, double s) {
        tag_bar.update(done, total, s);
      };
      tagged = service->tag_pending(tag_options);
      tag_bar.finish();
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
                  {"person_masked", r.person_masked},
                  {"keywords", keywords_json(r)},
                  {"reembedded", reembedded ? reembedded->embedded : 0},
                  {"errors", errors},
                  {"seconds", r.seconds},
                  {"tagging",
                   tagged ? tag_report_json(*tagged, taxonomy_version) : nlohmann::json(nullptr)},
                  {"pending_tagging", library.store().pending_count(store::WorkStep::kTag)},
                  {"library", g.library}});
    } else {
      for (const auto& e : r.errors)
        std::cerr << "rejected: " << e.path << ": " << e.reason << "\n";
      std::cout << fmt::format(
          "{} files: {} ingested, {} skipped ({} duplicate paths), {} rejected in {:.1f} s "
          "({:.1f} files/s)\n",
          r.files, r.ingested, r.skipped, r.aliases, r.rejected, r.seconds,
          r.seconds > 0 ? r.files / r.seconds : 0.0);
      for (const auto& e : r.metadata_errors)
        std::cerr << "keywords not read: " << e.path << ": " << e.reason << "\n";
      if (r.with_keywords > 0 || !r.metadata_errors.empty()) {
        std::cout << fmt::format(
            "keywords: {} photo{} carried keywords; {} imported as tags ({}), {} not imported{}\n",
            r.with_keywords, r.with_keywords == 1 ? "" : "s", r.keyword_tags,
            tagging::kKeywordImportActor, r.keywords_unmatched,
            r.metadata_errors.empty()
                ? ""
                : fmt::format("; metadata of {} photo(s) unreadable", r.metadata_errors.size()));
        std::size_t shown = 0;
        for (const auto& [k, n] : r.unmatched_keywords) {
          if (shown++ == 10) {
            std::cout << fmt::format("  … and {} more (see --json)\n",
                                     r.unmatched_keywords.size() - 10);
            break;
          }
          std::cout << fmt::format("  not imported: '{}' ({} photo{})\n", k, n, n == 1 ? "" : "s");
        }
      }
      if (tagged) std::cout << tag_report_text("Tagged", *tagged, taxonomy_version);
      if (const auto left = library.store().pending_count(store::WorkStep::kTag); left > 0)
        std::cout << fmt::format("{} asset{} wait{} for tagging: run `tagsmith tag --pending`.\n",
                                 left, left == 1 ? "" : "s", left == 1 ? "s" : "");
    }
    if (r.rejected > 0) set_exit_code(kSomeRejected);
  });
}

}  // namespace tagsmith::cli
