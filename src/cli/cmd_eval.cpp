// tagsmith eval — measure tagsmith on a labelled image set: ingest
// into a throw-away (or given) library, run the zero-shot / few-shot / colour
// protocols on a fixed, seeded split, and write report.md, report.json,
// split.csv and PNG plots.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <iostream>
#include <memory>
#include <random>
#include <sstream>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/eval/harness.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::cli {
namespace {
namespace fs = std::filesystem;

// A library that exists only for this run: removed on every exit path.
class ScratchLibrary {
 public:
  ScratchLibrary() {
    std::random_device rd;
    dir_ = fs::temp_directory_path() / fmt::format("tagsmith-eval-{:08x}{:08x}", rd(), rd());
  }
  ~ScratchLibrary() {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
  ScratchLibrary(const ScratchLibrary&) = delete;
  ScratchLibrary& operator=(const ScratchLibrary&) = delete;
  const fs::path& dir() const { return dir_; }

 private:
  fs::path dir_;
};

template <typename T>
std::vector<T> split_list(const std::string& text, const char* flag) {
  std::vector<T> out;
  std::stringstream in(text);
  std::string item;
  while (std::getline(in, item, ',')) {
    if (item.empty()) continue;
    if constexpr (std::is_same_v<T, int>) {
      if (item == "all") {  // --k all: every train row
        out.push_back(eval::kAllExamples);
        continue;
      }
      try {
        std::size_t used = 0;
        out.push_back(std::stoi(item, &used));
        if (used != item.size()) throw std::invalid_argument(item);
      } catch (const std::exception&) {
        throw InputError(fmt::format("{}: '{}' is not a number", flag, item));
      }
    } else {
      out.push_back(item);
    }
  }
  if (out.empty()) throw InputError(fmt::format("{}: empty list", flag));
  return out;
}

}  // namespace

void register_eval(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::string dataset, labels, map, image_column = "image", segment_by, out = "eval-report";
    std::string split_column, test_value = "test";
    std::string protocols = "zero-shot,few-shot,colour,colour-fit", ks = "1,5,10,20,50,all";
    std::uint64_t seed = 7;
    double test_fraction = 0.3;
    ModelChoice model;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd =
      app.add_subcommand("eval", "Measure accuracy on a labelled image set; write a report");
  cmd->add_option("--dataset", args->dataset, "Folder the image paths are relative to")->required();
  cmd->add_option("--labels", args->labels,
                  "CSV: an image column and one column per attribute (default DATASET/labels.csv)");
  cmd->add_option("--map", args->map,
                  "YAML: CSV column -> {attribute, values} (default DATASET/map.yaml)");
  cmd->add_option("--image-column", args->image_column, "CSV column holding the image path")
      ->capture_default_str();
  cmd->add_option("--segment-by", args->segment_by,
                  "CSV column to break metrics down by (e.g. gender)");
  cmd->add_option("--out", args->out, "Report directory")->capture_default_str();
  cmd->add_option("--protocols", args->protocols,
                  "Comma list of zero-shot, few-shot, colour, colour-fit")
      ->capture_default_str();
  cmd->add_option("--k", args->ks, "Examples per class for the few-shot learning curve")
      ->capture_default_str();
  cmd->add_option("--seed", args->seed, "Seed of the train/test split and of training")
      ->capture_default_str();
  CLI::Option* fraction = cmd->add_option("--test-fraction", args->test_fraction,
                                          "Share of each class held out for testing")
                              ->capture_default_str()
                              ->check(CLI::Range(0.05, 0.95));
  CLI::Option* split_column =
      cmd->add_option("--split-column", args->split_column,
                      "CSV column holding a published split: rows whose value is --test-value are "
                      "the test set, the rest train")
          ->excludes(fraction);
  cmd->add_option("--test-value", args->test_value,
                  "Value of --split-column that marks test rows (e.g. validation)")
      ->capture_default_str()
      ->needs(split_column);
  cmd->add_option("--model", args->model.name, "Vision model (default: the first one present)");
  cmd->add_flag("--no-model", args->model.disabled, "No vision encoder: the colour protocols only");
  cmd->add_flag("--no-person-model", args->model.person_disabled,
                "Analyse colours without the person model even if it is present");
  cmd->callback([args, &g, &app] {
    const auto started = std::chrono::steady_clock::now();
    const fs::path dataset = args->dataset;
    if (!fs::is_directory(dataset)) throw InputError("--dataset: no such folder: " + args->dataset);
    const fs::path labels_path =
        args->labels.empty() ? dataset / "labels.csv" : fs::path(args->labels);
    const fs::path map_path = args->map.empty() ? dataset / "map.yaml" : fs::path(args->map);
    const auto csv = eval::read_csv(labels_path);
    const auto mapping = eval::read_mapping(map_path);

    eval::EvalOptions options;
    options.protocols = split_list<std::string>(args->protocols, "--protocols");
    options.ks = split_list<int>(args->ks, "--k");
    options.seed = args->seed;
    options.test_fraction = args->test_fraction;
    options.split_column = args->split_column;
    options.test_value = args->test_value;
    options.threads = g.threads;
    options.head.threads = g.threads;
    options.dataset = dataset.string();
    options.segment_by = args->segment_by;

    // --library is global with a default: only an explicit one is used, so an
    // evaluation never writes into the user's real library by accident.
    const bool own_library = app.get_option("--library")->count() > 0;
    std::optional<ScratchLibrary> scratch;
    if (!own_library) scratch.emplace();
    const bool wants_model =
        std::any_of(options.protocols.begin(), options.protocols.end(),
                    [](const std::string& p) { return !p.starts_with("colour"); });
    ModelChoice model_choice = args->model;
    model_choice.disabled = model_choice.disabled || !wants_model;
    auto context = open_library_at(own_library ? g.library : scratch->dir().string(), g,
                                   OpenMode::create, model_choice);
    auto* lib = &context->library();
    const auto taxonomy = tagging::current_taxonomy(*lib);
    eval::validate_mapping(mapping, taxonomy.taxonomy);
    const auto set = eval::build_labelled_set(csv, mapping, dataset, args->image_column,
                                              args->segment_by, args->split_column);
    options.taxonomy = &taxonomy.taxonomy;

    const auto model = context->encoder();
    // The person model serves colour analysis, so it runs with --no-model
    // too, and only when a colour protocol is asked for (it costs ~0.5 s per
    // photo with people on 2 cores).
    const bool wants_colour =
        std::any_of(options.protocols.begin(), options.protocols.end(),
                    [](const std::string& p) { return p.starts_with("colour"); });
    const auto person_masker = wants_colour ? context->person_masker() : nullptr;
    options.person_masker = person_masker.get();
    std::unique_ptr<ingest::ImageEmbedder> embedder;
    std::unique_ptr<tagging::ScoreProvider> evidence;
    if (model) {
      embedder = context->embedder();
      options.model = model->version();
      options.priors = context->head_priors(taxonomy.taxonomy);
      if (options.priors.empty()) {
        // No prompts (an image classifier): zero-shot is its mapped labels.
        evidence = model->score_provider(context->cache_dir(), {});
        if (evidence) {
          evidence->prepare(taxonomy.taxonomy);
          options.evidence = evidence.get();
        }
      }
    }
    const auto result = eval::run_eval(*lib, set, embedder.get(), options);
    const auto files = eval::write_report(result, args->out);
    nlohmann::json j = result;
    j["report_dir"] = fs::absolute(args->out).string();
    if (g.json) {
      print_json(j);
      return;
    }
    std::cout << eval::format_summary(result);
    for (const auto& n : result.notes) std::cout << "note: " << n << "\n";
    for (const auto& [column, values] : result.unmapped) {
      std::size_t rows = 0;
      for (const auto& [v, c] : values) rows += c;
      std::cout << fmt::format(
          "column {}: {} rows with {} unmapped values (not scored; see report.md)\n", column, rows,
          values.size());
    }
    if (!result.missing_images.empty())
      std::cout << fmt::format("{} rows name images that do not exist (see report.md)\n",
                               result.missing_images.size());
    std::cout << fmt::format(
        "report: {} ({} files) in {:.1f} s\n", (fs::path(args->out) / "report.md").string(),
        files.size(),
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
  });
}

}  // namespace tagsmith::cli
