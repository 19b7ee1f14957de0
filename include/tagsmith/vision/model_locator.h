#pragma once
// Where model weights come from. The manifest (data/models.yaml, compiled
// into the binary) lists the supported checkpoints; ModelLocator finds a
// model's directory on disk in this order:
//   --models DIR              when given, the only place looked at;
//   $TAGSMITH_MODELS          otherwise, then
//   ./models, ../shared/models.
// A model directory is <root>/<name> holding either a CLIP checkpoint
// (config.json, model.safetensors, vocab.json, merges.txt) or a TFLite model
// (one .tflite file and its label file, *label*.txt): an image classifier or
// a segmenter, told apart by the manifest's family (and by their graphs when
// loaded). Failures name the model and every place tried.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/vision/safetensors.h"  // ModelError

namespace tagsmith::vision {

struct ManifestFile {
  std::string path;  // relative to the model directory
  std::string url;
  std::optional<std::string> sha256;  // lower-case hex; nullopt = not recorded
};

struct ManifestModel {
  std::string name;
  std::string description;
  std::string licence;
  std::string homepage;
  int embedding_dim = 0;
  int image_size = 0;
  // "clip" | "classifier" (a .tflite with its labels) | "segmenter" (a
  // .tflite person segmenter with its labels: never an encoder).
  std::string family = "clip";
  std::vector<ManifestFile> files;
};

// Parses the manifest format; throws Error naming `where` on bad input.
std::vector<ManifestModel> parse_manifest(std::string_view yaml, const std::string& where);
// The manifest compiled into the binary.
const std::vector<ManifestModel>& builtin_manifest();

// Families that can be a library's encoder (clip, classifier); not a segmenter.
bool is_encoder_family(std::string_view family);

// The files a CLIP model directory must hold.
const std::vector<std::string>& required_model_files();

class ModelLocator {
 public:
  // `explicit_dir`: the --models flag ("" when not given). `env` and `cwd`
  // default to $TAGSMITH_MODELS and the current directory; tests pass them.
  explicit ModelLocator(std::string explicit_dir = {},
                        std::optional<std::string> env = std::nullopt,
                        std::optional<std::filesystem::path> cwd = std::nullopt,
                        std::vector<ManifestModel> manifest = builtin_manifest());

  // The roots searched, in order.
  const std::vector<std::filesystem::path>& search_roots() const { return roots_; }

  // Directory of model `name` (a manifest name or any directory name under a
  // root; an existing directory path is accepted as is). Throws ModelError
  // listing what was expected and every place looked at.
  std::filesystem::path find(std::string_view name) const;
  std::optional<std::filesystem::path> try_find(std::string_view name) const;

  // The default model: the first manifest model found of `family` ("clip",
  // "classifier", "segmenter"), or when no family is given of any encoder
  // family (so a segmenter is never the default encoder); nullopt when none is.
  std::optional<std::string> default_model(std::string_view family = {}) const;

  // Advice for when no model is present (how to fetch one, where to put it).
  std::string how_to_enable() const;

 private:
  std::vector<std::filesystem::path> roots_;
  std::vector<ManifestModel> manifest_;
};

}  // namespace tagsmith::vision
