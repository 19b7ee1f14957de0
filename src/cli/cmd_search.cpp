// `tagsmith search [TEXT] [--facet ATTR=VALUE[,VALUE]]... [--similar ASSET|FILE]
//                  [--limit N] [--include-flagged] [--include-suggested] [--duplicates]`
// Prints hits (id, path, score, why) and facet counts for the result set, or
// with --json one object: {query, ranking, total, hits, facets, notes}.
// The CLIP model is loaded only when the request needs it (words that matched
// no taxonomy node, or --similar FILE); the vector index is opened (and
// synced with the store) only when similarity is needed.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <filesystem>
#include <iostream>
#include <map>

#include "asset_ref.h"
#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/library/library.h"
#include "tagsmith/search/duplicates.h"
#include "tagsmith/search/library_index.h"
#include "tagsmith/search/search.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::cli {
namespace {

using nlohmann::json;

struct SearchOptions {
  std::string text;
  std::vector<std::string> facets;
  std::string similar;
  std::size_t limit = 20;
  std::size_t offset = 0;
  bool include_flagged = false;
  bool include_suggested = false;
  bool duplicates = false;
  std::size_t values_shown = 8;
  ModelChoice model;
};

// The encoder the library's embeddings were made with, when no model is loaded.
std::string path_of(store::Store& db, store::AssetId id) {
  auto a = db.find_asset(id);
  return a ? a->source_path : std::string();
}

void run_duplicates(library::Library& lib, search::LibraryVectorIndex* vectors,
                    const GlobalOptions& g) {
  auto groups = search::near_duplicate_view(lib.store(), vectors ? vectors->index() : nullptr);
  if (g.json) {
    json out = json::array();
    for (const auto& grp : groups) {
      json members = json::array();
      for (auto id : grp.ids) members.push_back({{"id", id}, {"path", path_of(lib.store(), id)}});
      out.push_back(
          {{"basis", grp.basis},
           {"min_similarity", grp.min_similarity ? json(*grp.min_similarity) : json(nullptr)},
           {"assets", members}});
    }
    print_json({{"groups", out}});
    return;
  }
  std::cout << fmt::format(
      "{} near-duplicate group(s){}\n", groups.size(),
      vectors && vectors->index() ? "" : " (perceptual hash only: no embeddings)");
  for (const auto& grp : groups) {
    std::cout << fmt::format(
        "- {} assets, by {}{}\n", grp.ids.size(), grp.basis,
        grp.min_similarity ? fmt::format(", similarity >= {:.3f}", *grp.min_similarity) : "");
    for (auto id : grp.ids) std::cout << fmt::format("    #{}  {}\n", id, path_of(lib.store(), id));
  }
}

void run_search(const SearchOptions& o, const GlobalOptions& g) {
  auto lib_context = open_library(g, OpenMode::existing, o.model);
  auto& lib = lib_context->library();
  store::Store& db = lib.store();
  auto current = tagging::current_taxonomy(lib);
  const taxonomy::Taxonomy& tax = current.taxonomy;

  search::SearchRequest req;
  req.text = o.text;
  req.limit = o.limit;
  req.offset = o.offset;
  req.visibility = {o.include_flagged, o.include_suggested};
  std::vector<search::FacetClause> clauses;
  for (const auto& f : o.facets) clauses.push_back(search::parse_facet_option(tax, f));
  req.facets = search::merge_facet_clauses(std::move(clauses));

  std::optional<std::filesystem::path> similar_file;
  if (!o.similar.empty()) {
    const bool numeric = std::all_of(o.similar.begin(), o.similar.end(), ::isdigit);
    std::error_code ec;
    auto as_path = std::filesystem::absolute(o.similar, ec).lexically_normal();
    if (numeric || db.find_asset_by_path(as_path.string())) {
      req.similar_to_asset = resolve_asset(db, o.similar).id;
    } else if (std::filesystem::is_regular_file(o.similar)) {
      req.similar_to_file = similar_file = o.similar;
    } else {
      throw NotFoundError(fmt::format(
          "--similar: '{}' is neither an asset of the library nor an image file", o.similar));
    }
  }

  // Load the model only when this request needs one.
  const search::QueryParser parser(tax);
  const bool need_text = !parser.parse(o.text).remainder.empty();
  std::shared_ptr<search::TextEncoder> text_encoder;
  std::shared_ptr<search::ImageEncoder> image_encoder;
  if (need_text || similar_file) {
    text_encoder = lib_context->text_encoder();
    image_encoder = lib_context->image_encoder();
  }
  const std::string model = lib_context->embedding_version();
  std::unique_ptr<search::LibraryVectorIndex> vectors;
  if ((need_text && text_encoder) || req.similar_to_asset || similar_file || o.duplicates) {
    if (!model.empty()) vectors = search::LibraryVectorIndex::open(lib, model);
  }
  if (o.duplicates) return run_duplicates(lib, vectors.get(), g);

  auto facets = search::FacetIndex::load(db, tax);
  search::SearchEngine engine(tax, facets, vectors ? vectors->index() : nullptr, model,
                              text_encoder.get(), image_encoder.get());
  const auto res = engine.search(req);

  if (g.json) {
    json terms = json::array();
    for (const auto& t : res.query.terms) {
      json refs = json::array();
      for (const auto& r : t.refs) refs.push_back(r.str());
      terms.push_back({{"text", t.text}, {"nodes", refs}});
    }
    json hits = json::array();
    for (const auto& h : res.hits) {
      json matched = json::array();
      for (const auto& m : h.matched)
        matched.push_back({{"attribute", m.attribute},
                           {"node", m.node},
                           {"state", m.state ? store::to_string(*m.state) : "metadata"},
                           {"confidence", m.confidence}});
      hits.push_back({{"id", h.id},
                      {"path", path_of(db, h.id)},
                      {"score", h.score},
                      {"similarity", h.similarity ? json(*h.similarity) : json(nullptr)},
                      {"matched", matched},
                      {"why", h.why}});
    }
    json counts = json::object();
    for (const auto& c : res.counts) counts[c.attribute][c.node] = c.count;
    print_json({{"query",
                 {{"text", o.text},
                  {"normalised", res.query.normalised},
                  {"terms", terms},
                  {"remainder", res.query.remainder}}},
                {"ranking", res.ranking},
                {"model", model},
                {"total", res.total},
                {"hits", hits},
                {"facets", counts},
                {"notes", res.notes}});
    return;
  }

  std::vector<std::string> understood;
  for (const auto& c : res.filter.all_of) {
    std::vector<std::string> any;
    for (const auto& v : c.any_of) any.push_back(v.attribute + "=" + v.node);
    understood.push_back(fmt::format("{}", fmt::join(any, " | ")));
  }
  std::cout << fmt::format("{} match{}", res.total, res.total == 1 ? "" : "es");
  if (!understood.empty()) std::cout << fmt::format(" for {}", fmt::join(understood, " ∧ "));
  if (!res.query.remainder.empty())
    std::cout << fmt::format("; free text '{}'", res.query.remainder);
  std::cout << fmt::format("  (ranking: {})\n", res.ranking);
  for (const auto& n : res.notes) std::cout << "note: " << n << "\n";
  std::size_t rank = o.offset;
  for (const auto& h : res.hits)
    std::cout << fmt::format("{:>4}. #{:<7} {:.3f}  {}\n        {}\n", ++rank, h.id, h.score,
                             path_of(db, h.id), h.why);
  if (!res.counts.empty()) {
    std::cout << "facets:\n";
    std::map<std::string, std::vector<std::string>> shown;
    std::vector<std::string> order;
    for (const auto& c : res.counts) {
      auto& v = shown[c.attribute];
      if (v.empty()) order.push_back(c.attribute);
      if (v.size() < o.values_shown)
        v.push_back(fmt::format("{} {}", c.node, c.count));
      else if (v.size() == o.values_shown)
        v.push_back("…");
    }
    for (const auto& a : order)
      std::cout << fmt::format("  {:<14} {}\n", a, fmt::join(shown[a], ", "));
  }
}

}  // namespace

void register_search(CLI::App& app, GlobalOptions& g) {
  auto o = std::make_shared<SearchOptions>();
  auto* cmd = app.add_subcommand(
      "search", "Search the library: facets, words (English/Chinese), sentences, similar images");
  cmd->add_option(
      "text", o->text,
      "Free text, e.g. \"white dress\", \"白色连衣裙\", \"something flowy for a beach wedding\"");
  cmd->add_option(
      "--facet", o->facets,
      "Filter ATTRIBUTE=VALUE[,VALUE...] (repeatable; AND across attributes, OR within one). "
      "Metadata facets: format, month (YYYY-MM), folder, size");
  cmd->add_option("--similar", o->similar,
                  "Rank by similarity to an asset (id or ingested path) or an image file");
  cmd->add_option("--limit", o->limit, "Hits to show")->capture_default_str();
  cmd->add_option("--offset", o->offset, "Skip this many hits (paging)")->capture_default_str();
  cmd->add_flag("--include-flagged", o->include_flagged,
                "Count tags flagged for review as applied");
  cmd->add_flag("--include-suggested", o->include_suggested, "Count suggested tags as applied");
  cmd->add_flag("--duplicates", o->duplicates,
                "Show near-duplicate groups (perceptual hash + embeddings)");
  cmd->add_option("--values", o->values_shown, "Facet values shown per attribute")
      ->capture_default_str();
  cmd->add_option("--model", o->model.name,
                  "CLIP model for free text / image files (default: first present)");
  cmd->add_flag("--no-model", o->model.disabled,
                "Never load a model (facets and stored embeddings only)");
  cmd->callback([o, &g] { run_search(*o, g); });
}

}  // namespace tagsmith::cli
