// Numbered schema migrations for the SQLite store. A library records the
// number it has reached in PRAGMA user_version; opening a library applies the
// missing ones in order, each in its own transaction. Never edit a shipped
// migration: add the next number.
#include "sqlite_schema.h"

namespace tagsmith::store {

const std::vector<Migration>& sqlite_migrations() {
  static const std::vector<Migration> migrations = {
      {1, R"sql(
CREATE TABLE assets (
  id INTEGER PRIMARY KEY,
  sha256 TEXT NOT NULL UNIQUE,
  source_path TEXT NOT NULL,
  file_size INTEGER NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL,
  format TEXT NOT NULL,
  phash INTEGER NOT NULL,
  ingested_at TEXT NOT NULL,
  product_fraction REAL NOT NULL DEFAULT 1,
  background_removed INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE asset_paths (
  path TEXT PRIMARY KEY,
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  file_size INTEGER NOT NULL,
  mtime_ns INTEGER NOT NULL,
  is_alias INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX asset_paths_asset ON asset_paths(asset_id);
CREATE TABLE thumbnails (
  asset_id INTEGER PRIMARY KEY REFERENCES assets(id) ON DELETE CASCADE,
  sha256 TEXT NOT NULL,
  width INTEGER NOT NULL,
  height INTEGER NOT NULL
);
CREATE TABLE asset_colours (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  rank INTEGER NOT NULL,
  lab_l REAL NOT NULL, lab_a REAL NOT NULL, lab_b REAL NOT NULL,
  rgb_hex TEXT NOT NULL,
  share REAL NOT NULL,
  family TEXT NOT NULL,
  shade TEXT NOT NULL,
  delta_e REAL NOT NULL,
  PRIMARY KEY (asset_id, rank)
);
CREATE TABLE model_versions (
  id INTEGER PRIMARY KEY,
  version TEXT NOT NULL UNIQUE,
  kind TEXT NOT NULL,
  parent TEXT NOT NULL DEFAULT '',
  status TEXT NOT NULL,
  created_at TEXT NOT NULL,
  metrics_json TEXT NOT NULL DEFAULT '{}',
  artifact_path TEXT NOT NULL DEFAULT ''
);
CREATE TABLE embeddings (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  model_version TEXT NOT NULL,
  dim INTEGER NOT NULL,
  vector BLOB NOT NULL,
  PRIMARY KEY (asset_id, model_version)
);
CREATE INDEX embeddings_model ON embeddings(model_version);
CREATE TABLE taxonomy_versions (
  id INTEGER PRIMARY KEY,
  created_at TEXT NOT NULL,
  source TEXT NOT NULL,
  sha256 TEXT NOT NULL,
  yaml TEXT NOT NULL
);
CREATE TABLE tags (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  state TEXT NOT NULL,
  confidence REAL NOT NULL,
  actor TEXT NOT NULL,
  model_version TEXT NOT NULL DEFAULT '',
  taxonomy_version INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  evidence_json TEXT NOT NULL DEFAULT '{}',
  PRIMARY KEY (asset_id, attribute, node)
);
CREATE INDEX tags_facet ON tags(attribute, node, state);
CREATE TABLE tag_events (
  id INTEGER PRIMARY KEY,
  asset_id INTEGER NOT NULL,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  action TEXT NOT NULL,
  actor TEXT NOT NULL,
  confidence REAL NOT NULL,
  model_version TEXT NOT NULL DEFAULT '',
  taxonomy_version INTEGER NOT NULL DEFAULT 0,
  at TEXT NOT NULL,
  evidence_json TEXT NOT NULL DEFAULT '{}',
  previous_node TEXT NOT NULL DEFAULT ''
);
CREATE INDEX tag_events_asset ON tag_events(asset_id, attribute);
-- The audit trail is append-only, enforced by the database itself.
CREATE TRIGGER tag_events_no_update BEFORE UPDATE ON tag_events
BEGIN SELECT RAISE(ABORT, 'tag_events is append-only'); END;
CREATE TRIGGER tag_events_no_delete BEFORE DELETE ON tag_events
BEGIN SELECT RAISE(ABORT, 'tag_events is append-only'); END;
CREATE TABLE ingest_errors (
  path TEXT PRIMARY KEY,
  reason TEXT NOT NULL,
  at TEXT NOT NULL
);
CREATE TABLE settings (
  key TEXT PRIMARY KEY,
  value TEXT NOT NULL
);
)sql"},
      {2, R"sql(
-- Accounts for tagsmith serve. Only hashes of secrets are stored.
CREATE TABLE users (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL UNIQUE,
  role TEXT NOT NULL,
  password_hash TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL
);
CREATE TABLE api_tokens (
  token_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  created_at TEXT NOT NULL
);
CREATE TABLE sessions (
  id_hash TEXT PRIMARY KEY,
  user_id INTEGER NOT NULL REFERENCES users(id) ON DELETE CASCADE,
  csrf_token TEXT NOT NULL,
  created_at TEXT NOT NULL,
  expires_at TEXT NOT NULL
);
CREATE INDEX tag_events_recent ON tag_events(at);
)sql"},
      {3, R"sql(
-- The review queue's own records. Tag changes themselves are tag_events;
-- these add what the audit trail does not carry: how long each review took
-- (skips included), and the random samples drawn to audit the auto tier.
CREATE TABLE review_log (
  id INTEGER PRIMARY KEY,
  asset_id INTEGER NOT NULL,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  action TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  seconds REAL NOT NULL,
  at TEXT NOT NULL
);
CREATE INDEX review_log_at ON review_log(at);
CREATE TABLE audit_samples (
  id INTEGER PRIMARY KEY,
  batch INTEGER NOT NULL,
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  tier TEXT NOT NULL,
  confidence REAL NOT NULL,
  created_at TEXT NOT NULL,
  outcome TEXT NOT NULL DEFAULT '',
  reviewer TEXT NOT NULL DEFAULT '',
  reviewed_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX audit_samples_pending ON audit_samples(outcome, asset_id, attribute);
)sql"},
      {4, R"sql(
-- How the colour analysis found the product (ColourAnalysis::mask); '' for
-- assets analysed before it was recorded.
ALTER TABLE assets ADD COLUMN colour_mask TEXT NOT NULL DEFAULT '';
-- The runner-up family of each dominant colour (DominantColour::alt_family).
ALTER TABLE asset_colours ADD COLUMN alt_family TEXT NOT NULL DEFAULT '';
ALTER TABLE asset_colours ADD COLUMN alt_delta_e REAL NOT NULL DEFAULT 0;
)sql"},
      {5, R"sql(
-- What interrupted multi-step jobs have left to do (store/work_queue.h).
-- claimed_by / claimed_at are for workers that share one database (the
-- PostgreSQL store); the embedded store leaves them empty.
CREATE TABLE work_queue (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  queued_at TEXT NOT NULL,
  claimed_by TEXT NOT NULL DEFAULT '',
  claimed_at TEXT NOT NULL DEFAULT '',
  PRIMARY KEY (step, asset_id)
);
-- Libraries from before the queue: an asset without a single tag row was
-- most likely left untagged by an interrupted ingest. Deciding it again is
-- harmless if it simply had nothing to tag.
INSERT INTO work_queue (asset_id, step, queued_at)
  SELECT id, 'tag', strftime('%Y-%m-%dT%H:%M:%SZ', 'now') FROM assets
  WHERE id NOT IN (SELECT asset_id FROM tags);
)sql"},
      {6, R"sql(
-- Failed logins to the HTTP server (audit of password guessing), newest last.
CREATE TABLE login_failures (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  account TEXT NOT NULL,
  client TEXT NOT NULL,
  throttled INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX login_failures_at ON login_failures(at);
)sql"},
      {7, R"sql(
-- Distributed work (store/work_queue.h): step entries claimed under a lease,
-- and jobs (files to ingest) that worker processes claim the same way.
-- Times are ISO-8601 UTC text like every other time here; '' = no lease.
ALTER TABLE work_queue ADD COLUMN lease_until TEXT NOT NULL DEFAULT '';
CREATE TABLE jobs (
  id INTEGER PRIMARY KEY,
  kind TEXT NOT NULL,
  target TEXT NOT NULL,
  state TEXT NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  worker TEXT NOT NULL DEFAULT '',
  lease_until TEXT NOT NULL DEFAULT '',
  error TEXT NOT NULL DEFAULT '',
  created_at TEXT NOT NULL,
  updated_at TEXT NOT NULL
);
-- A target is queued or running at most once; done and failed ones may repeat.
CREATE UNIQUE INDEX jobs_active ON jobs(kind, target) WHERE state IN ('queued', 'running');
CREATE INDEX jobs_by_state ON jobs(kind, state, id);
)sql"},
      {8, R"sql(
-- The embedding change sequence (AssetStore::embeddings_changed_since): every
-- write of an embedding row takes the next number from change_counters, so a
-- server can follow new and replaced vectors instead of rescanning. Existing
-- rows are numbered in the order they were first written (rowid).
ALTER TABLE embeddings ADD COLUMN seq INTEGER NOT NULL DEFAULT 0;
UPDATE embeddings SET seq = rowid;
DROP INDEX embeddings_model;
CREATE INDEX embeddings_seq ON embeddings(model_version, seq);
-- Counters that only grow, one row per sequence, updated in the writing
-- transaction (so numbers are never reused, even if rows go away).
CREATE TABLE change_counters (
  name TEXT PRIMARY KEY,
  value INTEGER NOT NULL
);
INSERT INTO change_counters (name, value)
  SELECT 'embedding_seq', coalesce(max(seq), 0) FROM embeddings;
)sql"},
      {9, R"sql(
-- Review for a team (review/queue.h). A claim holds one tag of the queue for
-- the reviewer who has it open until expires_at (ISO-8601 UTC), so two
-- people are handed different tags; a decision records the rows it replaced
-- so its reviewer can undo it.
CREATE TABLE review_claims (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  reviewer TEXT NOT NULL,
  expires_at TEXT NOT NULL,
  PRIMARY KEY (asset_id, attribute, node)
);
CREATE INDEX review_claims_reviewer ON review_claims(reviewer);
CREATE TABLE review_decisions (
  id INTEGER PRIMARY KEY,
  reviewer TEXT NOT NULL,
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  action TEXT NOT NULL,
  event_id INTEGER NOT NULL,
  before_json TEXT NOT NULL DEFAULT '[]',
  at TEXT NOT NULL,
  undone_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX review_decisions_reviewer ON review_decisions(reviewer, undone_at, id);
)sql"},
      {10, R"sql(
-- Exports of assets and tags (AccountStore::add_export_record): who took
-- what out of the library, append-only like the tag trail.
CREATE TABLE export_events (
  id INTEGER PRIMARY KEY,
  at TEXT NOT NULL,
  actor TEXT NOT NULL,
  format TEXT NOT NULL,
  query TEXT NOT NULL,
  assets INTEGER NOT NULL,
  destination TEXT NOT NULL DEFAULT ''
);
CREATE INDEX export_events_at ON export_events(at);
CREATE TRIGGER export_events_no_update BEFORE UPDATE ON export_events
BEGIN SELECT RAISE(ABORT, 'export_events is append-only'); END;
CREATE TRIGGER export_events_no_delete BEFORE DELETE ON export_events
BEGIN SELECT RAISE(ABORT, 'export_events is append-only'); END;
)sql"},
      {11, R"sql(
-- A tag's evidence lives on the audit event that set it: the row keeps that
-- event's id (evidence_event) instead of a second copy of its JSON, so a
-- re-tag writes each evidence once and a tag row is a few dozen bytes.
-- evidence_json stays for a row whose evidence is not its event's (a
-- person's confirm keeps the machine's evidence) and is '' otherwise.
-- Existing rows point at their latest event with the same evidence; a row
-- with none keeps its evidence inline, so nothing is lost.
-- The table is rebuilt WITHOUT ROWID: rows are stored in primary-key order
-- (an asset's tags together, read by one range scan, no separate key index
-- to seek and update). tags_facet is not rebuilt: no query used it (search
-- counts facets in memory, search/facet_index.h), and keeping it cost every
-- changed tag two more B-tree writes -- 40% of a re-tag's row writes.
CREATE TABLE tags_v11 (
  asset_id INTEGER NOT NULL REFERENCES assets(id) ON DELETE CASCADE,
  attribute TEXT NOT NULL,
  node TEXT NOT NULL,
  state TEXT NOT NULL,
  confidence REAL NOT NULL,
  actor TEXT NOT NULL,
  model_version TEXT NOT NULL DEFAULT '',
  taxonomy_version INTEGER NOT NULL DEFAULT 0,
  updated_at TEXT NOT NULL,
  evidence_json TEXT NOT NULL DEFAULT '',
  evidence_event INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (asset_id, attribute, node)
) WITHOUT ROWID;
INSERT INTO tags_v11
SELECT asset_id, attribute, node, state, confidence, actor, model_version, taxonomy_version,
       updated_at, CASE WHEN event > 0 THEN '' ELSE evidence_json END, event
FROM (SELECT t.*, coalesce((
        SELECT max(e.id) FROM tag_events e
        WHERE e.asset_id = t.asset_id AND e.attribute = t.attribute AND e.node = t.node
          AND e.evidence_json = t.evidence_json), 0) AS event
      FROM tags t);
DROP TABLE tags;
ALTER TABLE tags_v11 RENAME TO tags;
-- No query reads events by time (the newest are found by id): the index only
-- cost every event a third B-tree insert.
DROP INDEX tag_events_recent;
)sql"},
      {12, R"sql(
-- An asset's history is found by asset id alone: the index entry is the
-- asset id and the event id (SQLite appends the rowid), half the bytes of
-- one that also held the attribute's name. Every event inserts one entry
-- among its asset's older ones, so the index is rewritten page by page as a
-- catalogue is re-tagged: dropping the attribute cut a re-tag of 100k assets
-- from 16 to 14 CPU-seconds. Reading one attribute's history filters the
-- asset's few dozen events; they come back in id order without a sort.
CREATE INDEX tag_events_by_asset ON tag_events(asset_id);
DROP INDEX tag_events_asset;
)sql"},
  };
  return migrations;
}

}  // namespace tagsmith::store
