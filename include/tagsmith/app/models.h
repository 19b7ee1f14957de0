#pragma once
// Which encoder a library uses, and loading it.
//
// The rule, the same for every command, the server, eval and benchmarks:
//  1. a model named on the command line (--model NAME) is used when present,
//     and a missing or corrupt named model is an error;
//  2. otherwise the library's encoder: the active encoder model version with
//     the highest id (training::active_encoder), at its recorded path
//     (relative paths are inside the library: imported models), else by its
//     directory name under the model roots;
//  3. otherwise the first manifest model present under the model roots;
//  4. otherwise none: recognition is off, and a notice says how to enable it.
// Loading an encoder registers its version in the library. Making it the
// library's encoder (retiring the previous one) is asked for explicitly by the
// commands that store embeddings (see LibraryContext::adopt_encoder).
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include "tagsmith/app/encoder.h"
#include "tagsmith/library/library.h"
#include "tagsmith/vision/precision.h"

namespace tagsmith::app {

using Library = ::tagsmith::library::Library;

struct ModelOptions {
  std::string models_dir;        // --models DIR: when set, the only place looked at
  std::string name;              // --model NAME: empty = the rule above
  bool disabled = false;         // --no-model: the encoder only, not the person model
  bool person_disabled = false;  // --no-person-model
  int threads = 0;               // runtime threads (0 = cores)
  // --precision / $TAGSMITH_PRECISION: the encoder's arithmetic (see
  // vision/precision.h). fp32 by default; bf16 is measured to keep
  // MobileNetV2's embeddings and accuracy (README, bench_precision), while
  // for CLIP it stays opt-in until a real checkpoint confirms accuracy.
  vision::Precision precision = vision::Precision::fp32;
};

// Loads the encoder in `dir`, recognising its family by the files it holds.
// Throws ModelError naming what is missing or malformed, or when `dir` is a
// segmenter (a manifest model of family "segmenter"), which is no encoder.
// The precision changes the arithmetic, not the model: the version (and so
// the stored embeddings' model) is the same in every precision.
std::shared_ptr<const Encoder> load_encoder(const std::filesystem::path& dir, int threads,
                                            vision::Precision precision = vision::Precision::fp32);

struct EncoderChoice {
  std::optional<std::filesystem::path> dir;  // nullopt: no model
  std::string notice;                        // why none, and how to enable one
};
// Applies steps 1-4 of the rule without loading anything (`library` may be
// null: no step 2).
EncoderChoice choose_encoder(const ModelOptions& options, Library* library);

// The person-segmentation model colour analysis uses (the first manifest
// model of family "segmenter" present under the same model roots as the
// encoders: --models DIR, else $TAGSMITH_MODELS, ./models, ../shared/models);
// nullopt when none is present or `person_disabled`. `disabled` (--no-model)
// does not turn it off: colour analysis is not recognition.
std::optional<std::filesystem::path> choose_person_segmenter(const ModelOptions& options);

// Where `tagsmith models import` keeps a model inside a library:
// DIR/encoders/<name>, recorded relative to DIR ("encoders/<name>").
std::filesystem::path imported_model_path(const std::string& name);

}  // namespace tagsmith::app
