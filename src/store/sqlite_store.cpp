// The embedded default Store: one SQLite database file in the library
// directory, in WAL mode so readers never block the single writer, with
// foreign keys on and each unit of work in one transaction. Assembled from
// one implementation per role (sqlite_roles.h) over one shared connection.
#include <fmt/format.h>

#include "sqlite_roles.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"

namespace tagsmith::store {
namespace {

// The connection is the first base, so it is open (and migrated) before the
// role implementations that hold a reference to it are constructed.
class SqliteStore final : private SqliteConnection,
                          public Store,
                          public SqliteAssetStore,
                          public SqliteTagStore,
                          public SqliteCatalogueStore,
                          public SqliteAccountStore,
                          public SqliteWorkQueue {
 public:
  explicit SqliteStore(const std::string& path)
      : SqliteConnection(path),
        SqliteAssetStore(connection()),
        SqliteTagStore(connection()),
        SqliteCatalogueStore(connection()),
        SqliteAccountStore(connection()),
        SqliteWorkQueue(connection()) {}

  int schema_version() const override { return SqliteConnection::schema_version(); }

  LibraryStats stats() override {
    auto held = lock();
    auto count = [this](const char* sql) { return db().execAndGet(sql).getInt64(); };
    LibraryStats s;
    s.assets = count("SELECT count(*) FROM assets");
    s.aliases = count("SELECT count(*) FROM asset_paths WHERE is_alias = 1");
    s.rejected_files = count("SELECT count(*) FROM ingest_errors");
    s.embeddings = count("SELECT count(*) FROM embeddings");
    s.tag_events = count("SELECT count(*) FROM tag_events");
    s.pending_tagging = count("SELECT count(*) FROM work_queue WHERE step = 'tag'");
    SQLite::Statement q(db(), "SELECT state, count(*) FROM tags GROUP BY state");
    while (q.executeStep()) {
      Row r(q);
      const TagState state = tag_state_from_string(r.text());
      const std::int64_t n = r.int64();
      r.end();
      switch (state) {
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
  }

  ChangeMarker change_marker() override {
    auto held = lock();
    // One statement: one read snapshot. Each max() over an integer primary
    // key is a single b-tree seek, so this stays cheap at any size.
    SQLite::Statement q(db(),
                        "SELECT (SELECT coalesce(max(id), 0) FROM assets), "
                        "(SELECT coalesce(max(id), 0) FROM tag_events), "
                        "(SELECT value FROM change_counters WHERE name = 'embedding_seq'), "
                        "(SELECT coalesce(max(id), 0) FROM taxonomy_versions)");
    if (!q.executeStep()) throw Error("cannot read the library's change marker");
    Row r(q);
    ChangeMarker m;
    m.last_asset = r.int64();
    m.last_tag_event = r.int64();
    m.last_embedding_seq = r.int64();
    m.last_taxonomy_version = r.int64();
    r.end();
    return m;
  }

 private:
  SqliteConnection& connection() { return *this; }
};

}  // namespace

std::unique_ptr<Store> open_sqlite_store(const std::string& db_path) {
  try {
    return std::make_unique<SqliteStore>(db_path);
  } catch (const SQLite::Exception& e) {
    throw Error(fmt::format("cannot open library database {}: {}", db_path, e.what()));
  }
}

}  // namespace tagsmith::store
