// The review queue: what waits for a person, and their decisions. Every call
// goes through review::ReviewQueue, the same rules the CLI reviewer follows:
// fetching claims items for the caller, a decision on a tag someone else
// holds or that changed since its `version` is refused with 409, and a
// reviewer can undo their last decisions.
#include <fmt/format.h>

#include "internal.h"
#include "tagsmith/tagging/explain.h"

namespace tagsmith::server::detail {
namespace {

// The plain-words reason for one proposal: the queue's own, else from the
// explanation of its attribute; empty when there is none (the evidence
// still travels).
std::string reason_for(Context& c, const review::ReviewItem& item) {
  if (!item.reason.empty()) return item.reason;
  try {
    const auto e = tagging::explain(c.lib, item.tag.asset_id, item.tag.attribute, 3);
    for (const auto& t : e.json.value("tags", json::array())) {
      if (t.value("node", "") == item.tag.node) return t.value("text", "");
    }
    return e.text;
  } catch (const std::exception&) {
    return {};
  }
}

std::string label_of(const std::map<std::string, std::string>& labels, const std::string& id) {
  const auto it = labels.find("en");
  return it != labels.end() ? it->second : id;
}

json item_json(Context& c, const review::ReviewItem& item) {
  const store::Tag& t = item.tag;
  json alts = json::array();
  for (const auto& a : item.alternatives) {
    json alt = {{"node", a.node},        {"label", label_of(a.labels, a.node)},
                {"labels", a.labels},    {"state", "candidate"},
                {"confidence", a.score}, {"outranks", a.outranks}};
    if (!a.swatch.empty()) alt["swatch"] = a.swatch;
    alts.push_back(std::move(alt));
  }
  const auto& v = item.value;
  json j = {{"asset", t.asset_id},
            {"attribute", t.attribute},
            {"node", t.node},
            {"label", label_of(item.labels, t.node)},
            {"labels", item.labels},
            {"state", item.audit ? "audit" : store::to_string(t.state)},
            {"confidence", t.confidence},
            {"margin", item.margin},
            {"actor", t.actor},
            {"model_version", t.model_version},
            {"version", item.version},
            {"value",
             {{"total", v.total},
              {"uncertainty", v.uncertainty},
              {"disagreement", v.disagreement},
              {"rarity", v.rarity},
              {"audit", v.audit}}},
            {"low_value", item.low_value},
            {"alternatives", alts},
            {"reason", reason_for(c, item)},
            {"thumbnail", fmt::format("/api/v1/assets/{}/thumbnail", t.asset_id)}};
  if (!item.swatch.empty()) j["swatch"] = item.swatch;
  if (!item.claimed_by.empty()) {
    j["claimed_by"] = item.claimed_by;
    j["claim_expires_at"] = item.claim_expires_at;
  }
  tagging::put_stored_json(j, "evidence", t.evidence_json);
  return j;
}

review::ReviewFilter filter_of(const Call& call) {
  review::ReviewFilter f;
  if (const auto attribute = call.query("attribute"); !attribute.empty())
    f.attributes = {attribute};
  f.include_low_value = call.query_bool("include_low_value");
  return f;
}

// One decision through the queue; returns whether anything changed. A
// conflict (someone else holds the tag, or it changed since `version`)
// becomes 409 with the queue's message.
bool decide(Context& c, const json& d, const std::string& action, const std::string& user) {
  const std::int64_t asset = int_field(d, "asset");
  const std::string attribute = field(d, "attribute");
  std::string node, to;
  review::Action act;
  if (action == "correct" || action == "set") {
    node = field_or(d, "from", field_or(d, "node", ""));
    if (node.empty()) throw HttpError(400, "field 'from' (the node being corrected) is required");
    to = field(d, "to");
    act = review::Action::kCorrect;
  } else if (action == "confirm" || action == "reject" || action == "skip") {
    node = field(d, "node");
    act = review::parse_action(action);
  } else {
    throw HttpError(
        400,
        fmt::format("unknown action '{}': use confirm, reject, correct (or set) or skip", action));
  }
  const auto version_it = d.find("version");
  if (version_it != d.end() && !version_it->is_null() && !version_it->is_number_integer())
    throw HttpError(400, "field 'version' must be an integer (the item's version)");
  const double seconds =
      d.contains("seconds") && d["seconds"].is_number() ? d["seconds"].get<double>() : 0.0;
  try {
    return c.with_review([&](review::ReviewQueue& q) {
      review::ReviewItem item;
      try {
        item = q.item(asset, attribute, node);
      } catch (const NotFoundError&) {
        // A node not tagged yet can be rejected too (no model proposes it
        // again); the TagService says whether the asset and node exist.
        if (act != review::Action::kReject) throw;
        item.tag.asset_id = asset;
        item.tag.attribute = attribute;
        item.tag.node = node;
      }
      // Without a version the caller did not say what it saw: only claims
      // are checked.
      item.version = version_it != d.end() && version_it->is_number_integer()
                         ? version_it->get<std::int64_t>()
                         : -1;
      return q.act(item, act, user, seconds, to);
    });
  } catch (const ConflictError& e) {
    throw HttpError(409, e.what());
  }
}

json undone_json(const review::UndoneDecision& u) {
  return {{"asset", u.decision.asset_id}, {"attribute", u.decision.attribute},
          {"node", u.decision.node},      {"action", u.decision.action},
          {"event", u.decision.event_id}, {"undo_events", u.events}};
}

}  // namespace

ReviewCounts review_counts(Context& c) {
  review::ReviewFilter flagged, suggested;
  flagged.include_suggested = false;
  suggested.include_flagged = false;
  flagged.include_audit = suggested.include_audit = false;
  return c.with_review([&](review::ReviewQueue& q) {
    return ReviewCounts{static_cast<std::int64_t>(q.count(flagged)),
                        static_cast<std::int64_t>(q.count(suggested))};
  });
}

void register_review_routes(Router& r, Context& c) {
  r.add("GET", "/api/v1/review/next", "reviewer", "review",
        "Next items to review, claimed for the caller (limit, offset, attribute, "
        "order=value|confidence|margin|attribute, include_low_value, claim=0 to only look)",
        [&c](Call& call) {
          const review::ReviewFilter f = filter_of(call);
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 20, 1, 200));
          const auto offset =
              static_cast<std::size_t>(call.query_int("offset", 0, 0, 1'000'000'000));
          const review::Order order = review::parse_order(call.query("order", "value"));
          const bool claim = call.query("claim", "1") != "0";
          const std::string reviewer = claim ? call.actor() : std::string();
          const auto next = c.with_review(
              [&](review::ReviewQueue& q) { return q.items(f, order, limit, offset, reviewer); });
          json items = json::array();
          for (const auto& item : next) items.push_back(item_json(c, item));
          const auto counts = review_counts(c);
          const auto ttl = c.with_review([](review::ReviewQueue& q) { return q.claim_ttl(); });
          send_json(call.res, 200,
                    {{"items", items},
                     {"order", review::to_string(order)},
                     {"claim_seconds", claim ? ttl.count() : 0},
                     {"pending", counts.pending()},
                     {"flagged", counts.flagged},
                     {"suggested", counts.suggested}});
        });

  for (const std::string action : {"confirm", "reject", "correct"}) {
    const std::string body_doc = action == "correct" ? "{asset, attribute, from, to, version?}"
                                                     : "{asset, attribute, node, version?}";
    r.add(
        "POST", "/api/v1/review/" + action, "reviewer", "review",
        fmt::format("{} a proposed tag {}; 409 when another reviewer holds it or it changed since "
                    "version",
                    action, body_doc),
        [&c, action](Call& call) {
          const bool changed = decide(c, call.body(), action, call.actor());
          c.tags_changed = true;
          send_json(call.res, 200, {{"changed", changed}});
        },
        "json");
  }

  r.add(
      "POST", "/api/v1/review/batch", "reviewer", "review",
      "Several decisions {decisions: [{action, asset, attribute, node|from, to, version?}]} or "
      "one action on selected items {action, to?, items: [{asset, attribute, node, version?}]}; "
      "each succeeds or fails alone (status 409 when taken or changed)",
      [&c](Call& call) {
        const json body = call.body();
        json decisions = json::array();
        if (const auto it = body.find("decisions"); it != body.end() && it->is_array()) {
          decisions = *it;
        } else if (const auto items = body.find("items");
                   items != body.end() && items->is_array()) {
          const std::string action = field(body, "action");
          for (const auto& i : *items) {
            if (!i.is_object()) throw HttpError(400, "each item must be an object");
            json d = i;
            d["action"] = action;
            if (body.contains("to")) d["to"] = body["to"];
            decisions.push_back(std::move(d));
          }
        } else {
          throw HttpError(400, "field 'decisions' or 'items' (an array) is required");
        }
        if (decisions.size() > 1000) throw HttpError(413, "at most 1000 decisions per batch");
        json results = json::array();
        int failed = 0, conflicts = 0;
        for (const auto& d : decisions) {
          try {
            if (!d.is_object()) throw HttpError(400, "each decision must be an object");
            const bool changed = decide(c, d, field(d, "action"), call.actor());
            results.push_back({{"ok", true}, {"changed", changed}});
          } catch (const HttpError& e) {
            ++failed;
            if (e.status() == 409) ++conflicts;
            results.push_back({{"ok", false}, {"status", e.status()}, {"error", e.what()}});
          } catch (const NotFoundError& e) {
            ++failed;
            results.push_back({{"ok", false}, {"status", 404}, {"error", e.what()}});
          } catch (const InputError& e) {
            ++failed;
            results.push_back({{"ok", false}, {"status", 400}, {"error", e.what()}});
          }
        }
        c.tags_changed = true;
        send_json(call.res, 200,
                  {{"results", results}, {"failed", failed}, {"conflicts", conflicts}});
      },
      "json");

  r.add(
      "POST", "/api/v1/review/undo", "reviewer", "review",
      "Undo the caller's last decisions {count?: 1}: each tag gets back its previous state with "
      "an `undone` audit event; 409 when a tag changed since, 404 when there is nothing to undo",
      [&c](Call& call) {
        const json body = call.body();
        const auto n = body.value("count", 1);
        if (n < 1 || n > 100) throw HttpError(400, "field 'count' must be between 1 and 100");
        std::vector<review::UndoneDecision> undone;
        try {
          undone = c.with_review([&](review::ReviewQueue& q) {
            return q.undo(call.actor(), static_cast<std::size_t>(n));
          });
        } catch (const ConflictError& e) {
          throw HttpError(409, e.what());
        }
        if (undone.empty()) throw HttpError(404, "nothing to undo: you have no decisions left");
        c.tags_changed = true;
        json out = json::array();
        for (const auto& u : undone) {
          json j = undone_json(u);
          // The tag as it is again, with its new version, to decide anew.
          try {
            const auto item = c.with_review([&](review::ReviewQueue& q) {
              return q.item(u.decision.asset_id, u.decision.attribute, u.decision.node);
            });
            j["item"] = item_json(c, item);
          } catch (const NotFoundError&) {
          }
          out.push_back(std::move(j));
        }
        send_json(call.res, 200, {{"undone", out}});
      },
      "json");

  r.add(
      "POST", "/api/v1/review/release", "reviewer", "review",
      "Give back the caller's claims {items?: [{asset, attribute, node}]} (all when absent), "
      "e.g. on skip or leaving the page",
      [&c](Call& call) {
        const json body = call.body();
        std::vector<review::ReviewItem> which;
        if (const auto it = body.find("items"); it != body.end() && it->is_array()) {
          for (const auto& i : *it) {
            if (!i.is_object()) throw HttpError(400, "each item must be an object");
            review::ReviewItem item;
            item.tag.asset_id = int_field(i, "asset");
            item.tag.attribute = field(i, "attribute");
            item.tag.node = field(i, "node");
            which.push_back(std::move(item));
          }
        }
        c.with_review([&](review::ReviewQueue& q) {
          q.release(call.actor(), which);
          return 0;
        });
        send_json(call.res, 200, {{"released", which.empty() ? json("all") : json(which.size())}});
      },
      "json");
}

}  // namespace tagsmith::server::detail
