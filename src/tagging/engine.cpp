#include "tagsmith/tagging/engine.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <deque>
#include <functional>
#include <map>
#include <span>
#include <tuple>

#include "json_text.h"
#include "tagsmith/image/colour.h"

namespace tagsmith::tagging {

double evidence_number(double x) {
  return std::round(x * 1e4) / 1e4;
}

using taxonomy::Attribute;
using taxonomy::Rule;
using taxonomy::Taxonomy;
using taxonomy::Thresholds;

std::string_view to_string(Tier tier) {
  switch (tier) {
    case Tier::kAuto:
      return "auto";
    case Tier::kFlagged:
      return "flagged";
    case Tier::kSuggested:
      return "suggested";
  }
  return "suggested";
}

std::optional<Tier> parse_tier(std::string_view text) {
  if (text == "auto") return Tier::kAuto;
  if (text == "flagged") return Tier::kFlagged;
  if (text == "suggested") return Tier::kSuggested;
  return std::nullopt;
}

Tier tier_for(double confidence, const Thresholds& t) {
  if (confidence >= t.auto_apply) return Tier::kAuto;
  if (confidence >= t.flag) return Tier::kFlagged;
  return Tier::kSuggested;
}

double colour_confidence(double share, double delta_e, double tolerance) {
  double dominance = std::clamp(share / 0.4, 0.0, 1.0);
  double x = std::max(0.0, delta_e) / tolerance;
  return dominance / (1.0 + x * x);
}

std::vector<ScoreSet> colour_scores(const Taxonomy& tax, const image::ColourAnalysis& colours,
                                    const ColourCalibration& calibration) {
  std::vector<ScoreSet> out;
  const std::vector<ColourCandidate> candidates = colour_candidates(colours);
  if (candidates.empty()) return out;
  const std::vector<double> family_p = calibration.probabilities(candidates);
  auto family_probability = [&](const std::string& family) {
    for (std::size_t i = 0; i < candidates.size(); ++i)
      if (candidates[i].family == family) return family_p[i];
    return 0.0;
  };
  const std::string mask =
      colours.mask.empty() ? (colours.background_removed ? "background" : "none") : colours.mask;
  for (const auto& a : tax.attributes()) {
    if (a.source != "palette") continue;
    ScoreSet set{"colour", a.id, {}, nullptr};
    if (a.palette_level != "shades") {
      // Families: the calibrated probability of each candidate.
      for (std::size_t i = 0; i < candidates.size(); ++i) {
        const ColourCandidate& c = candidates[i];
        if (!a.node(c.family)) continue;
        nlohmann::json detail = {{"share", evidence_number(c.share)},
                                 {"mask", mask},
                                 {"calibration", calibration.version}};
        if (c.family != kMultiColour) detail["delta_e"] = evidence_number(c.delta_e);
        set.scores.push_back({c.family, family_p[i], std::move(detail)});
      }
    } else {
      // Shades: a shade is no surer than its family; within the family it is
      // weighed by its part of the family's share and how closely it matches.
      // Several clusters can name the same shade (a two-tone navy): they pool.
      struct Pool {
        std::string family;
        double share = 0, weighted_de = 0;
      };
      std::map<std::string, Pool> pools;
      std::map<std::string, double> family_share;
      std::vector<std::string> order;
      for (const auto& c : colours.colours) {
        family_share[c.family] += c.share;
        if (c.shade.empty() || !a.node(c.shade)) continue;
        auto [it, fresh] = pools.try_emplace(c.shade);
        if (fresh) order.push_back(c.shade);
        it->second.family = c.family;
        it->second.share += c.share;
        it->second.weighted_de += c.share * c.delta_e;
      }
      for (const auto& id : order) {
        const Pool& p = pools[id];
        const double de = p.share > 0 ? p.weighted_de / p.share : 0;
        const double within = p.share / std::max(family_share[p.family], 1e-9);
        const double match = colour_confidence(1.0, de, kShadeTolerance);
        const double conf = family_probability(p.family) * within * match;
        set.scores.push_back({id,
                              conf,
                              {{"share", evidence_number(p.share)},
                               {"delta_e", evidence_number(de)},
                               {"mask", mask}}});
      }
    }
    if (!set.scores.empty()) out.push_back(std::move(set));
  }
  return out;
}

namespace {

constexpr std::size_t kAlternatives = 5;

// Per-node working state. Strings and evidence are referenced, not copied:
// decide() sees a few hundred scores per asset but emits a few dozen
// decisions, and only those pay for building JSON.
struct Candidate {
  double score = -1;  // < 0: no candidate
  const std::string* actor = nullptr;
  const nlohmann::json* detail = nullptr;
  const std::string* implied_by = nullptr;
  // Best score per source. A node rarely hears from more than a few
  // sources, so the first ones live inline: no allocation per candidate
  // (decide() sees a few hundred candidates per asset).
  static constexpr std::size_t kInline = 4;
  std::array<std::pair<const std::string*, double>, kInline> first_sources{};
  std::size_t source_count = 0;
  std::vector<std::pair<const std::string*, double>> more_sources;

  std::pair<const std::string*, double>& source_at(std::size_t i) {
    return i < kInline ? first_sources[i] : more_sources[i - kInline];
  }
  const std::pair<const std::string*, double>& source_at(std::size_t i) const {
    return i < kInline ? first_sources[i] : more_sources[i - kInline];
  }
  void offer(const std::string* source, double s) {
    for (std::size_t i = 0; i < source_count; ++i) {
      auto& [name, best] = source_at(i);
      if (name == source || *name == *source) {
        best = std::max(best, s);
        return;
      }
    }
    if (source_count < kInline)
      first_sources[source_count] = {source, s};
    else
      more_sources.emplace_back(source, s);
    ++source_count;
  }
  nlohmann::json sources_json() const {
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t i = 0; i < source_count; ++i)
      j[*source_at(i).first] = evidence_number(source_at(i).second);
    return j;
  }
};

struct Known {  // a decision or human fact, for `implies`
  std::size_t attr, node;
  double conf;
  std::string actor;
};

// One value per node of every attribute, in one allocation: `v[ai][ni]`.
// decide() runs once per asset, and a vector per attribute was dozens of
// allocations each time.
template <class T>
class PerNode {
 public:
  PerNode(const std::vector<std::size_t>& offsets, T init)
      : offsets_(offsets), values_(offsets.back(), init) {}
  std::span<T> operator[](std::size_t ai) {
    return std::span<T>(values_).subspan(offsets_[ai], offsets_[ai + 1] - offsets_[ai]);
  }
  std::span<const T> operator[](std::size_t ai) const {
    return std::span<const T>(values_).subspan(offsets_[ai], offsets_[ai + 1] - offsets_[ai]);
  }

 private:
  const std::vector<std::size_t>& offsets_;
  std::vector<T> values_;
};

std::vector<std::size_t> node_offsets(const std::vector<Attribute>& attrs) {
  std::vector<std::size_t> out{0};
  for (const auto& a : attrs) out.push_back(out.back() + a.nodes.size());
  return out;
}

struct Engine {
  const Taxonomy& tax;
  const std::vector<Attribute>& attrs;
  const std::vector<std::size_t> offsets;  // of each attribute's nodes in PerNode
  PerNode<double> facts;                   // conf of applied/human facts (ancestors included)
  PerNode<char> human, rejected;
  PerNode<Candidate> cands;
  std::vector<Known> known;
  std::vector<Decision> decisions;
  std::vector<ScoreSet> colour_sets;  // kept alive: candidates point into them
  std::deque<std::string> owned;      // stable storage for derived source names

  explicit Engine(const Taxonomy& t)
      : tax(t),
        attrs(t.attributes()),
        offsets(node_offsets(attrs)),
        facts(offsets, -1.0),
        human(offsets, 0),
        rejected(offsets, 0),
        cands(offsets, Candidate{}) {
    ranked.resize(attrs.size());
  }

  void set_fact(std::size_t ai, std::size_t ni, double conf) {
    const Attribute& a = attrs[ai];
    for (std::size_t guard = 0; guard <= a.nodes.size(); ++guard) {
      facts[ai][ni] = std::max(facts[ai][ni], conf);
      const auto parent = a.parent_index(ni);
      if (!parent) break;
      ni = *parent;
    }
  }

  std::optional<std::size_t> resolve_node(std::size_t ai, const std::string& text) const {
    if (auto i = attrs[ai].index_of(text)) return i;
    for (const auto& r : tax.lookup_label(text))
      if (r.attribute == attrs[ai].id) return attrs[ai].index_of(r.node);
    return std::nullopt;
  }

  void add_scores(const ScoreSet& set) {
    auto ai = tax.attribute_index(set.attribute);
    if (!ai) return;  // scores for an attribute this taxonomy no longer has
    const auto& nodes = attrs[*ai].nodes;
    for (std::size_t k = 0; k < set.scores.size(); ++k) {
      const NodeScore& s = set.scores[k];
      // Providers usually score nodes in taxonomy order: a comparison with
      // the node at the same position saves a lookup by id, label or synonym.
      auto ni = k < nodes.size() && nodes[k].id == s.node ? std::optional<std::size_t>(k)
                                                          : resolve_node(*ai, s.node);
      if (!ni) continue;
      Candidate& c = cands[*ai][*ni];
      c.offer(&set.source, s.score);
      if (s.score > c.score) {
        c.score = s.score;
        c.actor = &set.source;
        c.detail = !s.evidence.is_null() ? &s.evidence : &set.evidence;
        c.implied_by = nullptr;
      }
    }
  }

  // Confidence with which all conditions hold (the weakest fact), or nullopt.
  std::optional<double> holds(const std::vector<taxonomy::Condition>& when) const {
    double conf = 1.0;
    for (const auto& c : when) {
      auto ai = *tax.attribute_index(c.attribute);
      double best = -1;
      for (const auto& id : c.nodes) best = std::max(best, facts[ai][*attrs[ai].index_of(id)]);
      if (best < 0) return std::nullopt;
      conf = std::min(conf, best);
    }
    return conf;
  }

  // Step 2: an attribute with applies_to needs a known fact within one of
  // the listed nodes.
  bool applicable(const Attribute& a) const {
    if (a.applies_to.empty()) return true;
    for (const auto& r : a.applies_to) {
      auto ai = *tax.attribute_index(r.attribute);
      if (facts[ai][*attrs[ai].index_of(r.node)] >= 0) return true;
    }
    return false;
  }

  static nlohmann::json thresholds_json(const Thresholds& t) {
    return {{"auto", t.auto_apply}, {"flag", t.flag}, {"suggest", t.suggest}};
  }

  // One pick of steps 5-6: a node the attribute gets, before tiers and ancestors.
  // Its evidence is written later, and only when wanted (see Recipe).
  struct Pick {
    std::size_t node;
    double conf;
    std::string actor;
    const Rule* rule = nullptr;  // a mapping rule's pick; else the node's scored candidate
  };

  // How to write one decision's evidence once the policy has run: the
  // candidates of a decided attribute no longer change, so the JSON can be
  // built afterwards from the engine's state, for the decisions that need it
  // (a re-tag writes evidence only for what changed; building it for every
  // decision was most of decide()'s cost).
  struct Recipe {
    std::size_t attr = 0, node = 0;
    std::size_t pick_node = 0;           // the pick this decision comes from
    std::string actor;                   // the pick's source
    const Rule* rule = nullptr;          // the pick's rule, if any
    const std::string* child = nullptr;  // set for an ancestor: the node below it
  };
  std::vector<Recipe> recipes;                   // aligned with `decisions`
  std::vector<std::vector<std::size_t>> ranked;  // per attribute, once decided

  // Per attribute, the nodes the machine may still decide (step 1: not a
  // person's; step 4: not ignored).
  struct Eligible {
    std::vector<char> ignored;
    std::span<const char> rejected;
    std::span<const char> human;
    bool operator()(std::size_t i) const { return !ignored[i] && !rejected[i] && !human[i]; }
  };

  // The policy of engine.h, one step per function, for one attribute.
  void decide_attribute(std::size_t ai) {
    const Attribute& a = attrs[ai];
    if (human_value_stands(ai)) return;  // 1
    if (!applicable(a)) return;          // 2
    auto ignored = ignored_nodes(ai);    // 4 (before 3: an ignored attribute needs no candidates)
    if (!ignored) return;
    add_implied_candidates(ai);  // 3 (scores and colour were added up front)
    const Eligible eligible{std::move(*ignored), rejected[ai], human[ai]};
    ranked[ai] = ranked_candidates(ai);
    std::vector<Pick> picks = rule_picks(ai, eligible);                            // 5
    if (a.multi() || picks.empty()) score_picks(ai, ranked[ai], eligible, picks);  // 6
    const std::size_t first = decisions.size();
    emit(ai, picks, eligible);  // 7, 8
    remember(ai, first);
  }

  // Step 1: a single-valued attribute with a person's value gets no machine decision.
  bool human_value_stands(std::size_t ai) const {
    const bool has_human =
        std::any_of(human[ai].begin(), human[ai].end(), [](char h) { return h; });
    return !attrs[ai].multi() && has_human;
  }

  // Step 4: nodes removed by ignore rules whose conditions hold (descendants
  // included); nullopt when a rule ignores the whole attribute.
  std::optional<std::vector<char>> ignored_nodes(std::size_t ai) const {
    const Attribute& a = attrs[ai];
    std::vector<char> ignored(a.nodes.size(), 0);
    for (const auto& rule : tax.rules()) {
      if (!rule.is_ignore()) continue;
      bool mentions = false;
      for (const auto& g : rule.ignore) mentions |= g.attribute == a.id;
      if (!mentions || !holds(rule.when)) continue;
      for (const auto& g : rule.ignore) {
        if (g.attribute != a.id) continue;
        if (g.node.empty()) return std::nullopt;  // the whole attribute is ignored
        for (std::size_t i = 0; i < a.nodes.size(); ++i)
          if (a.within(a.nodes[i].id, g.node)) ignored[i] = 1;
      }
    }
    return ignored;
  }

  // Step 3: incoming `implies` from nodes decided or known so far, with the
  // confidence of the node that implies them.
  void add_implied_candidates(std::size_t ai) {
    const Attribute& a = attrs[ai];
    auto cs = cands[ai];
    for (const auto& k : known) {
      if (k.attr == ai) continue;
      const auto& node = attrs[k.attr].nodes[k.node];
      auto it = node.implies.find(a.id);
      if (it == node.implies.end()) continue;
      for (const auto& target : it->second) {
        std::size_t ni = *a.index_of(target);
        Candidate& c = cs[ni];
        const std::string& via = owned.emplace_back(attrs[k.attr].id + "/" + node.id);
        c.offer(&owned.emplace_back("implied:" + via), k.conf);
        if (k.conf > c.score) {
          c.score = k.conf;
          c.actor = &owned.emplace_back(k.actor);
          c.detail = nullptr;
          c.implied_by = &via;
        }
      }
    }
  }

  // Candidate nodes, best score first (stable: taxonomy order breaks ties).
  std::vector<std::size_t> ranked_candidates(std::size_t ai) const {
    const auto& cs = cands[ai];
    std::vector<std::size_t> ranked;
    for (std::size_t i = 0; i < cs.size(); ++i)
      if (cs[i].score >= 0) ranked.push_back(i);
    // Taxonomy order breaks ties: the order of a stable sort, without its buffer.
    std::sort(ranked.begin(), ranked.end(), [&](std::size_t x, std::size_t y) {
      return cs[x].score != cs[y].score ? cs[x].score > cs[y].score : x < y;
    });
    return ranked;
  }

  // Alternatives for evidence: the best few candidates, whatever happens next.
  nlohmann::json alternatives_json(std::size_t ai, const std::vector<std::size_t>& best) const {
    nlohmann::json alternatives = nlohmann::json::array();
    for (std::size_t k = 0; k < best.size() && k < kAlternatives; ++k)
      alternatives.push_back({{"node", attrs[ai].nodes[best[k]].id},
                              {"score", evidence_number(cands[ai][best[k]].score)}});
    return alternatives;
  }

  static bool picked(const std::vector<Pick>& picks, std::size_t i) {
    return std::any_of(picks.begin(), picks.end(), [i](const Pick& p) { return p.node == i; });
  }

  // Step 5: mapping rules whose conditions hold set their nodes, with the
  // confidence of the weakest fact they relied on. On a single-valued
  // attribute the first rule in file order wins.
  std::vector<Pick> rule_picks(std::size_t ai, const Eligible& eligible) const {
    const Attribute& a = attrs[ai];
    std::vector<Pick> picks;
    for (const auto& rule : tax.rules()) {
      if (rule.is_ignore()) continue;
      const taxonomy::Condition* target = nullptr;
      for (const auto& c : rule.then)
        if (c.attribute == a.id) target = &c;
      if (!target) continue;
      auto conf = holds(rule.when);
      if (!conf) continue;
      for (const auto& id : target->nodes) {
        std::size_t ni = *a.index_of(id);
        if (!eligible(ni) || picked(picks, ni)) continue;
        if (!a.multi() && !picks.empty()) break;  // first rule in file order wins
        picks.push_back({ni, *conf, "rule:" + rule.id, &rule});
      }
    }
    return picks;
  }

  // Step 6: scored candidates at or above the suggest floor -- the best one
  // for a single-valued attribute, every one for a multi-valued attribute.
  void score_picks(std::size_t ai, const std::vector<std::size_t>& ranked, const Eligible& eligible,
                   std::vector<Pick>& picks) const {
    const Attribute& a = attrs[ai];
    const auto& cs = cands[ai];
    for (std::size_t i : ranked) {
      if (!eligible(i) || picked(picks, i)) continue;
      if (cs[i].score < a.thresholds_at(i).suggest) continue;
      const std::string& actor = cs[i].actor ? *cs[i].actor : a.id;
      picks.push_back({i, cs[i].score, actor, nullptr});
      if (!a.multi()) break;  // exclusive: the best one only
    }
  }

  // Steps 7 and 8: each pick becomes a decision in its tier, then its
  // ancestors (a child implies its parent) with at least the child's
  // confidence. A node reached twice keeps the higher confidence (and the
  // evidence of its first reach).
  void emit(std::size_t ai, const std::vector<Pick>& picks, const Eligible& eligible) {
    const Attribute& a = attrs[ai];
    std::vector<long> emitted(a.nodes.size(), -1);  // index into decisions
    auto emit_one = [&](std::size_t ni, double conf, const Pick& p, const std::string* child) {
      const Thresholds& t = a.thresholds_at(ni);
      if (emitted[ni] >= 0) {
        Decision& d = decisions[emitted[ni]];
        if (conf <= d.confidence) return;
        d.confidence = conf;
        d.tier = tier_for(conf, t);
        return;
      }
      emitted[ni] = static_cast<long>(decisions.size());
      decisions.push_back({a.id, a.nodes[ni].id, tier_for(conf, t), conf, p.actor, nullptr});
      recipes.push_back({ai, ni, p.node, p.actor, p.rule, child});
    };
    for (const auto& p : picks) emit_one(p.node, p.conf, p, nullptr);
    for (const auto& p : picks) {
      const std::string* child = &a.nodes[p.node].id;
      auto ancestor = a.parent_index(p.node);
      for (std::size_t guard = 0; ancestor && guard < a.nodes.size();
           ++guard, ancestor = a.parent_index(*ancestor)) {
        const std::size_t ni = *ancestor;
        if (eligible(ni)) emit_one(ni, std::max(p.conf, cands[ai][ni].score), p, child);
        child = &a.nodes[ni].id;
      }
    }
  }

  // The evidence of decision k (engine.h, Decision::evidence).
  nlohmann::json evidence(std::size_t k) const {
    const Recipe& r = recipes[k];
    const Attribute& a = attrs[r.attr];
    auto rule_json = [&] {
      return nlohmann::json{{"id", r.rule->id}, {"describe", r.rule->describe()}};
    };
    nlohmann::json ev;
    if (r.child) {  // an ancestor of a pick
      ev = {{"source", r.actor}, {"child", *r.child}};
      if (r.rule) ev["rule"] = rule_json();
    } else if (r.rule) {
      ev = {{"rule", rule_json()}, {"source", "rule:" + r.rule->id}};
    } else {
      const Candidate& c = cands[r.attr][r.pick_node];
      ev = {{"source", r.actor}, {"sources", c.sources_json()}};
      if (c.detail && !c.detail->is_null()) ev["detail"] = *c.detail;
      if (c.implied_by) ev["implied_by"] = *c.implied_by;
    }
    ev["alternatives"] = alternatives_json(r.attr, ranked[r.attr]);
    ev["thresholds"] = thresholds_json(a.thresholds_at(r.node));
    return ev;
  }

  // The same evidence as JSON text (EvidenceForm::kText), written directly
  // with evidence()'s keys in the order dump() puts them.
  std::string evidence_text(std::size_t k) const {
    using json_text::put_number;
    using json_text::put_string;
    const Recipe& r = recipes[k];
    const Attribute& a = attrs[r.attr];
    std::string out;
    out.reserve(384);
    out += "{\"alternatives\":[";
    const auto& best = ranked[r.attr];
    for (std::size_t i = 0; i < best.size() && i < kAlternatives; ++i) {
      out += i ? ",{\"node\":" : "{\"node\":";
      put_string(out, a.nodes[best[i]].id);
      out += ",\"score\":";
      put_number(out, evidence_number(cands[r.attr][best[i]].score));
      out += '}';
    }
    out += ']';
    auto put_rule = [&] {
      out += ",\"rule\":{\"describe\":";
      put_string(out, r.rule->describe());
      out += ",\"id\":";
      put_string(out, r.rule->id);
      out += '}';
    };
    if (r.child) {  // an ancestor of a pick
      out += ",\"child\":";
      put_string(out, *r.child);
      if (r.rule) put_rule();
      out += ",\"source\":";
      put_string(out, r.actor);
    } else if (r.rule) {
      put_rule();
      out += ",\"source\":";
      put_string(out, "rule:" + r.rule->id);
    } else {
      const Candidate& c = cands[r.attr][r.pick_node];
      if (c.detail && !c.detail->is_null()) {
        out += ",\"detail\":";
        out += c.detail->dump();
      }
      if (c.implied_by) {
        out += ",\"implied_by\":";
        put_string(out, *c.implied_by);
      }
      out += ",\"source\":";
      put_string(out, r.actor);
      // By name, as a JSON object's keys are dumped.
      std::array<std::size_t, Candidate::kInline> inline_order{};
      std::vector<std::size_t> order_storage;
      std::span<std::size_t> order;
      if (c.source_count <= Candidate::kInline) {
        order = std::span<std::size_t>(inline_order).first(c.source_count);
      } else {
        order_storage.resize(c.source_count);
        order = order_storage;
      }
      for (std::size_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
        return *c.source_at(x).first < *c.source_at(y).first;
      });
      out += ",\"sources\":{";
      for (std::size_t i = 0; i < order.size(); ++i) {
        if (i) out += ',';
        put_string(out, *c.source_at(order[i]).first);
        out += ':';
        put_number(out, evidence_number(c.source_at(order[i]).second));
      }
      out += '}';
    }
    const Thresholds& t = a.thresholds_at(r.node);
    out += ",\"thresholds\":{\"auto\":";
    put_number(out, t.auto_apply);
    out += ",\"flag\":";
    put_number(out, t.flag);
    out += ",\"suggest\":";
    put_number(out, t.suggest);
    out += "}}";
    return out;
  }

  // The attribute's applied decisions become facts (for applicability and
  // rules), and all of them known (for `implies`) to the attributes after it.
  void remember(std::size_t ai, std::size_t first) {
    for (std::size_t k = first; k < decisions.size(); ++k) {
      const Decision& d = decisions[k];
      const std::size_t ni = recipes[k].node;
      if (is_applied(d.tier)) set_fact(ai, ni, d.confidence);
      known.push_back({ai, ni, d.confidence, d.actor});
    }
  }
};

}  // namespace

std::vector<Decision> decide(const Taxonomy& tax, const AssetInput& input) {
  return decide(tax, input, [](const Decision&) { return true; });
}

std::vector<Decision> decide(const Taxonomy& tax, const AssetInput& input,
                             const std::function<bool(const Decision&)>& wants_evidence,
                             EvidenceForm form) {
  Engine e(tax);
  const auto& attrs = tax.attributes();
  for (const auto& tag : input.existing) {
    auto ai = tax.attribute_index(tag.attribute);
    if (!ai) continue;
    auto ni = attrs[*ai].index_of(tag.node);
    if (!ni) continue;
    if (tag.rejected) {
      e.rejected[*ai][*ni] = 1;
    } else if (tag.human) {
      e.human[*ai][*ni] = 1;
      e.set_fact(*ai, *ni, 1.0);
      // Ancestors of a human tag are known too, for `implies`.
      const std::string actor = tag.actor.empty() ? "user" : tag.actor;
      e.known.push_back({*ai, *ni, 1.0, actor});
      for (const auto& anc : attrs[*ai].ancestors(tag.node))
        e.known.push_back({*ai, *attrs[*ai].index_of(anc), 1.0, actor});
    }
  }
  for (const auto& set : input.scores) e.add_scores(set);
  if (input.colours) {
    e.colour_sets = colour_scores(tax, *input.colours);
    for (const auto& set : e.colour_sets) e.add_scores(set);
  }
  for (std::size_t ai : tax.evaluation_order()) e.decide_attribute(ai);

  // Report in taxonomy order (attribute, then node), independent of evaluation order.
  std::vector<std::size_t> order(e.decisions.size());
  for (std::size_t k = 0; k < order.size(); ++k) order[k] = k;
  std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
    const auto& rx = e.recipes[x];
    const auto& ry = e.recipes[y];
    return rx.attr != ry.attr ? rx.attr < ry.attr : rx.node < ry.node;
  });
  std::vector<Decision> out;
  out.reserve(order.size());
  for (std::size_t k : order) {
    Decision& d = out.emplace_back(std::move(e.decisions[k]));
    if (!wants_evidence(d)) continue;
    if (form == EvidenceForm::kText)
      d.evidence_text = e.evidence_text(k);
    else
      d.evidence = e.evidence(k);
  }
  return out;
}

// ---------------------------------------------------------------------------

bool TagDelta::tier_changed() const {
  if (!before || !after) return true;
  return before->tier != after->tier;
}

std::string_view to_string(TagDelta::Kind kind) {
  switch (kind) {
    case TagDelta::Kind::kAdd:
      return "add";
    case TagDelta::Kind::kUpdate:
      return "update";
    case TagDelta::Kind::kReplace:
      return "replace";
    case TagDelta::Kind::kRemove:
      return "remove";
  }
  return "add";
}

// Flat lists searched linearly: an asset has a dozen tags and decisions,
// and change_set() runs once per asset in a re-tag of millions, where maps
// keyed by strings cost more than the comparisons they save.
std::vector<TagDelta> change_set(const Taxonomy& tax, const std::vector<ExistingTag>& existing,
                                 std::vector<Decision> decisions, double confidence_epsilon) {
  auto same = [](const std::string& attr, const std::string& node, const ExistingTag& t) {
    return t.node == node && t.attribute == attr;
  };
  // Machine tags by (attribute, node): removals are reported in that order.
  // A key listed twice counts once, its last entry.
  std::vector<const ExistingTag*> machine;
  for (const auto& t : existing) {
    if (t.human || t.rejected) continue;
    auto dup = std::find_if(machine.begin(), machine.end(),
                            [&](const ExistingTag* m) { return same(t.attribute, t.node, *m); });
    if (dup != machine.end())
      *dup = &t;
    else
      machine.push_back(&t);
  }
  std::sort(machine.begin(), machine.end(), [](const ExistingTag* x, const ExistingTag* y) {
    return std::tie(x->attribute, x->node) < std::tie(y->attribute, y->node);
  });
  auto is_protected = [&](const Decision& d) {
    return std::any_of(existing.begin(), existing.end(), [&](const ExistingTag& t) {
      return (t.human || t.rejected) && same(d.attribute, d.node, t);
    });
  };

  // Per attribute (ordered by id, like the taxonomy-unknown ones are
  // reported): machine tags no decision keeps, and decisions for new nodes.
  struct Unmatched {
    std::string attribute;
    std::vector<const ExistingTag*> removed;
    std::vector<Decision*> added;
  };
  std::vector<Unmatched> by_attr;
  auto unmatched = [&](const std::string& attr) -> Unmatched& {
    for (auto& u : by_attr)
      if (u.attribute == attr) return u;
    return by_attr.emplace_back(Unmatched{attr, {}, {}});
  };
  std::vector<TagDelta> out;
  std::vector<char> decided(machine.size(), 0);
  for (auto& d : decisions) {
    if (is_protected(d)) continue;  // never touch a person's decision
    auto m = std::find_if(machine.begin(), machine.end(),
                          [&](const ExistingTag* t) { return same(d.attribute, d.node, *t); });
    if (m == machine.end()) {
      unmatched(d.attribute).added.push_back(&d);
      continue;
    }
    decided[m - machine.begin()] = 1;
    const ExistingTag& before = **m;
    if (before.tier != d.tier || std::abs(before.confidence - d.confidence) > confidence_epsilon)
      out.push_back({TagDelta::Kind::kUpdate, before, std::move(d)});
  }
  for (std::size_t i = 0; i < machine.size(); ++i)
    if (!decided[i]) unmatched(machine[i]->attribute).removed.push_back(machine[i]);
  std::sort(by_attr.begin(), by_attr.end(),
            [](const Unmatched& x, const Unmatched& y) { return x.attribute < y.attribute; });

  auto depth = [&](const std::string& attr, const std::string& node) {
    const auto* n = tax.node(attr, node);
    return n ? n->depth : 0;
  };
  for (auto& [attr, removed, added] : by_attr) {
    const Attribute* a = tax.attribute(attr);
    if (a && !a->multi()) {
      // A single-valued attribute changing value is one "replace", deepest
      // nodes paired first (tops->dresses, not apparel->dresses).
      const std::string& id = attr;  // clang before 16 cannot capture structured bindings
      std::stable_sort(removed.begin(), removed.end(),
                       [&](auto* x, auto* y) { return depth(id, x->node) > depth(id, y->node); });
      std::stable_sort(added.begin(), added.end(),
                       [&](auto* x, auto* y) { return depth(id, x->node) > depth(id, y->node); });
      std::size_t pairs = std::min(removed.size(), added.size());
      for (std::size_t i = 0; i < pairs; ++i)
        out.push_back({TagDelta::Kind::kReplace, *removed[i], std::move(*added[i])});
      removed.erase(removed.begin(), removed.begin() + pairs);
      added.erase(added.begin(), added.begin() + pairs);
    }
    for (auto* d : added) out.push_back({TagDelta::Kind::kAdd, std::nullopt, std::move(*d)});
    for (auto* t : removed) out.push_back({TagDelta::Kind::kRemove, *t, std::nullopt});
  }
  auto attr_pos = [&](const std::string& id) {
    auto i = tax.attribute_index(id);
    return i ? *i : tax.attributes().size();
  };
  std::stable_sort(out.begin(), out.end(), [&](const TagDelta& x, const TagDelta& y) {
    return attr_pos(x.attribute()) < attr_pos(y.attribute());
  });
  return out;
}

bool changes_stored_tag(const std::vector<ExistingTag>& existing, const Decision& d,
                        double confidence_epsilon) {
  for (const auto& t : existing) {
    if (t.node != d.node || t.attribute != d.attribute) continue;
    if (t.human || t.rejected) return false;
    return t.tier != d.tier || std::abs(t.confidence - d.confidence) > confidence_epsilon;
  }
  return true;
}

}  // namespace tagsmith::tagging
