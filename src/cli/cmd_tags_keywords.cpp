// tagsmith tags import-keywords [PATH...] -- the keywords photos carry (XMP,
// IPTC, sidecars) imported as tags for assets already in the library: what
// ingest does for new photos (tagging/keywords.h), for sidecars written after
// ingest, libraries ingested before keyword import existed, or an ingest
// killed between a photo's commit and its keywords. A person's decisions
// are never overwritten; idempotent.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <map>
#include <memory>

#include "commands.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/xmp.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/keywords.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::cli {

namespace fs = std::filesystem;
using nlohmann::json;

void register_tags_import_keywords(CLI::App& tags, GlobalOptions& g) {
  auto paths = std::make_shared<std::vector<std::string>>();
  CLI::App* cmd = tags.add_subcommand(
      "import-keywords",
      "Import the keywords photos carry (XMP, IPTC, photo.xmp sidecars) as tags of assets "
      "already in the library");
  cmd->add_option("paths", *paths, "Ingested photos (default: every asset of the library)");
  cmd->callback([paths, &g] {
    auto lib = library::Library::open_existing(g.library);
    store::Store& db = lib->store();
    tagging::TagService service(*lib);  // human operations only: no model
    std::vector<store::AssetId> ids;
    if (paths->empty()) {
      ids = db.asset_ids();
    } else {
      for (const auto& p : *paths) {
        const std::string abs = fs::absolute(p).lexically_normal().string();
        std::optional<store::AssetId> id;
        if (const auto known = db.find_path(abs)) id = known->asset_id;
        if (!id) throw NotFoundError(fmt::format("{} is not in the library (ingest it first)", p));
        ids.push_back(*id);
      }
    }
    std::int64_t photos = 0, set = 0, unchanged = 0, not_imported = 0;
    std::map<std::string, std::int64_t> unmatched;
    std::vector<std::pair<std::string, std::string>> errors;
    for (auto id : ids) {
      const auto asset = db.find_asset(id);
      if (!asset) continue;
      image::PhotoKeywords keywords;
      try {
        keywords = image::read_keywords(asset->source_path);
        if (const auto sidecar = image::find_sidecar(asset->source_path))
          keywords.merge(image::read_keywords(*sidecar));
      } catch (const Error& e) {
        errors.emplace_back(asset->source_path, e.what());
        continue;
      }
      if (keywords.empty()) continue;
      ++photos;
      const auto r = tagging::import_keywords(service, db, id, keywords);
      set += static_cast<std::int64_t>(r.set);
      unchanged += static_cast<std::int64_t>(r.unchanged);
      for (const auto& u : r.unmatched) {
        ++not_imported;
        ++unmatched[u.keyword + " (" + u.reason + ")"];
      }
    }
    if (!errors.empty()) set_exit_code(kSomeRejected);
    if (g.json) {
      json list = json::array();
      for (const auto& [k, n] : unmatched) list.push_back({{"keyword", k}, {"photos", n}});
      json errs = json::array();
      for (const auto& [p, reason] : errors) errs.push_back({{"path", p}, {"reason", reason}});
      print_json({{"assets", ids.size()},
                  {"photos_with_keywords", photos},
                  {"set", set},
                  {"unchanged", unchanged},
                  {"not_imported", not_imported},
                  {"not_imported_keywords", list},
                  {"metadata_errors", errs},
                  {"actor", tagging::kKeywordImportActor}});
      return;
    }
    std::cout << fmt::format(
        "{} of {} assets carry keywords: {} tags set as {}, {} already there, {} keywords not "
        "imported.\n",
        photos, ids.size(), set, tagging::kKeywordImportActor, unchanged, not_imported);
    for (const auto& [k, n] : unmatched)
      std::cout << fmt::format("  not imported: {} ({} photo{})\n", k, n, n == 1 ? "" : "s");
    for (const auto& [p, reason] : errors) std::cerr << "keywords not read: " << reason << "\n";
  });
}

}  // namespace tagsmith::cli
