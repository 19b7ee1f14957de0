#include "tagsmith/training/train.h"

#include <algorithm>
#include <chrono>
#include <nlohmann/json.hpp>
#include <set>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/training/registry.h"

namespace tagsmith::training {
namespace {

double auto_threshold_for(const std::string& attribute, const TrainOptions& o) {
  if (auto it = o.auto_thresholds.find(attribute); it != o.auto_thresholds.end()) return it->second;
  if (o.taxonomy) {
    if (const auto* a = o.taxonomy->attribute(attribute)) return a->thresholds.auto_apply;
  }
  return o.default_auto_threshold;
}

// A head that is only the zero-shot prior: W = 0, blend 0, T = 1. Lets the
// baseline "zero-shot" go through exactly the same evaluation code.
AttributeHead zero_shot_head(const std::string& attribute, const ZeroShotPrior& prior) {
  AttributeHead h;
  h.attribute = attribute;
  h.classes = prior.classes;
  h.dim = prior.dim;
  const std::size_t c = prior.classes.size(), d = prior.dim;
  h.w1.assign(c * d, 0.0f);
  h.b1.assign(c, 0.0f);
  h.prior.resize(c * d);
  for (std::size_t i = 0; i < c * d; ++i) h.prior[i] = prior.embeddings[i] * prior.logit_scale;
  h.blend.assign(c, 0.0f);
  return h;
}

// Metrics of `head` on the given rows; probabilities are mapped onto
// `classes` followed by any head class missing from it.
Metrics evaluate_rows(const AttributeHead& head, const std::vector<std::string>& classes,
                      const std::vector<int>& labels, const std::vector<std::vector<float>>& rows,
                      double auto_threshold) {
  std::vector<std::string> all = classes;
  std::vector<std::size_t> where(head.classes.size());
  for (std::size_t k = 0; k < head.classes.size(); ++k) {
    auto it = std::find(all.begin(), all.end(), head.classes[k]);
    if (it == all.end()) {
      all.push_back(head.classes[k]);
      it = all.end() - 1;
    }
    where[k] = static_cast<std::size_t>(it - all.begin());
  }
  std::vector<std::vector<double>> probs;
  probs.reserve(rows.size());
  for (const auto& x : rows) {
    const auto p = head.probabilities(normalised(x));
    std::vector<double> mapped(all.size(), 0.0);
    for (std::size_t k = 0; k < p.size(); ++k) mapped[where[k]] = p[k];
    probs.push_back(std::move(mapped));
  }
  MetricOptions mo;
  mo.auto_threshold = auto_threshold;
  return evaluate(labels, probs, all, mo);
}

struct HoldoutRows {
  std::vector<store::AssetId> assets;
  std::vector<int> labels;
  std::vector<std::vector<float>> embeddings;
};

HoldoutRows holdout_of(const AttributeData& d, int dim) {
  HoldoutRows h;
  for (std::size_t i = 0; i < d.rows(); ++i) {
    if (!d.holdout[i]) continue;
    h.assets.push_back(d.assets[i]);
    h.labels.push_back(d.labels[i]);
    h.embeddings.emplace_back(d.embeddings.begin() + i * dim, d.embeddings.begin() + (i + 1) * dim);
  }
  return h;
}

std::string resolve_encoder(store::Store& store, const TrainOptions& o) {
  if (!o.encoder_version.empty()) return o.encoder_version;
  if (auto e = active_encoder(store)) return e->version;
  if (auto h = active_heads(store)) return h->parent;
  throw InputError(
      "no encoder version to train on: none is active in the registry; pass the embedding model "
      "version explicitly");
}

}  // namespace

std::map<std::string, Metrics> evaluate_holdout(const HeadSet& heads, const TrainingSet& data,
                                                const std::map<std::string, double>& thresholds,
                                                double default_auto_threshold) {
  std::map<std::string, Metrics> out;
  for (const auto& d : data.attributes) {
    const auto* head = heads.head(d.attribute);
    if (!head) continue;
    const auto rows = holdout_of(d, data.dim);
    auto it = thresholds.find(d.attribute);
    out.emplace(d.attribute,
                evaluate_rows(*head, d.classes, rows.labels, rows.embeddings,
                              it != thresholds.end() ? it->second : default_auto_threshold));
  }
  return out;
}

TrainResult train_heads(library::Library& library, const TrainOptions& o) {
  const auto started = std::chrono::steady_clock::now();
  auto& store = library.store();
  const std::string encoder = resolve_encoder(store, o);
  const auto active = active_heads(store);
  std::optional<HeadSet> current;
  if (active) current = load_heads(library, *active);

  const TrainingSet data = load_training_set(store, encoder, o.data, o.taxonomy);

  TrainResult result;
  HeadSet& cand = result.candidate;
  cand.version = o.version.empty() ? next_heads_version(store) : o.version;
  cand.encoder_version = encoder;
  cand.created_at = now_utc_iso8601();

  auto carry = [&](const std::string& attribute, AttributeNote& note, const std::string& why) {
    const AttributeHead* old = current ? current->head(attribute) : nullptr;
    if (old && current->encoder_version == encoder) {
      cand.heads.push_back(*old);
      note.status = "carried";
      note.reason = why + "; kept the head of " + current->version;
    } else {
      note.status = "skipped";
      note.reason = why;
    }
  };

  for (const auto& d : data.attributes) {
    AttributeNote note;
    note.attribute = d.attribute;
    note.rows = d.rows();
    note.holdout_rows = d.holdout_rows();
    note.classes = d.classes.size();
    HeadData hd;
    hd.attribute = d.attribute;
    hd.classes = d.classes;
    hd.dim = data.dim;
    std::set<int> seen;
    for (std::size_t i = 0; i < d.rows(); ++i) {
      if (d.holdout[i]) continue;
      hd.labels.push_back(d.labels[i]);
      seen.insert(d.labels[i]);
      hd.embeddings.insert(hd.embeddings.end(), d.embeddings.begin() + i * data.dim,
                           d.embeddings.begin() + (i + 1) * data.dim);
    }
    if (hd.labels.size() < o.min_train_rows || seen.size() < 2) {
      carry(d.attribute, note,
            "too few labels (" + std::to_string(hd.labels.size()) + " rows, " +
                std::to_string(seen.size()) + " classes on the train side)");
      result.attributes.push_back(std::move(note));
      continue;
    }
    const auto pit = o.priors.find(d.attribute);
    const ZeroShotPrior* prior = pit != o.priors.end() ? &pit->second : nullptr;
    try {
      cand.heads.push_back(train_head(hd, o.head, prior, &note.report));
      note.status = "trained";
    } catch (const InputError& e) {
      carry(d.attribute, note, e.what());
    }
    result.attributes.push_back(std::move(note));
  }
  // Attributes the current version covers but that have no labels now.
  if (current) {
    for (const auto& h : current->heads) {
      if (data.attribute(h.attribute)) continue;
      AttributeNote note;
      note.attribute = h.attribute;
      carry(h.attribute, note, "no labels");
      result.attributes.push_back(std::move(note));
    }
  }

  // Held-out comparison.
  std::vector<AttributeComparison> comparisons;
  for (auto& head : cand.heads) {
    AttributeComparison c;
    c.attribute = head.attribute;
    const AttributeData* d = data.attribute(head.attribute);
    const double at = auto_threshold_for(head.attribute, o);
    HoldoutRows rows;
    if (d) rows = holdout_of(*d, data.dim);
    const std::vector<std::string> classes = d ? d->classes : head.classes;
    const AttributeHead* base = current ? current->head(head.attribute) : nullptr;
    std::optional<AttributeHead> zero_shot;
    if (base) {
      c.before_model = current->version;
    } else if (auto pit = o.priors.find(head.attribute); pit != o.priors.end()) {
      zero_shot = zero_shot_head(head.attribute, pit->second);
      base = &*zero_shot;
      c.before_model = "zero-shot";
    }
    if (!rows.labels.empty()) {
      const bool base_is_current = base && !zero_shot;
      if (base_is_current && current->encoder_version != encoder) {
        // The baseline reads another encoder's embeddings: compare on the
        // held-out rows that have both.
        HoldoutRows mine, theirs;
        for (std::size_t i = 0; i < rows.labels.size(); ++i) {
          auto e = store.embedding(rows.assets[i], current->encoder_version);
          if (!e) continue;
          mine.labels.push_back(rows.labels[i]);
          mine.embeddings.push_back(rows.embeddings[i]);
          theirs.embeddings.push_back(std::move(*e));
        }
        c.after = evaluate_rows(head, classes, mine.labels, mine.embeddings, at);
        if (!mine.labels.empty()) {
          c.before = evaluate_rows(*base, classes, mine.labels, theirs.embeddings, at);
        }
      } else {
        c.after = evaluate_rows(head, classes, rows.labels, rows.embeddings, at);
        if (base) c.before = evaluate_rows(*base, classes, rows.labels, rows.embeddings, at);
      }
      nlohmann::json holdout = *c.after;
      head.metrics["holdout"] = std::move(holdout);
    }
    comparisons.push_back(std::move(c));
  }
  result.verdict =
      judge_all(cand.version, active ? active->version : "", std::move(comparisons), o.gate);

  nlohmann::json notes = nlohmann::json::array();
  for (const auto& n : result.attributes) {
    notes.push_back({{"attribute", n.attribute},
                     {"status", n.status},
                     {"reason", n.reason},
                     {"rows", n.rows},
                     {"holdout_rows", n.holdout_rows},
                     {"classes", n.classes},
                     {"epochs", n.report.epochs},
                     {"temperature", n.report.temperature},
                     {"seconds", n.report.seconds}});
  }
  cand.metadata = {{"gate", result.verdict},
                   {"attributes", notes},
                   {"options",
                    {{"hidden", o.head.hidden},
                     {"l2", o.head.l2},
                     {"learning_rate", o.head.learning_rate},
                     {"prior_strength", o.head.prior_strength},
                     {"holdout_fraction", o.data.holdout_fraction},
                     {"include_auto", o.data.include_auto},
                     {"seed", o.data.seed}}}};
  if (o.register_candidate) {
    register_candidate(library, cand, {{"gate", result.verdict}, {"attributes", notes}});
    result.artifact_path = artifact_relative_path(cand.version);
    result.registered = true;
  }
  result.seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  return result;
}

}  // namespace tagsmith::training
