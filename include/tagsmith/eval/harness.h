#pragma once
// The evaluation harness: honest numbers on a user's labelled set.
//
//   LabelledSet set = build_labelled_set(read_csv(...), read_mapping(...), dir);
//   EvalResult r = run_eval(library, set, embedder, options);
//   write_report(r, "report/");
//
// Steps: ingest the set's images into `library` (with `embedder` when given,
// timed for throughput); split every mapped attribute into train and test,
// stratified per class and seeded (split_attribute; written out as split.csv
// by write_report); then on the *same* test rows:
//  - zero-shot: softmax(logit_scale * P x) with the taxonomy prompts' text
//    embeddings P (options.priors) -- exactly what the tagging engine scores;
//    for an encoder without prompts (an image classifier), the scores of its
//    own evidence provider (options.evidence: class labels mapped onto the
//    taxonomy), counted at the level the labels use;
//  - few-shot: for each k, the first k train rows of every class (the train
//    order is seeded, so k-shot sets are nested) train a head with
//    training::train_head -- the function `tagsmith train` uses -- blended
//    with the zero-shot prior when there is one; the largest k is the
//    attribute's few-shot result;
//  - colour: for colour_family / colour_shade, the colour analysis scores
//    (tagging::ColourScoreProvider) with the shipped calibration, no model
//    needed;
//  - colour-fit: the same with the calibration refitted on the train rows
//    (tagging::fit_colour_calibration, as `tagsmith train` refits it from
//    reviewed colour tags). When few-shot ran too, "colour+few-shot" and
//    "colour-fit+few-shot" report the average of the two sources.
// A protocol that cannot run (no model, no embeddings, fewer than two classes)
// is skipped with a note, never silently.
#include <cstdint>
#include <filesystem>
#include <map>
#include <nlohmann/json_fwd.hpp>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/eval/labels.h"
#include "tagsmith/ingest/ingest.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/training/heads.h"
#include "tagsmith/training/metrics.h"

namespace tagsmith::taxonomy {
class Taxonomy;
}

namespace tagsmith::eval {

inline const std::vector<std::string> kProtocols = {"zero-shot", "few-shot", "colour",
                                                    "colour-fit"};
// A learning-curve point that trains on every train row ("--k all").
inline constexpr int kAllExamples = 1 << 30;
// "all" for kAllExamples, else the number.
std::string k_label(int k);

struct EvalOptions {
  std::vector<std::string> protocols = kProtocols;
  std::vector<int> ks = {1, 5, 10, 20, 50, kAllExamples};
  std::uint64_t seed = 7;
  double test_fraction = 0.3;  // per class; classes with one row go to train
  // A published split: when set, rows whose LabelledItem::split equals
  // `test_value` are the test set and every other row trains (test_fraction
  // is not used). build_labelled_set(..., split_column) fills the values.
  std::string split_column;
  std::string test_value = "test";
  const taxonomy::Taxonomy* taxonomy = nullptr;  // required
  std::map<std::string, training::ZeroShotPrior>
      priors;  // attribute -> prompts; empty: no zero-shot
  // The encoder's own tagging evidence (a classifier's mapped labels),
  // prepared for `taxonomy`: the zero-shot protocol of attributes without
  // priors. Its scores are read at the level the labels use (see harness.cpp).
  tagging::ScoreProvider* evidence = nullptr;
  std::string model;  // the model's name/version, for the report
  training::HeadOptions head;
  std::map<std::string, double> auto_thresholds;  // per attribute; default 0.95
  int threads = 0;                                // ingest workers
  // Colour analysis' person model for the ingest (null: none); see
  // ingest::IngestOptions::person_masker.
  ingest::PersonMasker* person_masker = nullptr;
  std::string dataset;  // names for the report
  std::string segment_by;
};

// One row of split.csv.
struct SplitRow {
  std::string image, attribute, node;
  bool test = false;
  int rank = 0;  // position in the seeded order of its class (train rows: k-shot takes rank < k)
};

// Deterministic stratified split of the items labelled for `attribute`:
// within each class, items are ordered by a hash of (seed, attribute, image)
// -- not by CSV order or asset id, so re-ordering the CSV or ingesting into
// another library changes nothing -- and the first round(n * test_fraction)
// (at least one when n >= 2) are test rows.
std::vector<SplitRow> split_attribute(const LabelledSet& set, const std::string& attribute,
                                      double test_fraction, std::uint64_t seed);

// The published split of the items labelled for `attribute`: an item is a
// test row when its `split` value equals `test_value`. Within each class and
// side, rows are in the same seeded hash order as above, so k-shot training
// sets stay nested and independent of CSV order.
std::vector<SplitRow> split_attribute_by_value(const LabelledSet& set, const std::string& attribute,
                                               const std::string& test_value, std::uint64_t seed);

struct CurvePoint {
  int k = 0;
  std::size_t train_rows = 0;
  training::Metrics metrics;
  double seconds = 0;
};

struct ProtocolMetrics {
  std::string protocol;
  training::Metrics metrics;
  std::map<std::string, training::Metrics> segments;  // --segment-by value -> metrics
};

struct AttributeResult {
  std::string attribute;
  std::vector<std::string> classes;  // the metrics' class list (taxonomy order)
  std::size_t labelled = 0, train_rows = 0, test_rows = 0;
  std::vector<ProtocolMetrics> protocols;  // in EvalOptions::protocols order
  std::vector<CurvePoint> curve;           // few-shot, one point per k
  std::vector<std::string> notes;
  const ProtocolMetrics* protocol(const std::string& name) const;
};

struct EvalResult {
  std::string dataset, model, segment_by;
  std::string split_column, test_value;  // the published split used ("" when seeded)
  double test_fraction = 0;              // the seeded split's share (when no split_column)
  std::uint64_t seed = 0;
  std::vector<int> ks;
  std::size_t rows = 0, images = 0;
  std::vector<MissingImage> missing_images;
  std::map<std::string, std::map<std::string, std::size_t>> unmapped;
  std::map<std::string, std::size_t> blank;
  ingest::IngestReport ingest;
  std::size_t embedded = 0;  // items with an embedding for the model
  double ingest_images_per_second = 0;
  double seconds = 0;  // whole run
  std::vector<SplitRow> split;
  std::vector<AttributeResult> attributes;
  std::vector<std::string> notes;  // skipped protocols and why
};

// `embedder` may be null (then only the colour protocol can run). Throws
// InputError when the options are inconsistent (unknown protocol, k < 1, no
// taxonomy).
EvalResult run_eval(library::Library& library, const LabelledSet& set,
                    ingest::ImageEmbedder* embedder, const EvalOptions& options);

void to_json(nlohmann::json& j, const EvalResult& r);

// The summary table printed by the CLI and scripts/eval-shared:
//   attribute  protocol   n   accuracy  macro-F1  weighted-F1  top-5  ECE
std::string format_summary(const EvalResult& r);

// Writes DIR/report.md, DIR/report.json, DIR/split.csv and the PNG plots
// (learning_curve_<attr>.png, reliability_<attr>.png, coverage_<attr>.png,
// confusion_<attr>_<protocol>.png). Returns the files written.
std::vector<std::filesystem::path> write_report(const EvalResult& r,
                                                const std::filesystem::path& dir);

}  // namespace tagsmith::eval
