// tagsmith train — train heads from reviewed tags, judge them on the held-out
// set, and (with --promote) promote and re-tag; tagsmith models
// list|promote|rollback.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/common/error.h"
#include "tagsmith/tagging/record_json.h"
#include "tagsmith/training/colour_refit.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/training/train.h"

namespace tagsmith::cli {
namespace {

using nlohmann::json;

// Promotion, rollback and a new colour calibration change which model tags
// the catalogue; each queues the whole catalogue's re-tag before it switches
// (training/registry.h). Work the queue right away, from the stored
// embeddings; it also finishes what an interrupted earlier run left.
tagging::TagReport retag_catalogue(app::LibraryContext& context, const GlobalOptions& g) {
  auto service = context.tag_service();  // loads the heads just promoted
  ProgressBar bar("retag", !g.quiet && !g.json);
  tagging::TagOptions options;
  options.threads = g.threads;
  options.on_progress = [&](std::int64_t done, std::int64_t total, double s) {
    bar.update(done, total, s);
  };
  auto report = service->tag_pending(options);
  bar.finish();
  return report;
}

}  // namespace

void register_train(CLI::App& app, GlobalOptions& g) {
  struct Args {
    ModelChoice model;
    std::vector<std::string> attributes;
    bool include_auto = false;
    double f1_tolerance = 0.01, ece_tolerance = 0.01;
    bool promote = false, mlp = false, force_colour = false;
  };
  auto args = std::make_shared<Args>();
  CLI::App* train = app.add_subcommand(
      "train", "Learn from reviewed tags: colour calibration and heads; promote only if better");
  train->add_option("--attribute", args->attributes,
                    "Only these attributes (default: every one with labels)");
  train->add_flag("--include-auto", args->include_auto,
                  "Also learn from high-confidence auto tags");
  train->add_option("--f1-tolerance", args->f1_tolerance, "Allowed macro-F1 drop per attribute")
      ->capture_default_str();
  train->add_option("--ece-tolerance", args->ece_tolerance, "Allowed calibration error rise")
      ->capture_default_str();
  train->add_flag("--promote", args->promote,
                  "Promote the candidate if it passes the gate, then re-tag");
  train->add_flag("--force-colour", args->force_colour,
                  "Activate the colour calibration refit even if it does not beat the current one");
  train->add_flag("--mlp", args->mlp, "One hidden layer instead of a linear head");
  train->add_option("--model", args->model.name, "Vision model whose embeddings to train on");
  train->add_flag("--no-model", args->model.disabled,
                  "Colour calibration only (no vision model, no heads)");
  train->callback([args, &g] {
    auto lib_context = open_library(g, OpenMode::existing, args->model);
    auto& lib = lib_context->library();
    json out;
    // The colour calibration learns from reviewed colour tags; it needs no
    // embeddings, so it runs first and on its own.
    training::ColourRefitOptions colour_options;
    colour_options.force = args->force_colour;
    const auto colour = training::refit_colour_calibration(lib, colour_options);
    out["colour_calibration"] = {{"examples", colour.examples},
                                 {"holdout", colour.holdout},
                                 {"current", colour.current},
                                 {"candidate", colour.candidate},
                                 {"current_log_loss", colour.current_loss},
                                 {"candidate_log_loss", colour.candidate_loss},
                                 {"promoted", colour.promoted},
                                 {"reason", colour.reason}};
    if (!g.json) {
      if (colour.promoted)
        std::cout << fmt::format(
            "colour calibration {} fitted on {} reviewed photos: held-out log-loss {:.3f} vs "
            "{:.3f} ({}); now active\n",
            colour.candidate, colour.examples - colour.holdout, colour.candidate_loss,
            colour.current_loss, colour.current);
      else
        std::cout << "colour calibration unchanged (" << colour.current << "): " << colour.reason
                  << "\n";
    }
    // Also when an interrupted earlier train left its re-tag unfinished.
    if (colour.promoted || lib.store().pending_count(store::WorkStep::kTag) > 0) {
      const auto report = retag_catalogue(*lib_context, g);
      out["colour_retag"] = tag_report_json(report, tagging::current_taxonomy(lib).version);
      if (!g.json)
        std::cout << tag_report_text("Re-tagged", report, tagging::current_taxonomy(lib).version);
    }
    const auto model = lib_context->encoder();
    const auto encoder = model ? std::optional(model->version()) : std::nullopt;
    const auto active_encoder = training::active_encoder(lib.store());
    if (args->model.disabled || (!encoder && !active_encoder)) {
      if (args->model.disabled || colour.promoted || colour.examples > 0) {
        out["heads"] = "skipped: no image embeddings";
        if (g.json)
          print_json(out);
        else
          std::cout << "heads skipped: training them needs image embeddings (ingest with a vision "
                       "model first)\n";
        return;
      }
      throw InputError(
          "training needs image embeddings: ingest with a vision model first (see `tagsmith ingest "
          "--help`)");
    }
    const auto taxonomy = tagging::current_taxonomy(lib);
    training::TrainOptions options;
    options.encoder_version = encoder ? *encoder : active_encoder->version;
    options.taxonomy = &taxonomy.taxonomy;
    options.priors = lib_context->head_priors(taxonomy.taxonomy);
    options.data.include_auto = args->include_auto;
    options.data.attributes = args->attributes;
    options.gate.f1_tolerance = args->f1_tolerance;
    options.gate.ece_tolerance = args->ece_tolerance;
    if (args->mlp) options.head.hidden = 256;
    for (const auto& a : taxonomy.taxonomy.attributes()) {
      options.auto_thresholds[a.id] = a.thresholds.auto_apply;
    }
    const training::TrainResult r = training::train_heads(lib, options);
    to_json(out["verdict"], r.verdict);
    out["candidate"] = r.candidate.version;
    out["seconds"] = r.seconds;
    json notes = json::array();
    for (const auto& n : r.attributes) {
      notes.push_back({{"attribute", n.attribute},
                       {"status", n.status},
                       {"reason", n.reason},
                       {"rows", n.rows},
                       {"holdout_rows", n.holdout_rows},
                       {"classes", n.classes}});
    }
    out["attributes"] = notes;
    if (!g.json) {
      for (const auto& n : r.attributes) {
        std::cout << fmt::format("{:<16} {:<8} {} train rows, {} held out, {} classes{}\n",
                                 n.attribute, n.status, n.rows, n.holdout_rows, n.classes,
                                 n.reason.empty() ? "" : "  (" + n.reason + ")");
      }
      std::cout << "\n" << training::format_table(r.verdict) << "\n";
      std::cout << fmt::format("candidate {} trained in {:.1f} s: {}\n", r.candidate.version,
                               r.seconds,
                               r.verdict.promote ? "passes the gate" : "does NOT pass the gate");
    }
    if (args->promote && r.verdict.promote && r.registered) {
      const auto p = training::promote(lib.store(), r.candidate.version);
      const auto report = retag_catalogue(*lib_context, g);
      out["promoted"] = p.promoted;
      out["retag"] = tag_report_json(report, tagging::current_taxonomy(lib).version);
      if (!g.json) {
        std::cout << "promoted " << p.promoted
                  << (p.retired.empty() ? "" : " (retired " + p.retired + ")") << "\n";
        std::cout << tag_report_text("Re-tagged", report, tagging::current_taxonomy(lib).version);
      }
    } else if (!g.json && r.registered) {
      std::cout << "promote with: tagsmith models promote " << r.candidate.version << "\n";
    }
    if (g.json) print_json(out);
  });

  auto version = std::make_shared<std::string>();
  auto force = std::make_shared<bool>(false);
  auto retag_model = std::make_shared<ModelChoice>();
  CLI::App* models =
      app.add_subcommand("models", "Model versions: list, promote, rollback, import");
  models->require_subcommand(1);
  CLI::App* list =
      models->add_subcommand("list", "Encoders and trained head versions with their status");
  list->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    const auto all = lib.store().model_versions();
    if (g.json) {
      json j = json::array();
      for (const auto& m : all) {
        j.push_back(tagging::to_json(m, tagging::View::kAdmin));
      }
      print_json(j);
      return;
    }
    if (all.empty()) std::cout << "no models yet\n";
    for (const auto& m : all) {
      std::cout << fmt::format("{:<40} {:<8} {:<10} {}\n", m.version, store::to_string(m.kind),
                               store::to_string(m.status), m.created_at);
    }
  });
  CLI::App* promote = models->add_subcommand("promote", "Make a heads version active, then re-tag");
  promote->add_option("version", *version)->required();
  promote->add_flag("--force", *force, "Promote even if it failed the gate");
  promote->add_option("--model", retag_model->name,
                      "Vision model for the re-tag's zero-shot scores");
  promote->callback([version, force, retag_model, &g] {
    auto lib_context = open_library(g, OpenMode::existing, *retag_model);
    auto& lib = lib_context->library();
    const auto p = training::promote(lib.store(), *version, *force);
    const auto report = retag_catalogue(*lib_context, g);
    if (g.json) {
      print_json({{"promoted", p.promoted},
                  {"retired", p.retired},
                  {"retag", tag_report_json(report, tagging::current_taxonomy(lib).version)}});
    } else {
      std::cout << "promoted " << p.promoted
                << (p.retired.empty() ? "" : " (retired " + p.retired + ")") << "\n"
                << tag_report_text("Re-tagged", report, tagging::current_taxonomy(lib).version);
    }
  });
  register_models_import(*models, g);
  CLI::App* rollback =
      models->add_subcommand("rollback", "Re-activate the previous heads version, then re-tag");
  rollback->add_option("--model", retag_model->name,
                       "Vision model for the re-tag's zero-shot scores");
  rollback->callback([retag_model, &g] {
    auto lib_context = open_library(g, OpenMode::existing, *retag_model);
    auto& lib = lib_context->library();
    const auto r = training::rollback(lib.store());
    const auto report = retag_catalogue(*lib_context, g);
    if (g.json) {
      print_json({{"retired", r.retired},
                  {"reactivated", r.reactivated},
                  {"retag", tag_report_json(report, tagging::current_taxonomy(lib).version)}});
    } else {
      std::cout << "rolled back " << r.retired << "; active now: "
                << (r.reactivated.empty() ? "zero-shot (no heads)" : r.reactivated) << "\n"
                << tag_report_text("Re-tagged", report, tagging::current_taxonomy(lib).version);
    }
  });
}

}  // namespace tagsmith::cli
