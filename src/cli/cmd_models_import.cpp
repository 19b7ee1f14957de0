// `tagsmith models import FILE.tflite --labels FILE [--name NAME]
//  [--label-map FILE]`: brings an image classifier into the library (copied
// under DIR/encoders/NAME, validated by loading it), makes it the library's
// encoder, embeds the assets already there with it and re-tags them.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <random>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tag_support.h"
#include "tagsmith/app/models.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"

namespace tagsmith::cli {
namespace fs = std::filesystem;
namespace {

struct ImportArgs {
  std::string model, labels, label_map, name;
};

void copy_into(const fs::path& from, const fs::path& to) {
  std::error_code ec;
  fs::copy_file(from, to, fs::copy_options::overwrite_existing, ec);
  if (ec) throw InputError(fmt::format("cannot copy {}: {}", from.string(), ec.message()));
}

void import_model(const ImportArgs& a, const GlobalOptions& g) {
  const fs::path model(a.model), labels(a.labels);
  if (model.extension() != ".tflite")
    throw InputError(fmt::format("models import: {} is not a .tflite file", a.model));
  for (const auto& f : {model, labels})
    if (!fs::is_regular_file(f)) throw InputError("models import: no such file: " + f.string());
  const std::string name = a.name.empty() ? model.stem().string() : a.name;
  if (name.empty() || name.find('/') != std::string::npos || name.front() == '.')
    throw InputError(fmt::format("models import: '{}' is not a usable model name", name));

  auto context = open_library(g, OpenMode::existing);
  const fs::path dir = context->library().dir();
  const fs::path dest = dir / app::imported_model_path(name);
  if (fs::exists(dest))
    throw InputError(fmt::format(
        "models import: the library already has a model called {} (choose another --name)", name));
  // Stage beside the destination, prove it loads, then move it into place in
  // one rename: a failed import leaves nothing behind.
  std::random_device rd;
  const fs::path stage =
      dest.parent_path() / fmt::format(".import-{}-{:08x}", name, static_cast<unsigned>(rd()));
  fs::create_directories(stage);
  try {
    copy_into(model, stage / model.filename());
    copy_into(labels, stage / "labels.txt");
    if (!a.label_map.empty()) copy_into(a.label_map, stage / "label_map.yaml");
    (void)app::load_encoder(stage, g.threads);  // refuses what it cannot run, naming why
    fs::rename(stage, dest);
  } catch (...) {
    std::error_code ec;
    fs::remove_all(stage, ec);
    throw;
  }

  // Open again with the imported model chosen; it becomes the library's.
  auto imported = open_library(g, OpenMode::existing, ModelChoice{fs::absolute(dest).string()});
  imported->adopt_encoder();
  const auto encoder = imported->encoder();
  ingest::ReembedOptions ro;
  ro.threads = g.threads;
  ProgressBar bar("embed", !g.quiet && !g.json);
  ro.on_progress = [&](std::int64_t done, std::int64_t total, double s) {
    bar.update(done, total, s);
  };
  const auto embedded = imported->embed_back_catalogue(ro);
  bar.finish();
  auto service = imported->tag_service();
  tagging::TagOptions to;
  to.threads = g.threads;
  const auto tagged = service->tag_all(to);
  if (g.json) {
    print_json({{"name", name},
                {"version", encoder->version()},
                {"family", app::to_string(encoder->family())},
                {"embedding_dim", encoder->embedding_dim()},
                {"path", dest.string()},
                {"embedded", embedded ? embedded->embedded : 0},
                {"retag", tag_report_json(tagged, service->taxonomy_version())}});
    return;
  }
  std::cout << fmt::format(
      "imported {} as {} ({}, {}-d embeddings); it is now the library's "
      "encoder\n",
      name, encoder->version(), app::to_string(encoder->family()), encoder->embedding_dim());
  if (embedded)
    std::cout << fmt::format("embedded {} of {} assets in {:.1f} s\n", embedded->embedded,
                             embedded->missing, embedded->seconds);
  std::cout << tag_report_text("Re-tagged", tagged, service->taxonomy_version());
}

}  // namespace

void register_models_import(CLI::App& models, GlobalOptions& g) {
  auto a = std::make_shared<ImportArgs>();
  CLI::App* cmd = models.add_subcommand(
      "import", "Bring a TFLite image classifier into the library and make it its encoder");
  cmd->add_option("model", a->model, "The .tflite file")->required();
  cmd->add_option("--labels", a->labels, "Its label file: one class name per line, in output order")
      ->required();
  cmd->add_option("--name", a->name, "Name in the library (default: the file's stem)");
  cmd->add_option("--label-map", a->label_map,
                  "How its labels map onto the taxonomy (default: the built-in ImageNet map)");
  cmd->callback([a, &g] { import_model(*a, g); });
}

}  // namespace tagsmith::cli
