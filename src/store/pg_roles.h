#pragma once
// The PostgreSQL store, one class per role over a shared connection pool.
// PgStore (pg_store.cpp) joins them; each is defined in its own file:
//   pg_assets.cpp     AssetStore
//   pg_tags.cpp       TagStore
//   pg_catalogue.cpp  CatalogueStore
//   pg_accounts.cpp   AccountStore
//   pg_work.cpp       WorkQueue
// Every call is one transaction on a pooled connection (PgConnection::transact).
#include "pg_connection.h"
#include "tagsmith/store/account_store.h"
#include "tagsmith/store/asset_store.h"
#include "tagsmith/store/catalogue_store.h"
#include "tagsmith/store/tag_store.h"
#include "tagsmith/store/work_queue.h"

namespace tagsmith::store {

class PgAssetStore : public virtual AssetStore {
 public:
  explicit PgAssetStore(PgConnection& connection) : c_(connection) {}

  std::optional<AssetRecord> find_asset(AssetId id) override;
  std::optional<AssetRecord> find_asset_by_sha256(const std::string& sha256) override;
  std::optional<AssetRecord> find_asset_by_path(const std::string& path) override;
  std::optional<PathRecord> find_path(const std::string& path) override;
  AssetId add_asset(const AssetRecord& asset, const PathRecord& path,
                    const std::string& model_version, std::span<const float> embedding) override;
  void add_path(const PathRecord& path) override;
  std::vector<PathRecord> paths_of(AssetId id) override;
  std::vector<AssetId> asset_ids() override;
  std::vector<AssetFingerprint> fingerprints() override;
  void for_each_asset(const std::function<void(const AssetRecord&)>& fn) override;
  std::vector<AssetRecord> find_assets(std::span<const AssetId> ids) override;
  void record_ingest_error(const IngestError& error) override;
  std::vector<IngestError> ingest_errors() override;
  void put_embedding(AssetId id, const std::string& model_version,
                     std::span<const float> vector) override;
  std::optional<std::vector<float>> embedding(AssetId id,
                                              const std::string& model_version) override;
  std::vector<std::pair<AssetId, std::vector<float>>> embeddings(
      std::span<const AssetId> ids, const std::string& model_version) override;
  void for_each_embedding(const std::string& model_version,
                          const std::function<void(AssetId, std::span<const float>)>& fn) override;
  std::vector<EmbeddingChange> embeddings_changed_since(const std::string& model_version,
                                                        std::int64_t after_seq,
                                                        std::size_t limit) override;

 private:
  PgConnection& c_;
};

class PgTagStore : public virtual TagStore {
 public:
  explicit PgTagStore(PgConnection& connection) : c_(connection) {}

  std::vector<Tag> tags_of(AssetId id) override;
  std::vector<Tag> tags_of_assets(std::span<const AssetId> ids, bool with_evidence) override;
  void visit_tag_summaries(std::span<const AssetId> ids,
                           const std::function<void(TagSummary&)>& fn) override;
  void apply_tag_changes(std::span<const TagChange> changes,
                         std::span<const AssetId> decided) override;
  std::vector<TagEvent> tag_events(AssetId id, const std::string& attribute) override;
  std::vector<TagEvent> recent_tag_events(std::int64_t before_id, std::size_t limit) override;
  void for_each_tag(const std::function<void(const Tag&)>& fn) override;
  std::vector<Tag> tags_in_states(const std::vector<TagState>& states) override;
  void add_review_log(const ReviewLogEntry& entry) override;
  std::vector<ReviewLogEntry> review_log(const std::string& since) override;
  std::int64_t add_audit_samples(const std::vector<AuditSample>& samples) override;
  std::vector<AuditSample> audit_samples(bool pending_only) override;
  void resolve_audit_samples(AssetId asset, const std::string& attribute, const std::string& node,
                             const std::string& outcome, const std::string& reviewer,
                             const std::string& at) override;
  std::vector<ReviewClaim> claim_for_review(std::span<const ReviewClaim> wanted,
                                            const std::string& now) override;
  std::vector<ReviewClaim> review_claims(const std::string& now) override;
  void release_review_claims(const std::string& reviewer,
                             std::span<const ReviewClaim> which) override;
  std::int64_t add_review_decision(const ReviewDecision& decision) override;
  std::vector<ReviewDecision> review_decisions(const std::string& reviewer,
                                               std::size_t limit) override;
  bool mark_review_decision_undone(std::int64_t id, const std::string& at) override;

 private:
  PgConnection& c_;
};

class PgCatalogueStore : public virtual CatalogueStore {
 public:
  explicit PgCatalogueStore(PgConnection& connection) : c_(connection) {}

  std::int64_t add_taxonomy_version(const TaxonomyVersion& v) override;
  std::optional<TaxonomyVersion> taxonomy_version(std::int64_t id) override;
  std::optional<TaxonomyVersion> latest_taxonomy_version() override;
  std::vector<TaxonomyVersion> taxonomy_versions() override;
  void add_model_version(const ModelVersion& v) override;
  void update_model_version(const ModelVersion& v) override;
  std::optional<ModelVersion> model_version(const std::string& version) override;
  std::vector<ModelVersion> model_versions() override;
  std::optional<std::string> setting(const std::string& key) override;
  void set_setting(const std::string& key, const std::string& value) override;

 private:
  PgConnection& c_;
};

class PgAccountStore : public virtual AccountStore {
 public:
  explicit PgAccountStore(PgConnection& connection) : c_(connection) {}

  std::int64_t add_user(const UserRecord& user) override;
  std::optional<UserRecord> find_user(const std::string& name) override;
  std::optional<UserRecord> find_user_by_id(std::int64_t id) override;
  std::vector<UserRecord> users() override;
  void update_user(const UserRecord& user) override;
  void add_api_token(std::int64_t user_id, const std::string& token_hash,
                     const std::string& created_at) override;
  std::optional<UserRecord> find_user_by_token_hash(const std::string& token_hash) override;
  void add_session(const SessionRecord& session) override;
  std::optional<SessionRecord> find_session(const std::string& id_hash) override;
  void delete_session(const std::string& id_hash) override;
  void delete_sessions_expired_before(const std::string& now) override;
  void add_login_failure(const LoginFailureRecord& failure) override;
  std::vector<LoginFailureRecord> login_failures(std::size_t limit) override;
  std::int64_t add_export_record(const ExportRecord& record) override;
  std::vector<ExportRecord> export_records(std::size_t limit) override;

 private:
  PgConnection& c_;
};

class PgWorkQueue : public virtual WorkQueue {
 public:
  explicit PgWorkQueue(PgConnection& connection) : c_(connection) {}

  void queue_work(std::span<const AssetId> ids, WorkStep step) override;
  std::int64_t queue_work_for_all(WorkStep step) override;
  std::vector<AssetId> pending_work(WorkStep step, AssetId after, std::size_t limit) override;
  std::int64_t pending_count(WorkStep step) override;
  std::vector<AssetId> claim_work(WorkStep step, const std::string& worker,
                                  std::chrono::seconds lease, std::size_t limit) override;
  std::int64_t claimed_count(WorkStep step) override;
  std::int64_t enqueue_jobs(JobKind kind, std::span<const std::string> targets) override;
  std::vector<Job> claim_jobs(JobKind kind, const std::string& worker, std::chrono::seconds lease,
                              std::size_t limit, int max_attempts) override;
  bool finish_job(std::int64_t id, const std::string& worker, const std::string& error) override;
  JobCounts job_counts(JobKind kind) override;
  std::vector<Job> jobs_in_state(JobState state, std::size_t limit) override;
  std::int64_t retry_failed_jobs(std::int64_t id) override;
  std::int64_t renew_leases(const std::string& worker, std::chrono::seconds lease) override;
  void release_leases(const std::string& worker) override;

 private:
  PgConnection& c_;
};

// Statements the roles share, each run inside the caller's transaction.
void pg_insert_work(pqxx::work& w, AssetId id, WorkStep step);
void pg_settle_work(pqxx::work& w, std::span<const AssetId> ids, WorkStep step);
// Bumps the change counter `name` (change_counters in pg_schema.cpp) and
// returns its new value; call it last in the transaction, as it holds the
// counter's row lock until commit.
std::int64_t pg_bump_counter(pqxx::work& w, const char* name);
// "{1,2,3}": a bigint[] parameter.
std::string pg_int_array(std::span<const AssetId> ids);

}  // namespace tagsmith::store
