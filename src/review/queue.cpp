#include "tagsmith/review/queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <set>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"

namespace tagsmith::review {
namespace {

using nlohmann::json;
using store::TagState;

constexpr const char* kFilterPrefix = "review.filter.";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Alternatives and a one-line reason from the evidence the engine stored.
void read_evidence(ReviewItem& item) {
  json ev = json::parse(item.tag.evidence_json, nullptr, false);
  if (ev.is_discarded() || !ev.is_object()) ev = json::object();
  if (ev.contains("alternatives") && ev["alternatives"].is_array()) {
    for (const auto& a : ev["alternatives"]) {
      if (!a.is_object() || !a.contains("node")) continue;
      const std::string node = a["node"].get<std::string>();
      if (node == item.tag.node) continue;
      item.alternatives.push_back({node, a.value("score", 0.0)});
    }
  }
  std::sort(item.alternatives.begin(), item.alternatives.end(),
            [](const Alternative& a, const Alternative& b) { return a.score > b.score; });
  // Margin to the strongest competitor below this tag. On multi-valued
  // attributes a stronger alternative is another value the asset also has,
  // not a competitor.
  double runner_up = 0;
  const Alternative* competitor = nullptr;
  for (const auto& a : item.alternatives) {
    if (a.score <= item.tag.confidence && a.score >= runner_up) {
      runner_up = a.score;
      competitor = &a;
      break;  // sorted: the first one below is the strongest
    }
  }
  item.margin = item.tag.confidence - runner_up;

  std::string reason;
  if (ev.contains("rule") && ev["rule"].is_object()) {
    reason = fmt::format("brand rule {}", ev["rule"].value("id", std::string("?")));
  } else if (ev.contains("implied_by")) {
    reason = fmt::format("implied by {}", ev["implied_by"].get<std::string>());
  } else if (item.tag.actor == "colour" && ev.contains("detail") && ev["detail"].is_object()) {
    const auto& d = ev["detail"];
    reason = fmt::format("colour analysis: {:.0f}% of the product, ΔE {:.1f}",
                         100 * d.value("share", 0.0), d.value("delta_e", 0.0));
  } else if (item.tag.actor.starts_with("model:")) {
    reason = fmt::format("model {} scored {:.2f}", item.tag.actor.substr(6), item.tag.confidence);
  } else {
    reason = fmt::format("{} scored {:.2f}", item.tag.actor, item.tag.confidence);
  }
  if (ev.value("ood", false)) reason += "; unlike anything the model was trained on";
  if (competitor)
    reason += fmt::format("; runner-up {} at {:.2f}", competitor->node, competitor->score);
  item.reason = std::move(reason);
}

}  // namespace

Order parse_order(const std::string& text) {
  if (text == "confidence" || text == "lowest-confidence") return Order::kLowestConfidence;
  if (text == "margin" || text == "smallest-margin") return Order::kSmallestMargin;
  if (text == "attribute") return Order::kByAttribute;
  throw InputError(
      fmt::format("unknown review order '{}' (use confidence, margin or attribute)", text));
}

std::string to_string(Order order) {
  switch (order) {
    case Order::kLowestConfidence:
      return "confidence";
    case Order::kSmallestMargin:
      return "margin";
    case Order::kByAttribute:
      return "attribute";
  }
  return "confidence";
}

Action parse_action(const std::string& text) {
  if (text == "confirm") return Action::kConfirm;
  if (text == "reject") return Action::kReject;
  if (text == "correct") return Action::kCorrect;
  if (text == "skip") return Action::kSkip;
  throw InputError(
      fmt::format("unknown review action '{}' (use confirm, reject, correct or skip)", text));
}

std::string to_string(Action action) {
  switch (action) {
    case Action::kConfirm:
      return "confirm";
    case Action::kReject:
      return "reject";
    case Action::kCorrect:
      return "correct";
    case Action::kSkip:
      return "skip";
  }
  return "skip";
}

json ReviewFilter::to_json() const {
  json has = json::array();
  for (const auto& [a, n] : asset_has) has.push_back({{"attribute", a}, {"node", n}});
  return {{"asset_has", has},
          {"attributes", attributes},
          {"include_flagged", include_flagged},
          {"include_suggested", include_suggested},
          {"include_audit", include_audit}};
}

ReviewFilter ReviewFilter::from_json(const json& j) {
  try {
    ReviewFilter f;
    for (const auto& c : j.value("asset_has", json::array())) {
      f.asset_has.emplace_back(c.at("attribute").get<std::string>(),
                               c.at("node").get<std::string>());
    }
    f.attributes = j.value("attributes", std::vector<std::string>{});
    f.include_flagged = j.value("include_flagged", true);
    f.include_suggested = j.value("include_suggested", true);
    f.include_audit = j.value("include_audit", true);
    return f;
  } catch (const json::exception& e) {
    throw InputError(fmt::format("malformed review filter: {}", e.what()));
  }
}

ReviewFilter ReviewFilter::parse(const std::vector<std::string>& conditions,
                                 const std::vector<std::string>& attributes) {
  ReviewFilter f;
  for (const auto& c : conditions) {
    const auto eq = c.find('=');
    if (eq == std::string::npos || eq == 0 || eq + 1 == c.size()) {
      throw InputError(fmt::format("filter condition '{}' is not ATTRIBUTE=NODE", c));
    }
    f.asset_has.emplace_back(c.substr(0, eq), c.substr(eq + 1));
  }
  f.attributes = attributes;
  return f;
}

ReviewQueue::ReviewQueue(library::Library& lib, tagging::TagService& tagger)
    : lib_(lib), tagger_(tagger) {}

std::vector<ReviewItem> ReviewQueue::collect(const ReviewFilter& filter) {
  const taxonomy::Taxonomy& tax = tagger_.taxonomy();
  store::Store& db = lib_.store();
  // Resolve the filter's nodes once (labels and synonyms allowed).
  std::vector<std::pair<std::string, std::string>> wanted;
  for (const auto& [attr, node] : filter.asset_has) {
    const auto ref = tax.resolve(attr + "/" + node, attr);
    if (!ref || !tax.attribute(attr))
      throw InputError(fmt::format("filter names unknown node {}={}", attr, node));
    wanted.emplace_back(ref->attribute, ref->node);
  }
  std::set<std::tuple<store::AssetId, std::string, std::string>> audit_keys;
  if (filter.include_audit) {
    for (const auto& s : db.audit_samples(true))
      audit_keys.emplace(s.asset_id, s.attribute, s.node);
  }
  std::vector<TagState> states;
  if (filter.include_flagged) states.push_back(TagState::kFlagged);
  if (filter.include_suggested) states.push_back(TagState::kSuggested);
  if (!audit_keys.empty()) states.push_back(TagState::kAuto);

  std::map<store::AssetId, bool> asset_ok;  // asset_has verdict per asset, computed once
  auto asset_matches = [&](store::AssetId id) {
    if (wanted.empty()) return true;
    auto it = asset_ok.find(id);
    if (it != asset_ok.end()) return it->second;
    const auto tags = db.tags_of(id);
    bool ok = true;
    for (const auto& wanted_tag : wanted) {
      // Plain references: clang before 16 cannot capture structured bindings.
      const std::string& attr = wanted_tag.first;
      const std::string& node = wanted_tag.second;
      const taxonomy::Attribute* a = tax.attribute(attr);
      const bool has = std::any_of(tags.begin(), tags.end(), [&](const store::Tag& t) {
        return t.attribute == attr && t.state != TagState::kRejected &&
               (t.node == node || a->within(t.node, node));
      });
      if (!has) {
        ok = false;
        break;
      }
    }
    return asset_ok[id] = ok;
  };

  std::vector<ReviewItem> items;
  for (auto& tag : db.tags_in_states(states)) {
    const bool audit = tag.state == TagState::kAuto;
    if (audit && !audit_keys.count({tag.asset_id, tag.attribute, tag.node})) continue;
    if (!filter.attributes.empty() && std::find(filter.attributes.begin(), filter.attributes.end(),
                                                tag.attribute) == filter.attributes.end()) {
      continue;
    }
    if (!asset_matches(tag.asset_id)) continue;
    ReviewItem item;
    item.tag = std::move(tag);
    item.audit = audit;
    read_evidence(item);
    items.push_back(std::move(item));
  }
  return items;
}

std::vector<ReviewItem> ReviewQueue::items(const ReviewFilter& filter, Order order,
                                           std::size_t limit, std::size_t offset) {
  std::vector<ReviewItem> all = collect(filter);
  auto key = [order](const ReviewItem& i) {
    const double primary = order == Order::kSmallestMargin ? i.margin : i.tag.confidence;
    return std::make_tuple(order == Order::kByAttribute ? i.tag.attribute : std::string(), primary,
                           i.tag.asset_id, i.tag.attribute, i.tag.node);
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const ReviewItem& a, const ReviewItem& b) { return key(a) < key(b); });
  if (offset >= all.size()) return {};
  const auto end = std::min(all.size(), offset + limit);
  std::vector<ReviewItem> page(std::make_move_iterator(all.begin() + static_cast<long>(offset)),
                               std::make_move_iterator(all.begin() + static_cast<long>(end)));
  for (auto& item : page) {
    if (auto asset = lib_.store().find_asset(item.tag.asset_id)) {
      item.asset_path = asset->source_path;
      if (!asset->thumbnail_sha256.empty())
        item.thumbnail_path = lib_.thumbnail_path(asset->thumbnail_sha256).string();
    }
  }
  return page;
}

std::size_t ReviewQueue::count(const ReviewFilter& filter) {
  return collect(filter).size();
}

bool ReviewQueue::act(const ReviewItem& item, Action action, const std::string& reviewer,
                      double seconds, const std::string& to_node) {
  if (reviewer.empty()) throw InputError("a review needs the reviewer's name");
  const store::Tag& t = item.tag;
  bool changed = false;
  std::string outcome;
  std::string node = t.node;
  switch (action) {
    case Action::kConfirm:
      changed = tagger_.confirm(t.asset_id, t.attribute, t.node, reviewer);
      outcome = "confirmed";
      break;
    case Action::kReject:
      changed = tagger_.reject(t.asset_id, t.attribute, t.node, reviewer);
      outcome = "rejected";
      break;
    case Action::kCorrect:
      if (to_node.empty()) throw InputError("correct needs the node to correct to");
      changed = tagger_.correct(t.asset_id, t.attribute, t.node, to_node, reviewer);
      outcome = "corrected";
      break;
    case Action::kSkip:
      break;
  }
  const std::string at = now_utc_iso8601();
  store::Store& db = lib_.store();
  db.add_review_log(
      {0, t.asset_id, t.attribute, node, to_string(action), "user:" + reviewer, seconds, at});
  if (!outcome.empty())
    db.resolve_audit_samples(t.asset_id, t.attribute, t.node, outcome, reviewer, at);
  return changed;
}

BatchResult ReviewQueue::batch(const ReviewFilter& filter, Action action,
                               const std::string& reviewer) {
  if (action != Action::kConfirm && action != Action::kReject) {
    throw InputError("batch review supports confirm and reject");
  }
  BatchResult r;
  for (const auto& item : collect(filter)) {
    ++r.matched;
    if (act(item, action, reviewer, 0.0)) ++r.changed;
  }
  return r;
}

void ReviewQueue::save_filter(const std::string& name, const ReviewFilter& filter) {
  if (name.empty()) throw InputError("a saved filter needs a name");
  lib_.store().set_setting(kFilterPrefix + name, filter.to_json().dump());
  auto names = filter_names();
  if (std::find(names.begin(), names.end(), name) == names.end()) {
    names.push_back(name);
    lib_.store().set_setting("review.filters", json(names).dump());
  }
}

ReviewFilter ReviewQueue::load_filter(const std::string& name) {
  const auto text = lib_.store().setting(kFilterPrefix + name);
  if (!text) throw NotFoundError(fmt::format("no saved review filter '{}'", name));
  return ReviewFilter::from_json(json::parse(*text));
}

std::vector<std::string> ReviewQueue::filter_names() {
  std::vector<std::string> names;
  // Settings have no listing call; saved filter names are kept in an index entry.
  if (auto index = lib_.store().setting("review.filters")) {
    for (const auto& n : json::parse(*index)) names.push_back(n.get<std::string>());
  }
  return names;
}

std::vector<std::string> ReviewQueue::complete(const std::string& attribute,
                                               const std::string& prefix) const {
  std::vector<std::string> out;
  const taxonomy::Attribute* a = tagger_.taxonomy().attribute(attribute);
  if (!a) return out;
  const std::string p = lower(prefix);
  for (const auto& node : a->nodes) {
    bool hit = lower(node.id).starts_with(p);
    for (const auto& [lang, label] : node.labels) hit = hit || lower(label).starts_with(p);
    for (const auto& syn : node.synonyms) hit = hit || lower(syn).starts_with(p);
    if (hit) out.push_back(node.id);
  }
  return out;
}

std::int64_t draw_audit_sample(library::Library& lib, const std::string& tier, std::size_t n,
                               unsigned seed) {
  const TagState state =
      tier == "auto" ? TagState::kAuto
      : tier == "flagged"
          ? TagState::kFlagged
          : throw InputError("audit samples are drawn from the auto or flagged tier");
  std::vector<store::Tag> tags = lib.store().tags_in_states({state});
  // Already-pending samples are not drawn twice.
  std::set<std::tuple<store::AssetId, std::string, std::string>> pending;
  for (const auto& s : lib.store().audit_samples(true))
    pending.emplace(s.asset_id, s.attribute, s.node);
  std::erase_if(tags, [&](const store::Tag& t) {
    return pending.count({t.asset_id, t.attribute, t.node}) > 0;
  });
  std::mt19937 rng(seed);
  std::shuffle(tags.begin(), tags.end(), rng);
  if (tags.size() > n) tags.resize(n);
  std::vector<store::AuditSample> samples;
  const std::string at = now_utc_iso8601();
  for (const auto& t : tags) {
    store::AuditSample s;
    s.asset_id = t.asset_id;
    s.attribute = t.attribute;
    s.node = t.node;
    s.tier = tier;
    s.confidence = t.confidence;
    s.created_at = at;
    samples.push_back(std::move(s));
  }
  if (samples.empty()) return 0;
  lib.store().add_audit_samples(samples);
  return static_cast<std::int64_t>(samples.size());
}

std::pair<double, double> wilson_interval(std::int64_t k, std::int64_t n) {
  if (n == 0) return {0.0, 1.0};
  constexpr double z = 1.959963984540054;
  const double p = static_cast<double>(k) / n;
  const double denom = 1 + z * z / n;
  const double centre = (p + z * z / (2.0 * n)) / denom;
  const double half = z * std::sqrt(p * (1 - p) / n + z * z / (4.0 * n * n)) / denom;
  return {std::max(0.0, centre - half), std::min(1.0, centre + half)};
}

std::vector<AuditEstimate> audit_report(library::Library& lib) {
  std::map<std::string, AuditEstimate> by_attribute;
  AuditEstimate all;
  all.attribute = "all";
  for (const auto& s : lib.store().audit_samples(false)) {
    for (AuditEstimate* e : {&by_attribute[s.attribute], &all}) {
      if (s.outcome.empty()) {
        ++e->pending;
        continue;
      }
      ++e->reviewed;
      if (s.outcome == "confirmed") ++e->correct;
    }
  }
  std::vector<AuditEstimate> out;
  for (auto& [attr, e] : by_attribute) {
    e.attribute = attr;
    out.push_back(e);
  }
  out.push_back(all);
  for (auto& e : out) {
    e.precision = e.reviewed ? static_cast<double>(e.correct) / e.reviewed : 0;
    std::tie(e.low, e.high) = wilson_interval(e.correct, e.reviewed);
  }
  return out;
}

}  // namespace tagsmith::review
