#pragma once
// The retraining loop in one call, for `tagsmith train` and the eval harness:
//
//   TrainResult r = train_heads(library, options);
//   std::cout << format_table(r.verdict);
//   if (r.verdict.promote) promote(library.store(), r.candidate.version);
//
// Steps: read labels + embeddings and the persistent split (dataset.h); per
// attribute train a head on the train side (heads.h: validation carved from
// it, early stopping, zero-shot blend, temperature); evaluate candidate and
// baseline on the held-out side (the baseline is the active heads version,
// else the zero-shot prior when one is given for the attribute); judge
// (gate.h); save and register the candidate (registry.h). Attributes that
// cannot be trained (one class, too few rows) keep the active version's head
// when it reads the same encoder ("carried"), so a candidate never silently
// drops an attribute.
#include <map>
#include <string>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/training/dataset.h"
#include "tagsmith/training/gate.h"
#include "tagsmith/training/heads.h"

namespace tagsmith::taxonomy {
class Taxonomy;
}

namespace tagsmith::training {

struct TrainOptions {
  // Embedding model the heads read. Empty: the active encoder version, else
  // the active heads' encoder; InputError when neither exists.
  std::string encoder_version;
  // Optional: restricts to single-valued attributes, orders classes, supplies
  // auto thresholds. Must outlive the call.
  const taxonomy::Taxonomy* taxonomy = nullptr;
  std::map<std::string, ZeroShotPrior> priors;  // attribute -> class text embeddings
  DatasetOptions data;
  HeadOptions head;
  GatePolicy gate;
  double default_auto_threshold = 0.95;           // when no taxonomy / override
  std::map<std::string, double> auto_thresholds;  // per attribute
  std::size_t min_train_rows = 4;                 // per attribute, on the train side
  std::string version;                            // empty: next_heads_version()
  bool register_candidate = true;                 // save under DIR/models/<version> + registry row
};

struct AttributeNote {
  std::string attribute;
  std::string status;  // "trained", "carried", "skipped"
  std::string reason;  // for carried/skipped
  std::size_t rows = 0, holdout_rows = 0, classes = 0;
  HeadTrainingReport report;
};

struct TrainResult {
  HeadSet candidate;
  GateVerdict verdict;
  std::vector<AttributeNote> attributes;
  std::string artifact_path;  // relative to the library; "" when not registered
  bool registered = false;
  double seconds = 0;
};

TrainResult train_heads(library::Library& library, const TrainOptions& options);

// Held-out metrics of `heads` for every attribute of `data` it covers, with
// rows scored on `data`'s embeddings (same encoder assumed). Probability
// vectors are mapped onto the union of both class lists, so a class the
// heads do not know counts as an error, not as a crash.
std::map<std::string, Metrics> evaluate_holdout(
    const HeadSet& heads, const TrainingSet& data,
    const std::map<std::string, double>& auto_thresholds, double default_auto_threshold = 0.95);

}  // namespace tagsmith::training
