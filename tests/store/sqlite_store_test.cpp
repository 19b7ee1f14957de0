// The SQLite store: the role conformance suites instantiated for it, plus
// what only SQLite has (migrations, WAL, triggers, the row readers).
#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include <atomic>

#include "../../src/store/sqlite_connection.h"
#include "../../src/store/sqlite_schema.h"
#include "conformance.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"
#include "temp_dir.h"

namespace tagsmith::store {
namespace {

using conformance::AccountStoreConformance;
using conformance::AssetStoreConformance;
using conformance::CatalogueStoreConformance;
using conformance::first_path_of;
using conformance::sample_asset;
using conformance::StoreBackend;
using conformance::TagStoreConformance;
using conformance::WholeStoreConformance;
using conformance::WorkQueueConformance;

// A fresh database file per call, in one directory removed at exit.
std::unique_ptr<Store> open_empty_sqlite() {
  static test::TempDir dir;
  static std::atomic<int> n{0};
  return open_sqlite_store((dir / ("store-" + std::to_string(++n) + ".db")).string());
}

const StoreBackend kSqlite{"Sqlite", open_empty_sqlite};

INSTANTIATE_TEST_SUITE_P(Sqlite, AssetStoreConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, TagStoreConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, CatalogueStoreConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, AccountStoreConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, WorkQueueConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);
INSTANTIATE_TEST_SUITE_P(Sqlite, WholeStoreConformance, ::testing::Values(kSqlite),
                         conformance::backend_name);

TEST(SqliteStore, MigratesAnEmptyLibraryAndReopens) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  const int latest = static_cast<int>(sqlite_migrations().size());
  { EXPECT_EQ(open_sqlite_store(db)->schema_version(), latest); }
  SQLite::Database raw(db);
  for (const char* table :
       {"assets", "asset_paths", "thumbnails", "asset_colours", "embeddings", "tags", "tag_events",
        "taxonomy_versions", "model_versions", "ingest_errors"}) {
    EXPECT_EQ(
        raw.execAndGet(std::string("SELECT count(*) FROM sqlite_master WHERE name='") + table + "'")
            .getInt(),
        1)
        << table;
  }
  EXPECT_EQ(raw.execAndGet("PRAGMA journal_mode").getString(), "wal");
  EXPECT_EQ(open_sqlite_store(db)->schema_version(), latest);  // reopening applies nothing twice
}

TEST(SqliteStore, RefusesALibraryFromTheFuture) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    raw.exec("PRAGMA user_version = 999");
  }
  EXPECT_THROW(open_sqlite_store(db), Error);
}

TEST(SqliteStore, NotEvenRawSqlCanRewriteTheAuditTrail) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  auto s = open_sqlite_store(db);
  const AssetRecord a = sample_asset("ccc");
  const AssetId id = s->add_asset(a, first_path_of(a));
  TagChange c =
      conformance::tag_change(id, "colour_family", "red", TagState::kAuto, TagAction::kApplied);
  s->apply_tag_changes(std::span(&c, 1));
  SQLite::Database raw(db, SQLite::OPEN_READWRITE);
  EXPECT_THROW(raw.exec("UPDATE tag_events SET actor = 'someone else'"), SQLite::Exception);
  EXPECT_THROW(raw.exec("DELETE FROM tag_events"), SQLite::Exception);
  ASSERT_EQ(s->tag_events(id).size(), 1u);
  EXPECT_EQ(s->tag_events(id)[0].actor, "model:m@1");
}

// Migration 7 numbers the embeddings a library already holds in the order
// they were written, and new writes continue after them.
TEST(SqliteStore, ExistingEmbeddingsJoinTheChangeSequenceInWriteOrder) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& m : sqlite_migrations()) {
      if (m.number >= 7) break;
      raw.exec(m.sql);
      raw.exec("PRAGMA user_version = " + std::to_string(m.number));
    }
    raw.exec(
        "INSERT INTO assets (id, sha256, source_path, file_size, width, height, format, phash, "
        "ingested_at) VALUES (1, 'a', '/a.jpg', 1, 1, 1, 'jpeg', 0, 't'), "
        "(2, 'b', '/b.jpg', 1, 1, 1, 'jpeg', 0, 't')");
    const float v[2] = {1, 0};
    SQLite::Statement q(raw,
                        "INSERT INTO embeddings (asset_id, model_version, dim, vector) "
                        "VALUES (?, 'm', 2, ?)");
    for (AssetId id : {AssetId{2}, AssetId{1}}) {  // asset 2 first
      q.reset();
      q.bind(1, id);
      q.bind(2, v, sizeof v);
      q.exec();
    }
  }
  auto s = open_sqlite_store(db);
  const auto changes = s->embeddings_changed_since("m", 0, 10);
  ASSERT_EQ(changes.size(), 2u);
  EXPECT_EQ(changes[0].asset_id, 2);
  EXPECT_EQ(changes[1].asset_id, 1);
  EXPECT_EQ(s->change_marker().last_embedding_seq, changes[1].seq);
  s->put_embedding(2, "m", std::vector<float>{0, 1});
  const auto next = s->embeddings_changed_since("m", changes[1].seq, 10);
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(next[0].asset_id, 2);
  EXPECT_GT(next[0].seq, changes[1].seq);
}

TEST(SqliteStore, ModelKindsAndStatusesAreStoredAsTheirNames) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  auto s = open_sqlite_store(db);
  s->add_model_version(
      {0, "heads-1", ModelKind::kHeads, "clip", ModelStatus::kRetired, "t", "{}", ""});
  SQLite::Database raw(db);
  EXPECT_EQ(raw.execAndGet("SELECT kind || '/' || status FROM model_versions").getString(),
            "heads/retired");
}

// Evidence is stored once: a machine change writes it on its event and only
// the event's id on the tag row.
TEST(SqliteStore, ATagRowPointsAtItsEventsEvidenceInsteadOfCopyingIt) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  {
    auto s = open_sqlite_store(db);
    const AssetRecord a = sample_asset("ptr");
    const AssetId id = s->add_asset(a, first_path_of(a));
    TagChange c;
    c.tag = {id, "scene", "studio", TagState::kAuto, 0.97, "model:m@1", "m@1", 1, "t", "{\"x\":1}"};
    c.event = {0,    id,    "scene", "studio", TagAction::kApplied, "model:m@1",
               0.97, "m@1", 1,       "t",      "{\"x\":1}",         ""};
    s->apply_tag_changes(std::span(&c, 1));
  }
  SQLite::Database raw(db);
  SQLite::Statement q(raw,
                      "SELECT t.evidence_json, t.evidence_event = e.id, e.evidence_json FROM tags "
                      "t JOIN tag_events e ON e.asset_id = t.asset_id");
  ASSERT_TRUE(q.executeStep());
  EXPECT_EQ(q.getColumn(0).getString(), "");
  EXPECT_EQ(q.getColumn(1).getInt(), 1);
  EXPECT_EQ(q.getColumn(2).getString(), "{\"x\":1}");
}

// Migration 11 on a library written by migration 10: each tag points at its
// latest event with the same evidence, a tag without one keeps its evidence
// inline, and every tag reads back exactly as before.
TEST(SqliteStore, MigrationElevenMovesTagEvidenceOntoEventsAndLosesNone) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  {
    SQLite::Database raw(db, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
    for (const auto& m : sqlite_migrations()) {
      if (m.number > 10) break;
      raw.exec(m.sql);
      raw.exec("PRAGMA user_version = " + std::to_string(m.number));
    }
    raw.exec(
        "INSERT INTO assets (id, sha256, source_path, file_size, width, height, format, phash, "
        "ingested_at) VALUES (1, 's', '/a.jpg', 1, 1, 1, 'jpeg', 0, 't')");
    raw.exec(
        "INSERT INTO tag_events (id, asset_id, attribute, node, action, actor, confidence, at, "
        "evidence_json) VALUES (1, 1, 'scene', 'studio', 'flagged', 'model:m', 0.8, 't', "
        "'{\"old\":1}'), (2, 1, 'scene', 'studio', 'applied', 'model:m', 0.96, 't', "
        "'{\"new\":1}'), (3, 1, 'scene', 'studio', 'confirmed', 'user:ana', 0.96, 't', '{}')");
    raw.exec(
        "INSERT INTO tags (asset_id, attribute, node, state, confidence, actor, updated_at, "
        "evidence_json) VALUES (1, 'scene', 'studio', 'confirmed', 0.96, 'user:ana', 't', "
        "'{\"new\":1}'), (1, 'season', 'summer', 'auto', 0.99, 'model:m', 't', '{\"lost\":0}')");
  }
  auto s = open_sqlite_store(db);
  EXPECT_EQ(s->schema_version(), static_cast<int>(sqlite_migrations().size()));
  const auto tags = s->tags_of(1);
  ASSERT_EQ(tags.size(), 2u);
  EXPECT_EQ(tags[0].evidence_json, "{\"new\":1}");
  EXPECT_EQ(tags[1].evidence_json, "{\"lost\":0}");
  SQLite::Database raw(db);
  EXPECT_EQ(raw.execAndGet("SELECT evidence_event FROM tags WHERE node = 'studio'").getInt(), 2);
  EXPECT_EQ(raw.execAndGet("SELECT evidence_json FROM tags WHERE node = 'studio'").getString(), "");
  EXPECT_EQ(raw.execAndGet("SELECT evidence_event FROM tags WHERE node = 'summer'").getInt(), 0);
  EXPECT_EQ(raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'tag_events_recent'")
                .getInt(),
            0);
}

// Migration 12: an asset's history is read through the asset-id index, in
// id order, with no sort and no scan of the whole trail.
TEST(SqliteStore, AnAssetsHistoryIsReadThroughTheAssetIdIndex) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  open_sqlite_store(db).reset();
  SQLite::Database raw(db);
  EXPECT_EQ(
      raw.execAndGet("SELECT count(*) FROM sqlite_master WHERE name = 'tag_events_asset'").getInt(),
      0);
  std::string plan;
  SQLite::Statement q(raw,
                      "EXPLAIN QUERY PLAN SELECT id FROM tag_events WHERE asset_id = 7 AND "
                      "('' = '' OR attribute = '') ORDER BY id");
  while (q.executeStep()) plan += q.getColumn(3).getString() + "\n";
  EXPECT_NE(plan.find("USING INDEX tag_events_by_asset (asset_id=?)"), std::string::npos) << plan;
  EXPECT_EQ(plan.find("TEMP B-TREE"), std::string::npos) << plan;
}

// A row reader that drifts from its column list fails instead of filling the
// wrong fields.
TEST(SqliteRowReader, ReadingFewerOrMoreColumnsThanSelectedThrows) {
  SQLite::Database db(":memory:");
  SQLite::Statement q(db, "SELECT 1, 'two', 3.5");
  ASSERT_TRUE(q.executeStep());
  Row exact(q);
  EXPECT_EQ(exact.int64(), 1);
  EXPECT_EQ(exact.text(), "two");
  EXPECT_DOUBLE_EQ(exact.real(), 3.5);
  EXPECT_NO_THROW(exact.end());
  Row short_read(q);
  short_read.int64();
  EXPECT_THROW(short_read.end(), Error);
  Row long_read(q);
  long_read.int64();
  long_read.text();
  long_read.real();
  EXPECT_THROW(long_read.text(), Error);
}

}  // namespace
}  // namespace tagsmith::store
