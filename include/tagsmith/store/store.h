#pragma once
// The Store: everything a library persists, behind one interface.
//
// Callers speak in domain operations ("commit this asset with its thumbnail
// and colours"), never SQL, so that the embedded SQLite store and a future
// PostgreSQL store are interchangeable. Each mutating call is one unit of
// work committed atomically: after a crash, it happened entirely or not at all.
// Implementations are safe to call from several threads.
//
// The audit trail is append-only by contract: there is no call that updates
// or deletes a TagEvent.
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::store {

class Store {
 public:
  virtual ~Store() = default;

  virtual int schema_version() const = 0;

  // --- assets -------------------------------------------------------------
  virtual std::optional<AssetRecord> find_asset(AssetId id) = 0;
  virtual std::optional<AssetRecord> find_asset_by_sha256(const std::string& sha256) = 0;
  virtual std::optional<AssetRecord> find_asset_by_path(const std::string& path) = 0;
  virtual std::optional<PathRecord> find_path(const std::string& path) = 0;
  // Inserts the asset, its thumbnail, colours, first path and (when given)
  // its embedding, and clears any ingest error recorded for that path, in one
  // transaction. Returns the new id.
  virtual AssetId add_asset(const AssetRecord& asset, const PathRecord& path,
                            const std::string& model_version = {},
                            std::span<const float> embedding = {}) = 0;
  // Records another path for existing content (exact duplicate).
  virtual void add_path(const PathRecord& path) = 0;
  virtual std::vector<PathRecord> paths_of(AssetId id) = 0;
  virtual std::vector<AssetId> asset_ids() = 0;
  // Perceptual hash and main colour of every asset, for near-duplicate grouping.
  virtual std::vector<AssetFingerprint> fingerprints() = 0;
  virtual void for_each_asset(const std::function<void(const AssetRecord&)>& fn) = 0;

  // --- ingest errors --------------------------------------------------------
  virtual void record_ingest_error(const IngestError& error) = 0;
  virtual std::vector<IngestError> ingest_errors() = 0;

  // --- embeddings -----------------------------------------------------------
  virtual void put_embedding(AssetId id, const std::string& model_version,
                             std::span<const float> vector) = 0;
  virtual std::optional<std::vector<float>> embedding(AssetId id,
                                                      const std::string& model_version) = 0;
  virtual void for_each_embedding(
      const std::string& model_version,
      const std::function<void(AssetId, std::span<const float>)>& fn) = 0;

  // --- tags and their audit trail ------------------------------------------
  virtual std::vector<Tag> tags_of(AssetId id) = 0;
  // Applies all changes and appends their events in one transaction.
  virtual void apply_tag_changes(std::span<const TagChange> changes) = 0;
  virtual std::vector<TagEvent> tag_events(AssetId id, const std::string& attribute = {}) = 0;
  virtual void for_each_tag(const std::function<void(const Tag&)>& fn) = 0;

  // --- taxonomy and model versions ---------------------------------------------
  virtual std::int64_t add_taxonomy_version(const TaxonomyVersion& v) = 0;
  virtual std::optional<TaxonomyVersion> taxonomy_version(std::int64_t id) = 0;
  virtual std::optional<TaxonomyVersion> latest_taxonomy_version() = 0;
  virtual std::vector<TaxonomyVersion> taxonomy_versions() = 0;  // without yaml text

  virtual void add_model_version(const ModelVersion& v) = 0;
  virtual void update_model_version(const ModelVersion& v) = 0;  // status, metrics
  virtual std::optional<ModelVersion> model_version(const std::string& version) = 0;
  virtual std::vector<ModelVersion> model_versions() = 0;

  // --- key/value settings (library configuration) ---------------------------------
  virtual std::optional<std::string> setting(const std::string& key) = 0;
  virtual void set_setting(const std::string& key, const std::string& value) = 0;

  // --- accounts, API tokens and browser sessions (HTTP server) ---------------
  // Defaults throw, so stores without accounts need not implement them.
  virtual std::int64_t add_user(const UserRecord& user);  // throws InputError when the name exists
  virtual std::optional<UserRecord> find_user(const std::string& name);
  virtual std::optional<UserRecord> find_user_by_id(std::int64_t id);
  virtual std::vector<UserRecord> users();
  virtual void update_user(const UserRecord& user);  // role and password hash, by name
  virtual void add_api_token(std::int64_t user_id, const std::string& token_hash,
                             const std::string& created_at);
  virtual std::optional<UserRecord> find_user_by_token_hash(const std::string& token_hash);
  virtual void add_session(const SessionRecord& session);
  virtual std::optional<SessionRecord> find_session(const std::string& id_hash);
  virtual void delete_session(const std::string& id_hash);
  virtual void delete_sessions_expired_before(const std::string& now);
  // The newest audit events across all assets, id < before_id (0: no bound),
  // newest first.
  virtual std::vector<TagEvent> recent_tag_events(std::int64_t before_id, std::size_t limit);

  // --- review queue ------------------------------------------------------------
  virtual std::vector<Tag> tags_in_states(const std::vector<TagState>& states) = 0;
  virtual void add_review_log(const ReviewLogEntry& entry) = 0;
  // Entries at or after `since` (ISO-8601), oldest first.
  virtual std::vector<ReviewLogEntry> review_log(const std::string& since) = 0;
  // Inserts the samples as a new batch; returns the batch number.
  virtual std::int64_t add_audit_samples(const std::vector<AuditSample>& samples) = 0;
  virtual std::vector<AuditSample> audit_samples(bool pending_only) = 0;
  // Records the outcome on every pending sample of (asset, attribute, node).
  virtual void resolve_audit_samples(AssetId asset, const std::string& attribute,
                                     const std::string& node, const std::string& outcome,
                                     const std::string& reviewer, const std::string& at) = 0;

  virtual LibraryStats stats() = 0;
};

// Opens (creating and migrating when needed) the SQLite store at `db_path`.
std::unique_ptr<Store> open_sqlite_store(const std::string& db_path);

}  // namespace tagsmith::store
