#include "tagsmith/review/queue.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <random>
#include <set>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/image/colour.h"

namespace tagsmith::review {
namespace {

using nlohmann::json;
using store::TagState;

constexpr const char* kFilterPrefix = "review.filter.";

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

// Alternatives and a one-line reason from the evidence the engine stored,
// and how much the sources behind the proposal disagree.
void read_evidence(ReviewItem& item) {
  json ev = json::parse(item.tag.evidence_json, nullptr, false);
  if (ev.is_discarded() || !ev.is_object()) ev = json::object();
  std::vector<Alternative> below, above;
  if (ev.contains("alternatives") && ev["alternatives"].is_array()) {
    for (const auto& a : ev["alternatives"]) {
      if (!a.is_object() || !a.contains("node") || !a["node"].is_string()) continue;
      const std::string node = a["node"].get<std::string>();
      if (node == item.tag.node) continue;
      Alternative alt{node, a.value("score", 0.0), {}, {}, false};
      alt.outranks = alt.score > item.tag.confidence;
      (alt.outranks ? above : below).push_back(std::move(alt));
    }
  }
  auto best_first = [](const Alternative& a, const Alternative& b) { return a.score > b.score; };
  std::stable_sort(below.begin(), below.end(), best_first);
  std::stable_sort(above.begin(), above.end(), best_first);
  // The runner-up is the strongest competitor below this tag: on
  // multi-valued attributes a stronger alternative is another value the
  // asset also has, and on single-valued ones something other than the
  // score (a rule, a person, the colour calibration) chose this node. Listed
  // first, so the card's first alternative is the one the reason names.
  item.alternatives = std::move(below);
  // (A copy: appending the ones above may move the list.)
  const std::optional<Alternative> competitor =
      item.alternatives.empty() ? std::nullopt : std::optional(item.alternatives[0]);
  item.margin = item.tag.confidence - (competitor ? competitor->score : 0.0);
  for (auto& a : above) item.alternatives.push_back(std::move(a));

  // Sources behind the proposal (colour analysis, a model): far apart means
  // the machine argues with itself, and a person settles it.
  if (ev.contains("sources") && ev["sources"].is_object() && ev["sources"].size() >= 2) {
    double lo = 1, hi = 0;
    for (const auto& [name, v] : ev["sources"].items()) {
      if (!v.is_number()) continue;
      lo = std::min(lo, v.get<double>());
      hi = std::max(hi, v.get<double>());
    }
    item.value.disagreement = std::clamp(hi - lo, 0.0, 1.0);
  }

  std::string reason;
  if (ev.contains("rule") && ev["rule"].is_object()) {
    reason = fmt::format("brand rule {}", ev["rule"].value("id", std::string("?")));
  } else if (ev.contains("implied_by") && ev["implied_by"].is_string()) {
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
  const auto top = std::find_if(item.alternatives.begin(), item.alternatives.end(),
                                [](const Alternative& a) { return a.outranks; });
  if (top != item.alternatives.end())
    reason += fmt::format("; {} scored higher ({:.2f}) but was not chosen", top->node, top->score);
  item.reason = std::move(reason);
}

// The id of the last event on the tag (asset, attribute, node) among the
// attribute's events: its own, or a correction away from it. Null if none.
const store::TagEvent* last_event(const std::vector<store::TagEvent>& events,
                                  const std::string& node) {
  const store::TagEvent* last = nullptr;
  for (const auto& e : events)
    if ((e.node == node || e.previous_node == node) && (!last || e.id > last->id)) last = &e;
  return last;
}

std::string describe(const store::TagEvent& e) {
  std::string who = e.actor.starts_with("user:") ? e.actor.substr(5) : e.actor;
  return fmt::format("{} by {} at {} (event {})", store::to_string(e.action), who, e.at, e.id);
}

std::string hex(const std::array<std::uint8_t, 3>& rgb) {
  return fmt::format("#{:02x}{:02x}{:02x}", rgb[0], rgb[1], rgb[2]);
}

// The colour a colour node stands for: the asset's own dominant colour of
// that family or shade when it has one (what the person should compare the
// photo with), else the palette's shade (the first of a family).
std::string swatch_for(const taxonomy::Attribute& a, const std::string& node,
                       const store::AssetRecord* asset, const image::Palette& palette) {
  if (a.source != "palette") return {};
  const bool shades = a.palette_level == "shades";
  if (asset) {
    for (const auto& c : asset->colours.colours)
      if ((shades ? c.shade : c.family) == node) return hex(c.rgb);
  }
  for (const auto& s : palette.shades())
    if ((shades ? s.id : s.family) == node) return hex(image::lab_to_srgb(s.lab));
  return {};
}

json tag_row_json(const store::Tag& t) {
  return {{"node", t.node},
          {"state", store::to_string(t.state)},
          {"confidence", t.confidence},
          {"actor", t.actor},
          {"model_version", t.model_version},
          {"taxonomy_version", t.taxonomy_version},
          {"updated_at", t.updated_at},
          {"evidence_json", t.evidence_json}};
}

std::string iso8601(std::chrono::system_clock::time_point tp) {
  const auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(tp.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

}  // namespace

Order parse_order(const std::string& text) {
  if (text == "value") return Order::kValue;
  if (text == "confidence" || text == "lowest-confidence") return Order::kLowestConfidence;
  if (text == "margin" || text == "smallest-margin") return Order::kSmallestMargin;
  if (text == "attribute") return Order::kByAttribute;
  throw InputError(
      fmt::format("unknown review order '{}' (use value, confidence, margin or attribute)", text));
}

std::string to_string(Order order) {
  switch (order) {
    case Order::kLowestConfidence:
      return "confidence";
    case Order::kSmallestMargin:
      return "margin";
    case Order::kByAttribute:
      return "attribute";
    case Order::kValue:
      return "value";
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
          {"include_audit", include_audit},
          {"include_low_value", include_low_value}};
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
    f.include_low_value = j.value("include_low_value", false);
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

namespace {

// How much a person's answer to this item is worth (ItemValue), and whether
// it is a low-value suggestion.
void score(ReviewItem& item, const taxonomy::Taxonomy& tax,
           const std::map<std::pair<std::string, std::string>, int>& examples) {
  const store::Tag& t = item.tag;
  taxonomy::Thresholds th;
  if (const auto* a = tax.attribute(t.attribute)) th = a->thresholds_for(t.node);
  ItemValue& v = item.value;
  // Closest to the line between "applied" and "only suggested", or hardly
  // ahead of the runner-up: where a label moves the model most.
  const double to_line = 1 - std::min(1.0, std::abs(t.confidence - th.flag) / 0.25);
  const double close_call = item.alternatives.empty() || item.alternatives[0].outranks
                                ? 0.0
                                : 1 - std::min(1.0, std::max(0.0, item.margin) / 0.25);
  v.uncertainty = std::clamp(std::max(to_line, close_call), 0.0, 1.0);
  const auto it = examples.find({t.attribute, t.node});
  const int n = it == examples.end() ? 0 : it->second;
  constexpr int kEnoughExamples = 20;
  v.rarity = n >= kEnoughExamples ? 0.0 : 1.0 - static_cast<double>(n) / kEnoughExamples;
  v.audit = item.audit;
  v.total = 0.4 * v.uncertainty + 0.3 * v.disagreement + 0.3 * v.rarity + (v.audit ? 1.0 : 0.0);
  // A suggestion in the bottom quarter of the suggestion band (e.g. a
  // colour at 0.30 when flagging starts at 0.75) that its sources agree on.
  const double floor = th.suggest + 0.25 * (th.flag - th.suggest);
  item.low_value = t.state == TagState::kSuggested && !item.audit && t.confidence < floor &&
                   v.disagreement < 0.3;
}

}  // namespace

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

  // Confirmed examples per node: the training data a person's answer adds to.
  std::map<std::pair<std::string, std::string>, int> examples;
  for (const auto& t : db.tags_in_states({TagState::kConfirmed, TagState::kHumanSet}))
    ++examples[{t.attribute, t.node}];

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
    score(item, tax, examples);
    if (item.low_value && !filter.include_low_value) continue;
    items.push_back(std::move(item));
  }
  return items;
}

std::string ReviewQueue::now() const {
  return iso8601(clock_());
}

std::string ReviewQueue::expiry() const {
  return iso8601(clock_() + claim_ttl_);
}

void ReviewQueue::present(ReviewItem& item) {
  store::Store& db = lib_.store();
  const taxonomy::Taxonomy& tax = tagger_.taxonomy();
  const store::Tag& t = item.tag;
  const auto asset = db.find_asset(t.asset_id);
  if (asset) {
    item.asset_path = asset->source_path;
    if (!asset->thumbnail_sha256.empty())
      item.thumbnail_path = lib_.thumbnail_path(asset->thumbnail_sha256).string();
  }
  if (const auto* a = tax.attribute(t.attribute)) {
    const store::AssetRecord* rec = asset ? &*asset : nullptr;
    if (const auto* n = a->node(t.node)) item.labels = n->labels;
    item.swatch = swatch_for(*a, t.node, rec, lib_.palette());
    for (auto& alt : item.alternatives) {
      if (const auto* n = a->node(alt.node)) alt.labels = n->labels;
      alt.swatch = swatch_for(*a, alt.node, rec, lib_.palette());
    }
  }
  const auto events = db.tag_events(t.asset_id, t.attribute);
  const auto* last = last_event(events, t.node);
  item.version = last ? last->id : 0;
}

std::vector<ReviewItem> ReviewQueue::items(const ReviewFilter& filter, Order order,
                                           std::size_t limit, std::size_t offset,
                                           const std::string& reviewer) {
  std::vector<ReviewItem> all = collect(filter);
  auto key = [order](const ReviewItem& i) {
    const double primary = order == Order::kSmallestMargin ? i.margin
                           : order == Order::kValue        ? -i.value.total
                                                           : i.tag.confidence;
    return std::make_tuple(order == Order::kByAttribute ? i.tag.attribute : std::string(), primary,
                           i.tag.confidence, i.tag.asset_id, i.tag.attribute, i.tag.node);
  };
  std::stable_sort(all.begin(), all.end(),
                   [&](const ReviewItem& a, const ReviewItem& b) { return key(a) < key(b); });
  store::Store& db = lib_.store();
  if (!reviewer.empty()) {
    // Others' unexpired claims are not ours to show.
    std::set<std::tuple<store::AssetId, std::string, std::string>> held;
    for (const auto& c : db.review_claims(now()))
      if (c.reviewer != reviewer) held.emplace(c.asset_id, c.attribute, c.node);
    std::erase_if(all, [&](const ReviewItem& i) {
      return held.count({i.tag.asset_id, i.tag.attribute, i.tag.node}) > 0;
    });
  }
  if (offset >= all.size()) return {};
  std::vector<ReviewItem> page;
  std::size_t next = offset;
  while (page.size() < limit && next < all.size()) {
    const std::size_t want = std::min(all.size() - next, limit - page.size());
    if (reviewer.empty()) {
      for (std::size_t k = 0; k < want; ++k) page.push_back(std::move(all[next + k]));
    } else {
      // Claimed in one go; what someone else took in the meantime is not
      // granted, and the next candidates fill its place.
      std::vector<store::ReviewClaim> wanted;
      const std::string until = expiry();
      for (std::size_t k = 0; k < want; ++k) {
        const auto& t = all[next + k].tag;
        wanted.push_back({t.asset_id, t.attribute, t.node, reviewer, until});
      }
      const auto granted = db.claim_for_review(wanted, now());
      std::set<std::tuple<store::AssetId, std::string, std::string>> ok;
      for (const auto& g : granted) ok.emplace(g.asset_id, g.attribute, g.node);
      for (std::size_t k = 0; k < want; ++k) {
        auto& i = all[next + k];
        if (!ok.count({i.tag.asset_id, i.tag.attribute, i.tag.node})) continue;
        i.claimed_by = reviewer;
        i.claim_expires_at = until;
        page.push_back(std::move(i));
      }
    }
    next += want;
  }
  for (auto& item : page) present(item);
  return page;
}

ReviewItem ReviewQueue::item(store::AssetId asset, const std::string& attribute,
                             const std::string& node) {
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {}", asset));
  std::string id = node;
  if (const auto ref = tagger_.taxonomy().resolve(attribute + "/" + node, attribute))
    id = ref->node;
  for (auto& t : db.tags_of(asset)) {
    if (t.attribute != attribute || t.node != id) continue;
    ReviewItem item;
    item.tag = std::move(t);
    for (const auto& s : db.audit_samples(true))
      if (s.asset_id == asset && s.attribute == attribute && s.node == id) item.audit = true;
    read_evidence(item);
    std::map<std::pair<std::string, std::string>, int> none;
    score(item, tagger_.taxonomy(), none);
    present(item);
    return item;
  }
  throw NotFoundError(fmt::format("asset {} has no tag {}={}", asset, attribute, node));
}

std::size_t ReviewQueue::count(const ReviewFilter& filter) {
  return collect(filter).size();
}

bool ReviewQueue::act(const ReviewItem& item, Action action, const std::string& reviewer,
                      double seconds, const std::string& to_node) {
  if (reviewer.empty()) throw InputError("a review needs the reviewer's name");
  const store::Tag& t = item.tag;
  store::Store& db = lib_.store();
  const store::ReviewClaim key{t.asset_id, t.attribute, t.node, reviewer, expiry()};
  const std::string tag_name = fmt::format("{}={} on asset {}", t.attribute, t.node, t.asset_id);
  json before = json::array();
  std::string to_id = to_node;
  if (action != Action::kSkip) {
    // Hold the tag (or keep holding it) while deciding: a tag another
    // reviewer has open is theirs to decide.
    if (db.claim_for_review({&key, 1}, now()).empty()) {
      std::string holder = "another reviewer", until;
      for (const auto& c : db.review_claims(now()))
        if (c.asset_id == t.asset_id && c.attribute == t.attribute && c.node == t.node)
          holder = c.reviewer, until = c.expires_at;
      throw ConflictError(fmt::format("{} is being reviewed by {} (claimed until {}); left to them",
                                      tag_name, holder, until));
    }
    const auto events = db.tag_events(t.asset_id, t.attribute);
    if (item.version >= 0) {
      // 0 is a tag with no event yet: its first event is a change too.
      const auto* last = last_event(events, t.node);
      if ((last ? last->id : 0) != item.version) {
        db.release_review_claims(reviewer, {&key, 1});
        throw ConflictError(
            last ? fmt::format("{} was {} since you opened it; nothing was changed", tag_name,
                               describe(*last))
                 : fmt::format("{} changed since you opened it; nothing was changed", tag_name));
      }
    }
    if (action == Action::kCorrect && !to_node.empty()) {
      if (const auto ref = tagger_.taxonomy().resolve(t.attribute + "/" + to_node, t.attribute))
        to_id = ref->node;
    }
    // The rows this decision replaces, for undo.
    const auto rows = db.tags_of(t.asset_id);
    std::vector<std::string> nodes = {t.node};
    if (action == Action::kCorrect && !to_id.empty() && to_id != t.node) nodes.push_back(to_id);
    for (const std::string& node : nodes) {
      const auto it = std::find_if(rows.begin(), rows.end(), [&](const store::Tag& r) {
        return r.attribute == t.attribute && r.node == node;
      });
      before.push_back(it == rows.end() ? json{{"node", node}, {"absent", true}}
                                        : tag_row_json(*it));
    }
  }
  bool changed = false;
  std::string outcome;
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
  db.add_review_log(
      {0, t.asset_id, t.attribute, t.node, to_string(action), "user:" + reviewer, seconds, at});
  if (!outcome.empty())
    db.resolve_audit_samples(t.asset_id, t.attribute, t.node, outcome, reviewer, at);
  if (changed) {
    const auto events = db.tag_events(t.asset_id, t.attribute);
    if (const auto* last = last_event(events, t.node)) {
      store::ReviewDecision d;
      d.reviewer = reviewer;
      d.asset_id = t.asset_id;
      d.attribute = t.attribute;
      d.node = t.node;
      d.action = to_string(action);
      d.event_id = last->id;
      d.before_json = before.dump();
      d.at = at;
      db.add_review_decision(d);
    }
  }
  db.release_review_claims(reviewer, {&key, 1});
  return changed;
}

std::vector<UndoneDecision> ReviewQueue::undo(const std::string& reviewer, std::size_t n) {
  if (reviewer.empty()) throw InputError("undo needs the reviewer's name");
  store::Store& db = lib_.store();
  std::vector<UndoneDecision> done;
  for (const auto& d : db.review_decisions(reviewer, n)) {
    const auto events = db.tag_events(d.asset_id, d.attribute);
    const json before = json::parse(d.before_json, nullptr, false);
    if (!before.is_array() || before.empty()) continue;
    // Every row the decision touched must still be as the decision left it.
    for (const auto& row : before) {
      const std::string node = row.value("node", "");
      const auto* last = last_event(events, node);
      if (last && last->id != d.event_id) {
        throw ConflictError(fmt::format(
            "cannot undo your {} of {}={} on asset {}: it was {} since; nothing more was undone",
            d.action, d.attribute, d.node, d.asset_id, describe(*last)));
      }
    }
    const std::string at = now_utc_iso8601();
    const std::string actor = "user:" + reviewer;
    std::vector<store::TagChange> changes;
    for (const auto& row : before) {
      store::TagChange c;
      c.tag.asset_id = d.asset_id;
      c.tag.attribute = d.attribute;
      c.tag.node = row.value("node", "");
      json evidence = {{"undo_of", d.event_id}, {"decision", d.action}};
      if (row.value("absent", false)) {
        c.kind = store::TagChange::Kind::kRemove;
        evidence["restored"] = "absent";
      } else {
        c.kind = store::TagChange::Kind::kUpsert;
        c.tag.state = store::tag_state_from_string(row.value("state", "suggested"));
        c.tag.confidence = row.value("confidence", 0.0);
        c.tag.actor = row.value("actor", "");
        c.tag.model_version = row.value("model_version", "");
        c.tag.taxonomy_version = row.value("taxonomy_version", std::int64_t{0});
        c.tag.updated_at = at;
        c.tag.evidence_json = row.value("evidence_json", "{}");
        evidence["restored"] = store::to_string(c.tag.state);
      }
      c.event.asset_id = d.asset_id;
      c.event.attribute = d.attribute;
      c.event.node = c.tag.node;
      c.event.action = store::TagAction::kUndone;
      c.event.actor = actor;
      c.event.confidence = c.tag.confidence;
      c.event.model_version = c.tag.model_version;
      c.event.taxonomy_version = c.tag.taxonomy_version;
      c.event.at = at;
      c.event.evidence_json = evidence.dump();
      changes.push_back(std::move(c));
    }
    db.apply_tag_changes(changes);
    db.mark_review_decision_undone(d.id, at);
    // Back in the reviewer's hands, to decide again.
    const store::ReviewClaim mine{d.asset_id, d.attribute, d.node, reviewer, expiry()};
    db.claim_for_review({&mine, 1}, now());
    db.add_review_log({0, d.asset_id, d.attribute, d.node, "undo", actor, 0.0, at});
    UndoneDecision u;
    u.decision = d;
    for (const auto& e : db.tag_events(d.asset_id, d.attribute)) {
      if (e.action != store::TagAction::kUndone || e.id <= d.event_id) continue;
      const json ev = json::parse(e.evidence_json, nullptr, false);
      if (ev.is_object() && ev.value("undo_of", std::int64_t{0}) == d.event_id)
        u.events.push_back(e.id);
    }
    done.push_back(std::move(u));
  }
  return done;
}

void ReviewQueue::release(const std::string& reviewer, const std::vector<ReviewItem>& items) {
  std::vector<store::ReviewClaim> which;
  for (const auto& i : items)
    which.push_back({i.tag.asset_id, i.tag.attribute, i.tag.node, {}, {}});
  lib_.store().release_review_claims(reviewer, which);
}

BatchResult ReviewQueue::batch(const ReviewFilter& filter, Action action,
                               const std::string& reviewer) {
  if (action != Action::kConfirm && action != Action::kReject) {
    throw InputError("batch review supports confirm and reject");
  }
  BatchResult r;
  for (const auto& item : collect(filter)) {
    ++r.matched;
    try {
      if (act(item, action, reviewer, 0.0)) ++r.changed;
    } catch (const ConflictError&) {
      ++r.held;  // another reviewer has it open: theirs to decide
    }
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
