#pragma once
// Moving a library from its embedded SQLite database to a shared PostgreSQL
// one (`tagsmith migrate`, docs/deploy.md), and checking that the two agree.
//
// The copy is table by table, each in primary-key order, in batches that are
// one PostgreSQL transaction each, keeping every id (the audit trail's
// included). Both stores sort keys bytewise, so what a batch has committed is
// always a prefix of the source table in key order: an interrupted copy
// (kill -9, lost connection) is resumed by running it again, which starts
// each table after the last key the target already holds. Afterwards the
// identity sequences are moved past the copied ids, so rows added later
// don't collide.
//
// Verification reads every table on both sides in key order and compares
// the row count and a SHA-256 over a canonical rendering of each row
// (integers in decimal, reals in their shortest exact form, text as is,
// blobs in hex), computed by the same code on both sides. What differs by
// design is left out: lease columns (timestamps in PostgreSQL, text in
// SQLite; both only mean "a worker holds this until…"), columns one store
// has and the other lacks, each store's change counters (moved past the
// copied numbers instead), and the setting `files_dir`, which only a
// PostgreSQL library has.
//
// The files that are not rows (thumbnails, palette, model artefacts) stay
// where they are: the migrated library's files directory (setting
// `files_dir`) is the old library directory unless told otherwise.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tagsmith::store {

struct MigrationOptions {
  // Recorded as the target's `files_dir` setting after a verified copy; empty
  // leaves the setting alone.
  std::string files_dir;
  // Rows per batch (one transaction each).
  std::size_t batch_rows = 2000;
  // Called after every committed batch with the table, the rows of it the
  // target now holds, and the source's row count. May throw to stop the copy
  // (tests simulate an interruption this way); what was committed stays.
  std::function<void(const std::string& table, std::int64_t done, std::int64_t total)> on_batch;
};

// One table of a comparison.
struct TableComparison {
  std::string table;
  std::int64_t source_rows = 0, target_rows = 0;
  std::int64_t copied = 0;  // rows this run copied (0 for a verification alone)
  std::string source_sha256, target_sha256;
  bool matches() const { return source_rows == target_rows && source_sha256 == target_sha256; }
};

struct MigrationReport {
  std::string source;                   // the SQLite file
  std::string target;                   // the URL, password replaced by ***
  std::vector<TableComparison> tables;  // in copy order
  double seconds = 0;                   // copy and verification
  bool verified() const;                // every table matches
  std::vector<std::string> mismatched_tables() const;
};

// The tables a library consists of, in copy order (referenced tables first).
const std::vector<std::string>& library_tables();

// Copies the SQLite library database `sqlite_db` (a library's library.db,
// opened read-only, its state at the start of the call) into the PostgreSQL
// database at `url`, creating or upgrading the schema there, then verifies
// every table. The target must be empty or hold a partial copy of this same
// library (an earlier, interrupted run). Throws tagsmith::Error, before
// copying anything, for a source whose schema version this binary doesn't
// have (older: open it once with this tagsmith to upgrade; newer: upgrade
// tagsmith), for a source table missing from library_tables() (a schema
// change that this copier was not taught), for a target that holds another
// library or rows the source lacks, and while another copy into the same
// database runs. A mismatch found by the verification is reported, not thrown.
MigrationReport migrate_sqlite_to_postgres(const std::string& sqlite_db, const std::string& url,
                                           const MigrationOptions& options = {});

// Only the verification: counts and checksums of every table on both sides.
MigrationReport compare_sqlite_with_postgres(const std::string& sqlite_db, const std::string& url);

}  // namespace tagsmith::store
