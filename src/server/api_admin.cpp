// Taxonomy (show, versions, import, diff), model versions (list, promote,
// rollback) and library metrics.
#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "internal.h"
#include "tagsmith/common/clock.h"
#include "tagsmith/taxonomy/diff.h"
#include "tagsmith/training/registry.h"

namespace tagsmith::server::detail {
namespace {

json node_json(const taxonomy::Node& n) {
  json children = json::array();
  for (const auto& ch : n.children) children.push_back(ch);
  return {{"id", n.id},           {"parent", n.parent},
          {"labels", n.labels},   {"synonyms", n.synonyms},
          {"children", children}, {"depth", n.depth}};
}

json taxonomy_json(const tagging::LibraryTaxonomy& t) {
  json attrs = json::array();
  for (const auto& a : t.taxonomy.attributes()) {
    json nodes = json::array();
    for (const auto& n : a.nodes) nodes.push_back(node_json(n));
    attrs.push_back({{"id", a.id},
                     {"labels", a.labels},
                     {"multi", a.multi()},
                     {"source", a.source},
                     {"thresholds",
                      {{"auto", a.thresholds.auto_apply},
                       {"flag", a.thresholds.flag},
                       {"suggest", a.thresholds.suggest}}},
                     {"nodes", nodes}});
  }
  json rules = json::array();
  for (const auto& r : t.taxonomy.rules()) rules.push_back({{"id", r.id}, {"text", r.describe()}});
  return {{"version", t.version},      {"name", t.taxonomy.name()},
          {"source", t.record.source}, {"created_at", t.record.created_at},
          {"sha256", t.record.sha256}, {"languages", t.taxonomy.languages()},
          {"attributes", attrs},       {"rules", rules}};
}

bool is_human_action(const store::TagEvent& e) {
  return e.actor.rfind("user:", 0) == 0;
}

}  // namespace

void register_admin_routes(Router& r, Context& c) {
  // ---- taxonomy -------------------------------------------------------------------
  r.add("GET", "/api/v1/taxonomy", "viewer", "taxonomy", "The current taxonomy (or ?version=N)",
        [&c](Call& call) {
          const auto version = call.query_int("version", 0, 0, INT64_MAX);
          const auto t = version ? tagging::load_taxonomy_version(c.lib, version)
                                 : tagging::current_taxonomy(c.lib);
          send_json(call.res, 200, taxonomy_json(t));
        });

  r.add("GET", "/api/v1/taxonomy/versions", "viewer", "taxonomy", "Every stored taxonomy version",
        [&c](Call& call) {
          json out = json::array();
          for (const auto& v : c.lib.store().taxonomy_versions()) {
            out.push_back({{"version", v.id},
                           {"created_at", v.created_at},
                           {"source", v.source},
                           {"sha256", v.sha256}});
          }
          send_json(call.res, 200, {{"versions", out}});
        });

  r.add(
      "POST", "/api/v1/taxonomy", "admin", "taxonomy",
      "Import a taxonomy {yaml, source?}; 422 with line/column errors when invalid",
      [&c](Call& call) {
        const json body = call.body();
        const std::string yaml = field(body, "yaml");
        // The source is a label for messages and history, never a path we open.
        const std::string source = field_or(body, "source", "upload by " + call.actor());
        const auto imp = tagging::import_taxonomy_text(c.lib, yaml, source);
        if (imp.stored) {
          c.with_tags([](tagging::TagService& s) {
            s.reload_taxonomy();
            return 0;
          });
          c.tags_changed = true;
        }
        send_json(call.res, imp.stored ? 201 : 200,
                  {{"stored", imp.stored},
                   {"version", imp.version},
                   {"previous", imp.previous},
                   {"diff", taxonomy::to_json(imp.diff)},
                   {"diff_text", taxonomy::render_text(imp.diff)}});
      },
      "json");

  r.add("GET", "/api/v1/taxonomy/diff", "viewer", "taxonomy",
        "Differences between two versions (from, to)", [&c](Call& call) {
          const auto latest = tagging::current_taxonomy(c.lib);
          const auto to = call.query_int("to", latest.version, 1, INT64_MAX);
          const auto from = call.query_int("from", std::max<std::int64_t>(1, to - 1), 1, INT64_MAX);
          const auto a = tagging::load_taxonomy_version(c.lib, from);
          const auto b = tagging::load_taxonomy_version(c.lib, to);
          const auto d = taxonomy::diff(a.taxonomy, b.taxonomy);
          send_json(call.res, 200,
                    {{"from", from},
                     {"to", to},
                     {"diff", taxonomy::to_json(d)},
                     {"text", taxonomy::render_text(d)}});
        });

  // ---- models ---------------------------------------------------------------------
  r.add("GET", "/api/v1/models", "viewer", "models", "Model versions with their evaluation results",
        [&c](Call& call) {
          json out = json::array();
          for (const auto& m : c.lib.store().model_versions())
            out.push_back(tagging::to_json(m, view_of(call)));
          send_json(call.res, 200, {{"models", out}});
        });

  // Promotion and rollback: the training registry's life cycle (gate
  // verdicts, "replaces" chain) for head sets when the training module is
  // built; otherwise (and for other kinds) a plain one-active-per-kind swap.
  r.add("POST", "/api/v1/models/{version}/promote", "admin", "models",
        "Make a model version the active one (body {force} optional)", [&c](Call& call) {
          store::Store& db = c.lib.store();
          auto m = db.model_version(call.params.at(0));
          if (!m) throw HttpError(404, fmt::format("no model version '{}'", call.params.at(0)));
          bool force = false;
          if (!call.req.body.empty()) {
            const json body = call.body();
            if (auto it = body.find("force"); it != body.end()) {
              if (!it->is_boolean()) throw HttpError(400, "field 'force' must be true or false");
              force = it->get<bool>();
            }
          }
          std::lock_guard lock(c.tag_mu);  // one lifecycle change at a time
          if (m->kind == store::ModelKind::kHeads) {
            const auto res = training::promote(db, m->version, force);
            // The promotion queued the catalogue's re-tag (docs/jobs.md); the
            // next `tagsmith tag --pending` (or ingest, retag) works it.
            return send_json(call.res, 200,
                             {{"promoted", res.promoted},
                              {"retired", res.retired},
                              {"pending_tagging", db.pending_count(store::WorkStep::kTag)}});
          }
          (void)force;
          std::string retired;
          for (auto other : db.model_versions()) {
            if (other.kind == m->kind && other.status == store::ModelStatus::kActive &&
                other.version != m->version) {
              other.status = store::ModelStatus::kRetired;
              db.update_model_version(other);
              retired = other.version;
            }
          }
          m->status = store::ModelStatus::kActive;
          db.update_model_version(*m);
          send_json(call.res, 200, {{"promoted", m->version}, {"retired", retired}});
        });

  r.add(
      "POST", "/api/v1/models/rollback", "admin", "models",
      "Re-activate the version the active one replaced {kind: heads|encoder}",
      [&c](Call& call) {
        const json body = call.body();
        const std::string kind_name = field_or(body, "kind", "heads");
        const auto no_previous = [&kind_name] {
          return HttpError(409,
                           fmt::format("no retired '{}' model version to roll back to", kind_name));
        };
        store::ModelKind kind;
        try {
          kind = store::model_kind_from_string(kind_name);
        } catch (const InputError&) {
          throw no_previous();  // no version of an unknown kind exists
        }
        store::Store& db = c.lib.store();
        std::lock_guard lock(c.tag_mu);
        if (kind == store::ModelKind::kHeads) {
          const auto res = training::rollback(db);
          return send_json(call.res, 200,
                           {{"retired", res.retired},
                            {"reactivated", res.reactivated},
                            {"pending_tagging", db.pending_count(store::WorkStep::kTag)}});
        }
        auto all = db.model_versions();  // ascending id
        std::optional<store::ModelVersion> active, previous;
        for (const auto& m : all) {
          if (m.kind == kind && m.status == store::ModelStatus::kActive) active = m;
        }
        for (auto it = all.rbegin(); it != all.rend(); ++it) {
          if (it->kind == kind && it->status == store::ModelStatus::kRetired &&
              (!active || it->version != active->version)) {
            previous = *it;
            break;
          }
        }
        if (!previous) throw no_previous();
        if (active) {
          active->status = store::ModelStatus::kRetired;
          db.update_model_version(*active);
        }
        previous->status = store::ModelStatus::kActive;
        db.update_model_version(*previous);
        send_json(call.res, 200,
                  {{"retired", active ? active->version : std::string()},
                   {"reactivated", previous->version}});
      },
      "json");

  // ---- metrics --------------------------------------------------------------------
  r.add("GET", "/api/v1/metrics", "viewer", "metrics",
        "Tags per tier, review throughput, model versions", [&c](Call& call) {
          const auto s = c.lib.store().stats();
          const std::int64_t total = s.tags_auto + s.tags_flagged + s.tags_suggested +
                                     s.tags_confirmed + s.tags_rejected + s.tags_human_set;
          json tiers = {{"auto", s.tags_auto},           {"flagged", s.tags_flagged},
                        {"suggested", s.tags_suggested}, {"confirmed", s.tags_confirmed},
                        {"rejected", s.tags_rejected},   {"human_set", s.tags_human_set}};
          json shares = json::object();
          for (auto& [k, v] : tiers.items())
            shares[k] = total ? v.get<double>() / static_cast<double>(total) : 0.0;
          // Throughput from the newest human decisions in the audit trail.
          const std::string now = now_utc_iso8601();
          auto minus_minutes = [](int minutes) {
            const auto t = std::chrono::system_clock::now() - std::chrono::minutes(minutes);
            const std::time_t tt = std::chrono::system_clock::to_time_t(t);
            std::tm tm{};
            gmtime_r(&tt, &tm);
            char buf[32];
            std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
            return std::string(buf);
          };
          const std::string hour_ago = minus_minutes(60), day_ago = minus_minutes(24 * 60),
                            ten_ago = minus_minutes(10);
          std::int64_t last_hour = 0, last_day = 0, last_10 = 0;
          std::map<std::string, std::int64_t> per_user;
          std::int64_t before = 0;
          bool done = false;
          while (!done) {
            const auto events = c.lib.store().recent_tag_events(before, 2000);
            if (events.empty()) break;
            for (const auto& e : events) {
              before = e.id;
              if (e.at < day_ago) {
                done = true;
                break;
              }
              if (!is_human_action(e)) continue;
              ++last_day;
              if (e.at >= hour_ago) {
                ++last_hour;
                ++per_user[e.actor];
              }
              if (e.at >= ten_ago) ++last_10;
            }
            if (events.size() < 2000) break;
          }
          json models = json::array();
          for (const auto& m : c.lib.store().model_versions())
            models.push_back(tagging::to_json(m, view_of(call)));
          const auto counts = review_counts(c);
          send_json(call.res, 200,
                    {{"assets", s.assets},
                     {"tags", total},
                     {"tiers", tiers},
                     {"tier_shares", shares},
                     {"events", s.tag_events},
                     {"review",
                      {{"pending", counts.pending()},
                       {"decisions_last_hour", last_hour},
                       {"decisions_last_day", last_day},
                       {"per_minute_last_10", static_cast<double>(last_10) / 10.0},
                       {"per_user_last_hour", per_user}}},
                     {"models", models},
                     {"at", now}});
        });
}

}  // namespace tagsmith::server::detail
