// The review queue: what waits for a person, and their decisions.
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

json item_json(Context& c, const review::ReviewItem& item) {
  const store::Tag& t = item.tag;
  json alts = json::array();
  for (const auto& a : item.alternatives)
    alts.push_back({{"node", a.node}, {"state", "candidate"}, {"confidence", a.score}});
  std::string label = t.node;
  {
    std::lock_guard lock(c.tag_mu);
    if (const auto* n = c.tags->taxonomy().node(t.attribute, t.node)) label = n->label();
  }
  json j = {{"asset", t.asset_id},
            {"attribute", t.attribute},
            {"node", t.node},
            {"label", label},
            {"state", item.audit ? "audit" : store::to_string(t.state)},
            {"confidence", t.confidence},
            {"actor", t.actor},
            {"model_version", t.model_version},
            {"alternatives", alts},
            {"reason", reason_for(c, item)},
            {"thumbnail", fmt::format("/api/v1/assets/{}/thumbnail", t.asset_id)}};
  tagging::put_stored_json(j, "evidence", t.evidence_json);
  return j;
}

// One decision; returns whether anything changed.
bool decide(Context& c, const json& d, const std::string& action, const std::string& user) {
  const std::int64_t asset = int_field(d, "asset");
  const std::string attribute = field(d, "attribute");
  if (action == "correct") {
    const std::string from = field_or(d, "from", field_or(d, "node", ""));
    if (from.empty()) throw HttpError(400, "field 'from' (the node being corrected) is required");
    const std::string to = field(d, "to");
    return c.with_tags(
        [&](tagging::TagService& s) { return s.correct(asset, attribute, from, to, user); });
  }
  const std::string node = field(d, "node");
  if (action == "confirm")
    return c.with_tags(
        [&](tagging::TagService& s) { return s.confirm(asset, attribute, node, user); });
  if (action == "reject")
    return c.with_tags(
        [&](tagging::TagService& s) { return s.reject(asset, attribute, node, user); });
  throw HttpError(400, fmt::format("unknown action '{}': use confirm, reject or correct", action));
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
        "Next items to review (limit, offset, attribute)", [&c](Call& call) {
          review::ReviewFilter f;
          if (const auto attribute = call.query("attribute"); !attribute.empty())
            f.attributes = {attribute};
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 20, 1, 200));
          const auto offset =
              static_cast<std::size_t>(call.query_int("offset", 0, 0, 1'000'000'000));
          const auto next = c.with_review([&](review::ReviewQueue& q) {
            return q.items(f, review::Order::kLowestConfidence, limit, offset);
          });
          json items = json::array();
          for (const auto& item : next) items.push_back(item_json(c, item));
          const auto counts = review_counts(c);
          send_json(call.res, 200,
                    {{"items", items},
                     {"pending", counts.pending()},
                     {"flagged", counts.flagged},
                     {"suggested", counts.suggested}});
        });

  for (const std::string action : {"confirm", "reject", "correct"}) {
    const std::string body_doc =
        action == "correct" ? "{asset, attribute, from, to}" : "{asset, attribute, node}";
    r.add(
        "POST", "/api/v1/review/" + action, "reviewer", "review",
        fmt::format("{} a proposed tag {}", action, body_doc),
        [&c, action](Call& call) {
          const bool changed = decide(c, call.body(), action, call.actor());
          c.tags_changed = true;
          send_json(call.res, 200, {{"changed", changed}});
        },
        "json");
  }

  r.add(
      "POST", "/api/v1/review/batch", "reviewer", "review",
      "Several decisions {decisions: [{action, asset, attribute, node|from, to}]}; each succeeds "
      "or fails alone",
      [&c](Call& call) {
        const json body = call.body();
        const auto it = body.find("decisions");
        if (it == body.end() || !it->is_array())
          throw HttpError(400, "field 'decisions' (an array) is required");
        if (it->size() > 1000) throw HttpError(413, "at most 1000 decisions per batch");
        json results = json::array();
        int failed = 0;
        for (const auto& d : *it) {
          try {
            if (!d.is_object()) throw HttpError(400, "each decision must be an object");
            const bool changed = decide(c, d, field(d, "action"), call.actor());
            results.push_back({{"ok", true}, {"changed", changed}});
          } catch (const HttpError& e) {
            ++failed;
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
        send_json(call.res, 200, {{"results", results}, {"failed", failed}});
      },
      "json");
}

}  // namespace tagsmith::server::detail
