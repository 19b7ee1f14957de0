// `tagsmith embed --text "white dress" --image photo.jpg [--model NAME]`:
// prints the embedding of each input (CLIP: unit length; a classifier: its
// pooled feature, images only), one line of numbers
// per input (in the order texts, then images), or with --json an array of
// {"kind", "input", "model", "vector"} objects. A debugging aid: the same
// vectors ingest stores and search compares.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <string>
#include <vector>

#include "output.h"
#include "tagsmith/app/models.h"
#include "tagsmith/cli/command.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/vision/model_locator.h"  // ModelError

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
  app::ModelOptions m;
  m.models_dir = g.models;
  m.name = o.model;
  m.threads = g.threads;
  m.precision = vision::parse_precision(g.precision);
  const app::EncoderChoice choice = app::choose_encoder(m, nullptr);
  if (!choice.dir) throw vision::ModelError("embed: " + choice.notice);
  const auto model = app::load_encoder(*choice.dir, g.threads, m.precision);
  if (!o.texts.empty() && !model->has_text())
    throw InputError(fmt::format("embed: {} is an image-only model; --text needs a CLIP model",
                                 model->version()));

  std::vector<cv::Mat> rgb;
  for (const auto& path : o.images) rgb.push_back(image::decode_file(path).rgb);
  std::vector<std::vector<float>> texts;
  for (const auto& t : o.texts) texts.push_back(model->embed_text(t));
  const auto images = rgb.empty() ? std::vector<std::vector<float>>{} : model->embed_images(rgb);

  if (g.json) {
    auto out = nlohmann::json::array();
    auto add = [&](const char* kind, const std::string& input, std::span<const float> v) {
      out.push_back({{"kind", kind},
                     {"input", input},
                     {"model", model->version()},
                     {"vector", std::vector<float>(v.begin(), v.end())}});
    };
    for (std::size_t i = 0; i < texts.size(); ++i) add("text", o.texts[i], texts[i]);
    for (std::size_t i = 0; i < images.size(); ++i) add("image", o.images[i], images[i]);
    print_json(out);
    return;
  }
  if (!g.quiet)
    std::fprintf(stderr, "model %s, %d dimensions, one line per input\n", model->version().c_str(),
                 model->embedding_dim());
  auto print = [](std::span<const float> v) {
    std::fputs(fmt::format("{:.7g}\n", fmt::join(v, " ")).c_str(), stdout);
  };
  for (const auto& v : texts) print(v);
  for (const auto& v : images) print(v);
}

}  // namespace

void register_embed(CLI::App& app, GlobalOptions& g) {
  auto opts = std::make_shared<EmbedOptions>();
  auto* cmd = app.add_subcommand("embed", "Print the embeddings of texts and images (debugging)");
  cmd->add_option("--text", opts->texts, "Text to embed (repeatable)");
  cmd->add_option("--image", opts->images, "Image file to embed (repeatable)")
      ->check(CLI::ExistingFile);
  cmd->add_option("--model", opts->model,
                  "Model name (directory under the models folder); default: the first model of "
                  "the manifest that is present");
  cmd->callback([opts, &g] { run_embed(*opts, g); });
}

}  // namespace tagsmith::cli
