// The PostgreSQL Store: one database shared by every worker and server of a
// library, reached through a connection pool, each unit of work one
// transaction. Assembled from one implementation per role (pg_roles.h).
#include "pg_roles.h"
#include "tagsmith/store/store.h"

namespace tagsmith::store {
namespace {

// The connection is the first base, so it is open (and migrated) before the
// role implementations that hold a reference to it are constructed.
class PgStore final : private PgConnection,
                      public Store,
                      public PgAssetStore,
                      public PgTagStore,
                      public PgCatalogueStore,
                      public PgAccountStore,
                      public PgWorkQueue {
 public:
  explicit PgStore(const std::string& url)
      : PgConnection(url),
        PgAssetStore(connection()),
        PgTagStore(connection()),
        PgCatalogueStore(connection()),
        PgAccountStore(connection()),
        PgWorkQueue(connection()) {}

  int schema_version() const override {
    return const_cast<PgStore*>(this)->PgConnection::schema_version();
  }

  LibraryStats stats() override {
    return transact([](pqxx::work& w) {
      // One round trip; each count is one scan (or index-only scan).
      const auto r = w.exec1(
          "SELECT (SELECT count(*) FROM assets), "
          "(SELECT count(*) FROM asset_paths WHERE is_alias = 1), "
          "(SELECT count(*) FROM ingest_errors), (SELECT count(*) FROM embeddings), "
          "(SELECT count(*) FROM tag_events), "
          "(SELECT count(*) FROM work_queue WHERE step = 'tag')");
      LibraryStats s;
      PgRow row(r);
      s.assets = row.int64();
      s.aliases = row.int64();
      s.rejected_files = row.int64();
      s.embeddings = row.int64();
      s.tag_events = row.int64();
      s.pending_tagging = row.int64();
      row.end();
      for (const auto& by_state : w.exec("SELECT state, count(*) FROM tags GROUP BY state")) {
        const std::int64_t n = by_state[1].as<std::int64_t>();
        switch (tag_state_from_string(by_state[0].as<std::string>())) {
          case TagState::kAuto:
            s.tags_auto = n;
            break;
          case TagState::kFlagged:
            s.tags_flagged = n;
            break;
          case TagState::kSuggested:
            s.tags_suggested = n;
            break;
          case TagState::kConfirmed:
            s.tags_confirmed = n;
            break;
          case TagState::kRejected:
            s.tags_rejected = n;
            break;
          case TagState::kHumanSet:
            s.tags_human_set = n;
            break;
        }
      }
      return s;
    });
  }

  // The counters, not max(id): see change_counters in pg_schema.cpp.
  ChangeMarker change_marker() override {
    return transact([](pqxx::work& w) {
      ChangeMarker m;
      for (const auto& row : w.exec("SELECT name, value FROM change_counters")) {
        const auto name = row[0].as<std::string>();
        const auto value = row[1].as<std::int64_t>();
        if (name == "assets") m.last_asset = value;
        if (name == "tag_events") m.last_tag_event = value;
        if (name == "embedding_seq") m.last_embedding_seq = value;
        if (name == "taxonomy_versions") m.last_taxonomy_version = value;
      }
      return m;
    });
  }

 private:
  PgConnection& connection() { return *this; }
};

}  // namespace

std::unique_ptr<Store> open_postgres_store(const std::string& url) {
  return std::make_unique<PgStore>(url);
}

bool is_postgres_url(const std::string& location) {
  return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

}  // namespace tagsmith::store
