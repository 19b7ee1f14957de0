#include "sqlite_connection.h"

#include <fmt/format.h>
#include <sqlite3.h>

#include <algorithm>
#include <memory>

#include "sqlite_schema.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store {

SqliteConnection::SqliteConnection(const std::string& path)
    : path_(path),
      db_(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {
  db_.setBusyTimeout(30'000);
  db_.exec("PRAGMA journal_mode=WAL");
  // NORMAL is durable against application crashes (kill -9) in WAL mode;
  // only a power loss can drop the last few commits, never corrupt.
  db_.exec("PRAGMA synchronous=NORMAL");
  db_.exec("PRAGMA foreign_keys=ON");
  // Pages for a whole batch of a re-tag (thousands of assets' tags, events
  // and index entries; the default 2 MiB cache made a million-asset library
  // read each page again with a system call), grown only as used. No memory
  // map on this connection: through one, SQLite looks every page it touches
  // up in the WAL index before using it, cached or not, and a B-tree seek
  // touches several; a re-tag of a million assets spent 8% of its CPU
  // there. The cache answers repeated touches without that lookup.
  db_.exec("PRAGMA cache_size=-131072");
  db_.exec("PRAGMA mmap_size=0");
  // A WAL that grew during a long job is cut back to 64 MiB when it restarts.
  db_.exec("PRAGMA journal_size_limit=67108864");
  migrate();
  start_checkpointer();
}

void SqliteConnection::start_checkpointer() {
  if (path_.empty() || path_ == ":memory:") return;
  sqlite3_wal_hook(
      db_.getHandle(),
      [](void* self, sqlite3*, const char*, int pages) {
        auto* c = static_cast<SqliteConnection*>(self);
        if (pages >= kCheckpointPages) {
          {
            std::lock_guard held(c->checkpoint_mu_);
            c->checkpoint_due_ = true;
          }
          c->checkpoint_wanted_.notify_one();
        }
        return SQLITE_OK;
      },
      this);
  checkpointer_ = std::jthread([this](std::stop_token stop) {
    std::unique_ptr<SQLite::Database> db;
    for (;;) {
      {
        std::unique_lock held(checkpoint_mu_);
        if (!checkpoint_wanted_.wait(held, stop, [this] { return checkpoint_due_; })) return;
        checkpoint_due_ = false;
      }
      try {
        if (!db) {
          db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
          // Only RESTART waits, and writers wait while it does: a second at
          // most, then it gives up until the next wake-up (a long read, such
          // as a facet index build, must not stall ingest).
          db->setBusyTimeout(1'000);
        }
        int wal_pages = 0, copied = 0;
        sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &wal_pages,
                                  &copied);
        // Everything is in the database file, yet the WAL is long: a writer
        // starts the WAL again from its beginning only when no reader is in
        // it, and a batch job reads while it writes. RESTART waits (busy
        // timeout) for the readers of the moment to finish -- a batch read is
        // a fraction of a second, the writer waits as long -- so the WAL
        // stays within kRestartPages plus a batch.
        if (wal_pages >= kRestartPages && copied == wal_pages)
          sqlite3_wal_checkpoint_v2(db->getHandle(), nullptr, SQLITE_CHECKPOINT_RESTART, nullptr,
                                    nullptr);
      } catch (const std::exception&) {
        // Not checkpointing leaves the WAL longer, never loses a commit; the
        // next commit's wake-up tries again.
      }
    }
  });
}

SqliteConnection::Reader SqliteConnection::bulk_reader() const {
  if (path_.empty() || path_ == ":memory:") return {lock(), db_};
  std::unique_lock held(read_mu_);
  if (!read_db_) {
    read_db_ =
        std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READONLY | SQLite::OPEN_NOMUTEX);
    read_db_->setBusyTimeout(30'000);
    read_db_->exec("PRAGMA cache_size=-131072");
    read_db_->exec("PRAGMA mmap_size=17179869184");
  }
  return {std::move(held), *read_db_};
}

int SqliteConnection::schema_version() const {
  auto held = lock();
  return db_.execAndGet("PRAGMA user_version").getInt();
}

void SqliteConnection::migrate() {
  const int current = db_.execAndGet("PRAGMA user_version").getInt();
  const auto& all = sqlite_migrations();
  if (current > static_cast<int>(all.size())) {
    throw Error(fmt::format(
        "library schema version {} is newer than this tagsmith supports ({}); upgrade tagsmith",
        current, all.size()));
  }
  for (const auto& m : all) {
    if (m.number <= current) continue;
    SQLite::Transaction tx(db_);
    db_.exec(m.sql);
    db_.exec(fmt::format("PRAGMA user_version = {}", m.number));
    tx.commit();
  }
}

SQLite::Column Row::next() {
  if (index_ >= q_.getColumnCount())
    throw Error(fmt::format("row reader read past the {} columns of: {}", q_.getColumnCount(),
                            q_.getQuery()));
  return q_.getColumn(index_++);
}

void Row::end() const {
  if (index_ != q_.getColumnCount())
    throw Error(fmt::format("row reader read {} of the {} columns of: {}", index_,
                            q_.getColumnCount(), q_.getQuery()));
}

std::vector<std::int64_t> sorted_ids(std::span<const std::int64_t> ids) {
  std::vector<std::int64_t> out(ids.begin(), ids.end());
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<IdRun> id_runs(const std::vector<std::int64_t>& sorted) {
  std::vector<IdRun> runs;
  for (const std::int64_t id : sorted) {
    if (!runs.empty() && id - runs.back().last <= kIdRunGap)
      runs.back().last = id;
    else
      runs.push_back({id, id});
  }
  return runs;
}

}  // namespace tagsmith::store
