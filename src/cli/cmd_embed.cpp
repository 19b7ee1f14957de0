// `tagsmith embed --text "white dress" --image photo.jpg [--model NAME]`:
// prints the L2-normalised CLIP embedding of each input, one line of numbers
// per input (in the order texts, then images), or with --json an array of
// {"kind", "input", "model", "vector"} objects. A debugging aid: the same
// vectors ingest stores and search compares.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "output.h"
#include "tagsmith/cli/command.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/vision/clip_model.h"
#include "tagsmith/vision/model_locator.h"

namespace tagsmith::cli {

namespace {

struct EmbedOptions {
  std::vector<std::string> texts;
  std::vector<std::string> images;
  std::string model;
};

void run_embed(const EmbedOptions& o, const GlobalOptions& g) {
  if (o.texts.empty() && o.images.empty())
    throw InputError("embed: give at least one --text or --image");
  vision::ModelLocator locator(g.models);
  std::string name = o.model;
  if (name.empty()) {
    auto d = locator.default_model();
    if (!d) throw vision::ModelError("embed: no CLIP model found. " + locator.how_to_enable());
    name = *d;
  }
  auto model = vision::ClipModel::load(locator.find(name), {.threads = g.threads});

  std::vector<cv::Mat> rgb;
  for (const auto& path : o.images) rgb.push_back(image::decode_file(path).rgb);
  vision::Matrix texts = model->encode_texts(o.texts);
  vision::Matrix images = model->encode_images(rgb);

  if (g.json) {
    auto out = nlohmann::json::array();
    auto add = [&](const char* kind, const std::string& input, std::span<const float> v) {
      out.push_back({{"kind", kind},
                     {"input", input},
                     {"model", model->version()},
                     {"vector", std::vector<float>(v.begin(), v.end())}});
    };
    for (int i = 0; i < texts.rows; ++i) add("text", o.texts[i], texts.row(i));
    for (int i = 0; i < images.rows; ++i) add("image", o.images[i], images.row(i));
    print_json(out);
    return;
  }
  if (!g.quiet)
    std::fprintf(stderr, "model %s, %d dimensions, one line per input\n", model->version().c_str(),
                 model->embedding_dim());
  auto print = [](std::span<const float> v) {
    std::fputs(fmt::format("{:.7g}\n", fmt::join(v, " ")).c_str(), stdout);
  };
  for (int i = 0; i < texts.rows; ++i) print(texts.row(i));
  for (int i = 0; i < images.rows; ++i) print(images.row(i));
}

}  // namespace

void register_embed(CLI::App& app, GlobalOptions& g) {
  auto opts = std::make_shared<EmbedOptions>();
  auto* cmd = app.add_subcommand("embed", "Print CLIP embeddings of texts and images (debugging)");
  cmd->add_option("--text", opts->texts, "Text to embed (repeatable)");
  cmd->add_option("--image", opts->images, "Image file to embed (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", opts->model,
                  "Model name (directory under the models folder); default: the first model of "
                  "the manifest that is present");
  cmd->callback([opts, &g] { run_embed(*opts, g); });
}

}  // namespace tagsmith::cli
