// Library inspection: tagsmith info | stats | errors | duplicates.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "asset_ref.h"
#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/ingest/duplicates.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/record_json.h"

namespace tagsmith::cli {
namespace {

using nlohmann::json;

// The record (admin view: the CLI runs as the library's owner) plus what only
// the command line shows: paths on disk, the thumbnail file, embeddings, tags.
json asset_json(library::Library& lib, const store::AssetRecord& a) {
  store::Store& db = lib.store();
  json j = tagging::to_json(a, tagging::View::kAdmin);
  json paths = json::array();
  for (const auto& p : db.paths_of(a.id))
    paths.push_back({{"path", p.path}, {"alias", p.is_alias}});
  json tags = json::array();
  for (const auto& t : db.tags_of(a.id)) tags.push_back(tagging::to_json(t));
  json embeddings = json::array();
  for (const auto& m : db.model_versions()) {
    if (auto v = db.embedding(a.id, m.version))
      embeddings.push_back({{"model", m.version}, {"dim", v->size()}});
  }
  j["paths"] = paths;
  j["thumbnail"] =
      a.thumbnail_sha256.empty() ? "" : lib.thumbnail_path(a.thumbnail_sha256).string();
  j["embeddings"] = embeddings;
  j["tags"] = tags;
  return j;
}

void print_asset_text(const json& j) {
  std::cout << fmt::format("asset {}  {}x{} {}  {} bytes\n", j["id"].get<long long>(),
                           j["width"].get<int>(), j["height"].get<int>(),
                           j["format"].get<std::string>(), j["file_size"].get<long long>());
  std::cout << "  sha256     " << j["sha256"].get<std::string>() << "\n";
  for (const auto& p : j["paths"]) {
    std::cout << (p["alias"].get<bool>() ? "  alias      " : "  path       ")
              << p["path"].get<std::string>() << "\n";
  }
  std::cout << "  thumbnail  " << j["thumbnail"].get<std::string>() << "\n";
  std::cout << "  phash      " << j["phash"].get<std::string>() << "\n";
  std::cout << "  ingested   " << j["ingested_at"].get<std::string>() << "\n";
  const std::string mask = j.value("colour_mask", "");
  std::cout << fmt::format(
      "  colours    (product {:.0f}% of the frame{})\n", 100 * j["product_fraction"].get<double>(),
      mask.empty()     ? (j["background_removed"].get<bool>() ? ", background removed" : "")
      : mask == "none" ? ", no product region found: whole frame"
                       : ", product found by the " + mask + " mask");
  for (const auto& c : j["colours"]) {
    std::cout << fmt::format("    {:>5.1f}%  {:<12} {:<18} {}  ΔE {:.1f}\n",
                             100 * c["share"].get<double>(), c["family"].get<std::string>(),
                             c["shade"].get<std::string>(), c["rgb"].get<std::string>(),
                             c["delta_e"].get<double>());
  }
  for (const auto& e : j["embeddings"]) {
    std::cout << "  embedding  " << e["model"].get<std::string>() << " ("
              << e["dim"].get<std::size_t>() << "-d)\n";
  }
  if (!j["tags"].empty()) std::cout << "  tags\n";
  for (const auto& t : j["tags"]) {
    std::cout << fmt::format("    {:<14} {:<20} {:<10} {:.3f}  {}\n",
                             t["attribute"].get<std::string>(), t["node"].get<std::string>(),
                             t["state"].get<std::string>(), t["confidence"].get<double>(),
                             t["actor"].get<std::string>());
  }
}

}  // namespace

void register_library_commands(CLI::App& app, GlobalOptions& g) {
  auto asset_ref = std::make_shared<std::string>();
  CLI::App* info = app.add_subcommand("info", "Everything known about one asset");
  info->add_option("asset", *asset_ref, "Asset id or ingested path")->required();
  info->callback([asset_ref, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const json j = asset_json(lib, resolve_asset(lib.store(), *asset_ref));
    if (g.json) {
      print_json(j);
    } else {
      print_asset_text(j);
    }
  });

  CLI::App* stats = app.add_subcommand("stats", "Library totals");
  stats->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const store::LibraryStats s = lib.store().stats();
    const auto groups = ingest::near_duplicate_groups(lib.store().fingerprints());
    const json j = {{"assets", s.assets},
                    {"duplicate_paths", s.aliases},
                    {"rejected_files", s.rejected_files},
                    {"near_duplicate_groups", groups.size()},
                    {"embeddings", s.embeddings},
                    {"tags",
                     {{"auto", s.tags_auto},
                      {"flagged", s.tags_flagged},
                      {"suggested", s.tags_suggested},
                      {"confirmed", s.tags_confirmed},
                      {"rejected", s.tags_rejected},
                      {"human_set", s.tags_human_set}}},
                    {"tag_events", s.tag_events},
                    {"pending", {{"tagging", s.pending_tagging}}}};
    if (g.json) {
      print_json(j);
      return;
    }
    std::cout << fmt::format(
        "assets              {}\nduplicate paths     {}\nrejected files      {}\nnear-duplicate "
        "groups {}\n"
        "embeddings          {}\ntags: auto {}, flagged {}, suggested {}, confirmed {}, rejected "
        "{}, set by people {}\n"
        "audit events        {}\n"
        "pending tagging     {}{}\n",
        s.assets, s.aliases, s.rejected_files, groups.size(), s.embeddings, s.tags_auto,
        s.tags_flagged, s.tags_suggested, s.tags_confirmed, s.tags_rejected, s.tags_human_set,
        s.tag_events, s.pending_tagging,
        s.pending_tagging > 0 ? " (run `tagsmith tag --pending`)" : "");
  });

  CLI::App* errors = app.add_subcommand("errors", "Files that could not be ingested, and why");
  errors->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto list = lib.store().ingest_errors();
    if (g.json) {
      json j = json::array();
      for (const auto& e : list)
        j.push_back({{"path", e.path}, {"reason", e.reason}, {"at", e.at}});
      print_json(j);
      return;
    }
    if (list.empty()) std::cout << "no ingest errors\n";
    for (const auto& e : list)
      std::cout << e.path << "\n    " << e.reason << "  (" << e.at << ")\n";
  });

  auto distance = std::make_shared<int>(ingest::kDefaultNearDuplicateDistance);
  CLI::App* dups =
      app.add_subcommand("duplicates", "Groups of near-duplicate assets (perceptual hash)");
  dups->add_option("--max-distance", *distance, "Hamming distance of 64-bit hashes")
      ->capture_default_str();
  dups->callback([distance, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    store::Store& db = lib.store();
    const auto groups = ingest::near_duplicate_groups(db.fingerprints(), *distance);
    json j = json::array();
    for (const auto& group : groups) {
      json members = json::array();
      for (auto id : group) {
        const auto a = db.find_asset(id);
        members.push_back({{"id", id}, {"path", a ? a->source_path : ""}});
      }
      j.push_back({{"assets", members}});
    }
    if (g.json) {
      print_json(j);
      return;
    }
    if (groups.empty()) std::cout << "no near-duplicate groups\n";
    int n = 0;
    for (const auto& group : j) {
      std::cout << "group " << ++n << "\n";
      for (const auto& m : group["assets"]) {
        std::cout << "  " << m["id"].get<long long>() << "  " << m["path"].get<std::string>()
                  << "\n";
      }
    }
  });
}

}  // namespace tagsmith::cli
