#pragma once
// Plain records exchanged with the Store. They are the library's vocabulary:
// an Asset is one distinct photo (by content), a Tag is the current decision
// for (asset, attribute, node), a TagEvent is one line of the audit trail.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/common/colour_record.h"

namespace tagsmith::store {

using AssetId = std::int64_t;

struct AssetRecord {
  AssetId id = 0;           // assigned by the store
  std::string sha256;       // of the file's bytes
  std::string source_path;  // absolute path it was first ingested from
  std::int64_t file_size = 0;
  int width = 0, height = 0;  // upright (after EXIF orientation)
  std::string format;         // "jpeg", "png", ...
  std::uint64_t phash = 0;    // 64-bit perceptual hash
  std::string ingested_at;    // ISO-8601 UTC
  std::string thumbnail_sha256;
  int thumbnail_width = 0, thumbnail_height = 0;
  ColourAnalysis colours;
};

// A path on disk and what we knew about the file when we ingested it, so a
// re-run can skip it without reading it again.
struct PathRecord {
  std::string path;
  AssetId asset_id = 0;
  std::int64_t file_size = 0;
  std::int64_t mtime_ns = 0;
  bool is_alias = false;  // a second path with the same content
};

// What near-duplicate detection needs of an asset.
struct AssetFingerprint {
  AssetId id = 0;
  std::uint64_t phash = 0;
  bool has_colour = false;
  Lab main_colour;  // the largest dominant colour
};

struct IngestError {
  std::string path;
  std::string reason;
  std::string at;
};

// Tag lifecycle. A model or rule proposes (auto/flagged/suggested); a person
// confirms, rejects or corrects. `human` states are never overwritten by a model.
enum class TagState { kAuto, kFlagged, kSuggested, kConfirmed, kRejected, kHumanSet };
std::string to_string(TagState s);
TagState tag_state_from_string(const std::string& s);  // throws InputError
inline bool is_human(TagState s) {
  return s == TagState::kConfirmed || s == TagState::kRejected || s == TagState::kHumanSet;
}
// Applied tags are the ones search and exports treat as true.
inline bool is_applied(TagState s) {
  return s == TagState::kAuto || s == TagState::kFlagged || s == TagState::kConfirmed ||
         s == TagState::kHumanSet;
}

struct Tag {
  AssetId asset_id = 0;
  std::string attribute;
  std::string node;
  TagState state = TagState::kSuggested;
  double confidence = 0;
  std::string actor;          // "model:<version>", "user:<name>", "rule:<id>", "colour:<palette>"
  std::string model_version;  // empty when not set by a model
  std::int64_t taxonomy_version = 0;
  std::string updated_at;
  std::string evidence_json = "{}";
};

// What deciding needs of a stored tag (TagStore::tag_summaries_of_assets):
// no times, versions or evidence, so a re-tag of millions reads a third of
// the columns.
struct TagSummary {
  AssetId asset_id = 0;
  std::string attribute;
  std::string node;
  TagState state = TagState::kSuggested;
  double confidence = 0;
  std::string actor;
};

// Audit actions, one event per change to a tag.
// kUndone: a person undid a review decision, restoring the row it replaced
// (evidence {"undo_of": <event id>}).
enum class TagAction {
  kProposed,
  kApplied,
  kFlagged,
  kConfirmed,
  kRejected,
  kCorrected,
  kRemoved,
  kUndone
};
std::string to_string(TagAction a);
TagAction tag_action_from_string(const std::string& s);

struct TagEvent {
  std::int64_t id = 0;
  AssetId asset_id = 0;
  std::string attribute;
  std::string node;
  TagAction action = TagAction::kProposed;
  std::string actor;
  double confidence = 0;
  std::string model_version;
  std::int64_t taxonomy_version = 0;
  std::string at;
  std::string evidence_json = "{}";
  std::string previous_node;  // for corrections: the node it replaced
};

// One change to a tag together with the event that records it. The Store
// applies both in one transaction, so the audit trail can't miss a change.
struct TagChange {
  enum class Kind { kUpsert, kRemove } kind = Kind::kUpsert;
  Tag tag;  // for kRemove only asset/attribute/node are read
  TagEvent event;
  // Further rows this one event accounts for, upserted in the same
  // transaction without events of their own. Used by a person's correction:
  // its single `corrected` event (node = new value, previous_node = old one)
  // also marks the old node rejected, so no model proposes it again.
  std::vector<Tag> covered;
};

struct TaxonomyVersion {
  std::int64_t id = 0;
  std::string created_at;
  std::string source;  // file name it was imported from, or "builtin"
  std::string sha256;  // of the YAML text
  std::string yaml;
};

// What a model version is: an image/text encoder, or a set of heads trained
// on one encoder's embeddings. Stored as "encoder" / "heads".
// kColourCalibration: a colour calibration refitted from reviewed colour tags
// (tagging/colour_calibration.h), stored as "colour-calibration".
enum class ModelKind { kEncoder, kHeads, kColourCalibration };
std::string to_string(ModelKind k);
ModelKind model_kind_from_string(const std::string& s);  // throws InputError

// A model version's life: trained as a candidate, promoted to active (at most
// one active per kind), retired when another is promoted. Stored as
// "candidate" / "active" / "retired".
enum class ModelStatus { kCandidate, kActive, kRetired };
std::string to_string(ModelStatus s);
ModelStatus model_status_from_string(const std::string& s);  // throws InputError

struct ModelVersion {
  std::int64_t id = 0;
  std::string version;  // unique name, e.g. "clip-vit-b32@3f2a…" or "heads-0003"
  ModelKind kind = ModelKind::kEncoder;
  std::string parent;  // encoder a head set is trained on
  ModelStatus status = ModelStatus::kCandidate;
  std::string created_at;
  std::string metrics_json = "{}";
  std::string artifact_path;  // relative to the library directory, if any
};

// Accounts for the HTTP server (tagsmith serve). Secrets are never stored:
// passwords as salted PBKDF2 hashes, API tokens and session ids as SHA-256.
struct UserRecord {
  std::int64_t id = 0;
  std::string name;
  std::string role;           // "viewer" | "reviewer" | "admin"
  std::string password_hash;  // "" when the user logs in by token only
  std::string created_at;
};

struct SessionRecord {
  std::string id_hash;  // SHA-256 of the cookie value
  std::int64_t user_id = 0;
  std::string csrf_token;  // sent to the page once; required on state changes
  std::string created_at;
  std::string expires_at;  // ISO-8601 UTC, compared lexically
};

// A failed login to the HTTP server: wrong name or password, or refused
// because of too many failures (throttled).
struct LoginFailureRecord {
  std::int64_t id = 0;
  std::string at;       // ISO-8601 UTC
  std::string account;  // the name tried
  std::string client;   // client address
  bool throttled = false;
};

// One export of assets and their tags out of the library (tagsmith export,
// GET /api/v1/export): who took what, when, in which format. Append-only.
struct ExportRecord {
  std::int64_t id = 0;
  std::string at;           // ISO-8601 UTC
  std::string actor;        // "user:<name>" (server) or "cli:<login>"
  std::string format;       // "csv", "json", "jsonl", "xmp", "xmp-embedded"
  std::string query;        // the selection: search text and facet filters, as given
  std::int64_t assets = 0;  // assets selected for the export
  std::string destination;  // file or folder written, or "http" / "stdout"
};

// One review action (confirm, reject, correct, skip) and how long it took.
struct ReviewLogEntry {
  std::int64_t id = 0;
  AssetId asset_id = 0;
  std::string attribute, node, action, reviewer;
  double seconds = 0;
  std::string at;
};

// A tag drawn at random to audit a tier; `outcome` is "" until reviewed, then
// "confirmed", "rejected" or "corrected".
struct AuditSample {
  std::int64_t id = 0;
  std::int64_t batch = 0;
  AssetId asset_id = 0;
  std::string attribute, node, tier;
  double confidence = 0;
  std::string created_at, outcome, reviewer, reviewed_at;
};

// A reviewer's hold on one tag of the review queue until `expires_at`
// (ISO-8601 UTC), so two people reviewing at once are handed different tags.
struct ReviewClaim {
  AssetId asset_id = 0;
  std::string attribute, node, reviewer, expires_at;
};

// A decision taken through the review queue, with the tag rows it replaced,
// so the reviewer can undo it. `before_json` is an array of the rows as they
// were (record_json-like objects; {"node": n, "absent": true} for a row that
// did not exist). `event_id` is the tag event the decision wrote.
struct ReviewDecision {
  std::int64_t id = 0;
  std::string reviewer;
  AssetId asset_id = 0;
  std::string attribute, node, action;
  std::int64_t event_id = 0;
  std::string before_json = "[]";
  std::string at;
  std::string undone_at;  // "" until undone
};

struct LibraryStats {
  std::int64_t assets = 0;
  std::int64_t aliases = 0;
  std::int64_t rejected_files = 0;
  std::int64_t embeddings = 0;
  std::int64_t tags_auto = 0, tags_flagged = 0, tags_suggested = 0;
  std::int64_t tags_confirmed = 0, tags_rejected = 0, tags_human_set = 0;
  std::int64_t tag_events = 0;
  std::int64_t pending_tagging = 0;  // assets whose machine tags are still to be decided
};

// One entry of the embedding change sequence (AssetStore::embeddings_changed_since):
// the vector an asset has now under one model version, and the sequence
// number its last write was given.
struct EmbeddingChange {
  std::int64_t seq = 0;
  AssetId asset_id = 0;
  std::vector<float> vector;
};

// The store's high-water marks (Store::change_marker), for processes that
// follow a library someone else writes to. Each field only grows; a field
// differs from a marker read earlier exactly when its part of the library
// changed in between. 0 means "none yet". The numbers themselves are the
// store's business (SQLite: the highest ids; PostgreSQL: counters bumped at
// commit, as its ids can commit out of order), except last_embedding_seq,
// which is the highest embedding sequence number given out.
struct ChangeMarker {
  std::int64_t last_asset = 0;             // moves when an asset is added
  std::int64_t last_tag_event = 0;         // moves when a tag event is written (every tag change)
  std::int64_t last_embedding_seq = 0;     // highest embedding sequence number given out
  std::int64_t last_taxonomy_version = 0;  // moves when a taxonomy version is added
  friend bool operator==(const ChangeMarker&, const ChangeMarker&) = default;
};

}  // namespace tagsmith::store
