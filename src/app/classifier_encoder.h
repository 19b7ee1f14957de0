#pragma once
// The image-classifier family behind app::Encoder (private to src/app): a
// TFLite network (MobileNetV2 on ImageNet, say) whose pooled penultimate
// feature is the embedding, and whose own classifier layer, applied to a
// stored embedding, gives class probabilities that a label map turns into
// taxonomy evidence.
//
// A classifier directory holds one `*.tflite` file and its label file (one
// class name per line, in output order: `labels.txt` or `*labels*.txt`),
// and optionally `label_map.yaml`.
#include <filesystem>
#include <memory>
#include <optional>

#include "tagsmith/app/encoder.h"
#include "tagsmith/vision/precision.h"

namespace tagsmith::app {

struct ClassifierFiles {
  std::filesystem::path model;   // the .tflite file
  std::filesystem::path labels;  // one class name per line
  // Optional label_map.yaml beside them: how this classifier's labels map
  // onto the taxonomy (default: the built-in ImageNet map).
  std::filesystem::path label_map;
};
// The files of a classifier directory; nullopt when `dir` is not one.
// Throws ModelError when it holds a .tflite file but no (or several) label
// files or several .tflite files, naming what it found.
std::optional<ClassifierFiles> find_classifier_files(const std::filesystem::path& dir);

// `precision` bf16 runs the network in bfloat16 (int8 runs as bf16: see
// vision/precision.h); the classifier layer on stored embeddings stays float.
std::shared_ptr<const Encoder> load_classifier_encoder(
    const ClassifierFiles& files, const std::string& name, int threads,
    vision::Precision precision = vision::Precision::fp32);

}  // namespace tagsmith::app
