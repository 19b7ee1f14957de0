// TagStore over PostgreSQL: tags, the append-only audit trail (a trigger in
// the schema refuses UPDATE, DELETE and TRUNCATE), the review log and audit
// samples.
#include <fmt/format.h>

#include <algorithm>

#include "pg_roles.h"
#include "tag_rows.h"

namespace tagsmith::store {
namespace {

// Read: a row's evidence is its event's (evidence_event, migration 4) or,
// where that is 0, its own evidence_json.
constexpr const char* kTagColumns =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, CASE WHEN tags.evidence_event > 0 THEN (SELECT e.evidence_json FROM tag_events "
    "e WHERE e.id = tags.evidence_event) ELSE tags.evidence_json END";
constexpr const char* kTagColumnsWithoutEvidence =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, '{}'";
// Written: every column.
constexpr const char* kTagWriteColumns =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, evidence_json, evidence_event";
Tag read_tag(const pqxx::row& row) {
  PgRow r(row);
  Tag t;
  read_tag_summary_columns(r, t);
  t.model_version = r.text();
  t.taxonomy_version = r.int64();
  t.updated_at = r.text();
  t.evidence_json = r.text();
  r.end();
  return t;
}

constexpr const char* kEventColumns =
    "id, asset_id, attribute, node, action, actor, confidence, model_version, taxonomy_version, "
    "at, evidence_json, previous_node";
TagEvent read_event(const pqxx::row& row) {
  PgRow r(row);
  TagEvent e;
  e.id = r.int64();
  e.asset_id = r.int64();
  e.attribute = r.text();
  e.node = r.text();
  e.action = tag_action_from_string(r.text());
  e.actor = r.text();
  e.confidence = r.real();
  e.model_version = r.text();
  e.taxonomy_version = r.int64();
  e.at = r.text();
  e.evidence_json = r.text();
  e.previous_node = r.text();
  r.end();
  return e;
}

constexpr const char* kReviewLogColumns =
    "id, asset_id, attribute, node, action, reviewer, seconds, at";
ReviewLogEntry read_review_log(const pqxx::row& row) {
  PgRow r(row);
  ReviewLogEntry e;
  e.id = r.int64();
  e.asset_id = r.int64();
  e.attribute = r.text();
  e.node = r.text();
  e.action = r.text();
  e.reviewer = r.text();
  e.seconds = r.real();
  e.at = r.text();
  r.end();
  return e;
}

constexpr const char* kAuditColumns =
    "id, batch, asset_id, attribute, node, tier, confidence, created_at, outcome, reviewer, "
    "reviewed_at";
AuditSample read_audit_sample(const pqxx::row& row) {
  PgRow r(row);
  AuditSample s;
  s.id = r.int64();
  s.batch = r.int64();
  s.asset_id = r.int64();
  s.attribute = r.text();
  s.node = r.text();
  s.tier = r.text();
  s.confidence = r.real();
  s.created_at = r.text();
  s.outcome = r.text();
  s.reviewer = r.text();
  s.reviewed_at = r.text();
  r.end();
  return s;
}

std::vector<Tag> read_tags(const pqxx::result& result) {
  std::vector<Tag> out;
  out.reserve(result.size());
  for (const auto& row : result) out.push_back(read_tag(row));
  return out;
}

}  // namespace

std::vector<Tag> PgTagStore::tags_of(AssetId id) {
  return c_.transact([&](pqxx::work& w) {
    return read_tags(w.exec_params(fmt::format("SELECT {} FROM tags WHERE asset_id = $1 "
                                               "ORDER BY attribute, confidence DESC, node",
                                               kTagColumns),
                                   id));
  });
}

std::vector<Tag> PgTagStore::tags_of_assets(std::span<const AssetId> ids, bool with_evidence) {
  if (ids.empty()) return {};
  // One query for the whole batch (a re-tag reads thousands of assets at a
  // time; one query per asset was a round trip each), each asset's tags in
  // tags_of() order.
  return c_.transact([&](pqxx::work& w) {
    return read_tags(
        w.exec_params(fmt::format("SELECT {} FROM tags WHERE asset_id = ANY($1::bigint[]) "
                                  "ORDER BY asset_id, attribute, confidence DESC, node",
                                  with_evidence ? kTagColumns : kTagColumnsWithoutEvidence),
                      pg_int_array(ids)));
  });
}

void PgTagStore::visit_tag_summaries(std::span<const AssetId> ids,
                                     const std::function<void(TagSummary&)>& fn) {
  if (ids.empty()) return;
  // Read in full before `fn` runs: a transaction is not held while the
  // caller works.
  const pqxx::result rows = c_.transact([&](pqxx::work& w) {
    return w.exec_params(fmt::format("SELECT {} FROM tags WHERE asset_id = ANY($1::bigint[]) "
                                     "ORDER BY asset_id",
                                     kTagSummaryColumns),
                         pg_int_array(ids));
  });
  TagSummary t;
  for (const auto& row : rows) {
    PgRow r(row);
    read_tag_summary_columns(r, t);
    r.end();
    fn(t);
  }
}

void PgTagStore::apply_tag_changes(std::span<const TagChange> changes,
                                   std::span<const AssetId> decided) {
  if (changes.empty() && decided.empty()) return;
  c_.transact([&](pqxx::work& w) {
    const std::string upsert = fmt::format(
        "INSERT INTO tags ({}) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11) "
        "ON CONFLICT (asset_id, attribute, node) DO UPDATE SET "
        "state = excluded.state, confidence = excluded.confidence, actor = excluded.actor, "
        "model_version = excluded.model_version, taxonomy_version = excluded.taxonomy_version, "
        "updated_at = excluded.updated_at, evidence_json = excluded.evidence_json, "
        "evidence_event = excluded.evidence_event",
        kTagWriteColumns);
    // Event ids are taken from the sequence up front, one per change (the
    // unused ones of skipped changes are gaps), so that a row can name its
    // event before the event is written. One round trip for the batch.
    std::vector<std::int64_t> ids;
    ids.reserve(changes.size());
    if (!changes.empty())
      for (const auto& row :
           w.exec_params("SELECT nextval(pg_get_serial_sequence('tag_events', 'id')) "
                         "FROM generate_series(1, $1)",
                         static_cast<std::int64_t>(changes.size())))
        ids.push_back(row[0].as<std::int64_t>());
    // A tagging run (`decided` not empty) whose decision is already in
    // effect -- another worker that had claimed the same assets applied it
    // first -- changes nothing and writes no event: the audit records each
    // change once however often the work is done.
    const bool idempotent = !decided.empty();
    const std::string upsert_if_changed =
        upsert +
        " WHERE (tags.state, tags.confidence, tags.actor, tags.model_version, "
        "tags.taxonomy_version) IS DISTINCT FROM (excluded.state, excluded.confidence, "
        "excluded.actor, excluded.model_version, excluded.taxonomy_version) RETURNING 1";
    bool recorded = false;
    for (std::size_t i = 0; i < changes.size(); ++i) {
      const TagChange& c = changes[i];
      // The row's evidence is stored on the event when it is the event's.
      auto write_tag = [&](const Tag& t, bool only_if_changed) {
        const bool on_event = t.evidence_json == c.event.evidence_json;
        return !w.exec_params(only_if_changed ? upsert_if_changed : upsert + " RETURNING 1",
                              t.asset_id, t.attribute, t.node, to_string(t.state), t.confidence,
                              t.actor, t.model_version, t.taxonomy_version, t.updated_at,
                              on_event ? std::string() : t.evidence_json,
                              on_event ? ids[i] : std::int64_t{0})
                    .empty();
      };
      const Tag& t = c.tag;
      for (const Tag& extra : c.covered) write_tag(extra, false);
      bool changed = true;
      if (c.kind == TagChange::Kind::kUpsert) {
        changed = write_tag(t, idempotent);
      } else {
        changed = !w.exec_params(
                        "DELETE FROM tags WHERE asset_id = $1 AND attribute = $2 AND node = $3 "
                        "RETURNING 1",
                        t.asset_id, t.attribute, t.node)
                       .empty() ||
                  !idempotent;
      }
      if (!changed) continue;
      recorded = true;
      const TagEvent& e = c.event;
      w.exec_params(
          "INSERT INTO tag_events (id, asset_id, attribute, node, action, actor, confidence, "
          "model_version, taxonomy_version, at, evidence_json, previous_node) "
          "VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)",
          ids[i], e.asset_id, e.attribute, e.node, to_string(e.action), e.actor, e.confidence,
          e.model_version, e.taxonomy_version, e.at, e.evidence_json, e.previous_node);
    }
    pg_settle_work(w, decided, WorkStep::kTag);
    if (recorded) pg_bump_counter(w, "tag_events");
  });
}

std::vector<TagEvent> PgTagStore::tag_events(AssetId id, const std::string& attribute) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<TagEvent> out;
    for (const auto& row :
         w.exec_params(fmt::format("SELECT {} FROM tag_events WHERE asset_id = $1 AND ($2 = '' "
                                   "OR attribute = $2) ORDER BY id",
                                   kEventColumns),
                       id, attribute))
      out.push_back(read_event(row));
    return out;
  });
}

std::vector<TagEvent> PgTagStore::recent_tag_events(std::int64_t before_id, std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<TagEvent> out;
    for (const auto& row :
         w.exec_params(fmt::format("SELECT {} FROM tag_events WHERE ($1 = 0 OR id < $1) "
                                   "ORDER BY id DESC LIMIT $2",
                                   kEventColumns),
                       before_id, static_cast<std::int64_t>(limit)))
      out.push_back(read_event(row));
    return out;
  });
}

void PgTagStore::for_each_tag(const std::function<void(const Tag&)>& fn) {
  // Keyset pages in (asset, attribute, node) order; `fn` runs outside any
  // transaction.
  std::vector<Tag> page;
  constexpr int kPage = 20000;
  for (;;) {
    page = c_.transact([&](pqxx::work& w) {
      if (page.empty()) {
        return read_tags(w.exec_params(
            fmt::format("SELECT {} FROM tags ORDER BY asset_id, attribute, node LIMIT $1",
                        kTagColumns),
            kPage));
      }
      const Tag& last = page.back();
      return read_tags(w.exec_params(
          fmt::format("SELECT {} FROM tags WHERE (asset_id, attribute, node) > ($1, $2, $3) "
                      "ORDER BY asset_id, attribute, node LIMIT $4",
                      kTagColumns),
          last.asset_id, last.attribute, last.node, kPage));
    });
    if (page.empty()) return;
    for (const Tag& t : page) fn(t);
  }
}

std::vector<Tag> PgTagStore::tags_in_states(const std::vector<TagState>& states) {
  if (states.empty()) return {};
  std::string in;  // "{auto,flagged}": the states' fixed names, never user text
  for (auto st : states) in += (in.empty() ? "{" : ",") + to_string(st);
  in += "}";
  return c_.transact([&](pqxx::work& w) {
    return read_tags(w.exec_params(fmt::format("SELECT {} FROM tags WHERE state = ANY($1::text[]) "
                                               "ORDER BY asset_id, attribute, node",
                                               kTagColumns),
                                   in));
  });
}

void PgTagStore::add_review_log(const ReviewLogEntry& e) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "INSERT INTO review_log (asset_id, attribute, node, action, reviewer, seconds, at) "
        "VALUES ($1,$2,$3,$4,$5,$6,$7)",
        e.asset_id, e.attribute, e.node, e.action, e.reviewer, e.seconds, e.at);
  });
}

std::vector<ReviewLogEntry> PgTagStore::review_log(const std::string& since) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<ReviewLogEntry> out;
    for (const auto& row : w.exec_params(
             fmt::format("SELECT {} FROM review_log WHERE at >= $1 ORDER BY id", kReviewLogColumns),
             since))
      out.push_back(read_review_log(row));
    return out;
  });
}

std::int64_t PgTagStore::add_audit_samples(const std::vector<AuditSample>& samples) {
  return c_.transact([&](pqxx::work& w) {
    // Two servers drawing samples at once must not share a batch number.
    w.exec("LOCK TABLE audit_samples IN SHARE ROW EXCLUSIVE MODE");
    const std::int64_t batch =
        w.exec1("SELECT coalesce(max(batch), 0) + 1 FROM audit_samples")[0].as<std::int64_t>();
    for (const auto& s : samples) {
      w.exec_params(
          "INSERT INTO audit_samples (batch, asset_id, attribute, node, tier, confidence, "
          "created_at) VALUES ($1,$2,$3,$4,$5,$6,$7)",
          batch, s.asset_id, s.attribute, s.node, s.tier, s.confidence, s.created_at);
    }
    return batch;
  });
}

std::vector<AuditSample> PgTagStore::audit_samples(bool pending_only) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<AuditSample> out;
    for (const auto& row :
         w.exec(fmt::format("SELECT {} FROM audit_samples{} ORDER BY id", kAuditColumns,
                            pending_only ? " WHERE outcome = ''" : "")))
      out.push_back(read_audit_sample(row));
    return out;
  });
}

void PgTagStore::resolve_audit_samples(AssetId asset, const std::string& attribute,
                                       const std::string& node, const std::string& outcome,
                                       const std::string& reviewer, const std::string& at) {
  c_.transact([&](pqxx::work& w) {
    w.exec_params(
        "UPDATE audit_samples SET outcome = $1, reviewer = $2, reviewed_at = $3 "
        "WHERE asset_id = $4 AND attribute = $5 AND node = $6 AND outcome = ''",
        outcome, reviewer, at, asset, attribute, node);
  });
}

// --- review claims and decisions -------------------------------------------------------------

std::vector<ReviewClaim> PgTagStore::claim_for_review(std::span<const ReviewClaim> wanted,
                                                      const std::string& now) {
  return c_.transact([&](pqxx::work& w) {
    // ON CONFLICT … DO UPDATE locks the row and re-checks the WHERE, so of
    // two reviewers racing for a tag exactly one gets a row back.
    std::vector<ReviewClaim> granted;
    for (const auto& c : wanted) {
      const auto r = w.exec_params(
          "INSERT INTO review_claims (asset_id, attribute, node, reviewer, expires_at) "
          "VALUES ($1,$2,$3,$4,$5) ON CONFLICT (asset_id, attribute, node) DO UPDATE SET "
          "reviewer = EXCLUDED.reviewer, expires_at = EXCLUDED.expires_at "
          "WHERE review_claims.reviewer = EXCLUDED.reviewer OR review_claims.expires_at <= $6 "
          "RETURNING 1",
          c.asset_id, c.attribute, c.node, c.reviewer, c.expires_at, now);
      if (!r.empty()) granted.push_back(c);
    }
    return granted;
  });
}

std::vector<ReviewClaim> PgTagStore::review_claims(const std::string& now) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<ReviewClaim> out;
    for (const auto& row :
         w.exec_params("SELECT asset_id, attribute, node, reviewer, expires_at FROM "
                       "review_claims WHERE expires_at > $1 ORDER BY asset_id, attribute, node",
                       now)) {
      PgRow r(row);
      ReviewClaim c;
      c.asset_id = r.int64();
      c.attribute = r.text();
      c.node = r.text();
      c.reviewer = r.text();
      c.expires_at = r.text();
      r.end();
      out.push_back(std::move(c));
    }
    return out;
  });
}

void PgTagStore::release_review_claims(const std::string& reviewer,
                                       std::span<const ReviewClaim> which) {
  c_.transact([&](pqxx::work& w) {
    if (which.empty()) {
      w.exec_params("DELETE FROM review_claims WHERE reviewer = $1", reviewer);
      return;
    }
    for (const auto& c : which)
      w.exec_params(
          "DELETE FROM review_claims WHERE reviewer = $1 AND asset_id = $2 AND attribute = $3 "
          "AND node = $4",
          reviewer, c.asset_id, c.attribute, c.node);
  });
}

std::int64_t PgTagStore::add_review_decision(const ReviewDecision& d) {
  return c_.transact([&](pqxx::work& w) {
    return w
        .exec_params1(
            "INSERT INTO review_decisions (reviewer, asset_id, attribute, node, action, "
            "event_id, before_json, at, undone_at) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9) "
            "RETURNING id",
            d.reviewer, d.asset_id, d.attribute, d.node, d.action, d.event_id, d.before_json, d.at,
            d.undone_at)[0]
        .as<std::int64_t>();
  });
}

std::vector<ReviewDecision> PgTagStore::review_decisions(const std::string& reviewer,
                                                         std::size_t limit) {
  return c_.transact([&](pqxx::work& w) {
    std::vector<ReviewDecision> out;
    for (const auto& row : w.exec_params(
             "SELECT id, reviewer, asset_id, attribute, node, action, event_id, before_json, at, "
             "undone_at FROM review_decisions WHERE reviewer = $1 AND undone_at = '' "
             "ORDER BY id DESC LIMIT $2",
             reviewer, static_cast<std::int64_t>(limit))) {
      PgRow r(row);
      ReviewDecision d;
      d.id = r.int64();
      d.reviewer = r.text();
      d.asset_id = r.int64();
      d.attribute = r.text();
      d.node = r.text();
      d.action = r.text();
      d.event_id = r.int64();
      d.before_json = r.text();
      d.at = r.text();
      d.undone_at = r.text();
      r.end();
      out.push_back(std::move(d));
    }
    return out;
  });
}

bool PgTagStore::mark_review_decision_undone(std::int64_t id, const std::string& at) {
  return c_.transact([&](pqxx::work& w) {
    return w.exec_params(
                "UPDATE review_decisions SET undone_at = $1 WHERE id = $2 AND "
                "undone_at = ''",
                at, id)
               .affected_rows() > 0;
  });
}

}  // namespace tagsmith::store
