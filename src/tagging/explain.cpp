#include "tagsmith/tagging/explain.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "tagsmith/common/error.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/tagging/record_json.h"
#include "tagsmith/tagging/taxonomy_versions.h"

namespace tagsmith::tagging {

using nlohmann::json;
using store::TagAction;
using store::TagState;

namespace {

std::string describe_actor(const std::string& actor) {
  if (actor == "colour") return "colour analysis";
  if (actor.rfind("model:", 0) == 0) return "model " + actor.substr(6);
  if (actor.rfind("rule:", 0) == 0) return "brand rule " + actor.substr(5);
  if (actor.rfind("implied:", 0) == 0) return "implication from " + actor.substr(8);
  return actor;
}

std::string date_of(const std::string& iso) {
  return iso;
}

std::string ordinal_colour(std::size_t rank) {
  static const char* kWords[] = {"the largest colour", "the second colour", "the third colour",
                                 "the fourth colour", "the fifth colour"};
  return rank < std::size(kWords) ? kWords[rank] : fmt::format("colour #{}", rank + 1);
}

json parse_or_empty(const std::string& text) {
  json j = json::parse(text, nullptr, /*allow_exceptions=*/false);
  return j.is_discarded() ? json::object() : j;
}

double num(const json& j, const char* key, double fallback = 0) {
  auto it = j.find(key);
  return it != j.end() && it->is_number() ? it->get<double>() : fallback;
}
std::string str(const json& j, const char* key) {
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

// "from ImageNet 'running shoe' 0.74, 'sandal' 0.05": the classifier classes
// a label map (label_map.h) turned into this score; "" for other evidence.
std::string classifier_labels(const json& detail) {
  if (!detail.is_object() || !detail.contains("labels") || !detail["labels"].is_array() ||
      detail["labels"].empty())
    return {};
  std::vector<std::string> classes;
  for (const auto& c : detail["labels"])
    if (c.is_object())
      classes.push_back(fmt::format("'{}' {:.2f}", str(c, "label"), num(c, "probability")));
  std::string out = fmt::format("from {} {}", str(detail, "classifier"), fmt::join(classes, ", "));
  if (const double more = num(detail, "more_labels"); more > 0)
    out += fmt::format(" and {:.0f} more", more);
  return out;
}

struct Context {
  library::Library& lib;
  const store::AssetRecord& asset;
  const taxonomy::Taxonomy& tax;
  const std::string& attribute;
};

// Plain words for the machine's reasons, from a decision's evidence.
std::string machine_reasons(const Context& ctx, const std::string& node, const json& ev) {
  std::vector<std::string> parts;
  const std::string source = str(ev, "source");
  if (ev.contains("rule") && ev["rule"].is_object()) {
    parts.push_back(
        fmt::format("brand rule {} ({})", str(ev["rule"], "id"), str(ev["rule"], "describe")));
  }
  if (ev.contains("child") && ev["child"].is_string()) {
    parts.push_back(fmt::format("its child {} was tagged (a child implies its parent)",
                                ev["child"].get<std::string>()));
  } else if (ev.contains("implied_by") && ev["implied_by"].is_string()) {
    parts.push_back(fmt::format("implied by {}", ev["implied_by"].get<std::string>()));
  } else if (source == "colour") {
    // The dominant colours stored at ingest say which cluster it was.
    const auto* attr = ctx.tax.attribute(ctx.attribute);
    const bool shades = attr && attr->palette_level == "shades";
    const auto& colours = ctx.asset.colours.colours;
    const json detail = ev.value("detail", json::object());
    if (node == "multi") {
      std::vector<std::string> named;
      for (const auto& c : colours)
        named.push_back(fmt::format("{} {:.0f}%", c.family, 100 * c.share));
      parts.push_back(fmt::format("the product's colour is split: {}", fmt::join(named, ", ")));
    }
    for (std::size_t i = 0; i < colours.size() && node != "multi"; ++i) {
      const auto& c = colours[i];
      const bool runner_up = !shades && c.alt_family == node;
      if ((shades ? c.shade : c.family) != node && !runner_up) continue;
      if (runner_up) {
        parts.push_back(fmt::format(
            "{} ({:.0f}% of the product) is #{:02x}{:02x}{:02x}, named {} but only ΔE {:.1f} "
            "from {}",
            ordinal_colour(i), 100 * c.share, c.rgb[0], c.rgb[1], c.rgb[2], c.family, c.alt_delta_e,
            node));
        break;
      }
      std::string shade_name = c.shade;
      for (const auto& s : ctx.lib.palette().shades())
        if (s.id == c.shade) shade_name = s.name;
      std::string p = fmt::format(
          "{} ({:.0f}% of the product) is #{:02x}{:02x}{:02x}, ΔE {:.1f} from the shade {}",
          ordinal_colour(i), 100 * c.share, c.rgb[0], c.rgb[1], c.rgb[2], c.delta_e, shade_name);
      const double pooled = num(detail, "share", c.share);
      if (pooled > c.share + 0.005)
        p += fmt::format(" ({:.0f}% of the product in all)", 100 * pooled);
      parts.push_back(std::move(p));
      break;
    }
    if (parts.empty() && ev.contains("detail")) {
      const json& d = ev["detail"];
      parts.push_back(fmt::format("{:.0f}% of the product, ΔE {:.1f}", 100 * num(d, "share"),
                                  num(d, "delta_e")));
    }
    // Which pixels were the product, and what turned the evidence into a
    // probability.
    static const std::map<std::string, std::string> kMasks = {
        {"person", "the product found on a person (skin and head removed)"},
        {"background", "the product found by removing a plain backdrop"},
        {"busy", "the product separated from a textured background"},
        {"none", "no product region found: the whole photo was analysed"}};
    if (auto it = kMasks.find(str(detail, "mask")); it != kMasks.end()) parts.push_back(it->second);
    if (const std::string cal = str(detail, "calibration"); !cal.empty())
      parts.push_back("probability from colour calibration " + cal);
  } else if (ev.contains("sources") && ev["sources"].is_object() && !ev["sources"].empty()) {
    if (auto from = classifier_labels(ev.value("detail", json::object())); !from.empty())
      parts.push_back(std::move(from));
    std::vector<std::string> s;
    for (const auto& [k, v] : ev["sources"].items())
      if (v.is_number()) s.push_back(fmt::format("{} {:.2f}", describe_actor(k), v.get<double>()));
    parts.push_back("scores: " + fmt::format("{}", fmt::join(s, ", ")));
  }
  if (ev.contains("alternatives") && ev["alternatives"].is_array()) {
    std::vector<std::string> alts;
    for (const auto& a : ev["alternatives"]) {
      const std::string n = str(a, "node");
      if (n == node || n.empty()) continue;
      alts.push_back(fmt::format("{} {:.2f}", n, num(a, "score")));
    }
    if (!alts.empty()) parts.push_back("alternatives: " + fmt::format("{}", fmt::join(alts, ", ")));
  }
  return fmt::format("{}", fmt::join(parts, "; "));
}

std::string tier_phrase(TagState state, double conf, const json& ev) {
  const json t = ev.value("thresholds", json::object());
  switch (state) {
    case TagState::kAuto:
      return fmt::format("auto-applied at {:.2f}", conf);
    case TagState::kFlagged:
      return fmt::format("applied and flagged for review at {:.2f} (auto needs {:.2f})", conf,
                         num(t, "auto", 0.95));
    case TagState::kSuggested:
      return fmt::format("only suggested, not applied: {:.2f} is below the flag threshold {:.2f}",
                         conf, num(t, "flag", 0.75));
    default:
      return {};
  }
}

// The latest machine event for the node before `before_id` (0: any).
const store::TagEvent* last_machine_event(const std::vector<store::TagEvent>& events,
                                          const std::string& node, std::int64_t before_id = 0) {
  const store::TagEvent* found = nullptr;
  for (const auto& e : events) {
    if (before_id && e.id >= before_id) break;
    if (e.node != node || e.actor.rfind("user:", 0) == 0) continue;
    if (e.action == TagAction::kApplied || e.action == TagAction::kFlagged ||
        e.action == TagAction::kProposed)
      found = &e;
  }
  return found;
}

const store::TagEvent* last_event(const std::vector<store::TagEvent>& events,
                                  const std::string& node) {
  const store::TagEvent* found = nullptr;
  for (const auto& e : events)
    if (e.node == node || e.previous_node == node) found = &e;
  return found;
}

std::string machine_action_word(TagAction a) {
  switch (a) {
    case TagAction::kApplied:
      return "auto-applied";
    case TagAction::kFlagged:
      return "applied and flagged";
    default:
      return "proposed";
  }
}

std::string explain_tag(const Context& ctx, const store::Tag& t,
                        const std::vector<store::TagEvent>& events) {
  const json ev = parse_or_empty(t.evidence_json);
  const std::string head = fmt::format("Asset {} ", ctx.asset.id);
  const std::string what = fmt::format("{} ({})", t.node, t.attribute);
  const std::string tax_note = fmt::format("taxonomy v{}", t.taxonomy_version);
  const store::TagEvent* latest = last_event(events, t.node);
  const std::string when = latest ? latest->at : t.updated_at;

  if (!store::is_human(t.state)) {
    std::string reasons = machine_reasons(ctx, t.node, ev);
    const bool applied = t.state != TagState::kSuggested;
    return fmt::format("{}{} {} — {} by {} on {}{}{}; {}.", head,
                       applied ? "is tagged" : "has the suggestion", what,
                       tier_phrase(t.state, t.confidence, ev), describe_actor(t.actor),
                       date_of(when), reasons.empty() ? "" : ": ", reasons, tax_note);
  }

  // A person's decision; say what the machine had said, when it said anything.
  std::string person;
  if (t.state == TagState::kConfirmed) {
    person = fmt::format("confirmed by {} on {}", t.actor, date_of(when));
  } else if (t.state == TagState::kHumanSet) {
    const std::string from = str(ev, "corrected_from");
    person = from.empty()
                 ? fmt::format("set by {} on {}", t.actor, date_of(when))
                 : fmt::format("corrected from {} by {} on {}", from, t.actor, date_of(when));
  } else {
    const store::TagEvent* corr = nullptr;
    for (const auto& e : events)
      if (e.action == TagAction::kCorrected && e.previous_node == t.node) corr = &e;
    person = corr && corr == latest ? fmt::format("rejected when {} corrected it to {} on {}",
                                                  t.actor, corr->node, date_of(when))
                                    : fmt::format("rejected by {} on {}", t.actor, date_of(when));
  }
  std::string machine;
  if (const auto* m = last_machine_event(events, t.node, latest ? latest->id : 0)) {
    const std::string reasons = machine_reasons(ctx, t.node, parse_or_empty(m->evidence_json));
    machine =
        fmt::format("; the machine had {} it at {:.2f} by {}{}{}", machine_action_word(m->action),
                    m->confidence, describe_actor(m->actor), reasons.empty() ? "" : ": ", reasons);
  }
  const char* verb = t.state == TagState::kRejected ? "is not tagged" : "is tagged";
  return fmt::format("{}{} {} — {}{}; {}.", head, verb, what, person, machine, tax_note);
}

std::string event_line(const store::TagEvent& e) {
  std::string s = fmt::format("{}  {:<9} {}", e.at, store::to_string(e.action), e.node);
  if (!e.previous_node.empty()) s += fmt::format(" (was {})", e.previous_node);
  s += fmt::format("  {:.2f} by {}  taxonomy v{}", e.confidence, e.actor, e.taxonomy_version);
  return s;
}

int state_rank(TagState s) {
  switch (s) {
    case TagState::kConfirmed:
    case TagState::kHumanSet:
      return 0;
    case TagState::kAuto:
      return 1;
    case TagState::kFlagged:
      return 2;
    case TagState::kSuggested:
      return 3;
    case TagState::kRejected:
      return 4;
  }
  return 5;
}

}  // namespace

Explanation explain(library::Library& lib, store::AssetId asset_id, const std::string& attribute,
                    std::size_t history) {
  store::Store& db = lib.store();
  auto asset = db.find_asset(asset_id);
  if (!asset) throw NotFoundError(fmt::format("no asset {} in the library", asset_id));
  const LibraryTaxonomy current = current_taxonomy(lib);
  std::vector<store::Tag> tags;
  for (auto& t : db.tags_of(asset_id))
    if (t.attribute == attribute) tags.push_back(std::move(t));
  const auto events = db.tag_events(asset_id, attribute);
  if (!current.taxonomy.attribute(attribute) && tags.empty() && events.empty()) {
    std::string known;
    for (const auto& a : current.taxonomy.attributes()) known += (known.empty() ? "" : ", ") + a.id;
    throw InputError(fmt::format("unknown attribute '{}' (taxonomy v{} has: {})", attribute,
                                 current.version, known));
  }
  std::stable_sort(tags.begin(), tags.end(), [](const store::Tag& x, const store::Tag& y) {
    if (state_rank(x.state) != state_rank(y.state))
      return state_rank(x.state) < state_rank(y.state);
    return x.confidence > y.confidence;
  });

  const Context ctx{lib, *asset, current.taxonomy, attribute};
  Explanation out;
  json jtags = json::array();
  for (const auto& t : tags) {
    std::string text = explain_tag(ctx, t, events);
    out.text += text + "\n";
    json jt = to_json(t);
    jt["text"] = text;
    jtags.push_back(std::move(jt));
  }
  if (tags.empty()) {
    std::string text = fmt::format("Asset {} has no {} tag.", asset_id, attribute);
    if (!events.empty() && events.back().action == TagAction::kRemoved) {
      const auto& e = events.back();
      const json ev = parse_or_empty(e.evidence_json);
      const std::string reason = str(ev, "reason");
      text += fmt::format(" {} was removed by {} on {}{}.", e.node, describe_actor(e.actor), e.at,
                          reason.empty() ? "" : " (" + reason + ")");
    } else if (events.empty()) {
      text += " No model or person has tagged it yet.";
    }
    out.text += text + "\n";
  }
  json jevents = json::array();
  const std::size_t first = events.size() > history ? events.size() - history : 0;
  if (!events.empty()) out.text += "History:\n";
  for (std::size_t i = first; i < events.size(); ++i) {
    const auto& e = events[i];
    out.text += "  " + event_line(e) + "\n";
  }
  for (const auto& e : events) jevents.push_back(to_json(e));
  out.json = {{"asset", asset_id},
              {"attribute", attribute},
              {"tags", jtags},
              {"events", jevents},
              {"text", out.text}};
  return out;
}

}  // namespace tagsmith::tagging
