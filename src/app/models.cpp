#include "tagsmith/app/models.h"

#include <fmt/format.h>

#include "classifier_encoder.h"
#include "clip_encoder.h"
#include "tagsmith/training/registry.h"
#include "tagsmith/vision/model_locator.h"

namespace tagsmith::app {
namespace fs = std::filesystem;

namespace {
// The manifest's family of a model directory's name ("" when not listed).
std::string manifest_family(const fs::path& dir) {
  const std::string name = fs::absolute(dir).lexically_normal().filename().string();
  for (const auto& m : vision::builtin_manifest())
    if (m.name == name) return m.family;
  return {};
}
}  // namespace

std::shared_ptr<const Encoder> load_encoder(const fs::path& dir, int threads,
                                            vision::Precision precision) {
  // A segmenter's folder looks like a classifier's (a .tflite and its
  // labels); named, it is refused with what it is rather than a graph error.
  if (manifest_family(dir) == "segmenter")
    throw vision::ModelError(fmt::format(
        "{} is a person-segmentation model (family: segmenter), not an image encoder; colour "
        "analysis uses it on its own",
        dir.string()));
  vision::RuntimeOptions options;
  options.threads = threads;
  options.precision = precision;
  if (fs::exists(dir / "config.json"))
    return make_clip_encoder(vision::ClipModel::load(dir, options));
  if (auto files = find_classifier_files(dir)) {
    const std::string name = fs::absolute(dir).lexically_normal().filename().string();
    return load_classifier_encoder(*files, name, threads, precision);
  }
  throw vision::ModelError(
      fmt::format("{} holds no model tagsmith can run: a CLIP model needs config.json and "
                  "model.safetensors; an image classifier a .tflite file and its labels.txt",
                  dir.string()));
}

EncoderChoice choose_encoder(const ModelOptions& options, Library* library) {
  if (options.disabled) return {};
  const vision::ModelLocator locator(options.models_dir);
  // 1. Named on the command line: find() throws, naming every place looked at.
  if (!options.name.empty()) return {locator.find(options.name), {}};
  // 2. The library's encoder: at the path it was loaded from, or (with
  //    --models, or when it moved) by its directory name under the roots.
  if (library) {
    const auto active = training::active_encoder(library->store());
    if (active && !active->artifact_path.empty()) {
      // Imported models live inside the library, recorded relative to it.
      fs::path recorded = active->artifact_path;
      // An imported model is part of the library: used whatever --models says.
      const bool inside = recorded.is_relative();
      if (inside) recorded = library->dir() / recorded;
      if ((inside || options.models_dir.empty()) && fs::is_directory(recorded))
        return {recorded, {}};
      if (auto found = locator.try_find(recorded.filename().string())) return {*found, {}};
    }
  }
  // 3. The first manifest model present.
  if (auto name = locator.default_model()) return {locator.find(*name), {}};
  // 4. None.
  return {std::nullopt,
          "no vision model found, so recognition is off (colours, hashes and duplicates still "
          "work).\n" +
              locator.how_to_enable()};
}

std::optional<fs::path> choose_person_segmenter(const ModelOptions& options) {
  if (options.person_disabled) return std::nullopt;
  const vision::ModelLocator locator(options.models_dir);
  if (auto name = locator.default_model("segmenter")) return locator.find(*name);
  return std::nullopt;
}

fs::path imported_model_path(const std::string& name) {
  return fs::path("encoders") / name;
}

}  // namespace tagsmith::app
