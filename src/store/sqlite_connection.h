#pragma once
// What the SQLite role implementations share: one connection and the lock
// that serialises its use, plus two small helpers that keep each row's
// columns in one order — Row reads a result column by column and Binder binds
// parameters one after another, so a reader or writer written beside its
// column list follows that list by construction, with no column numbers.
#include <SQLiteCpp/SQLiteCpp.h>

#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <thread>
#include <vector>

namespace tagsmith::store {

class SqliteConnection {
 public:
  // Opens (creating and migrating when needed) the database at `path`, in WAL
  // mode with foreign keys on.
  explicit SqliteConnection(const std::string& path);

  // Every call holds this for its whole unit of work. Recursive, so a call
  // may reuse another call of the same store.
  [[nodiscard]] std::unique_lock<std::recursive_mutex> lock() const {
    return std::unique_lock(mu_);
  }
  SQLite::Database& db() const { return db_; }
  int schema_version() const;

  // A second, read-only connection for the bulk reads of a batch job
  // (find_assets, tags_of_assets, visit_tag_summaries, embeddings), so that a re-tag reads its
  // next batch while the writer writes the last: in WAL mode a reader never
  // waits for the writer (at a million assets, reading and writing one after
  // the other on one connection took twice as long). Each read sees the
  // latest commit, so it must not be used inside a unit of work that has
  // written (none is: those calls are never made inside a store call). A
  // database without a file (":memory:", "") reads through the first. The
  // second connection is opened without SQLite's own mutex: it is only used
  // under the Reader's lock, by statements that end before it is released.
  struct Reader {
    std::unique_lock<std::recursive_mutex> held;
    SQLite::Database& db;
  };
  [[nodiscard]] Reader bulk_reader() const;

 private:
  void migrate();
  void start_checkpointer();

  const std::string path_;
  mutable std::recursive_mutex mu_;
  mutable SQLite::Database db_;
  mutable std::recursive_mutex read_mu_;
  mutable std::unique_ptr<SQLite::Database> read_db_;  // opened on first use

  // Checkpoints run on their own thread and connection, not in the commit
  // that fills the WAL: copying a batch's pages into the database file and
  // syncing it took a third of a re-tag's writing time. A commit that leaves
  // at least kCheckpointPages in the WAL wakes the checkpointer (the WAL hook
  // replaces SQLite's automatic checkpoint, which has the same threshold);
  // it runs a PASSIVE checkpoint, which never blocks readers or the writer.
  // Declared last: stopped and joined before the connections close.
  static constexpr int kCheckpointPages = 1000;
  static constexpr int kRestartPages = 32768;  // 128 MiB
  std::mutex checkpoint_mu_;
  std::condition_variable_any checkpoint_wanted_;
  bool checkpoint_due_ = false;
  std::jthread checkpointer_;
};

// Reads the current row of `q` left to right.
class Row {
 public:
  explicit Row(SQLite::Statement& q) : q_(q) {}
  std::int64_t int64() { return next().getInt64(); }
  int integer() { return next().getInt(); }
  double real() { return next().getDouble(); }
  std::string text() { return next().getString(); }
  bool flag() { return next().getInt() != 0; }
  bool next_is_null() const { return q_.getColumn(index_).isNull(); }
  SQLite::Column column() { return next(); }
  // Throws unless every column was read exactly once: a reader that drifted
  // from its column list fails loudly instead of filling the wrong fields.
  void end() const;

 private:
  SQLite::Column next();
  SQLite::Statement& q_;
  int index_ = 0;
};

// Binds the parameters of `q` left to right, starting at the first.
class Binder {
 public:
  explicit Binder(SQLite::Statement& q) : q_(q) {}
  Binder& operator()(std::int64_t v) { return q_.bind(++index_, v), *this; }
  Binder& operator()(int v) { return q_.bind(++index_, v), *this; }
  Binder& operator()(double v) { return q_.bind(++index_, v), *this; }
  Binder& operator()(bool v) { return q_.bind(++index_, v ? 1 : 0), *this; }
  Binder& operator()(const std::string& v) { return q_.bind(++index_, v), *this; }
  Binder& operator()(const char*) = delete;  // bind std::string: SQLiteCpp copies it

 private:
  SQLite::Statement& q_;
  int index_ = 0;
};

// Ascending, distinct copies of `ids`, split into runs that bulk reads scan
// with one "BETWEEN first AND last" each: ids at most kIdRunGap apart share
// a run, so a dense batch is one scan and a scattered one wastes little.
inline constexpr std::int64_t kIdRunGap = 8;
struct IdRun {
  std::int64_t first, last;
};
std::vector<std::int64_t> sorted_ids(std::span<const std::int64_t> ids);
std::vector<IdRun> id_runs(const std::vector<std::int64_t>& sorted);

}  // namespace tagsmith::store
