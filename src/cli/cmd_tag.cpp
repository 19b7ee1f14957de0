// tagsmith tag [ASSET…|--all] | retag | why ASSET ATTRIBUTE | tags ASSET --
// machine tagging from stored data, and the audit trail in plain words
// (`tags import` lives in cmd_tags_import.cpp).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "asset_ref.h"
#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/common/error.h"
#include "tagsmith/tagging/explain.h"
#include "tagsmith/tagging/record_json.h"

namespace tagsmith::cli {

using nlohmann::json;

json tag_report_json(const tagging::TagReport& r, std::int64_t taxonomy_version) {
  return {{"taxonomy_version", taxonomy_version},
          {"assets", r.assets},
          {"assets_changed", r.assets_changed},
          {"decisions", r.decisions},
          {"added", r.added},
          {"removed", r.removed},
          {"value_changed", r.value_changed},
          {"tier_changed", r.tier_changed},
          {"confidence_changed", r.confidence_changed},
          {"changed", r.changed()},
          {"events", r.events},
          {"seconds", r.seconds}};
}

std::string tag_report_text(const std::string& verb, const tagging::TagReport& r,
                            std::int64_t taxonomy_version) {
  return fmt::format(
      "{} {} asset{} under taxonomy v{} in {:.1f} s: {} tag{} added, {} removed, {} changed value, "
      "{} changed tier "
      "({} asset{} changed; {} confidence-only update{}, {} audit event{}).\n",
      verb, r.assets, r.assets == 1 ? "" : "s", taxonomy_version, r.seconds, r.added,
      r.added == 1 ? "" : "s", r.removed, r.value_changed, r.tier_changed, r.assets_changed,
      r.assets_changed == 1 ? "" : "s", r.confidence_changed, r.confidence_changed == 1 ? "" : "s",
      r.events, r.events == 1 ? "" : "s");
}

namespace {

enum class Which { kNamed, kAll, kPending };

void run_tagging(const GlobalOptions& g, const std::vector<std::string>& refs, Which which,
                 bool progress, const std::string& verb) {
  auto lib_context = open_library(g, OpenMode::existing);
  auto& lib = lib_context->library();
  auto service = lib_context->tag_service();
  std::vector<store::AssetId> ids;
  for (const auto& r : refs) ids.push_back(resolve_asset(lib.store(), r).id);
  tagging::TagOptions options;
  options.threads = g.threads;
  ProgressBar bar(verb == "Re-tagged" ? "retag" : "tag", progress && !g.quiet);
  options.on_progress = [&](std::int64_t done, std::int64_t total, double s) {
    bar.update(done, total, s);
  };
  // --all queues the whole catalogue before it starts, so a re-tag that is
  // killed half-way is finished by the next `tag --pending` (or ingest).
  const tagging::TagReport r = which == Which::kAll       ? service->tag_all(options)
                               : which == Which::kPending ? service->tag_pending(options)
                                                          : service->tag(ids, options);
  bar.finish();
  if (g.json) {
    print_json(tag_report_json(r, service->taxonomy_version()));
  } else {
    std::cout << tag_report_text(verb, r, service->taxonomy_version());
  }
}

}  // namespace

void register_tagging(CLI::App& app, GlobalOptions& g) {
  struct TagArgs {
    std::vector<std::string> assets;
    bool all = false;
    bool pending = false;
  };
  auto tag_args = std::make_shared<TagArgs>();
  CLI::App* tag =
      app.add_subcommand("tag", "Tag (or re-tag) assets from their stored analysis and embeddings");
  tag->add_option("assets", tag_args->assets, "Asset ids or ingested paths");
  tag->add_flag("--all", tag_args->all, "Every asset in the library");
  tag->add_flag("--pending", tag_args->pending,
                "The assets whose tagging is pending (ingested with --no-tag, re-embedded, or "
                "left by an interrupted run; `tagsmith stats` counts them)");
  tag->callback([tag_args, &g] {
    const int modes =
        (tag_args->all ? 1 : 0) + (tag_args->pending ? 1 : 0) + (tag_args->assets.empty() ? 0 : 1);
    if (modes != 1)
      throw InputError("tag: name assets (ids or ingested paths), or give --all or --pending");
    const Which which = tag_args->all       ? Which::kAll
                        : tag_args->pending ? Which::kPending
                                            : Which::kNamed;
    run_tagging(g, tag_args->assets, which, which != Which::kNamed, "Tagged");
  });

  CLI::App* retag = app.add_subcommand("retag",
                                       "Re-tag the whole library under the current taxonomy and "
                                       "models (no re-decoding, no re-encoding)");
  auto enqueue = std::make_shared<bool>(false);
  retag->add_flag("--enqueue", *enqueue,
                  "Only queue the re-tag, for `tagsmith worker` processes to share in batches");
  retag->callback([&g, enqueue] {
    if (!*enqueue) return run_tagging(g, {}, Which::kAll, true, "Re-tagged");
    auto lib_context = open_library(g, OpenMode::existing);
    const std::int64_t pending = lib_context->store().queue_work_for_all(store::WorkStep::kTag);
    if (g.json) {
      print_json({{"pending_tagging", pending}});
    } else {
      std::cout << fmt::format(
          "Queued the re-tag: {} asset{} wait for tagging; `tagsmith worker` processes share "
          "them in batches (`tagsmith jobs` shows progress).\n",
          pending, pending == 1 ? "" : "s");
    }
  });

  struct WhyArgs {
    std::string asset, attribute;
    std::size_t history = 10;
  };
  auto why_args = std::make_shared<WhyArgs>();
  CLI::App* why = app.add_subcommand(
      "why", "Why an asset carries its tags on an attribute, from the audit trail");
  why->add_option("asset", why_args->asset, "Asset id or ingested path")->required();
  why->add_option("attribute", why_args->attribute, "Attribute id, e.g. colour_family")->required();
  why->add_option("--history", why_args->history, "Events of the history to show")
      ->capture_default_str();
  why->callback([why_args, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto asset = resolve_asset(lib.store(), why_args->asset);
    const auto e = tagging::explain(lib, asset.id, why_args->attribute, why_args->history);
    if (g.json) {
      print_json(e.json);
    } else {
      std::cout << e.text;
    }
  });

  auto tags_asset = std::make_shared<std::string>();
  CLI::App* tags = app.add_subcommand("tags", "The tags of one asset; `tags import` for a CSV");
  tags->add_option("asset", *tags_asset, "Asset id or ingested path");
  register_tags_import(*tags, g);
  tags->callback([tags, tags_asset, &g] {
    if (tags->got_subcommand("import") || tags->got_subcommand("import-keywords")) return;
    if (tags_asset->empty())
      throw InputError(
          "tags: name an asset (id or ingested path), or `tags import FILE.csv --map map.yaml`");
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto asset = resolve_asset(lib.store(), *tags_asset);
    const auto list = lib.store().tags_of(asset.id);
    if (g.json) {
      json j = json::array();
      for (const auto& t : list) j.push_back(tagging::to_json(t));
      print_json({{"asset", asset.id}, {"tags", j}});
      return;
    }
    if (list.empty())
      std::cout << fmt::format("asset {} has no tags (run `tagsmith tag {}`)\n", asset.id,
                               asset.id);
    for (const auto& t : list)
      std::cout << fmt::format("{:<14} {:<22} {:<10} {:.3f}  {}  (taxonomy v{})\n", t.attribute,
                               t.node, store::to_string(t.state), t.confidence, t.actor,
                               t.taxonomy_version);
  });
}

}  // namespace tagsmith::cli
