#include "tagsmith/vision/model_locator.h"

#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <cstdlib>

namespace tagsmith::embedded {
std::string_view models_manifest();  // data/models.yaml, see CMakeLists.txt
}

namespace tagsmith::vision {

namespace fs = std::filesystem;

std::vector<ManifestModel> parse_manifest(std::string_view yaml, const std::string& where) {
  std::vector<ManifestModel> out;
  try {
    YAML::Node root = YAML::Load(std::string(yaml));
    for (const auto& m : root["models"]) {
      ManifestModel model;
      model.name = m["name"].as<std::string>();
      model.description = m["description"].as<std::string>("");
      model.licence = m["licence"].as<std::string>("");
      model.homepage = m["homepage"].as<std::string>("");
      model.embedding_dim = m["embedding_dim"].as<int>(0);
      model.image_size = m["image_size"].as<int>(0);
      model.family = m["family"].as<std::string>("clip");
      for (const auto& f : m["files"]) {
        ManifestFile file;
        file.path = f["path"].as<std::string>();
        file.url = f["url"].as<std::string>("");
        if (f["sha256"] && !f["sha256"].IsNull()) file.sha256 = f["sha256"].as<std::string>();
        model.files.push_back(std::move(file));
      }
      out.push_back(std::move(model));
    }
  } catch (const YAML::Exception& e) {
    throw Error(fmt::format("model manifest {} is malformed: {}", where, e.what()));
  }
  return out;
}

const std::vector<ManifestModel>& builtin_manifest() {
  static const std::vector<ManifestModel> m =
      parse_manifest(embedded::models_manifest(), "data/models.yaml (built in)");
  return m;
}

bool is_encoder_family(std::string_view family) {
  return family == "clip" || family == "classifier";
}

const std::vector<std::string>& required_model_files() {
  static const std::vector<std::string> f = {"config.json", "model.safetensors", "vocab.json",
                                             "merges.txt"};
  return f;
}

ModelLocator::ModelLocator(std::string explicit_dir, std::optional<std::string> env,
                           std::optional<fs::path> cwd, std::vector<ManifestModel> manifest)
    : manifest_(std::move(manifest)) {
  if (!explicit_dir.empty()) {
    roots_.push_back(explicit_dir);
    return;
  }
  if (!env) {
    const char* e = std::getenv("TAGSMITH_MODELS");
    if (e && *e) env = e;
  }
  if (env && !env->empty()) roots_.push_back(*env);
  const fs::path base = cwd ? *cwd : fs::current_path();
  roots_.push_back(base / "models");
  roots_.push_back(base / ".." / "shared" / "models");
}

namespace {

// A TFLite model directory (an image classifier or a segmenter): a .tflite
// file beside its label file.
bool is_classifier_dir(const fs::path& dir) {
  bool model = false, labels = false;
  std::error_code ec;
  for (const auto& e : fs::directory_iterator(dir, ec)) {
    if (!e.is_regular_file(ec)) continue;
    const auto& p = e.path();
    model = model || p.extension() == ".tflite";
    labels = labels ||
             (p.extension() == ".txt" && p.filename().string().find("label") != std::string::npos);
  }
  return model && labels;
}

// "" when `dir` holds a usable model (a CLIP checkpoint or a classifier),
// else what is missing.
std::string missing_files(const fs::path& dir) {
  if (is_classifier_dir(dir)) return {};
  std::vector<std::string> missing;
  for (const auto& f : required_model_files())
    if (!fs::is_regular_file(dir / f)) missing.push_back(f);
  return fmt::format("{}", fmt::join(missing, ", "));
}

}  // namespace

std::optional<fs::path> ModelLocator::try_find(std::string_view name) const {
  std::error_code ec;
  for (const auto& root : roots_) {
    const fs::path dir = root / name;
    if (fs::is_directory(dir, ec) && missing_files(dir).empty()) return dir;
  }
  return std::nullopt;
}

fs::path ModelLocator::find(std::string_view name) const {
  // A path to a model directory is taken as is (tests, ad-hoc checkpoints).
  const fs::path as_path(name);
  if ((as_path.is_absolute() || name.find('/') != std::string_view::npos) &&
      fs::is_directory(as_path)) {
    if (auto m = missing_files(as_path); !m.empty())
      throw ModelError(fmt::format("model directory {} lacks {}", as_path.string(), m));
    return as_path;
  }
  if (auto p = try_find(name)) return *p;
  std::string looked;
  for (const auto& root : roots_) {
    const fs::path dir = root / name;
    std::string why = !fs::is_directory(dir) ? "not there" : "lacks " + missing_files(dir);
    looked += fmt::format("\n  {} ({})", dir.string(), why);
  }
  throw ModelError(
      fmt::format("model \"{}\" not found: expected a directory {}/ holding {} (a CLIP model), "
                  "or a .tflite classifier with its labels file. Looked in:{}\n{}",
                  name, name, fmt::join(required_model_files(), ", "), looked, how_to_enable()));
}

std::optional<std::string> ModelLocator::default_model(std::string_view family) const {
  for (const auto& m : manifest_)
    if ((family.empty() ? is_encoder_family(m.family) : m.family == family) && try_find(m.name))
      return m.name;
  return std::nullopt;
}

std::string ModelLocator::how_to_enable() const {
  const std::string first = manifest_.empty() ? "clip-vit-base-patch32" : manifest_.front().name;
  return fmt::format(
      "To enable recognition, run `scripts/fetch-models {}` (puts it in ./models/{}), or pass "
      "--models DIR / set TAGSMITH_MODELS to a folder holding <model name>/config.json, "
      "model.safetensors, vocab.json and merges.txt (CLIP), or <model name>/<file>.tflite with "
      "its labels.txt (an image classifier such as MobileNetV2).",
      first, first);
}

}  // namespace tagsmith::vision
