// tagsmith tags import FILE.csv --map map.yaml -- a catalogue's existing
// labels recorded as human tags (actor import:<file name>), audited and
// idempotent; rows that cannot be used are listed with their CSV line and
// make the exit status 3, like rejected files in ingest.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/eval/label_import.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::cli {

namespace fs = std::filesystem;
using nlohmann::json;

void register_tags_import(CLI::App& tags, GlobalOptions& g) {
  struct Args {
    std::string csv, map, root, image_column = "image";
  };
  register_tags_import_keywords(tags, g);
  auto args = std::make_shared<Args>();
  CLI::App* cmd = tags.add_subcommand(
      "import", "Record a catalogue's existing labels (CSV + mapping) as human tags");
  cmd->add_option("csv", args->csv, "CSV: an image column and one column per attribute")
      ->required();
  cmd->add_option("--map", args->map,
                  "YAML: CSV column -> {attribute, values}, as `tagsmith eval` reads it")
      ->required();
  cmd->add_option("--root", args->root,
                  "Folder the CSV's image paths are relative to (default: the CSV's folder)");
  cmd->add_option("--image-column", args->image_column, "CSV column holding the image path")
      ->capture_default_str();
  cmd->callback([args, &g] {
    const fs::path csv_path = args->csv;
    const auto csv = eval::read_csv(csv_path);
    const auto mapping = eval::read_mapping(args->map);
    auto lib = library::Library::open_existing(g.library);
    // Only human operations: no model is loaded.
    tagging::TagService service(*lib);
    eval::ImportOptions options;
    options.actor = "import:" + csv_path.filename().string();
    options.root = args->root.empty() ? fs::absolute(csv_path).parent_path() : fs::path(args->root);
    options.image_column = args->image_column;
    const auto r = eval::import_labels(*lib, service, csv, mapping, options);
    if (!r.problems.empty()) set_exit_code(kSomeRejected);
    const std::string file = csv_path.filename().string();
    if (g.json) {
      json problems = json::array();
      for (const auto& p : r.problems)
        problems.push_back({{"line", p.line}, {"image", p.image}, {"reason", p.reason}});
      print_json({{"file", file},
                  {"actor", options.actor},
                  {"taxonomy_version", service.taxonomy_version()},
                  {"rows", r.rows},
                  {"labels", r.labels},
                  {"set", r.set},
                  {"corrected", r.corrected},
                  {"unchanged", r.unchanged},
                  {"blank", r.blank},
                  {"assets", r.assets},
                  {"events", r.events()},
                  {"bad_rows", r.problems.size()},
                  {"problems", problems}});
      return;
    }
    std::cout << fmt::format(
        "Imported {} labels of {} assets from {} as {}: {} set, {} corrected, {} already "
        "there ({} audit event{}).\n",
        r.labels, r.assets, file, options.actor, r.set, r.corrected, r.unchanged, r.events(),
        r.events() == 1 ? "" : "s");
    if (!r.problems.empty()) {
      std::cout << fmt::format("{} row{} not imported:\n", r.problems.size(),
                               r.problems.size() == 1 ? "" : "s");
      for (const auto& p : r.problems)
        std::cout << fmt::format("  {}:{}: {}{}{}\n", file, p.line, p.image,
                                 p.image.empty() ? "" : ": ", p.reason);
    }
  });
}

}  // namespace tagsmith::cli
