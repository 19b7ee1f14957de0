#include "tagsmith/eval/harness.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <nlohmann/json.hpp>
#include <optional>
#include <set>

#include "tagsmith/common/error.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/training/calibration.h"

namespace tagsmith::eval {
namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;

namespace {

double seconds_since(Clock::time_point t) {
  return std::chrono::duration<double>(Clock::now() - t).count();
}

// FNV-1a then a splitmix finaliser: stable across platforms and runs, unlike
// std::hash, so split.csv is reproducible anywhere.
std::uint64_t stable_hash(std::uint64_t seed, const std::string& a, const std::string& b) {
  std::uint64_t h = 1469598103934665603ull ^ seed;
  auto mix = [&](const std::string& s) {
    for (unsigned char c : s) h = (h ^ c) * 1099511628211ull;
    h = (h ^ 0xff) * 1099511628211ull;  // separator, so ("ab","c") != ("a","bc")
  };
  mix(a);
  mix(b);
  h += 0x9e3779b97f4a7c15ull;
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  return h ^ (h >> 31);
}

// Probability vector over `classes` from scores named by node id; unknown
// names are ignored (they cannot be a right answer anyway).
std::vector<double> project(const std::vector<std::string>& classes,
                            const std::vector<std::string>& names,
                            const std::vector<double>& probs) {
  std::vector<double> out(classes.size(), 0.0);
  for (std::size_t i = 0; i < names.size() && i < probs.size(); ++i) {
    const auto it = std::find(classes.begin(), classes.end(), names[i]);
    if (it != classes.end()) out[it - classes.begin()] += probs[i];
  }
  return out;
}

struct Row {
  std::size_t item;  // index into set.items
  int label;         // index into the attribute's classes
  store::AssetId asset = 0;
  std::vector<float> unit;  // normalised embedding; empty when none
  std::vector<float> raw;   // the embedding as stored (what score providers read)
};

// A provider's scores for one attribute at the granularity the labels use:
// each node's score counts for its nearest ancestor-or-self among the
// labelled classes (a photo labelled "outerwear" is right when the model says
// "coat"), children adding up; a class keeps its own score when that is
// higher. Nodes under no labelled class are left out.
std::vector<double> at_label_level(const taxonomy::Attribute& attr,
                                   const std::set<std::string>& labelled,
                                   const std::vector<std::string>& classes,
                                   const std::vector<std::string>& names,
                                   const std::vector<double>& scores) {
  std::map<std::string, double> own, from_children;
  for (std::size_t i = 0; i < names.size() && i < scores.size(); ++i) {
    std::string node = names[i];
    if (labelled.count(node)) {
      own[node] = std::max(own[node], scores[i]);
      continue;
    }
    for (const auto* n = attr.node(node); n && !n->parent.empty();) {
      if (labelled.count(n->parent)) {
        from_children[n->parent] += scores[i];
        break;
      }
      n = attr.node(n->parent);
    }
  }
  std::vector<std::string> out_names;
  std::vector<double> out_scores;
  for (const auto& c : labelled) {
    out_names.push_back(c);
    out_scores.push_back(std::min(1.0, std::max(own[c], from_children[c])));
  }
  return project(classes, out_names, out_scores);
}

}  // namespace

std::string k_label(int k) {
  return k >= kAllExamples ? "all" : std::to_string(k);
}

const ProtocolMetrics* AttributeResult::protocol(const std::string& name) const {
  for (const auto& p : protocols)
    if (p.protocol == name) return &p;
  return nullptr;
}

std::vector<SplitRow> split_attribute(const LabelledSet& set, const std::string& attribute,
                                      double test_fraction, std::uint64_t seed) {
  std::map<std::string, std::vector<std::pair<std::uint64_t, std::string>>> by_class;
  std::set<std::string> seen;  // one image listed twice counts once
  for (const auto& item : set.items) {
    const auto it = item.labels.find(attribute);
    if (it == item.labels.end() || !seen.insert(item.image).second) continue;
    by_class[it->second].emplace_back(stable_hash(seed, attribute, item.image), item.image);
  }
  std::vector<SplitRow> out;
  for (auto& [node, members] : by_class) {
    std::sort(members.begin(), members.end());
    const std::size_t n = members.size();
    std::size_t test =
        n < 2 ? 0 : std::max<std::size_t>(1, static_cast<std::size_t>(n * test_fraction + 0.5));
    test = std::min(test, n - 1);  // keep at least one training example
    for (std::size_t i = 0; i < n; ++i) {
      const bool is_test = i < test;
      out.push_back(
          {members[i].second, attribute, node, is_test, static_cast<int>(is_test ? i : i - test)});
    }
  }
  return out;
}

std::vector<SplitRow> split_attribute_by_value(const LabelledSet& set, const std::string& attribute,
                                               const std::string& test_value, std::uint64_t seed) {
  // class -> side (test first) -> (hash, image)
  std::map<std::string, std::array<std::vector<std::pair<std::uint64_t, std::string>>, 2>> by_class;
  std::set<std::string> seen;  // one image listed twice counts once
  for (const auto& item : set.items) {
    const auto it = item.labels.find(attribute);
    if (it == item.labels.end() || !seen.insert(item.image).second) continue;
    const int side = item.split == test_value ? 0 : 1;
    by_class[it->second][side].emplace_back(stable_hash(seed, attribute, item.image), item.image);
  }
  std::vector<SplitRow> out;
  for (auto& [node, sides] : by_class) {
    for (int side = 0; side < 2; ++side) {
      auto& members = sides[side];
      std::sort(members.begin(), members.end());
      for (std::size_t i = 0; i < members.size(); ++i)
        out.push_back({members[i].second, attribute, node, side == 0, static_cast<int>(i)});
    }
  }
  return out;
}

EvalResult run_eval(library::Library& library, const LabelledSet& set,
                    ingest::ImageEmbedder* embedder, const EvalOptions& options) {
  if (!options.taxonomy) throw InputError("run_eval needs a taxonomy");
  for (const auto& p : options.protocols)
    if (std::find(kProtocols.begin(), kProtocols.end(), p) == kProtocols.end())
      throw InputError(
          fmt::format("unknown protocol '{}' (known: {})", p, fmt::join(kProtocols, ", ")));
  for (int k : options.ks)
    if (k < 1)
      throw InputError(fmt::format("--k: {} is not a positive number of examples per class", k));
  auto wants = [&](const char* p) {
    return std::find(options.protocols.begin(), options.protocols.end(), p) !=
           options.protocols.end();
  };
  const auto started = Clock::now();
  const auto& tax = *options.taxonomy;

  EvalResult r;
  r.dataset = options.dataset;
  r.model = embedder ? (options.model.empty() ? embedder->version() : options.model) : "";
  r.segment_by = options.segment_by;
  r.split_column = options.split_column;
  r.test_value = options.split_column.empty() ? "" : options.test_value;
  r.test_fraction = options.split_column.empty() ? options.test_fraction : 0;
  r.seed = options.seed;
  if (!options.split_column.empty()) {
    // A published split that names no test row is a typo, not an evaluation.
    std::set<std::string> values;
    for (const auto& item : set.items) values.insert(item.split);
    if (!values.count(options.test_value))
      throw InputError(
          fmt::format("--split-column {}: no row has the value '{}' (values: {}); use --test-value",
                      options.split_column, options.test_value, fmt::join(values, ", ")));
  }
  r.ks = options.ks;
  std::sort(r.ks.begin(), r.ks.end());
  r.ks.erase(std::unique(r.ks.begin(), r.ks.end()), r.ks.end());
  r.rows = set.rows;
  r.images = set.items.size();
  r.missing_images = set.missing_images;
  r.unmapped = set.unmapped;
  r.blank = set.blank;

  // --- ingest (timed: decode + analyse + encode + commit) ---------------------
  std::vector<fs::path> inputs;
  for (const auto& item : set.items) inputs.push_back(item.path);
  std::sort(inputs.begin(), inputs.end());
  inputs.erase(std::unique(inputs.begin(), inputs.end()), inputs.end());
  ingest::IngestOptions io;
  io.threads = options.threads;
  io.embedder = embedder;
  io.person_masker = options.person_masker;
  r.ingest = ingest::ingest(library, inputs, io);
  const auto handled = r.ingest.ingested + r.ingest.skipped;
  r.ingest_images_per_second = r.ingest.seconds > 0 ? handled / r.ingest.seconds : 0;

  auto& store = library.store();
  std::vector<store::AssetId> asset_of(set.items.size(), 0);
  std::vector<std::vector<float>> unit_of(set.items.size()), raw_of(set.items.size());
  for (std::size_t i = 0; i < set.items.size(); ++i) {
    const std::string path = set.items[i].path.string();
    if (const auto p = store.find_path(path)) {
      asset_of[i] = p->asset_id;
    } else if (const auto a = store.find_asset_by_path(path)) {
      asset_of[i] = a->id;
    } else {
      continue;  // rejected by ingest: listed in r.ingest.errors
    }
    if (embedder) {
      if (auto e = store.embedding(asset_of[i], embedder->version())) {
        unit_of[i] = training::normalised(*e);
        raw_of[i] = std::move(*e);
        ++r.embedded;
      }
    }
  }
  if (!embedder) r.notes.push_back("no vision model: zero-shot and few-shot skipped (colour only)");
  if (embedder && wants("zero-shot") && options.priors.empty() && !options.evidence)
    r.notes.push_back("zero-shot skipped: no prompt embeddings for the taxonomy");

  std::map<std::string, std::size_t> item_index;
  for (std::size_t i = 0; i < set.items.size(); ++i) item_index.emplace(set.items[i].image, i);

  std::set<std::string> attributes;
  for (const auto& item : set.items)
    for (const auto& [a, node] : item.labels) attributes.insert(a);

  for (const auto& attribute : attributes) {
    const auto* attr = tax.attribute(attribute);
    if (!attr) continue;  // validate_mapping rejects this earlier
    AttributeResult ar;
    ar.attribute = attribute;
    for (const auto& n : attr->nodes) ar.classes.push_back(n.id);
    auto class_index = [&](const std::string& node) {
      return static_cast<int>(std::find(ar.classes.begin(), ar.classes.end(), node) -
                              ar.classes.begin());
    };

    const auto split =
        options.split_column.empty()
            ? split_attribute(set, attribute, options.test_fraction, options.seed)
            : split_attribute_by_value(set, attribute, options.test_value, options.seed);
    r.split.insert(r.split.end(), split.begin(), split.end());
    std::vector<Row> test;
    std::map<int, std::vector<Row>> train;  // class -> rows in rank order
    std::size_t dropped = 0;
    for (const auto& s : split) {
      const std::size_t i = item_index.at(s.image);
      if (!asset_of[i]) {
        ++dropped;
        continue;
      }
      Row row{i, class_index(s.node), asset_of[i], unit_of[i], raw_of[i]};
      (s.test ? test : train[row.label]).push_back(std::move(row));
    }
    ar.labelled = split.size();
    ar.test_rows = test.size();
    for (const auto& [c, rows] : train) ar.train_rows += rows.size();
    if (dropped)
      ar.notes.push_back(
          fmt::format("{} labelled images were not ingested (see ingest errors)", dropped));
    if (test.empty()) {
      ar.notes.push_back(
          "no test rows (every class has fewer than two images): nothing to measure");
      r.attributes.push_back(std::move(ar));
      continue;
    }

    training::MetricOptions mo;
    mo.auto_threshold = attr->thresholds.auto_apply;
    if (auto it = options.auto_thresholds.find(attribute); it != options.auto_thresholds.end())
      mo.auto_threshold = it->second;
    std::vector<int> labels;
    std::vector<std::string> segments;
    for (const auto& row : test) {
      labels.push_back(row.label);
      segments.push_back(set.items[row.item].segment);
    }
    const bool have_embeddings =
        std::all_of(test.begin(), test.end(), [](const Row& row) { return !row.unit.empty(); });
    auto record = [&](const std::string& protocol, const std::vector<std::vector<double>>& probs) {
      ProtocolMetrics pm{protocol, training::evaluate(labels, probs, ar.classes, mo), {}};
      if (!options.segment_by.empty())
        pm.segments = training::evaluate_by_segment(labels, probs, ar.classes, segments, mo);
      ar.protocols.push_back(std::move(pm));
    };
    const training::ZeroShotPrior* prior = nullptr;
    if (auto it = options.priors.find(attribute); it != options.priors.end()) prior = &it->second;

    std::vector<std::vector<double>> head_probs;  // few-shot at the largest k
    for (const auto& protocol : options.protocols) {
      if (protocol == "zero-shot" && !prior && options.evidence) {
        // The encoder's own evidence (a classifier's mapped labels) through
        // the very provider tagging uses, on the stored embeddings.
        if (!have_embeddings) {
          ar.notes.push_back("zero-shot skipped: some test images have no embedding");
          continue;
        }
        std::set<std::string> labelled;
        for (const auto& s : split)
          if (s.attribute == attribute) labelled.insert(s.node);
        std::vector<std::vector<double>> probs;
        for (const auto& row : test) {
          std::vector<std::string> names;
          std::vector<double> scores;
          if (const auto asset = store.find_asset(row.asset)) {
            for (const auto& set : options.evidence->scores(tax, {*asset, row.raw})) {
              if (set.attribute != attribute) continue;
              for (const auto& ns : set.scores) {
                names.push_back(ns.node);
                scores.push_back(ns.score);
              }
            }
          }
          probs.push_back(at_label_level(*attr, labelled, ar.classes, names, scores));
        }
        record(protocol, probs);
      } else if (protocol == "zero-shot") {
        if (!embedder) continue;  // stated once in r.notes
        if (!prior) {
          ar.notes.push_back("zero-shot: the taxonomy has no prompts for this attribute");
          continue;
        }
        if (!have_embeddings) {
          ar.notes.push_back("zero-shot skipped: some test images have no embedding");
          continue;
        }
        std::vector<std::vector<double>> probs;
        for (const auto& row : test) {
          if (static_cast<int>(row.unit.size()) != prior->dim)
            throw InputError(fmt::format("zero-shot: embedding dimension {} != prompt dimension {}",
                                         row.unit.size(), prior->dim));
          std::vector<double> logits(prior->classes.size());
          for (std::size_t c = 0; c < logits.size(); ++c) {
            double dot = 0;
            for (int d = 0; d < prior->dim; ++d)
              dot += prior->embeddings[c * prior->dim + d] * row.unit[d];
            logits[c] = prior->logit_scale * dot;
          }
          probs.push_back(project(ar.classes, prior->classes, training::softmax(logits)));
        }
        record(protocol, probs);
      } else if (protocol == "few-shot") {
        if (!embedder) continue;
        if (!have_embeddings) {
          ar.notes.push_back("few-shot skipped: some images have no embedding");
          continue;
        }
        std::optional<training::AttributeHead> last;
        std::size_t last_rows = 0;
        for (int k : r.ks) {
          training::HeadData data;
          data.attribute = attribute;
          data.dim = static_cast<int>(test.front().unit.size());
          std::map<int, int> local;  // global class -> head class
          for (const auto& [c, rows] : train) {
            local[c] = static_cast<int>(data.classes.size());
            data.classes.push_back(ar.classes[c]);
          }
          for (const auto& [c, rows] : train) {
            for (std::size_t i = 0; i < rows.size() && i < static_cast<std::size_t>(k); ++i) {
              if (rows[i].unit.empty()) continue;
              data.embeddings.insert(data.embeddings.end(), rows[i].unit.begin(),
                                     rows[i].unit.end());
              data.labels.push_back(local[c]);
            }
          }
          if (data.classes.size() < 2) {
            ar.notes.push_back("few-shot skipped: fewer than two classes have training images");
            break;
          }
          if (last && data.labels.size() == last_rows) {
            // Every class is exhausted: a larger k would train on the same rows.
            ar.notes.push_back(
                fmt::format("k={}: no class has more than {} training images; point repeats k={}",
                            k_label(k), k_label(ar.curve.back().k), k_label(ar.curve.back().k)));
          }
          const auto t = Clock::now();
          training::HeadOptions ho = options.head;
          ho.seed = options.seed;
          training::AttributeHead head = training::train_head(data, ho, prior);
          std::vector<std::vector<double>> probs;
          for (const auto& row : test)
            probs.push_back(project(ar.classes, head.classes, head.probabilities(row.unit)));
          CurvePoint point{k, data.labels.size(), training::evaluate(labels, probs, ar.classes, mo),
                           seconds_since(t)};
          ar.curve.push_back(std::move(point));
          last_rows = data.labels.size();
          if (k == r.ks.back()) {
            record(protocol, probs);
            head_probs = probs;
          }
          last = std::move(head);
        }
      } else if (protocol == "colour" || protocol == "colour-fit") {
        if (attr->source != "palette")
          continue;  // only colour attributes have colour-analysis scores
        std::optional<tagging::ColourScoreProvider> colour;
        if (protocol == "colour") {
          colour.emplace();  // the shipped default calibration
        } else {
          // Refitted on this set's train rows: what `tagsmith train` does
          // with a library's reviewed colour tags.
          std::vector<tagging::ColourExample> examples;
          for (const auto& [c, rows] : train)
            for (const auto& row : rows)
              if (const auto asset = store.find_asset(row.asset))
                examples.push_back({asset->colours, ar.classes[static_cast<std::size_t>(c)]});
          if (examples.size() < 20) {
            ar.notes.push_back(fmt::format(
                "colour-fit skipped: {} train rows, fewer than 20 to fit on", examples.size()));
            continue;
          }
          auto fitted = tagging::fit_colour_calibration(examples);
          fitted.version = "colour-cal@eval";
          colour.emplace(std::move(fitted));
        }
        std::vector<std::vector<double>> probs;
        for (const auto& row : test) {
          const auto asset = store.find_asset(row.asset);
          std::vector<std::string> names;
          std::vector<double> scores;
          if (asset) {
            for (const auto& s : colour->scores(tax, tagging::ScoreRequest{*asset, {}})) {
              if (s.attribute != attribute) continue;
              for (const auto& ns : s.scores) {
                const auto* node = attr->node(ns.node);
                names.push_back(node ? node->id : ns.node);
                scores.push_back(ns.score);
              }
            }
          }
          probs.push_back(project(ar.classes, names, scores));
        }
        record(protocol, probs);
        // With a trained head on the same attribute: their average, the
        // combination the engine would get from both sources.
        if (!head_probs.empty()) {
          std::vector<std::vector<double>> both(probs.size());
          for (std::size_t i = 0; i < probs.size(); ++i) {
            both[i].resize(probs[i].size());
            for (std::size_t c = 0; c < probs[i].size(); ++c)
              both[i][c] = 0.5 * (probs[i][c] + head_probs[i][c]);
          }
          record(protocol + "+few-shot", both);
        }
      }
    }
    r.attributes.push_back(std::move(ar));
  }
  r.seconds = seconds_since(started);
  return r;
}

std::string format_summary(const EvalResult& r) {
  std::string out =
      fmt::format("{:<16} {:<10} {:>5} {:>9} {:>9} {:>12} {:>7} {:>7}\n", "attribute", "protocol",
                  "n", "accuracy", "macro-F1", "weighted-F1", "top-5", "ECE");
  for (const auto& a : r.attributes) {
    for (const auto& p : a.protocols) {
      const auto& m = p.metrics;
      out += fmt::format("{:<16} {:<10} {:>5} {:>9.3f} {:>9.3f} {:>12.3f} {:>7.3f} {:>7.3f}\n",
                         a.attribute, p.protocol, m.n, m.accuracy, m.macro_f1, m.weighted_f1,
                         m.top5_accuracy, m.ece);
    }
  }
  out +=
      fmt::format("{} images ({} rows, {} missing), ingest {:.1f} images/s, total {:.1f} s\n",
                  r.images, r.rows, r.missing_images.size(), r.ingest_images_per_second, r.seconds);
  return out;
}

void to_json(nlohmann::json& j, const EvalResult& r) {
  using nlohmann::json;
  j = json::object();
  j["dataset"] = r.dataset;
  j["model"] = r.model.empty() ? json(nullptr) : json(r.model);
  j["seed"] = r.seed;
  j["ks"] = r.ks;
  j["segment_by"] = r.segment_by;
  if (r.split_column.empty())
    j["split"] = {{"method", "seeded"}, {"test_fraction", r.test_fraction}, {"seed", r.seed}};
  else
    j["split"] = {{"method", "column"}, {"column", r.split_column}, {"test_value", r.test_value}};
  j["rows"] = r.rows;
  j["images"] = r.images;
  json missing = json::array();
  for (const auto& m : r.missing_images) missing.push_back({{"line", m.line}, {"image", m.image}});
  j["missing_images"] = missing;
  j["unmapped"] = r.unmapped;
  j["blank"] = r.blank;
  json errors = json::array();
  for (const auto& e : r.ingest.errors) errors.push_back({{"path", e.path}, {"reason", e.reason}});
  j["ingest"] = {{"files", r.ingest.files},
                 {"ingested", r.ingest.ingested},
                 {"skipped", r.ingest.skipped},
                 {"rejected", r.ingest.rejected},
                 {"embedded", r.embedded},
                 {"seconds", r.ingest.seconds},
                 {"errors", errors}};
  j["throughput"] = {{"ingest_images_per_second", r.ingest_images_per_second},
                     {"total_seconds", r.seconds}};
  j["notes"] = r.notes;
  json attrs = json::array();
  for (const auto& a : r.attributes) {
    json ja = {{"attribute", a.attribute},
               {"labelled", a.labelled},
               {"train_rows", a.train_rows},
               {"test_rows", a.test_rows},
               {"notes", a.notes}};
    json protocols = json::object();
    for (const auto& p : a.protocols) {
      json jp = p.metrics;
      if (!p.segments.empty()) jp["segments"] = p.segments;
      protocols[p.protocol] = jp;
    }
    ja["protocols"] = protocols;
    json curve = json::array();
    for (const auto& c : a.curve) {
      curve.push_back({{"k", c.k},
                       {"train_rows", c.train_rows},
                       {"accuracy", c.metrics.accuracy},
                       {"macro_f1", c.metrics.macro_f1},
                       {"weighted_f1", c.metrics.weighted_f1},
                       {"top5_accuracy", c.metrics.top5_accuracy},
                       {"ece", c.metrics.ece},
                       {"seconds", c.seconds}});
    }
    ja["learning_curve"] = curve;
    attrs.push_back(ja);
  }
  j["attributes"] = attrs;
}

}  // namespace tagsmith::eval
