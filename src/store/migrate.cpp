// Copying a SQLite library into PostgreSQL, resumably, and verifying the copy
// (store/migrate.h).
//
// Both sides are driven by one description per table: its name, its key
// columns (the copy and verification order) and the columns both schemas
// have, each with a kind that says how its values are read, rendered and
// written. Every value is handled in a canonical text form (integers in
// decimal, reals in fmt's shortest exact form, text as is, blobs in lower-
// case hex), so the checksums of the two sides come from identical bytes.
#include "tagsmith/store/migrate.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <openssl/evp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include "pg_connection.h"
#include "sqlite_schema.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/utf8.h"

namespace tagsmith::store {
namespace {

// A copy of a PostgreSQL library remembers its files directory here
// (library/library.cpp); a SQLite library has no such row.
constexpr const char* kFilesDirSetting = "files_dir";
// Names the advisory lock that keeps two copies into one database apart (any
// constant other than the schema migration's).
constexpr std::int64_t kCopyLock = 0x7461676d69;  // "tagmi"

enum class Kind { kInteger, kReal, kText, kBlob, kLease };

struct Column {
  std::string name;
  Kind kind;
};

struct TableSpec {
  std::string name;
  std::vector<std::string> key;
  std::string filter;  // rows of the table that belong to the copy; "" = all
};

const std::vector<TableSpec>& table_specs() {
  // Referenced tables come before the tables whose foreign keys point to
  // them, so a partial copy never holds a dangling reference.
  static const std::vector<TableSpec> specs = {
      {"settings", {"key"}, fmt::format("key <> '{}'", kFilesDirSetting)},
      {"taxonomy_versions", {"id"}, ""},
      {"model_versions", {"id"}, ""},
      {"assets", {"id"}, ""},
      {"asset_paths", {"path"}, ""},
      {"thumbnails", {"asset_id"}, ""},
      {"asset_colours", {"asset_id", "rank"}, ""},
      {"embeddings", {"asset_id", "model_version"}, ""},
      {"tags", {"asset_id", "attribute", "node"}, ""},
      {"tag_events", {"id"}, ""},
      {"review_log", {"id"}, ""},
      {"audit_samples", {"id"}, ""},
      {"ingest_errors", {"path"}, ""},
      {"users", {"id"}, ""},
      {"api_tokens", {"token_hash"}, ""},
      {"sessions", {"id_hash"}, ""},
      {"login_failures", {"id"}, ""},
      {"export_events", {"id"}, ""},
      {"work_queue", {"step", "asset_id"}, ""},
      {"jobs", {"id"}, ""},
      {"review_claims", {"asset_id", "attribute", "node"}, ""},
      {"review_decisions", {"id"}, ""},
  };
  return specs;
}

// A row in canonical form, one entry per column; nullopt is SQL NULL.
using Value = std::optional<std::string>;
using CanonicalRow = std::vector<Value>;

std::string hex(const void* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  const auto* bytes = static_cast<const unsigned char*>(data);
  std::string out;
  out.reserve(size * 2);
  for (std::size_t i = 0; i < size; ++i) {
    out.push_back(kHex[bytes[i] >> 4]);
    out.push_back(kHex[bytes[i] & 0xf]);
  }
  return out;
}

std::string canonical_real(double v) {
  return fmt::format("{}", v);
}

std::string quoted_identifier(const std::string& name) {
  return "\"" + name + "\"";
}

// One table as both sides see it.
struct Table {
  TableSpec spec;
  std::vector<Column> columns;   // both schemas have them, in SQLite's order
  std::vector<std::size_t> key;  // indexes into `columns`
  std::vector<bool> checked;     // per column: part of the checksum

  std::string column_list() const {
    std::string out;
    for (const auto& c : columns) {
      if (!out.empty()) out += ", ";
      out += quoted_identifier(c.name);
    }
    return out;
  }
  std::string key_list(const char* suffix = "") const {
    std::string out;
    for (auto i : key) {
      if (!out.empty()) out += ", ";
      out += quoted_identifier(columns[i].name) + suffix;
    }
    return out;
  }
  std::string where(const std::string& more = "") const {
    std::string out;
    if (!spec.filter.empty()) out = spec.filter;
    if (!more.empty()) out += (out.empty() ? "" : " AND ") + more;
    return out.empty() ? "" : " WHERE " + out;
  }
  std::string key_placeholders() const {
    std::string out;
    for (std::size_t i = 0; i < key.size(); ++i) out += i ? ", ?" : "?";
    return out;
  }
  // The checked columns of `row` as text, for messages.
  std::string describe_key(const CanonicalRow& row) const {
    std::string out;
    for (auto i : key) {
      if (!out.empty()) out += ", ";
      out += columns[i].name + "=" + row[i].value_or("NULL");
    }
    return out;
  }
  bool same_checked_values(const CanonicalRow& a, const CanonicalRow& b) const {
    for (std::size_t i = 0; i < columns.size(); ++i)
      if (checked[i] && a[i] != b[i]) return false;
    return true;
  }
};

// --- SHA-256 over canonical rows --------------------------------------------

class RowHasher {
 public:
  RowHasher() : ctx_(EVP_MD_CTX_new(), &EVP_MD_CTX_free) {
    if (!ctx_ || EVP_DigestInit_ex(ctx_.get(), EVP_sha256(), nullptr) != 1)
      throw Error("SHA-256 initialisation failed (OpenSSL)");
  }
  // Length-prefixed values, so ("ab","c") and ("a","bc") hash differently.
  void add(const Table& t, const CanonicalRow& row) {
    buffer_.clear();
    for (std::size_t i = 0; i < row.size(); ++i) {
      if (!t.checked[i]) continue;
      if (!row[i]) {
        buffer_ += "N;";
      } else {
        buffer_ += fmt::format("{}:", row[i]->size());
        buffer_ += *row[i];
      }
    }
    buffer_ += '\n';
    EVP_DigestUpdate(ctx_.get(), buffer_.data(), buffer_.size());
    ++rows_;
  }
  std::string hex_digest() {
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    if (EVP_DigestFinal_ex(ctx_.get(), digest, &len) != 1) throw Error("SHA-256 failed (OpenSSL)");
    return hex(digest, len);
  }
  std::int64_t rows() const { return rows_; }

 private:
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx_;
  std::string buffer_;
  std::int64_t rows_ = 0;
};

// --- the SQLite side ----------------------------------------------------------

class Source {
 public:
  explicit Source(const std::string& path) : db_(open(path)) {
    const int version = db_.execAndGet("PRAGMA user_version").getInt();
    const int known = static_cast<int>(sqlite_migrations().size());
    if (version == 0) throw InputError(fmt::format("{} is not a tagsmith library database", path));
    if (version < known)
      throw InputError(fmt::format(
          "the library at {} has schema version {}, this tagsmith copies version {}: open it once "
          "with this tagsmith (e.g. `tagsmith stats --library DIR`) to upgrade it, then migrate",
          path, version, known));
    if (version > known)
      throw InputError(fmt::format(
          "the library at {} has schema version {}, newer than this tagsmith knows ({}); use the "
          "tagsmith that wrote it",
          path, version, known));
    // One read transaction for the whole run: every table is read from the
    // same snapshot, even if a process writes to the library meanwhile.
    db_.exec("BEGIN");
    db_.execAndGet("SELECT count(*) FROM sqlite_master");
  }
  ~Source() {
    try {
      db_.exec("ROLLBACK");
    } catch (...) {
    }
  }

  std::vector<std::string> tables() {
    SQLite::Statement q(db_,
                        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE "
                        "'sqlite_%' ORDER BY name");
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }

  std::vector<std::string> columns(const std::string& table) {
    SQLite::Statement q(db_, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
    q.bind(1, table);
    std::vector<std::string> out;
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
  }

  std::int64_t count(const Table& t, const std::string& more = "",
                     const CanonicalRow* key_row = nullptr) {
    SQLite::Statement q(db_, "SELECT count(*) FROM " + t.spec.name + t.where(more));
    if (key_row) bind_key(q, t, *key_row);
    q.executeStep();
    return q.getColumn(0).getInt64();
  }

  std::optional<CanonicalRow> row_at(const Table& t, const CanonicalRow& key_row) {
    SQLite::Statement q(
        db_, fmt::format("SELECT {} FROM {}{}", t.column_list(), t.spec.name,
                         t.where(fmt::format("({}) = ({})", t.key_list(), t.key_placeholders()))));
    bind_key(q, t, key_row);
    if (!q.executeStep()) return std::nullopt;
    return read(t, q);
  }

  // Calls fn for every row after `after` (all rows when null), in key order.
  void for_each_row(const Table& t, const CanonicalRow* after,
                    const std::function<void(const CanonicalRow&)>& fn) {
    const std::string more =
        after ? fmt::format("({}) > ({})", t.key_list(), t.key_placeholders()) : "";
    SQLite::Statement q(db_, fmt::format("SELECT {} FROM {}{} ORDER BY {}", t.column_list(),
                                         t.spec.name, t.where(more), t.key_list()));
    if (after) bind_key(q, t, *after);
    while (q.executeStep()) fn(read(t, q));
  }

 private:
  static SQLite::Database open(const std::string& path) {
    try {
      SQLite::Database db(path, SQLite::OPEN_READONLY);
      db.setBusyTimeout(30'000);
      return db;
    } catch (const SQLite::Exception& e) {
      throw NotFoundError(fmt::format("cannot open the library database {}: {}", path, e.what()));
    }
  }

  static void bind_key(SQLite::Statement& q, const Table& t, const CanonicalRow& row) {
    int index = 0;
    for (auto i : t.key) {
      const auto& v = row[i];
      if (!v) {
        q.bind(++index);
      } else if (t.columns[i].kind == Kind::kInteger) {
        q.bind(++index, static_cast<std::int64_t>(std::stoll(*v)));
      } else {
        q.bind(++index, *v);
      }
    }
  }

  static CanonicalRow read(const Table& t, SQLite::Statement& q) {
    CanonicalRow row;
    row.reserve(t.columns.size());
    for (std::size_t i = 0; i < t.columns.size(); ++i) {
      const SQLite::Column c = q.getColumn(static_cast<int>(i));
      if (c.isNull()) {
        row.emplace_back();
        continue;
      }
      switch (t.columns[i].kind) {
        case Kind::kInteger:
          row.emplace_back(std::to_string(c.getInt64()));
          break;
        case Kind::kReal:
          row.emplace_back(canonical_real(c.getDouble()));
          break;
        case Kind::kText:
          row.emplace_back(c.getString());
          break;
        case Kind::kBlob:
          row.emplace_back(hex(c.getBlob(), static_cast<std::size_t>(c.getBytes())));
          break;
        case Kind::kLease: {
          // '' = no lease in SQLite, NULL in PostgreSQL.
          std::string s = c.getString();
          if (s.empty()) {
            row.emplace_back();
          } else {
            row.emplace_back(std::move(s));
          }
          break;
        }
      }
    }
    return row;
  }

  SQLite::Database db_;
};

// --- the PostgreSQL side ------------------------------------------------------

Kind kind_of_pg_type(const std::string& table, const std::string& column, const std::string& type) {
  if (type == "bigint" || type == "integer" || type == "smallint") return Kind::kInteger;
  if (type == "double precision" || type == "real") return Kind::kReal;
  if (type == "text" || type == "character varying") return Kind::kText;
  if (type == "bytea") return Kind::kBlob;
  if (type == "timestamp with time zone") return Kind::kLease;
  throw Error(fmt::format("migrate: column {}.{} has PostgreSQL type {}, which it cannot copy",
                          table, column, type));
}

CanonicalRow read_pg(const Table& t, const pqxx::row& r) {
  CanonicalRow row;
  row.reserve(t.columns.size());
  for (std::size_t i = 0; i < t.columns.size(); ++i) {
    const pqxx::field f = r[static_cast<pqxx::row::size_type>(i)];
    if (f.is_null()) {
      row.emplace_back();
      continue;
    }
    std::string s(f.c_str(), f.size());
    switch (t.columns[i].kind) {
      case Kind::kInteger:
      case Kind::kText:
      case Kind::kLease:
        row.emplace_back(std::move(s));
        break;
      case Kind::kReal:
        // PostgreSQL prints the shortest text that reads back exactly.
        row.emplace_back(canonical_real(std::strtod(s.c_str(), nullptr)));
        break;
      case Kind::kBlob:
        // bytea's hex output: \x0a1b…
        row.emplace_back(s.starts_with("\\x") ? s.substr(2) : s);
        break;
    }
  }
  return row;
}

// `v` as an SQL literal for a column of kind `kind`.
std::string literal(pqxx::work& w, Kind kind, const Value& v) {
  if (!v) return "NULL";
  switch (kind) {
    case Kind::kInteger:
      return *v;  // our own decimal rendering
    case Kind::kReal:
      if (*v == "nan") return "'NaN'";
      if (*v == "inf") return "'Infinity'";
      if (*v == "-inf") return "'-Infinity'";
      return "'" + *v + "'";  // read by float8in: exact
    case Kind::kText:
    case Kind::kLease:
      return w.quote(*v);
    case Kind::kBlob:
      return "'\\x" + *v + "'::bytea";
  }
  return "NULL";
}

std::vector<Table> plan_tables(Source& source, PgConnection& target) {
  // A table that a later SQLite migration adds must be added to
  // table_specs() too; until then, refuse rather than leave it behind.
  for (const auto& name : source.tables()) {
    // Counters are each store's own (the target's are moved past the copied
    // numbers afterwards, advance_sequences), never copied.
    if (name == "change_counters") continue;
    const bool known = std::any_of(table_specs().begin(), table_specs().end(),
                                   [&](const TableSpec& s) { return s.name == name; });
    if (!known)
      throw Error(fmt::format(
          "migrate does not know the library table {} (add it to src/store/migrate.cpp)", name));
  }
  std::vector<Table> tables;
  for (const auto& spec : table_specs()) {
    const auto source_columns = source.columns(spec.name);
    if (source_columns.empty())
      throw Error(fmt::format("migrate: the source has no table {}", spec.name));
    std::map<std::string, Kind> target_columns;
    target.transact([&](pqxx::work& w) {
      for (const auto& r :
           w.exec_params("SELECT column_name, data_type FROM information_schema.columns "
                         "WHERE table_schema = current_schema() AND table_name = $1",
                         spec.name)) {
        const auto name = r[0].as<std::string>();
        target_columns[name] = kind_of_pg_type(spec.name, name, r[1].as<std::string>());
      }
    });
    Table t;
    t.spec = spec;
    for (const auto& name : source_columns) {
      const auto it = target_columns.find(name);
      if (it == target_columns.end()) continue;  // only the source has it
      t.columns.push_back({name, it->second});
      t.checked.push_back(it->second != Kind::kLease);
    }
    for (const auto& k : spec.key) {
      const auto it = std::find_if(t.columns.begin(), t.columns.end(),
                                   [&](const Column& c) { return c.name == k; });
      if (it == t.columns.end())
        throw Error(fmt::format("migrate: key column {}.{} is missing on one side", spec.name, k));
      t.key.push_back(static_cast<std::size_t>(it - t.columns.begin()));
    }
    tables.push_back(std::move(t));
  }
  return tables;
}

// The target's last row of `t` in key order, if any.
std::optional<CanonicalRow> last_target_row(PgConnection& target, const Table& t) {
  return target.transact([&](pqxx::work& w) -> std::optional<CanonicalRow> {
    const auto r = w.exec(fmt::format("SELECT {} FROM {}{} ORDER BY {} LIMIT 1", t.column_list(),
                                      t.spec.name, t.where(), t.key_list(" DESC")));
    if (r.empty()) return std::nullopt;
    return read_pg(t, r[0]);
  });
}

std::int64_t target_count(PgConnection& target, const Table& t) {
  return target.transact([&](pqxx::work& w) {
    return w.exec1(fmt::format("SELECT count(*) FROM {}{}", t.spec.name, t.where()))[0]
        .as<std::int64_t>();
  });
}

// Throws unless the target's rows of `t` are a prefix of the source's, as an
// interrupted copy leaves them: same row at the target's last key, and as
// many rows up to it on both sides.
void check_resumable(Source& source, PgConnection& target, const Table& t,
                     const std::optional<CanonicalRow>& last, const std::string& display_url) {
  const std::int64_t held = target_count(target, t);
  if (!last) return;
  const auto mine = source.row_at(t, *last);
  if (!mine || !t.same_checked_values(*mine, *last)) {
    throw InputError(fmt::format(
        "the PostgreSQL database {} already holds a different library: its {} row ({}) {} the "
        "source. Migrate into an empty database (createdb a new one), or drop this one if it is "
        "a copy you no longer need",
        display_url, t.spec.name, t.describe_key(*last),
        mine ? "differs from the same row in" : "does not exist in"));
  }
  const std::int64_t up_to =
      source.count(t, fmt::format("({}) <= ({})", t.key_list(), t.key_placeholders()), &*last);
  if (up_to != held) {
    throw InputError(fmt::format(
        "the PostgreSQL database {} holds {} rows of {} where the source has {} up to the same "
        "key: it is not a partial copy of this library (was it used since?). Migrate into an "
        "empty database",
        display_url, held, t.spec.name, up_to));
  }
}

struct RefusedText {
  std::size_t column = 0;
  bool nul = false;
  unsigned char byte = 0;
  std::size_t offset = 0;
};

// The first text value of `row` that a PostgreSQL text column (UTF-8, no NUL)
// would refuse. SQLite keeps any bytes, and file names need not be UTF-8.
std::optional<RefusedText> text_postgres_refuses(const Table& t, const CanonicalRow& row) {
  for (std::size_t i = 0; i < row.size(); ++i) {
    if (t.columns[i].kind != Kind::kText || !row[i]) continue;
    if (const auto nul = row[i]->find('\0'); nul != std::string::npos)
      return RefusedText{i, true, 0, nul};
    if (const auto bad = find_invalid_utf8(*row[i]))
      return RefusedText{i, false, bad->byte, bad->offset};
  }
  return std::nullopt;
}

std::int64_t copy_table(Source& source, PgConnection& target, const Table& t,
                        const std::optional<CanonicalRow>& last, const MigrationOptions& options) {
  const std::int64_t total = source.count(t);
  std::int64_t done = last ? target_count(target, t) : 0;
  std::int64_t copied = 0;
  std::vector<CanonicalRow> batch;
  std::size_t batch_bytes = 0;
  const std::size_t batch_rows = std::max<std::size_t>(1, options.batch_rows);
  // A batch is also cut at this much SQL text (embeddings are large rows).
  constexpr std::size_t kMaxBatchBytes = 16u << 20;

  const auto flush = [&] {
    if (batch.empty()) return;
    target.transact([&](pqxx::work& w) {
      std::string sql = fmt::format("INSERT INTO {} ({}) VALUES ", t.spec.name, t.column_list());
      sql.reserve(batch_bytes + batch.size() * (t.columns.size() * 4 + 4) + sql.size());
      for (std::size_t r = 0; r < batch.size(); ++r) {
        sql += r ? ",(" : "(";
        for (std::size_t i = 0; i < t.columns.size(); ++i) {
          if (i) sql += ',';
          sql += literal(w, t.columns[i].kind, batch[r][i]);
        }
        sql += ')';
      }
      w.exec(sql);
    });
    done += static_cast<std::int64_t>(batch.size());
    copied += static_cast<std::int64_t>(batch.size());
    batch.clear();
    batch_bytes = 0;
    if (options.on_batch) options.on_batch(t.spec.name, done, total);
  };

  source.for_each_row(t, last ? &*last : nullptr, [&](const CanonicalRow& row) {
    if (const auto bad = text_postgres_refuses(t, row)) {
      flush();  // a re-run resumes at this row
      throw InputError(fmt::format(
          "cannot copy the {} row ({}): its {} is not UTF-8 text{}, and PostgreSQL keeps text "
          "as UTF-8 (a file name from an old camera card?). Rename the file and ingest it "
          "again, or remove the row, then run migrate again",
          t.spec.name, t.describe_key(row), t.columns[bad->column].name,
          bad->nul ? " (it holds a NUL byte)"
                   : fmt::format(" (byte 0x{:02x} at offset {})", bad->byte, bad->offset)));
    }
    for (const auto& v : row) batch_bytes += v ? v->size() : 0;
    batch.push_back(row);
    if (batch.size() >= batch_rows || batch_bytes >= kMaxBatchBytes) flush();
  });
  flush();
  return copied;
}

// Moves every identity sequence past the ids copied in, and the change
// counters past the numbers copied in.
void advance_sequences(PgConnection& target, const std::vector<Table>& tables) {
  target.transact([&](pqxx::work& w) {
    for (const auto& t : tables) {
      if (t.spec.key != std::vector<std::string>{"id"}) continue;
      w.exec(
          fmt::format("SELECT setval(pg_get_serial_sequence('{0}', 'id'), max(id)) FROM {0} "
                      "HAVING max(id) IS NOT NULL",
                      t.spec.name));
    }
    // The change counters (pg_schema.cpp) past what was copied in: the next
    // embedding written gets a number above every copied one.
    w.exec(
        "UPDATE change_counters c SET value = greatest(c.value, m.top) FROM (VALUES "
        "('embedding_seq', (SELECT coalesce(max(seq), 0) FROM embeddings)), "
        "('assets', (SELECT coalesce(max(id), 0) FROM assets)), "
        "('tag_events', (SELECT coalesce(max(id), 0) FROM tag_events)), "
        "('taxonomy_versions', (SELECT coalesce(max(id), 0) FROM taxonomy_versions))) "
        "AS m(name, top) WHERE c.name = m.name");
  });
}

void compare_tables(Source& source, PgConnection& target, const std::vector<Table>& tables,
                    std::vector<TableComparison>& out) {
  for (std::size_t n = 0; n < tables.size(); ++n) {
    const Table& t = tables[n];
    TableComparison& c = out[n];
    c.table = t.spec.name;
    RowHasher mine;
    source.for_each_row(t, nullptr, [&](const CanonicalRow& row) { mine.add(t, row); });
    c.source_rows = mine.rows();
    c.source_sha256 = mine.hex_digest();

    RowHasher theirs;
    target.transact([&](pqxx::work& w) {
      // A cursor, so a large table is never held in memory at once.
      w.exec(
          fmt::format("DECLARE migrate_verify NO SCROLL CURSOR FOR SELECT {} FROM {}{} "
                      "ORDER BY {}",
                      t.column_list(), t.spec.name, t.where(), t.key_list()));
      for (;;) {
        const auto r = w.exec("FETCH 5000 FROM migrate_verify");
        for (const auto& row : r) theirs.add(t, read_pg(t, row));
        if (r.size() < 5000) break;
      }
      w.exec("CLOSE migrate_verify");
    });
    c.target_rows = theirs.rows();
    c.target_sha256 = theirs.hex_digest();
  }
}

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

bool MigrationReport::verified() const {
  return std::all_of(tables.begin(), tables.end(),
                     [](const TableComparison& t) { return t.matches(); });
}

std::vector<std::string> MigrationReport::mismatched_tables() const {
  std::vector<std::string> out;
  for (const auto& t : tables)
    if (!t.matches()) out.push_back(t.table);
  return out;
}

const std::vector<std::string>& library_tables() {
  static const std::vector<std::string> names = [] {
    std::vector<std::string> out;
    for (const auto& s : table_specs()) out.push_back(s.name);
    return out;
  }();
  return names;
}

MigrationReport migrate_sqlite_to_postgres(const std::string& sqlite_db, const std::string& url,
                                           const MigrationOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  Source source(sqlite_db);
  // Creates or upgrades the schema (under the advisory lock every store uses).
  PgConnection target(url, 2);
  MigrationReport report;
  report.source = sqlite_db;
  report.target = target.display_url();

  // One copier per database: a second would compute the same resume points
  // and collide on the keys. A session lock on a connection of its own, held
  // until this function returns (or the process dies).
  pqxx::connection lock(url);
  if (!pqxx::nontransaction(lock)
           .exec1(fmt::format("SELECT pg_try_advisory_lock({})", kCopyLock))[0]
           .as<bool>()) {
    throw InputError(
        fmt::format("another tagsmith migrate is copying into {}; wait for it", report.target));
  }

  const auto tables = plan_tables(source, target);
  // Every check before the first row is written: a refused target is untouched.
  std::vector<std::optional<CanonicalRow>> last;
  for (const auto& t : tables) {
    last.push_back(last_target_row(target, t));
    check_resumable(source, target, t, last.back(), report.target);
  }
  report.tables.resize(tables.size());
  for (std::size_t n = 0; n < tables.size(); ++n)
    report.tables[n].copied = copy_table(source, target, tables[n], last[n], options);
  advance_sequences(target, tables);
  compare_tables(source, target, tables, report.tables);

  if (report.verified() && !options.files_dir.empty()) {
    target.transact([&](pqxx::work& w) {
      w.exec_params(
          "INSERT INTO settings (key, value) VALUES ($1, $2) "
          "ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
          std::string(kFilesDirSetting), options.files_dir);
    });
  }
  report.seconds = seconds_since(start);
  return report;
}

MigrationReport compare_sqlite_with_postgres(const std::string& sqlite_db, const std::string& url) {
  const auto start = std::chrono::steady_clock::now();
  Source source(sqlite_db);
  PgConnection target(url, 2);
  MigrationReport report;
  report.source = sqlite_db;
  report.target = target.display_url();
  const auto tables = plan_tables(source, target);
  report.tables.resize(tables.size());
  compare_tables(source, target, tables, report.tables);
  report.seconds = seconds_since(start);
  return report;
}

}  // namespace tagsmith::store
