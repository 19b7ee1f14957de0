#include <SQLiteCpp/SQLiteCpp.h>
#include <gtest/gtest.h>

#include "../../src/store/sqlite_schema.h"
#include "tagsmith/common/error.h"
#include "tagsmith/store/store.h"
#include "temp_dir.h"

namespace tagsmith::store {
namespace {

AssetRecord sample_asset(const std::string& sha) {
  AssetRecord a;
  a.sha256 = sha;
  a.source_path = "/photos/" + sha + ".jpg";
  a.file_size = 1234;
  a.width = 640;
  a.height = 480;
  a.format = "jpeg";
  a.phash = 0xF0F0F0F0F0F0F0F0ull;  // top bit set: must survive the signed column
  a.ingested_at = "2026-11-25T08:00:00.000Z";
  a.thumbnail_sha256 = "ab" + sha;
  a.thumbnail_width = 256;
  a.thumbnail_height = 192;
  DominantColour c;
  c.lab = {30, 50, 20};
  c.rgb = {128, 0, 32};
  c.share = 0.8;
  c.family = "red";
  c.shade = "burgundy";
  c.delta_e = 1.5;
  a.colours.colours.push_back(c);
  a.colours.background_removed = true;
  a.colours.product_fraction = 0.4;
  return a;
}

PathRecord path_of(const AssetRecord& a) {
  return {a.source_path, 0, 1234, 42, false};
}

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

TEST(SqliteStore, AssetRoundTripWithColoursPathsAndEmbedding) {
  test::TempDir dir;
  auto s = open_sqlite_store((dir / "library.db").string());
  const AssetRecord a = sample_asset("aaa");
  const std::vector<float> vec{0.6f, 0.8f};
  const AssetId id = s->add_asset(a, path_of(a), "model-x", vec);
  const auto back = s->find_asset(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->sha256, "aaa");
  EXPECT_EQ(back->phash, a.phash);
  EXPECT_EQ(back->thumbnail_width, 256);
  ASSERT_EQ(back->colours.colours.size(), 1u);
  EXPECT_EQ(back->colours.colours[0].shade, "burgundy");
  EXPECT_EQ(back->colours.colours[0].rgb, (std::array<std::uint8_t, 3>{128, 0, 32}));
  EXPECT_TRUE(back->colours.background_removed);
  EXPECT_EQ(s->find_asset_by_path(a.source_path)->id, id);
  EXPECT_EQ(s->find_asset_by_sha256("aaa")->id, id);
  EXPECT_EQ(*s->embedding(id, "model-x"), vec);
  EXPECT_FALSE(s->embedding(id, "other"));

  s->add_path({"/elsewhere/copy.jpg", id, 1234, 7, true});
  const auto paths = s->paths_of(id);
  ASSERT_EQ(paths.size(), 2u);
  EXPECT_FALSE(paths[0].is_alias);
  EXPECT_TRUE(paths[1].is_alias);
  EXPECT_EQ(s->find_asset_by_path("/elsewhere/copy.jpg")->id, id);
  EXPECT_THROW(s->add_asset(a, path_of(a)), std::exception);  // same content twice
  EXPECT_EQ(s->stats().assets, 1);
}

TEST(SqliteStore, IngestErrorsAreClearedWhenThePathSucceeds) {
  test::TempDir dir;
  auto s = open_sqlite_store((dir / "library.db").string());
  const AssetRecord a = sample_asset("bbb");
  s->record_ingest_error({a.source_path, "truncated", "t"});
  s->record_ingest_error({a.source_path, "truncated again", "t2"});
  ASSERT_EQ(s->ingest_errors().size(), 1u);
  EXPECT_EQ(s->ingest_errors()[0].reason, "truncated again");
  s->add_asset(a, path_of(a));
  EXPECT_TRUE(s->ingest_errors().empty());
}

TEST(SqliteStore, TagChangesAndEventsCommitTogetherAndEventsAreAppendOnly) {
  test::TempDir dir;
  const std::string db = (dir / "library.db").string();
  auto s = open_sqlite_store(db);
  const AssetRecord a = sample_asset("ccc");
  const AssetId id = s->add_asset(a, path_of(a));
  TagChange c;
  c.tag = {id, "colour_family", "red", TagState::kAuto, 0.97, "colour:palette", "", 1, "t", "{}"};
  c.event.asset_id = id;
  c.event.attribute = "colour_family";
  c.event.node = "red";
  c.event.action = TagAction::kApplied;
  c.event.actor = "colour:palette";
  c.event.confidence = 0.97;
  c.event.at = "t";
  s->apply_tag_changes(std::span(&c, 1));
  ASSERT_EQ(s->tags_of(id).size(), 1u);
  ASSERT_EQ(s->tag_events(id).size(), 1u);
  EXPECT_EQ(s->tag_events(id)[0].action, TagAction::kApplied);

  TagChange r = c;
  r.kind = TagChange::Kind::kRemove;
  r.event.action = TagAction::kRemoved;
  s->apply_tag_changes(std::span(&r, 1));
  EXPECT_TRUE(s->tags_of(id).empty());
  EXPECT_EQ(s->tag_events(id, "colour_family").size(), 2u);
  EXPECT_TRUE(s->tag_events(id, "season").empty());

  // Not even raw SQL can rewrite history.
  SQLite::Database raw(db, SQLite::OPEN_READWRITE);
  EXPECT_THROW(raw.exec("UPDATE tag_events SET actor = 'someone else'"), SQLite::Exception);
  EXPECT_THROW(raw.exec("DELETE FROM tag_events"), SQLite::Exception);
  EXPECT_EQ(s->tag_events(id).size(), 2u);
}

TEST(SqliteStore, VersionsAndSettings) {
  test::TempDir dir;
  auto s = open_sqlite_store((dir / "library.db").string());
  EXPECT_FALSE(s->latest_taxonomy_version());
  const auto v1 = s->add_taxonomy_version({0, "t1", "builtin", "sha1", "a: 1"});
  const auto v2 = s->add_taxonomy_version({0, "t2", "mine.yaml", "sha2", "a: 2"});
  EXPECT_LT(v1, v2);
  EXPECT_EQ(s->latest_taxonomy_version()->yaml, "a: 2");
  EXPECT_EQ(s->taxonomy_version(v1)->source, "builtin");
  EXPECT_EQ(s->taxonomy_versions().size(), 2u);

  s->add_model_version(
      {0, "heads-1", ModelKind::kHeads, "clip", ModelStatus::kCandidate, "t", "{}", ""});
  auto m = *s->model_version("heads-1");
  m.status = ModelStatus::kActive;
  s->update_model_version(m);
  EXPECT_EQ(s->model_version("heads-1")->status, ModelStatus::kActive);
  EXPECT_THROW(
      s->update_model_version({0, "nope", ModelKind::kHeads, "", ModelStatus::kActive, "", "", ""}),
      NotFoundError);

  s->set_setting("k", "v");
  s->set_setting("k", "w");
  EXPECT_EQ(*s->setting("k"), "w");
  EXPECT_FALSE(s->setting("missing"));
}

}  // namespace
}  // namespace tagsmith::store
