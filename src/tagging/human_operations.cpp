// A person's tag operations (confirm, reject, set, correct, remove). Each is
// a small rule over one shared path, TagService::edit_by_person(): resolve
// the node, name the actor, load the asset's row for the node, let the
// operation decide the new row, and write it with its one event.
#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::tagging {

using nlohmann::json;
using store::AssetId;
using store::TagAction;
using store::TagState;

namespace {

std::optional<store::Tag> find_tag(store::Store& db, AssetId asset, const std::string& attribute,
                                   const std::string& node) {
  for (auto& t : db.tags_of(asset))
    if (t.attribute == attribute && t.node == node) return std::move(t);
  return std::nullopt;
}

std::string user_actor(const std::string& user) {
  if (user.empty()) throw InputError("a person's tag change needs a user name");
  // "import:<file>": a catalogue's labels imported on a person's behalf
  // (tagsmith tags import) -- human facts, attributed to the file.
  if (user.rfind("user:", 0) == 0 || user.rfind("import:", 0) == 0) return user;
  return "user:" + user;
}

json previous_json(const store::Tag& t) {
  return {{"previous_state", store::to_string(t.state)},
          {"previous_confidence", t.confidence},
          {"previous_actor", t.actor}};
}

}  // namespace

std::string TagService::resolve_node(const std::string& attribute, const std::string& node) const {
  const auto* attr = current_.taxonomy.attribute(attribute);
  if (!attr) {
    std::string known;
    for (const auto& a : current_.taxonomy.attributes())
      known += (known.empty() ? "" : ", ") + a.id;
    throw InputError(fmt::format("unknown attribute '{}' (taxonomy v{} has: {})", attribute,
                                 current_.version, known));
  }
  auto ref = current_.taxonomy.resolve(node, attribute);
  if (!ref || ref->attribute != attribute) {
    // resolve() knows ids; labels and synonyms go through the label index.
    for (const auto& r : current_.taxonomy.lookup_label(node))
      if (r.attribute == attribute) return r.node;
    throw InputError(
        fmt::format("'{}' is not a node of {} in taxonomy v{}", node, attribute, current_.version));
  }
  return ref->node;
}

// What a human operation starts from, and how it turns its new row into a
// store change with its event.
struct TagService::HumanEdit {
  AssetId asset = 0;
  std::string attribute;
  std::string node;   // resolved node id
  std::string actor;  // "user:<name>"
  std::int64_t taxonomy_version = 0;
  std::string at;
  std::optional<store::Tag> row;  // the asset's current tag on (attribute, node)

  // A fresh row for (asset, attribute, node) in `state`.
  store::Tag new_row(TagState state, double confidence) const {
    store::Tag t;
    t.asset_id = asset;
    t.attribute = attribute;
    t.node = node;
    t.state = state;
    t.confidence = confidence;
    return t;
  }

  // `t` stamped with this person, the taxonomy version and the time, plus its
  // one event: evidence = what the row was before (empty when there was none).
  store::TagChange change(store::TagChange::Kind kind, store::Tag t, TagAction action,
                          double event_confidence) const {
    t.actor = actor;
    t.taxonomy_version = taxonomy_version;
    t.updated_at = at;
    store::TagEvent e;
    e.asset_id = t.asset_id;
    e.attribute = t.attribute;
    e.node = t.node;
    e.action = action;
    e.actor = actor;
    e.confidence = event_confidence;
    e.model_version = t.model_version;
    e.taxonomy_version = t.taxonomy_version;
    e.at = t.updated_at;
    e.evidence_json = (row ? previous_json(*row) : json::object()).dump();
    return {kind, std::move(t), std::move(e), {}};
  }
};

bool TagService::edit_by_person(
    AssetId asset, const std::string& attribute, const std::string& node_ref,
    const std::string& user,
    const std::function<std::optional<store::TagChange>(const HumanEdit&)>& decide) {
  HumanEdit edit;
  edit.asset = asset;
  edit.attribute = attribute;
  edit.node = resolve_node(attribute, node_ref);
  edit.actor = user_actor(user);
  edit.taxonomy_version = current_.version;
  store::Store& db = lib_.store();
  if (!db.find_asset(asset)) throw NotFoundError(fmt::format("no asset {} in the library", asset));
  edit.row = find_tag(db, asset, attribute, edit.node);
  edit.at = now_utc_iso8601();
  auto change = decide(edit);
  if (!change) return false;
  db.apply_tag_changes({&*change, 1});
  return true;
}

bool TagService::confirm(AssetId asset, const std::string& attribute, const std::string& node,
                         const std::string& user) {
  return edit_by_person(
      asset, attribute, node, user, [](const HumanEdit& e) -> std::optional<store::TagChange> {
        if (!e.row)
          throw NotFoundError(
              fmt::format("asset {} has no {} tag '{}' to confirm (use set to add one)", e.asset,
                          e.attribute, e.node));
        if (e.row->state == TagState::kConfirmed || e.row->state == TagState::kHumanSet)
          return std::nullopt;
        // The row keeps the machine's evidence and model version: what was
        // confirmed. The event keeps the machine's confidence.
        store::Tag t = *e.row;
        t.state = TagState::kConfirmed;
        t.confidence = 1.0;
        return e.change(store::TagChange::Kind::kUpsert, std::move(t), TagAction::kConfirmed,
                        e.row->confidence);
      });
}

bool TagService::reject(AssetId asset, const std::string& attribute, const std::string& node,
                        const std::string& user) {
  return edit_by_person(asset, attribute, node, user,
                        [](const HumanEdit& e) -> std::optional<store::TagChange> {
                          if (e.row && e.row->state == TagState::kRejected) return std::nullopt;
                          // A node not tagged yet is rejected too, so no model proposes it.
                          store::Tag t = e.row ? *e.row : e.new_row(TagState::kRejected, 0);
                          t.state = TagState::kRejected;
                          const double confidence = t.confidence;
                          return e.change(store::TagChange::Kind::kUpsert, std::move(t),
                                          TagAction::kRejected, confidence);
                        });
}

bool TagService::set(AssetId asset, const std::string& attribute, const std::string& node,
                     const std::string& user) {
  return edit_by_person(
      asset, attribute, node, user, [](const HumanEdit& e) -> std::optional<store::TagChange> {
        if (e.row && e.row->state == TagState::kHumanSet) return std::nullopt;
        store::Tag t = e.new_row(TagState::kHumanSet, 1.0);
        t.evidence_json = json{{"set_by", e.actor}}.dump();
        return e.change(store::TagChange::Kind::kUpsert, std::move(t), TagAction::kApplied, 1.0);
      });
}

bool TagService::correct(AssetId asset, const std::string& attribute, const std::string& from_ref,
                         const std::string& to_ref, const std::string& user) {
  const std::string from = resolve_node(attribute, from_ref);
  const std::string to = resolve_node(attribute, to_ref);
  if (from == to) {
    user_actor(user);  // the same checks, in the same order, as every other operation
    throw InputError(fmt::format("correct: '{}' and '{}' are the same node", from_ref, to_ref));
  }
  // The shared path works on the `from` row; the event is written on `to`.
  return edit_by_person(
      asset, attribute, from_ref, user,
      [&to](const HumanEdit& e) -> std::optional<store::TagChange> {
        if (!e.row)
          throw NotFoundError(
              fmt::format("asset {} has no {} tag '{}' to correct", e.asset, e.attribute, e.node));
        store::Tag rejected = *e.row;
        rejected.state = TagState::kRejected;
        rejected.actor = e.actor;
        rejected.taxonomy_version = e.taxonomy_version;
        rejected.updated_at = e.at;
        store::Tag t = e.new_row(TagState::kHumanSet, 1.0);
        t.node = to;
        t.evidence_json = json{{"set_by", e.actor}, {"corrected_from", e.node}}.dump();
        auto c =
            e.change(store::TagChange::Kind::kUpsert, std::move(t), TagAction::kCorrected, 1.0);
        c.event.previous_node = e.node;
        c.covered.push_back(std::move(rejected));
        return c;
      });
}

bool TagService::remove(AssetId asset, const std::string& attribute, const std::string& node,
                        const std::string& user) {
  return edit_by_person(asset, attribute, node, user,
                        [](const HumanEdit& e) -> std::optional<store::TagChange> {
                          if (!e.row) return std::nullopt;
                          return e.change(store::TagChange::Kind::kRemove, *e.row,
                                          TagAction::kRemoved, e.row->confidence);
                        });
}

}  // namespace tagsmith::tagging
