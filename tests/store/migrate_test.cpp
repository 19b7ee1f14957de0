// store/migrate.h: a SQLite library copied into PostgreSQL, table by table,
// verified by counts and checksums; resumed after interruptions; refused when
// the target holds another library; a tampered row found. Each test gets a
// fresh database in ctest's throw-away cluster; without one they skip.
#include "tagsmith/store/migrate.h"

#include <SQLiteCpp/SQLiteCpp.h>
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <iostream>
#include <pqxx/pqxx>

#include "postgres_test_db.h"
#include "sample_library.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"
#include "temp_dir.h"

namespace tagsmith::store {
namespace {

namespace fs = std::filesystem;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// A SQLite library database filled by test_library::fill.
struct SqliteLibrary {
  explicit SqliteLibrary(int assets, int variant = 0) {
    auto store = open_sqlite_store(db.string());
    test_library::fill(*store, assets, variant);
  }
  test::TempDir dir;
  fs::path db = dir / "library.db";
};

std::string show(const Tag& t) {
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", t.asset_id, t.attribute, t.node,
                     to_string(t.state), t.confidence, t.actor, t.model_version, t.taxonomy_version,
                     t.updated_at, t.evidence_json);
}
std::string show(const TagEvent& e) {
  return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}", e.id, e.asset_id, e.attribute, e.node,
                     to_string(e.action), e.actor, e.confidence, e.model_version,
                     e.taxonomy_version, e.at, e.evidence_json, e.previous_node);
}
std::string show(const PathRecord& p) {
  return fmt::format("{}|{}|{}|{}|{}", p.path, p.asset_id, p.file_size, p.mtime_ns, p.is_alias);
}
std::string show(const AssetRecord& a) {
  std::string out = fmt::format(
      "{}|{}|{}|{}|{}x{}|{}|{}|{}|{}|{}x{}|{}|{}|{}", a.id, a.sha256, a.source_path, a.file_size,
      a.width, a.height, a.format, a.phash, a.ingested_at, a.thumbnail_sha256, a.thumbnail_width,
      a.thumbnail_height, a.colours.product_fraction, a.colours.background_removed, a.colours.mask);
  for (const auto& c : a.colours.colours)
    out += fmt::format("|{},{},{} {} {} {} {} {} {} {}", c.lab.L, c.lab.a, c.lab.b, c.rgb[0],
                       c.share, c.family, c.shade, c.delta_e, c.alt_family, c.alt_delta_e);
  return out;
}
template <class T, class Show>
std::vector<std::string> show_all(const std::vector<T>& items, Show fn) {
  std::vector<std::string> out;
  for (const auto& i : items) out.push_back(fn(i));
  return out;
}
std::string show_stats(const LibraryStats& s) {
  return fmt::format("{} {} {} {} {} {} {} {} {} {} {} {}", s.assets, s.aliases, s.rejected_files,
                     s.embeddings, s.tags_auto, s.tags_flagged, s.tags_suggested, s.tags_confirmed,
                     s.tags_rejected, s.tags_human_set, s.tag_events, s.pending_tagging);
}

void expect_same_answers(Store& sqlite, Store& pg, const std::vector<AssetId>& ids) {
  EXPECT_EQ(show_stats(pg.stats()), show_stats(sqlite.stats()));
  EXPECT_EQ(pg.asset_ids(), sqlite.asset_ids());
  for (const AssetId id : ids) {
    SCOPED_TRACE(fmt::format("asset {}", id));
    ASSERT_TRUE(pg.find_asset(id));
    EXPECT_EQ(show(*pg.find_asset(id)), show(*sqlite.find_asset(id)));
    EXPECT_EQ(show_all(pg.tags_of(id), [](auto& t) { return show(t); }),
              show_all(sqlite.tags_of(id), [](auto& t) { return show(t); }));
    EXPECT_EQ(show_all(pg.tag_events(id), [](auto& e) { return show(e); }),
              show_all(sqlite.tag_events(id), [](auto& e) { return show(e); }));
    EXPECT_EQ(show_all(pg.paths_of(id), [](auto& p) { return show(p); }),
              show_all(sqlite.paths_of(id), [](auto& p) { return show(p); }));
    EXPECT_EQ(pg.embedding(id, "clip@1"), sqlite.embedding(id, "clip@1"));
  }
  EXPECT_EQ(show_all(pg.recent_tag_events(1'000'000'000, 50), [](auto& e) { return show(e); }),
            show_all(sqlite.recent_tag_events(1'000'000'000, 50), [](auto& e) { return show(e); }));
  const auto user = [](const UserRecord& u) {
    return fmt::format("{}|{}|{}|{}|{}", u.id, u.name, u.role, u.password_hash, u.created_at);
  };
  EXPECT_EQ(show_all(pg.users(), user), show_all(sqlite.users(), user));
  ASSERT_TRUE(pg.find_user_by_token_hash(std::string(64, 'c')));
  EXPECT_EQ(pg.find_user_by_token_hash(std::string(64, 'c'))->name, "bob");
  ASSERT_TRUE(pg.find_session(std::string(64, 'd')));
  EXPECT_EQ(pg.find_session(std::string(64, 'd'))->csrf_token, "csrf-ann");
  const auto failure = [](const LoginFailureRecord& f) {
    return fmt::format("{}|{}|{}|{}|{}", f.id, f.at, f.account, f.client, f.throttled);
  };
  EXPECT_EQ(show_all(pg.login_failures(100), failure),
            show_all(sqlite.login_failures(100), failure));
  const auto taxonomy = [](const TaxonomyVersion& v) {
    return fmt::format("{}|{}|{}|{}", v.id, v.created_at, v.source, v.sha256);
  };
  EXPECT_EQ(show_all(pg.taxonomy_versions(), taxonomy),
            show_all(sqlite.taxonomy_versions(), taxonomy));
  EXPECT_EQ(pg.latest_taxonomy_version()->yaml, sqlite.latest_taxonomy_version()->yaml);
  const auto model = [](const ModelVersion& m) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", m.id, m.version, to_string(m.kind), m.parent,
                       to_string(m.status), m.created_at, m.metrics_json, m.artifact_path);
  };
  EXPECT_EQ(show_all(pg.model_versions(), model), show_all(sqlite.model_versions(), model));
  const auto review = [](const ReviewLogEntry& r) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}", r.id, r.asset_id, r.attribute, r.node, r.action,
                       r.reviewer, r.seconds, r.at);
  };
  EXPECT_EQ(show_all(pg.review_log(""), review), show_all(sqlite.review_log(""), review));
  const auto sample = [](const AuditSample& a) {
    return fmt::format("{}|{}|{}|{}|{}|{}|{}|{}|{}", a.id, a.batch, a.asset_id, a.node, a.tier,
                       a.confidence, a.outcome, a.reviewer, a.reviewed_at);
  };
  EXPECT_EQ(show_all(pg.audit_samples(false), sample),
            show_all(sqlite.audit_samples(false), sample));
  const auto error = [](const IngestError& e) {
    return fmt::format("{}|{}|{}", e.path, e.reason, e.at);
  };
  EXPECT_EQ(show_all(pg.ingest_errors(), error), show_all(sqlite.ingest_errors(), error));
  EXPECT_EQ(pg.setting("review.filters"), sqlite.setting("review.filters"));
  EXPECT_EQ(pg.pending_count(WorkStep::kTag), sqlite.pending_count(WorkStep::kTag));
  const auto jobs = [](const JobCounts& c) {
    return fmt::format("{} {} {} {}", c.queued, c.running, c.done, c.failed);
  };
  EXPECT_EQ(jobs(pg.job_counts(JobKind::kIngest)), jobs(sqlite.job_counts(JobKind::kIngest)));
  // Claims survive with their leases: the claimed entries are not free.
  EXPECT_EQ(pg.claimed_count(WorkStep::kTag), sqlite.claimed_count(WorkStep::kTag));
}

TEST(MigrateToPostgres, CopiesALibraryOf10000AssetsAndTheCopyAnswersTheSame) {
  TAGSMITH_REQUIRE_POSTGRES();
  constexpr int kAssets = 10'000;
  auto t0 = std::chrono::steady_clock::now();
  SqliteLibrary lib(kAssets);
  const double built = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  const std::string url = test::fresh_postgres_database();

  MigrationOptions options;
  options.files_dir = "/srv/tagsmith/files";
  const MigrationReport report = migrate_sqlite_to_postgres(lib.db.string(), url, options);
  std::cout << fmt::format(
      "[ migrate  ] built {} assets in {:.1f} s; migrated and verified in "
      "{:.1f} s\n",
      kAssets, built, report.seconds);
  RecordProperty("migrate_seconds", fmt::format("{:.2f}", report.seconds));

  EXPECT_TRUE(report.verified()) << fmt::format("{}", fmt::join(report.mismatched_tables(), ", "));
  ASSERT_EQ(report.tables.size(), library_tables().size());
  std::int64_t rows = 0;
  for (const auto& t : report.tables) {
    SCOPED_TRACE(t.table);
    EXPECT_GT(t.source_rows, 0) << "the sample library should cover every table";
    EXPECT_EQ(t.copied, t.source_rows);
    EXPECT_EQ(t.target_rows, t.source_rows);
    EXPECT_EQ(t.source_sha256, t.target_sha256);
    EXPECT_EQ(t.source_sha256.size(), 64u);
    rows += t.source_rows;
    if (t.table == "assets") {
      EXPECT_EQ(t.source_rows, kAssets);
    }
  }
  std::cout << fmt::format("[ migrate  ] {} rows in {} tables\n", rows, report.tables.size());

  auto sqlite = open_sqlite_store(lib.db.string());
  auto pg = open_postgres_store(url);
  expect_same_answers(*sqlite, *pg, {1, 2, 5, 10, 4'999, 9'999, 10'000});
  EXPECT_EQ(pg->setting("files_dir"), "/srv/tagsmith/files");

  // New rows take ids after the copied ones.
  AssetRecord fresh = *sqlite->find_asset(1);
  fresh.sha256 = std::string(64, 'f');
  fresh.source_path = "/photos/new.jpg";
  EXPECT_EQ(pg->add_asset(fresh, {fresh.source_path, 0, 1, 1, false}), kAssets + 1);
  EXPECT_EQ(pg->add_user({0, "dave", "viewer", "", "2026-12-01T00:00:00Z"}), 4);
  const std::int64_t last_event = pg->recent_tag_events(1'000'000'000, 1).at(0).id;
  TagChange c;
  c.tag = {kAssets + 1, "category", "shirt", TagState::kConfirmed,   1,
           "user:ann",  "",         1,       "2026-12-01T00:00:00Z", "{}"};
  c.event = {0,          kAssets + 1, "category", "shirt", TagAction::kConfirmed,
             "user:ann", 1,           "",         1,       "2026-12-01T00:00:00Z",
             "{}",       ""};
  pg->apply_tag_changes(std::span(&c, 1));
  EXPECT_EQ(pg->tag_events(kAssets + 1).at(0).id, last_event + 1);
  EXPECT_EQ(pg->add_taxonomy_version({0, "2026-12-01T00:00:00Z", "x", "y", "z"}), 3);
}

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

TEST(MigrateToPostgres, ResumesAfterBeingInterruptedAtAnyBatch) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary lib(120);
  const std::string url = test::fresh_postgres_database();
  MigrationOptions options;
  options.batch_rows = 37;  // rows of a table are split across several batches
  int runs = 0, interrupted = 0;
  MigrationReport report;
  for (;;) {
    ++runs;
    ASSERT_LT(runs, 200) << "never finished";
    int batches = 0;
    // Stop after a varying number of committed batches, as kill -9 would.
    const int stop_after = 1 + runs % 4;
    options.on_batch = [&](const std::string&, std::int64_t, std::int64_t) {
      if (++batches == stop_after) throw Interrupted();
    };
    try {
      report = migrate_sqlite_to_postgres(lib.db.string(), url, options);
      break;
    } catch (const Interrupted&) {
      ++interrupted;
      if (interrupted == 3) {
        const auto partial = compare_sqlite_with_postgres(lib.db.string(), url);
        EXPECT_FALSE(partial.verified());
        EXPECT_LT(partial.mismatched_tables().size(), library_tables().size());
      }
    }
  }
  EXPECT_GT(interrupted, 10);
  EXPECT_TRUE(report.verified()) << fmt::format("{}", fmt::join(report.mismatched_tables(), ", "));
  std::int64_t copied_last = 0, total = 0;
  for (const auto& t : report.tables) {
    copied_last += t.copied;
    total += t.source_rows;
  }
  EXPECT_LT(copied_last, total) << "the last run should only have copied what was left";

  auto sqlite = open_sqlite_store(lib.db.string());
  auto pg = open_postgres_store(url);
  expect_same_answers(*sqlite, *pg, {1, 60, 120});

  // Running it again on a complete copy copies nothing and verifies again.
  options.on_batch = nullptr;
  const auto again = migrate_sqlite_to_postgres(lib.db.string(), url, options);
  EXPECT_TRUE(again.verified());
  for (const auto& t : again.tables) EXPECT_EQ(t.copied, 0) << t.table;
}

TEST(MigrateToPostgres, VerificationNamesTheTableWithATamperedRow) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary lib(30);
  const std::string url = test::fresh_postgres_database();
  ASSERT_TRUE(migrate_sqlite_to_postgres(lib.db.string(), url).verified());
  {
    pqxx::connection c(url);
    pqxx::work w(c);
    // A lease moved by a live worker is not a difference: leases are left out.
    w.exec("UPDATE jobs SET lease_until = now() + interval '1 hour' WHERE state = 'running'");
    w.commit();
  }
  EXPECT_TRUE(compare_sqlite_with_postgres(lib.db.string(), url).verified());
  {
    pqxx::connection c(url);
    pqxx::work w(c);
    // The last digit of a confidence.
    w.exec(
        "UPDATE tags SET confidence = confidence + 1e-12 WHERE asset_id = 7 AND attribute = "
        "'colour'");
    w.commit();
  }
  auto report = compare_sqlite_with_postgres(lib.db.string(), url);
  EXPECT_FALSE(report.verified());
  EXPECT_THAT(report.mismatched_tables(), ElementsAre("tags"));
  {
    pqxx::connection c(url);
    pqxx::work w(c);
    w.exec("DELETE FROM asset_paths WHERE path LIKE '/mirror/%'");
    w.commit();
  }
  report = compare_sqlite_with_postgres(lib.db.string(), url);
  EXPECT_THAT(report.mismatched_tables(), ElementsAre("asset_paths", "tags"));
  for (const auto& t : report.tables) {
    if (t.table == "asset_paths") {
      EXPECT_EQ(t.target_rows, t.source_rows - 3);
    }
    if (t.table == "tags") {
      EXPECT_EQ(t.target_rows, t.source_rows);
    }
  }
}

std::int64_t count_rows(const std::string& url, const std::string& table) {
  pqxx::connection c(url);
  pqxx::work w(c);
  return w.exec1("SELECT count(*) FROM " + table)[0].as<std::int64_t>();
}

TEST(MigrateToPostgres, RefusesATargetHoldingAnotherLibraryAndLeavesItAlone) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary first(20, 1), other(20, 2);
  const std::string url = test::fresh_postgres_database();
  ASSERT_TRUE(migrate_sqlite_to_postgres(first.db.string(), url).verified());
  const std::int64_t events = count_rows(url, "tag_events");
  try {
    migrate_sqlite_to_postgres(other.db.string(), url);
    FAIL() << "copied one library over another";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("already holds a different library"));
    EXPECT_THAT(e.what(), HasSubstr("assets row (id=20)"));
  }
  EXPECT_EQ(count_rows(url, "assets"), 20);
  EXPECT_EQ(count_rows(url, "tag_events"), events);
}

TEST(MigrateToPostgres, RefusesATargetWithRowsTheSourceLacks) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary larger(25), smaller(20);
  const std::string url = test::fresh_postgres_database();
  ASSERT_TRUE(migrate_sqlite_to_postgres(larger.db.string(), url).verified());
  EXPECT_THROW(
      {
        try {
          migrate_sqlite_to_postgres(smaller.db.string(), url);
        } catch (const InputError& e) {
          EXPECT_THAT(e.what(), HasSubstr("does not exist in the source"));
          throw;
        }
      },
      InputError);
}

TEST(MigrateToPostgres, OneCopyIntoADatabaseAtATime) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary lib(5);
  const std::string url = test::fresh_postgres_database();
  MigrationOptions options;
  options.batch_rows = 1;
  bool tried = false;
  // While the first copy runs, a second one is turned away.
  options.on_batch = [&](const std::string&, std::int64_t, std::int64_t) {
    if (tried) return;
    tried = true;
    try {
      migrate_sqlite_to_postgres(lib.db.string(), url);
      ADD_FAILURE() << "two copies ran at once";
    } catch (const InputError& e) {
      EXPECT_THAT(e.what(), HasSubstr("another tagsmith migrate is copying"));
    }
  };
  EXPECT_TRUE(migrate_sqlite_to_postgres(lib.db.string(), url, options).verified());
  EXPECT_TRUE(tried);
  // Released at the end: the next run may go ahead.
  EXPECT_TRUE(migrate_sqlite_to_postgres(lib.db.string(), url).verified());
}

TEST(MigrateToPostgres, RefusesATableItWasNotTaughtToCopy) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary lib(3);
  {
    SQLite::Database db(lib.db.string(), SQLite::OPEN_READWRITE);
    db.exec("CREATE TABLE shiny_new_feature (id INTEGER PRIMARY KEY)");
  }
  try {
    migrate_sqlite_to_postgres(lib.db.string(), test::fresh_postgres_database());
    FAIL() << "left a table behind";
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("does not know the library table shiny_new_feature"));
  }
}

TEST(MigrateToPostgres, NamesTheRowWhoseTextPostgresCannotHold) {
  TAGSMITH_REQUIRE_POSTGRES();
  SqliteLibrary lib(3);
  {
    SQLite::Database db(lib.db.string(), SQLite::OPEN_READWRITE);
    SQLite::Statement q(db, "UPDATE assets SET source_path = ? WHERE id = 2");
    q.bind(1, std::string("/photos/caf\xe9.jpg"));  // Latin-1, as old camera cards write
    q.exec();
  }
  const std::string url = test::fresh_postgres_database();
  try {
    migrate_sqlite_to_postgres(lib.db.string(), url);
    FAIL() << "copied text PostgreSQL cannot hold";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("assets row (id=2): its source_path is not UTF-8"));
  }
  EXPECT_EQ(count_rows(url, "assets"), 1) << "the rows before it are copied";
}

TEST(MigrateToPostgres, RefusesASourceOfAnotherSchemaVersion) {
  // No PostgreSQL needed: the source is checked before connecting.
  test::TempDir dir;
  const auto make = [&](const std::string& name, int version) {
    SQLite::Database db((dir / name).string(), SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    db.exec("CREATE TABLE assets (id INTEGER PRIMARY KEY)");
    db.exec(fmt::format("PRAGMA user_version = {}", version));
    return (dir / name).string();
  };
  const std::string url = "postgresql://nobody@/nowhere?host=/nonexistent";
  try {
    migrate_sqlite_to_postgres(make("old.db", 3), url);
    FAIL() << "copied an old schema";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("schema version 3"));
    EXPECT_THAT(e.what(), HasSubstr("to upgrade it"));
  }
  try {
    migrate_sqlite_to_postgres(make("new.db", 999), url);
    FAIL() << "copied a newer schema";
  } catch (const InputError& e) {
    EXPECT_THAT(e.what(), HasSubstr("newer than this tagsmith"));
  }
  EXPECT_THROW(migrate_sqlite_to_postgres((dir / "missing.db").string(), url), NotFoundError);
}

}  // namespace
}  // namespace tagsmith::store
