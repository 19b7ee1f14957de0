#include "tagsmith/tagging/store_changes.h"

#include <nlohmann/json.hpp>

#include "json_text.h"
#include "tagsmith/tagging/score_provider.h"

namespace tagsmith::tagging {

using nlohmann::json;
using store::AssetId;
using store::TagAction;
using store::TagState;

ExistingTag to_existing(const store::Tag& t) {
  return to_existing(
      store::TagSummary{t.asset_id, t.attribute, t.node, t.state, t.confidence, t.actor});
}

ExistingTag to_existing(store::TagSummary t) {
  ExistingTag e;
  e.attribute = std::move(t.attribute);
  e.node = std::move(t.node);
  e.confidence = t.confidence;
  e.actor = std::move(t.actor);
  switch (t.state) {
    case TagState::kAuto:
      e.tier = Tier::kAuto;
      break;
    case TagState::kFlagged:
      e.tier = Tier::kFlagged;
      break;
    case TagState::kSuggested:
      e.tier = Tier::kSuggested;
      break;
    case TagState::kConfirmed:
    case TagState::kHumanSet:
      e.tier = Tier::kAuto;
      e.human = true;
      break;
    case TagState::kRejected:
      e.rejected = true;
      break;
  }
  return e;
}

TagState to_state(Tier tier) {
  switch (tier) {
    case Tier::kAuto:
      return TagState::kAuto;
    case Tier::kFlagged:
      return TagState::kFlagged;
    case Tier::kSuggested:
      return TagState::kSuggested;
  }
  return TagState::kSuggested;
}

TagAction action_for(Tier tier) {
  switch (tier) {
    case Tier::kAuto:
      return TagAction::kApplied;
    case Tier::kFlagged:
      return TagAction::kFlagged;
    case Tier::kSuggested:
      return TagAction::kProposed;
  }
  return TagAction::kProposed;
}

namespace {

json previous_json(const ExistingTag& t) {
  return {{"previous_tier", std::string(to_string(t.tier))},
          {"previous_confidence", evidence_number(t.confidence)},
          {"previous_actor", t.actor}};
}

// The decision's evidence, serialised, with the fields of the tag it
// replaces (`before`) where there is one. Evidence decided as text gets them
// spliced in before its closing brace: the object is never built.
std::string stored_evidence(Decision& d, const ExistingTag* before) {
  if (d.evidence_text.empty()) {
    if (before) d.evidence.update(previous_json(*before));
    return d.evidence.dump();
  }
  std::string ev = std::move(d.evidence_text);
  if (!before) return ev;
  ev.pop_back();  // the object's closing brace
  ev += ev.size() > 1 ? ",\"previous_actor\":" : "\"previous_actor\":";
  json_text::put_string(ev, before->actor);
  ev += ",\"previous_confidence\":";
  json_text::put_number(ev, evidence_number(before->confidence));
  ev += ",\"previous_tier\":";
  json_text::put_string(ev, to_string(before->tier));
  ev += '}';
  return ev;
}

store::TagChange upsert_from(AssetId asset, const Decision& d, std::int64_t tax_version,
                             const std::string& at, std::string evidence,
                             const std::string& previous_node) {
  store::TagChange c;
  c.kind = store::TagChange::Kind::kUpsert;
  c.tag.asset_id = asset;
  c.tag.attribute = d.attribute;
  c.tag.node = d.node;
  c.tag.state = to_state(d.tier);
  c.tag.confidence = d.confidence;
  c.tag.actor = d.actor;
  c.tag.model_version = model_version_of(d.actor);
  c.tag.taxonomy_version = tax_version;
  c.tag.updated_at = at;
  c.event.asset_id = asset;
  c.event.attribute = d.attribute;
  c.event.node = d.node;
  c.event.action = action_for(d.tier);
  c.event.actor = d.actor;
  c.event.confidence = d.confidence;
  c.event.model_version = c.tag.model_version;
  c.event.taxonomy_version = tax_version;
  c.event.at = at;
  c.event.previous_node = previous_node;
  // The same evidence on the row (what `why` reads first) and in the trail.
  c.event.evidence_json = evidence;
  c.tag.evidence_json = std::move(evidence);
  return c;
}

store::TagChange removal_of(AssetId asset, const ExistingTag& t, const std::string& actor,
                            json evidence, std::int64_t tax_version, const std::string& at) {
  store::TagChange c;
  c.kind = store::TagChange::Kind::kRemove;
  c.tag.asset_id = asset;
  c.tag.attribute = t.attribute;
  c.tag.node = t.node;
  c.event.asset_id = asset;
  c.event.attribute = t.attribute;
  c.event.node = t.node;
  c.event.action = TagAction::kRemoved;
  c.event.actor = actor;
  c.event.confidence = t.confidence;
  c.event.model_version = model_version_of(actor);
  c.event.taxonomy_version = tax_version;
  c.event.at = at;
  c.event.evidence_json = evidence.dump();
  return c;
}

}  // namespace

std::vector<store::TagChange> to_store_changes(AssetId asset, std::vector<TagDelta> changes,
                                               std::int64_t tax_version, const std::string& at) {
  std::vector<store::TagChange> out;
  out.reserve(changes.size() + 2);
  for (auto& ch : changes) {
    switch (ch.kind) {
      case TagDelta::Kind::kAdd:
        out.push_back(upsert_from(asset, *ch.after, tax_version, at,
                                  stored_evidence(*ch.after, nullptr), {}));
        break;
      case TagDelta::Kind::kUpdate:
        out.push_back(upsert_from(asset, *ch.after, tax_version, at,
                                  stored_evidence(*ch.after, &*ch.before), {}));
        break;
      case TagDelta::Kind::kReplace: {
        // Two rows, two events: the old value leaves, the new one arrives
        // naming it. The removal is attributed to the source of the new value.
        json gone = previous_json(*ch.before);
        gone["reason"] = "replaced";
        gone["replaced_by"] = ch.after->node;
        out.push_back(
            removal_of(asset, *ch.before, ch.after->actor, std::move(gone), tax_version, at));
        out.push_back(upsert_from(asset, *ch.after, tax_version, at,
                                  stored_evidence(*ch.after, &*ch.before), ch.before->node));
        break;
      }
      case TagDelta::Kind::kRemove: {
        json gone = previous_json(*ch.before);
        gone["reason"] = "no longer supported";
        gone["taxonomy_version"] = tax_version;
        out.push_back(
            removal_of(asset, *ch.before, ch.before->actor, std::move(gone), tax_version, at));
        break;
      }
    }
  }
  return out;
}

}  // namespace tagsmith::tagging
