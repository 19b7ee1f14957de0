// TagStore over SQLite: tags, the append-only audit trail (triggers in the
// schema refuse updates and deletes), the review log and audit samples.
#include <fmt/format.h>

#include <algorithm>

#include "sqlite_roles.h"
#include "tag_rows.h"

namespace tagsmith::store {
namespace {

// --- tags ----------------------------------------------------------------------
// Read: a row's evidence is its event's (evidence_event, migration 11) or,
// where that is 0, its own evidence_json.
constexpr const char* kTagColumns =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, CASE WHEN tags.evidence_event > 0 THEN (SELECT e.evidence_json FROM tag_events "
    "e WHERE e.id = tags.evidence_event) ELSE tags.evidence_json END";
constexpr const char* kTagColumnsWithoutEvidence =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, '{}'";
// Written: every column (bind_tag's order).
constexpr const char* kTagWriteColumns =
    "asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version, "
    "updated_at, evidence_json, evidence_event";
Tag read_tag(SQLite::Statement& q) {
  Row r(q);
  Tag t;
  read_tag_summary_columns(r, t);
  t.model_version = r.text();
  t.taxonomy_version = r.int64();
  t.updated_at = r.text();
  t.evidence_json = r.text();
  r.end();
  return t;
}
// `evidence_event`: the id of the event written with this row whose evidence
// is the row's (the evidence is then stored there only), or 0 (stored here).
void bind_tag(Binder& b, const Tag& t, std::int64_t evidence_event) {
  static const std::string kOnTheEvent;
  b(t.asset_id)(t.attribute)(t.node)(to_string(t.state))(t.confidence)(t.actor)(t.model_version)(
      t.taxonomy_version)(t.updated_at)(evidence_event > 0 ? kOnTheEvent
                                                           : t.evidence_json)(evidence_event);
}

// --- tag events (ids numbered by apply_tag_changes under its write lock) ---------------
constexpr const char* kEventColumns =
    "id, asset_id, attribute, node, action, actor, confidence, model_version, taxonomy_version, "
    "at, evidence_json, previous_node";
TagEvent read_event(SQLite::Statement& q) {
  Row r(q);
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
// Binds every column, the id first.
void bind_event(Binder& b, std::int64_t id, const TagEvent& e) {
  b(id)(e.asset_id)(e.attribute)(e.node)(to_string(e.action))(e.actor)(e.confidence)(
      e.model_version)(e.taxonomy_version)(e.at)(e.evidence_json)(e.previous_node);
}

// --- review log ----------------------------------------------------------------------------
constexpr const char* kReviewLogColumns =
    "id, asset_id, attribute, node, action, reviewer, seconds, at";
ReviewLogEntry read_review_log(SQLite::Statement& q) {
  Row r(q);
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
// Binds every column but the id.
void bind_review_log(Binder& b, const ReviewLogEntry& e) {
  b(e.asset_id)(e.attribute)(e.node)(e.action)(e.reviewer)(e.seconds)(e.at);
}

// --- audit samples ---------------------------------------------------------------------------
constexpr const char* kAuditColumns =
    "id, batch, asset_id, attribute, node, tier, confidence, created_at, outcome, reviewer, "
    "reviewed_at";
AuditSample read_audit_sample(SQLite::Statement& q) {
  Row r(q);
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

}  // namespace

std::vector<Tag> SqliteTagStore::tags_of(AssetId id) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format(
          "SELECT {} FROM tags WHERE asset_id = ? ORDER BY attribute, confidence DESC, node",
          kTagColumns));
  Binder{q}(id);
  std::vector<Tag> out;
  while (q.executeStep()) out.push_back(read_tag(q));
  return out;
}

std::vector<Tag> SqliteTagStore::tags_of_assets(std::span<const AssetId> ids, bool with_evidence) {
  const auto wanted = sorted_ids(ids);
  std::vector<Tag> out;
  auto reader = c_.bulk_reader();
  // In primary-key order (no sort in SQLite); each asset's few tags are put
  // in tags_of() order below.
  SQLite::Statement q(reader.db,
                      fmt::format("SELECT {} FROM tags WHERE asset_id BETWEEN ? AND ? "
                                  "ORDER BY asset_id, attribute, node",
                                  with_evidence ? kTagColumns : kTagColumnsWithoutEvidence));
  for (const IdRun& run : id_runs(wanted)) {
    q.reset();
    Binder{q}(run.first)(run.last);
    while (q.executeStep()) {
      if (!std::binary_search(wanted.begin(), wanted.end(), q.getColumn(0).getInt64())) continue;
      out.push_back(read_tag(q));
    }
  }
  auto by_tags_of_order = [](const Tag& x, const Tag& y) {
    if (x.asset_id != y.asset_id) return x.asset_id < y.asset_id;
    if (x.attribute != y.attribute) return x.attribute < y.attribute;
    if (x.confidence != y.confidence) return x.confidence > y.confidence;
    return x.node < y.node;
  };
  for (std::size_t i = 0; i < out.size();) {
    std::size_t j = i;
    while (j < out.size() && out[j].asset_id == out[i].asset_id) ++j;
    std::sort(out.begin() + static_cast<std::ptrdiff_t>(i),
              out.begin() + static_cast<std::ptrdiff_t>(j), by_tags_of_order);
    i = j;
  }
  return out;
}

void SqliteTagStore::visit_tag_summaries(std::span<const AssetId> ids,
                                         const std::function<void(TagSummary&)>& fn) {
  const auto wanted = sorted_ids(ids);
  TagSummary t;
  auto reader = c_.bulk_reader();
  SQLite::Statement q(reader.db, fmt::format("SELECT {} FROM tags WHERE asset_id BETWEEN ? AND ? "
                                             "ORDER BY asset_id, attribute, node",
                                             kTagSummaryColumns));
  for (const IdRun& run : id_runs(wanted)) {
    q.reset();
    Binder{q}(run.first)(run.last);
    while (q.executeStep()) {
      if (!std::binary_search(wanted.begin(), wanted.end(), q.getColumn(0).getInt64())) continue;
      Row r(q);
      read_tag_summary_columns(r, t);
      r.end();
      fn(t);
    }
  }
}

void SqliteTagStore::apply_tag_changes(std::span<const TagChange> changes,
                                       std::span<const AssetId> decided) {
  if (changes.empty() && decided.empty()) return;
  auto held = c_.lock();
  // IMMEDIATE: the write lock from the start, so the event ids numbered
  // below from max(id) stay free until the commit.
  SQLite::Transaction tx(c_.db(), SQLite::TransactionBehavior::IMMEDIATE);
  const std::string set_columns =
      "state = excluded.state, confidence = excluded.confidence, actor = excluded.actor, "
      "model_version = excluded.model_version, taxonomy_version = excluded.taxonomy_version, "
      "updated_at = excluded.updated_at, evidence_json = excluded.evidence_json, evidence_event "
      "= excluded.evidence_event";
  const std::string insert_tag = fmt::format(
      "INSERT INTO tags ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(asset_id, "
      "attribute, node) DO UPDATE SET {}",
      kTagWriteColumns, set_columns);
  SQLite::Statement upsert(c_.db(), insert_tag);
  SQLite::Statement remove(c_.db(),
                           "DELETE FROM tags WHERE asset_id = ? AND attribute = ? AND node = ?");
  SQLite::Statement event(
      c_.db(),
      fmt::format("INSERT INTO tag_events ({}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", kEventColumns));
  // A tagging run (`decided` not empty) whose decision is already in effect
  // -- another worker that had claimed the same assets applied it first --
  // changes nothing and writes no event: the audit records each change once
  // however often the work is done.
  const bool idempotent = !decided.empty();
  SQLite::Statement upsert_if_changed(
      c_.db(), insert_tag +
                   " WHERE (tags.state, tags.confidence, tags.actor, tags.model_version, "
                   "tags.taxonomy_version) IS NOT (excluded.state, excluded.confidence, "
                   "excluded.actor, excluded.model_version, excluded.taxonomy_version)");
  std::int64_t last_event =
      c_.db().execAndGet("SELECT coalesce(max(id), 0) FROM tag_events").getInt64();
  for (const auto& c : changes) {
    // The id this change's event gets if it is written.
    const std::int64_t event_id = last_event + 1;
    auto write_tag = [&](SQLite::Statement& q, const Tag& t) {
      q.reset();
      Binder b(q);
      bind_tag(b, t, t.evidence_json == c.event.evidence_json ? event_id : 0);
      return q.exec() > 0;
    };
    const Tag& t = c.tag;
    for (const Tag& extra : c.covered) write_tag(upsert, extra);
    bool changed = true;
    if (c.kind == TagChange::Kind::kUpsert) {
      changed = write_tag(idempotent ? upsert_if_changed : upsert, t);
    } else {
      remove.reset();
      Binder{remove}(t.asset_id)(t.attribute)(t.node);
      changed = remove.exec() > 0 || !idempotent;
    }
    if (!changed) continue;
    event.reset();
    Binder b(event);
    bind_event(b, event_id, c.event);
    event.exec();
    last_event = event_id;
  }
  settle_work(c_.db(), decided, WorkStep::kTag);
  tx.commit();
}

std::vector<TagEvent> SqliteTagStore::tag_events(AssetId id, const std::string& attribute) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("SELECT {} FROM tag_events WHERE asset_id = ? AND (? = '' "
                                  "OR attribute = ?) ORDER BY id",
                                  kEventColumns));
  Binder{q}(id)(attribute)(attribute);
  std::vector<TagEvent> out;
  while (q.executeStep()) out.push_back(read_event(q));
  return out;
}

std::vector<TagEvent> SqliteTagStore::recent_tag_events(std::int64_t before_id, std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format("SELECT {} FROM tag_events WHERE (? = 0 OR id < ?) ORDER BY id DESC LIMIT ?",
                  kEventColumns));
  Binder{q}(before_id)(before_id)(static_cast<std::int64_t>(limit));
  std::vector<TagEvent> out;
  while (q.executeStep()) out.push_back(read_event(q));
  return out;
}

void SqliteTagStore::for_each_tag(const std::function<void(const Tag&)>& fn) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(), fmt::format("SELECT {} FROM tags ORDER BY asset_id, attribute, node", kTagColumns));
  while (q.executeStep()) fn(read_tag(q));
}

std::vector<Tag> SqliteTagStore::tags_in_states(const std::vector<TagState>& states) {
  auto held = c_.lock();
  std::string in;  // the states' fixed names, never user text
  for (auto st : states) in += (in.empty() ? "'" : ",'") + to_string(st) + "'";
  if (in.empty()) return {};
  SQLite::Statement q(
      c_.db(),
      fmt::format("SELECT {} FROM tags WHERE state IN ({}) ORDER BY asset_id, attribute, node",
                  kTagColumns, in));
  std::vector<Tag> out;
  while (q.executeStep()) out.push_back(read_tag(q));
  return out;
}

void SqliteTagStore::add_review_log(const ReviewLogEntry& e) {
  auto held = c_.lock();
  SQLite::Statement q(
      c_.db(),
      fmt::format("INSERT INTO review_log ({}) VALUES (NULL,?,?,?,?,?,?,?)", kReviewLogColumns));
  Binder b(q);
  bind_review_log(b, e);
  q.exec();
}

std::vector<ReviewLogEntry> SqliteTagStore::review_log(const std::string& since) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(), fmt::format("SELECT {} FROM review_log WHERE at >= ? ORDER BY id",
                                           kReviewLogColumns));
  Binder{q}(since);
  std::vector<ReviewLogEntry> out;
  while (q.executeStep()) out.push_back(read_review_log(q));
  return out;
}

std::int64_t SqliteTagStore::add_audit_samples(const std::vector<AuditSample>& samples) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  const std::int64_t batch =
      c_.db().execAndGet("SELECT coalesce(max(batch), 0) + 1 FROM audit_samples").getInt64();
  // A new sample has no outcome yet: outcome, reviewer and reviewed_at keep
  // their defaults.
  SQLite::Statement q(
      c_.db(),
      "INSERT INTO audit_samples (batch, asset_id, attribute, node, tier, confidence, "
      "created_at) VALUES (?,?,?,?,?,?,?)");
  for (const auto& s : samples) {
    q.reset();
    Binder{q}(batch)(s.asset_id)(s.attribute)(s.node)(s.tier)(s.confidence)(s.created_at);
    q.exec();
  }
  tx.commit();
  return batch;
}

std::vector<AuditSample> SqliteTagStore::audit_samples(bool pending_only) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      fmt::format("SELECT {} FROM audit_samples{} ORDER BY id", kAuditColumns,
                                  pending_only ? " WHERE outcome = ''" : ""));
  std::vector<AuditSample> out;
  while (q.executeStep()) out.push_back(read_audit_sample(q));
  return out;
}

void SqliteTagStore::resolve_audit_samples(AssetId asset, const std::string& attribute,
                                           const std::string& node, const std::string& outcome,
                                           const std::string& reviewer, const std::string& at) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "UPDATE audit_samples SET outcome = ?, reviewer = ?, reviewed_at = ? "
                      "WHERE asset_id = ? AND attribute = ? AND node = ? AND outcome = ''");
  Binder{q}(outcome)(reviewer)(at)(asset)(attribute)(node);
  q.exec();
}

// --- review claims and decisions -------------------------------------------------------------

std::vector<ReviewClaim> SqliteTagStore::claim_for_review(std::span<const ReviewClaim> wanted,
                                                          const std::string& now) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  // The upsert's WHERE decides: a row held by someone else and not expired
  // is left alone (0 rows changed), anything else becomes this claim.
  SQLite::Statement q(c_.db(),
                      "INSERT INTO review_claims (asset_id, attribute, node, reviewer, expires_at) "
                      "VALUES (?,?,?,?,?) ON CONFLICT(asset_id, attribute, node) DO UPDATE SET "
                      "reviewer = excluded.reviewer, expires_at = excluded.expires_at "
                      "WHERE review_claims.reviewer = excluded.reviewer "
                      "OR review_claims.expires_at <= ?");
  std::vector<ReviewClaim> granted;
  for (const auto& c : wanted) {
    q.reset();
    Binder{q}(c.asset_id)(c.attribute)(c.node)(c.reviewer)(c.expires_at)(now);
    if (q.exec() > 0) granted.push_back(c);
  }
  tx.commit();
  return granted;
}

std::vector<ReviewClaim> SqliteTagStore::review_claims(const std::string& now) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT asset_id, attribute, node, reviewer, expires_at FROM review_claims "
                      "WHERE expires_at > ? ORDER BY asset_id, attribute, node");
  Binder{q}(now);
  std::vector<ReviewClaim> out;
  while (q.executeStep()) {
    Row r(q);
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
}

void SqliteTagStore::release_review_claims(const std::string& reviewer,
                                           std::span<const ReviewClaim> which) {
  auto held = c_.lock();
  SQLite::Transaction tx(c_.db());
  if (which.empty()) {
    SQLite::Statement q(c_.db(), "DELETE FROM review_claims WHERE reviewer = ?");
    Binder{q}(reviewer);
    q.exec();
  } else {
    SQLite::Statement q(c_.db(),
                        "DELETE FROM review_claims WHERE reviewer = ? AND asset_id = ? AND "
                        "attribute = ? AND node = ?");
    for (const auto& c : which) {
      q.reset();
      Binder{q}(reviewer)(c.asset_id)(c.attribute)(c.node);
      q.exec();
    }
  }
  tx.commit();
}

std::int64_t SqliteTagStore::add_review_decision(const ReviewDecision& d) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "INSERT INTO review_decisions (reviewer, asset_id, attribute, node, action, "
                      "event_id, before_json, at, undone_at) VALUES (?,?,?,?,?,?,?,?,?)");
  Binder{q}(d.reviewer)(d.asset_id)(d.attribute)(d.node)(d.action)(d.event_id)(d.before_json)(d.at)(
      d.undone_at);
  q.exec();
  return c_.db().getLastInsertRowid();
}

std::vector<ReviewDecision> SqliteTagStore::review_decisions(const std::string& reviewer,
                                                             std::size_t limit) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "SELECT id, reviewer, asset_id, attribute, node, action, event_id, "
                      "before_json, at, undone_at FROM review_decisions WHERE reviewer = ? AND "
                      "undone_at = '' ORDER BY id DESC LIMIT ?");
  Binder{q}(reviewer)(static_cast<std::int64_t>(limit));
  std::vector<ReviewDecision> out;
  while (q.executeStep()) {
    Row r(q);
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
}

bool SqliteTagStore::mark_review_decision_undone(std::int64_t id, const std::string& at) {
  auto held = c_.lock();
  SQLite::Statement q(c_.db(),
                      "UPDATE review_decisions SET undone_at = ? WHERE id = ? AND undone_at = ''");
  Binder{q}(at)(id);
  return q.exec() > 0;
}

}  // namespace tagsmith::store
