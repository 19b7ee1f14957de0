// `tagsmith export [TEXT] [--facet ATTR=VALUE]... --format csv|json|jsonl|xmp
//                  [--out FILE|DIR] [--lang en|zh] [--tiers LIST]
//                  [--in-place-sidecars] [--embed] [--replace-keywords]`
// The assets a search selects, with their tags, for DAM and photo tools
// (app/export.h). Tables go to --out FILE (written whole, then renamed into
// place) or stdout; XMP goes to sidecars under --out DIR, next to the photos
// (--in-place-sidecars), or embedded in copies under --out DIR (--embed).
// Every export is audited (who, when, format, query, how many assets).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "tagsmith/app/export.h"
#include "tagsmith/common/error.h"
#include "tagsmith/library/library.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/tagging/taxonomy_versions.h"

namespace tagsmith::cli {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

struct ExportArgs {
  std::string text;
  std::vector<std::string> facets;
  bool include_flagged = false, include_suggested = false;
  std::string format = "csv";
  std::string out;
  std::string lang = "en";
  std::string tiers = "applied";
  bool in_place = false, embed = false, replace_keywords = false;
};

// Who exported, for the audit record: the login running the CLI.
std::string cli_actor() {
  if (const char* user = std::getenv("USER"); user && *user) return std::string("cli:") + user;
  if (const char* login = ::getlogin(); login && *login) return std::string("cli:") + login;
  return fmt::format("cli:uid-{}", ::getuid());
}

void run_export(const ExportArgs& a, const GlobalOptions& g) {
  const auto format = app::export_format_from_string(a.format);
  if (format != app::ExportFormat::kXmp && (a.in_place || a.embed || a.replace_keywords))
    throw InputError("--in-place-sidecars, --embed and --replace-keywords are for --format xmp");
  auto lib = library::Library::open_existing(g.library);
  store::Store& db = lib->store();
  const auto current = tagging::current_taxonomy(*lib);
  const auto& tax = current.taxonomy;

  app::ExportQuery query;
  query.text = a.text;
  query.facets = a.facets;
  query.visibility = {a.include_flagged, a.include_suggested};
  app::ExportOptions options;
  options.language = a.lang;
  options.states = app::export_states_from_string(a.tiers);

  const auto facets = search::FacetIndex::load(db, tax);
  const auto selection = app::select_for_export(tax, *facets, query);
  for (const auto& n : selection.notes) std::cerr << "note: " << n << "\n";
  const std::string actor = cli_actor();

  if (format == app::ExportFormat::kXmp) {
    app::XmpTarget target;
    target.in_place = a.in_place;
    target.embed = a.embed;
    target.dir = a.out;
    target.mode = a.replace_keywords ? image::KeywordWrite::kReplace : image::KeywordWrite::kMerge;
    if (!a.in_place && a.out.empty())
      throw InputError("--format xmp needs --out DIR (or --in-place-sidecars)");
    const std::string destination =
        a.in_place ? "next to the photos" : fs::absolute(a.out).lexically_normal().string();
    app::record_export(db, actor, format, query, selection.ids.size(), destination, a.embed);
    const auto r = app::write_xmp(db, tax, selection.ids, options, target);
    if (!r.failed.empty()) set_exit_code(kSomeRejected);
    if (g.json) {
      json failed = json::array();
      for (const auto& [path, reason] : r.failed)
        failed.push_back({{"path", path}, {"reason", reason}});
      print_json({{"format", a.embed ? "xmp-embedded" : "xmp"},
                  {"query", query.describe()},
                  {"assets", selection.ids.size()},
                  {"written", r.written},
                  {"without_tags", r.without_tags},
                  {"failed", failed},
                  {"destination", destination},
                  {"notes", selection.notes}});
      return;
    }
    std::cout << fmt::format("{} {} written for {} assets ({}) {}; {} without exported tags\n",
                             r.written, a.embed ? "photo copies with embedded XMP" : "XMP sidecars",
                             selection.ids.size(), query.describe(),
                             a.in_place ? "next to the photos" : "under " + destination,
                             r.without_tags);
    for (const auto& [path, reason] : r.failed)
      std::cerr << "not written: " << path << ": " << reason << "\n";
    return;
  }

  const bool to_stdout = a.out.empty() || a.out == "-";
  const std::string destination =
      to_stdout ? "stdout" : fs::absolute(a.out).lexically_normal().string();
  app::record_export(db, actor, format, query, selection.ids.size(), destination);
  std::size_t written = 0;
  if (to_stdout) {
    written = app::write_export_table(db, tax, selection.ids, format, options, std::cout);
  } else {
    // Written whole, then renamed: a reader never sees half an export.
    const fs::path target = a.out;
    const fs::path tmp = target.string() + ".tmp";
    {
      std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
      if (!out) throw Error(fmt::format("cannot write {}", tmp.string()));
      written = app::write_export_table(db, tax, selection.ids, format, options, out);
      if (!out) throw Error(fmt::format("writing {} failed (disk full?)", tmp.string()));
    }
    fs::rename(tmp, target);
  }
  const std::string summary = fmt::format("exported {} assets ({}) as {} to {}", written,
                                          query.describe(), a.format, destination);
  if (to_stdout) {
    if (!g.quiet) std::cerr << summary << "\n";
  } else if (g.json) {
    print_json({{"format", a.format},
                {"query", query.describe()},
                {"assets", written},
                {"destination", destination},
                {"notes", selection.notes}});
  } else {
    std::cout << summary << "\n";
  }
}

}  // namespace

void register_export(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<ExportArgs>();
  auto* cmd = app.add_subcommand(
      "export", "Export the assets a search selects with their tags: CSV, JSON or XMP");
  cmd->add_option("text", a->text,
                  "Search text, as `tagsmith search` takes it (\"white dress\", \"白色连衣裙\"); "
                  "empty: every asset");
  cmd->add_option("--facet", a->facets,
                  "Filter ATTRIBUTE=VALUE[,VALUE...] (repeatable), as search");
  cmd->add_flag("--include-flagged", a->include_flagged,
                "Count flagged tags as applied (selection)");
  cmd->add_flag("--include-suggested", a->include_suggested,
                "Count suggested tags as applied (selection)");
  cmd->add_option("--format", a->format, "csv | json | jsonl | xmp")->capture_default_str();
  cmd->add_option("--out", a->out, "File for csv/json/jsonl (default: stdout); folder for xmp");
  cmd->add_option("--lang", a->lang, "Label language: en | zh")->capture_default_str();
  cmd->add_option(
         "--tiers", a->tiers,
         "Tag states written: applied (auto,flagged,confirmed,human_set), all, or a "
         "comma-separated list of auto, flagged, suggested, confirmed, rejected, human_set")
      ->capture_default_str();
  cmd->add_flag("--in-place-sidecars", a->in_place,
                "xmp: write photo.xmp next to each photo, merging with an existing sidecar");
  cmd->add_flag("--embed", a->embed,
                "xmp: embed XMP into copies of the photos under --out (originals untouched)");
  cmd->add_flag("--replace-keywords", a->replace_keywords,
                "xmp: replace the keywords already in a sidecar or photo instead of merging");
  cmd->footer(
      "XMP carries dc:subject (labels) and lr:hierarchicalSubject (\"Product type|Dresses|Maxi "
      "dress\"), which Lightroom, Bridge, digiKam and PhotoPrism read. Every export is recorded "
      "in the library's audit (who, when, format, query, number of assets).\n"
      "Exit status: 0 done; 3 some XMP files could not be written (listed); 2 bad usage.");
  cmd->callback([a, &g] { run_export(*a, g); });
}

}  // namespace tagsmith::cli
