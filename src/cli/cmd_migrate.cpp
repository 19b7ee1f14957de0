// tagsmith migrate --from DIR --to postgresql://… -- copy a SQLite library
// into a PostgreSQL database and verify the copy (store/migrate.h).
#include <fmt/format.h>
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "commands.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/migrate.h"
#include "tagsmith/store/store.h"

namespace tagsmith::cli {
namespace {
namespace fs = std::filesystem;

struct MigrateArgs {
  std::string from, to;
  std::size_t batch = 2000;
  bool verify_only = false;
};

// Rows copied per table on stderr: redrawn in place on a terminal, a line
// every few seconds otherwise (logs).
class CopyProgress {
 public:
  explicit CopyProgress(bool enabled) : enabled_(enabled), tty_(::isatty(STDERR_FILENO) != 0) {}
  ~CopyProgress() { end_line(); }
  void update(const std::string& table, std::int64_t done, std::int64_t total) {
    if (!enabled_) return;
    const auto now = std::chrono::steady_clock::now();
    if (table == table_ && done < total &&
        now - last_ < (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5)))
      return;
    if (table != table_) end_line();
    table_ = table;
    last_ = now;
    if (tty_) {
      std::fprintf(stderr, "\rcopying %s: %lld/%lld rows\x1b[K", table.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total));
      open_line_ = true;
    } else {
      std::fprintf(stderr, "copying %s: %lld/%lld rows\n", table.c_str(),
                   static_cast<long long>(done), static_cast<long long>(total));
    }
    std::fflush(stderr);
  }
  void end_line() {
    if (open_line_) std::fprintf(stderr, "\n");
    open_line_ = false;
  }

 private:
  bool enabled_, tty_, open_line_ = false;
  std::string table_;
  std::chrono::steady_clock::time_point last_;
};

// The library database in `from`: a library directory, or its library.db.
fs::path library_db(const std::string& from) {
  const fs::path p = fs::absolute(from).lexically_normal();
  if (fs::is_directory(p)) {
    if (!fs::exists(p / "library.db"))
      throw NotFoundError(fmt::format("no tagsmith library at {} (no library.db)", p.string()));
    return p / "library.db";
  }
  if (!fs::exists(p)) throw NotFoundError(fmt::format("no tagsmith library at {}", p.string()));
  return p;
}

nlohmann::json report_json(const store::MigrationReport& r, const std::string& files_dir) {
  nlohmann::json tables = nlohmann::json::array();
  for (const auto& t : r.tables) {
    tables.push_back({{"table", t.table},
                      {"source_rows", t.source_rows},
                      {"target_rows", t.target_rows},
                      {"copied", t.copied},
                      {"source_sha256", t.source_sha256},
                      {"target_sha256", t.target_sha256},
                      {"matches", t.matches()}});
  }
  nlohmann::json j = {{"from", r.source},
                      {"to", r.target},
                      {"tables", tables},
                      {"verified", r.verified()},
                      {"mismatched_tables", r.mismatched_tables()},
                      {"seconds", r.seconds}};
  if (!files_dir.empty()) j["files_dir"] = files_dir;
  return j;
}

void print_report_text(const store::MigrationReport& r, bool copied) {
  std::cout << fmt::format("{:<18} {:>12} {:>12}  {}\n", "table", "rows",
                           copied ? "copied now" : "", "checksum");
  for (const auto& t : r.tables) {
    const std::string rows = t.source_rows == t.target_rows
                                 ? std::to_string(t.source_rows)
                                 : fmt::format("{} vs {}", t.source_rows, t.target_rows);
    std::cout << fmt::format("{:<18} {:>12} {:>12}  {}\n", t.table, rows,
                             copied ? std::to_string(t.copied) : "",
                             t.matches() ? "match" : "MISMATCH");
  }
}

void run_migrate(const MigrateArgs& a, const GlobalOptions& g) {
  if (!store::is_postgres_url(a.to))
    throw InputError(
        fmt::format("--to must be a PostgreSQL URL (postgresql://USER@HOST/DB), not {}", a.to));
  const fs::path db = library_db(a.from);
  store::MigrationReport report;
  std::string files_dir;
  if (a.verify_only) {
    report = store::compare_sqlite_with_postgres(db.string(), a.to);
  } else {
    // The files stay where they are: --files / $TAGSMITH_FILES when given
    // (another path to the same files, e.g. a shared mount), else the old
    // library directory itself.
    const char* env = std::getenv("TAGSMITH_FILES");
    files_dir =
        (env && *env) ? fs::absolute(env).lexically_normal().string() : db.parent_path().string();
    store::MigrationOptions options;
    options.files_dir = files_dir;
    options.batch_rows = a.batch;
    CopyProgress progress(!g.quiet && !g.json);
    options.on_batch = [&](const std::string& table, std::int64_t done, std::int64_t total) {
      progress.update(table, done, total);
    };
    report = store::migrate_sqlite_to_postgres(db.string(), a.to, options);
  }

  if (g.json) {
    print_json(report_json(report, report.verified() ? files_dir : ""));
  } else {
    std::cout << fmt::format("{} {} → {}\n", a.verify_only ? "Compared" : "Copied", report.source,
                             report.target);
    print_report_text(report, !a.verify_only);
    if (report.verified()) {
      std::cout << fmt::format(
          "Verified: row counts and checksums of all {} tables match ({:.1f} s).\n",
          report.tables.size(), report.seconds);
      if (!a.verify_only) {
        std::cout << fmt::format(
            "Files (thumbnails, palette, models) stay in {}, recorded as the library's files "
            "directory: every worker and server must reach it at that path, or set "
            "TAGSMITH_FILES to where it is mounted there.\n"
            "Use the library with: tagsmith --library '{}' stats\n",
            files_dir, report.target);
      }
    }
  }
  if (!report.verified()) {
    std::string tables;
    for (const auto& t : report.mismatched_tables()) tables += (tables.empty() ? "" : ", ") + t;
    std::cerr << fmt::format(
        "tagsmith: verification failed: {} differ between the SQLite library and PostgreSQL{}\n",
        tables,
        a.verify_only ? ""
                      : "; do not use the PostgreSQL copy (was the source changed between "
                        "runs? migrate again into an empty database)");
    set_exit_code(kFatal);
  }
}

}  // namespace

void register_migrate(CLI::App& app, GlobalOptions& g) {
  auto a = std::make_shared<MigrateArgs>();
  CLI::App* cmd = app.add_subcommand(
      "migrate",
      "Copy a SQLite library into a PostgreSQL database and verify it (re-run to resume)");
  cmd->add_option("--from", a->from, "The SQLite library directory")->required();
  cmd->add_option("--to", a->to, "The PostgreSQL database: postgresql://USER@HOST/DB (must exist)")
      ->required();
  cmd->add_option("--batch", a->batch, "Rows per transaction")
      ->capture_default_str()
      ->check(CLI::Range(1, 1'000'000));
  cmd->add_flag("--verify-only", a->verify_only,
                "Only compare counts and checksums of every table; copy nothing");
  cmd->callback([a, &g] { run_migrate(*a, g); });
}

}  // namespace tagsmith::cli
