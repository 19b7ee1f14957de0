#pragma once
// The Store: everything a library persists, as the sum of five roles.
//
//   AssetStore      assets, paths, ingest errors, embeddings, fingerprints
//   TagStore        tags and their audit trail, review log, audit samples
//   CatalogueStore  taxonomy versions, model versions, settings
//   AccountStore    users, API tokens, browser sessions
//   WorkQueue       what interrupted multi-step jobs have left to do
//
// Callers speak in domain operations ("commit this asset with its thumbnail
// and colours"), never SQL, so that the embedded SQLite store and a future
// PostgreSQL store are interchangeable; code that needs one role should take
// that role's interface. Each mutating call is one unit of work committed
// atomically: after a crash, it happened entirely or not at all.
// Implementations are safe to call from several threads.
//
// The roles are virtual bases so that an implementation can be assembled
// from one class per role over a shared connection (see src/store/sqlite_*.cpp);
// each role's calls then have exactly one implementation.
#include <memory>
#include <string>

#include "tagsmith/store/account_store.h"
#include "tagsmith/store/asset_store.h"
#include "tagsmith/store/catalogue_store.h"
#include "tagsmith/store/records.h"
#include "tagsmith/store/tag_store.h"
#include "tagsmith/store/work_queue.h"

namespace tagsmith::store {

class Store : public virtual AssetStore,
              public virtual TagStore,
              public virtual CatalogueStore,
              public virtual AccountStore,
              public virtual WorkQueue {
 public:
  ~Store() override = default;

  virtual int schema_version() const = 0;
  // Counts over every role.
  virtual LibraryStats stats() = 0;
  // The high-water marks of what search depends on (ChangeMarker), read in
  // one consistent snapshot. Cheap enough to poll several times a second at
  // millions of assets: each field is one indexed lookup, never a count.
  // Contract: after a change of assets, tags (tag events), embeddings or
  // taxonomy versions commits, every marker read afterwards differs, in that
  // change's field, from every marker read before the commit. (With one
  // writer at a time -- SQLite -- max() over ids does it; a store whose ids
  // can commit out of order must bump a counter at commit instead.)
  virtual ChangeMarker change_marker() = 0;
};

// Opens (creating and migrating when needed) the SQLite store at `db_path`.
std::unique_ptr<Store> open_sqlite_store(const std::string& db_path);

// Connects to the PostgreSQL database at `url` (postgresql://USER[:PASSWORD]
// @HOST[:PORT]/DATABASE[?host=/socket/dir…]) and migrates its schema when
// needed; several processes may open it at once. The database must exist.
// Throws Error with the reason for a wrong URL, a refused connection, wrong
// credentials, a missing database or a schema newer than this binary.
// $TAGSMITH_PG_POOL caps the connections one process opens (default:
// twice the cores, at least 4).
std::unique_ptr<Store> open_postgres_store(const std::string& url);
// Whether `location` is a PostgreSQL URL rather than a library directory.
bool is_postgres_url(const std::string& location);

}  // namespace tagsmith::store
