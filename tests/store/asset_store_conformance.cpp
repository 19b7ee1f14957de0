// AssetStore: what every store must do with assets, paths, ingest errors,
// embeddings and fingerprints.
#include "conformance.h"

namespace tagsmith::store::conformance {
namespace {

TEST_P(AssetStoreConformance, AssetRoundTripWithColoursPathsAndEmbedding) {
  const AssetRecord a = sample_asset("aaa");
  const std::vector<float> vec{0.6f, 0.8f};
  const AssetId id = assets().add_asset(a, first_path_of(a), "model-x", vec);
  const auto back = assets().find_asset(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->id, id);
  EXPECT_EQ(back->sha256, "aaa");
  EXPECT_EQ(back->source_path, a.source_path);
  EXPECT_EQ(back->file_size, 1234);
  EXPECT_EQ(back->width, 640);
  EXPECT_EQ(back->height, 480);
  EXPECT_EQ(back->format, "jpeg");
  EXPECT_EQ(back->phash, a.phash);
  EXPECT_EQ(back->ingested_at, a.ingested_at);
  EXPECT_EQ(back->thumbnail_sha256, "abaaa");
  EXPECT_EQ(back->thumbnail_width, 256);
  EXPECT_EQ(back->thumbnail_height, 192);
  ASSERT_EQ(back->colours.colours.size(), 1u);
  const auto& c = back->colours.colours[0];
  EXPECT_EQ(c.shade, "burgundy");
  EXPECT_EQ(c.family, "red");
  EXPECT_EQ(c.rgb, (std::array<std::uint8_t, 3>{128, 0, 32}));
  EXPECT_DOUBLE_EQ(c.lab.L, 30);
  EXPECT_DOUBLE_EQ(c.share, 0.8);
  EXPECT_DOUBLE_EQ(c.delta_e, 1.5);
  EXPECT_TRUE(back->colours.background_removed);
  EXPECT_DOUBLE_EQ(back->colours.product_fraction, 0.4);
  EXPECT_EQ(assets().find_asset_by_path(a.source_path)->id, id);
  EXPECT_EQ(assets().find_asset_by_sha256("aaa")->id, id);
  EXPECT_EQ(*assets().embedding(id, "model-x"), vec);
  EXPECT_FALSE(assets().embedding(id, "other"));
  EXPECT_FALSE(assets().find_asset(id + 1));
  EXPECT_FALSE(assets().find_asset_by_sha256("zzz"));
}

TEST_P(AssetStoreConformance, BulkReadsMatchTheSingleAssetReads) {
  std::vector<AssetId> ids;
  for (int i = 0; i < 30; ++i) {
    AssetRecord a = sample_asset("bulk" + std::to_string(i));
    if (i % 4 == 0) a.colours = {};  // some without colours
    const std::vector<float> vec{static_cast<float>(i), 1.0f};
    ids.push_back(i % 3 == 0 ? assets().add_asset(a, first_path_of(a))
                             : assets().add_asset(a, first_path_of(a), "model-x", vec));
  }
  // Scattered and repeated ids, out of order, with unknown ones: each known
  // asset once, by id.
  std::vector<AssetId> asked{ids[29],        ids[0],  ids[5],  ids[5],  ids[1],  ids[2],
                             ids[28] + 1000, ids[27], ids[14], ids[15], ids[16], ids[0] - 1};
  std::vector<AssetId> known{ids[0],  ids[1],  ids[2],  ids[5], ids[14],
                             ids[15], ids[16], ids[27], ids[29]};
  const auto found = assets().find_assets(asked);
  ASSERT_EQ(found.size(), known.size());
  for (std::size_t i = 0; i < known.size(); ++i) {
    const auto one = assets().find_asset(known[i]);
    EXPECT_EQ(found[i].id, known[i]);
    EXPECT_EQ(found[i].sha256, one->sha256);
    EXPECT_EQ(found[i].thumbnail_sha256, one->thumbnail_sha256);
    ASSERT_EQ(found[i].colours.colours.size(), one->colours.colours.size());
    for (std::size_t c = 0; c < one->colours.colours.size(); ++c)
      EXPECT_EQ(found[i].colours.colours[c].shade, one->colours.colours[c].shade);
  }
  const auto vectors = assets().embeddings(asked, "model-x");
  std::vector<AssetId> with_vector;
  for (AssetId id : known)
    if (assets().embedding(id, "model-x")) with_vector.push_back(id);
  ASSERT_EQ(vectors.size(), with_vector.size());
  for (std::size_t i = 0; i < vectors.size(); ++i) {
    EXPECT_EQ(vectors[i].first, with_vector[i]);
    EXPECT_EQ(vectors[i].second, *assets().embedding(with_vector[i], "model-x"));
  }
  EXPECT_TRUE(assets().embeddings(asked, "other").empty());
  EXPECT_TRUE(assets().find_assets({}).empty());
}

TEST_P(AssetStoreConformance, AnAssetWithoutThumbnailOrColoursReadsBackEmpty) {
  AssetRecord a = sample_asset("bare");
  a.thumbnail_sha256.clear();
  a.colours = {};
  const AssetId id = assets().add_asset(a, first_path_of(a));
  const auto back = assets().find_asset(id);
  ASSERT_TRUE(back);
  EXPECT_EQ(back->thumbnail_sha256, "");
  EXPECT_EQ(back->thumbnail_width, 0);
  EXPECT_TRUE(back->colours.colours.empty());
}

TEST_P(AssetStoreConformance, AliasPathsFollowTheFirstAndTheSameContentIsRefused) {
  const AssetRecord a = sample_asset("aaa");
  const AssetId id = assets().add_asset(a, first_path_of(a));
  assets().add_path({"/elsewhere/copy.jpg", id, 1234, 7, true});
  assets().add_path({"/another/copy.jpg", id, 1234, 8, true});
  const auto paths = assets().paths_of(id);
  ASSERT_EQ(paths.size(), 3u);
  EXPECT_EQ(paths[0].path, a.source_path);
  EXPECT_FALSE(paths[0].is_alias);
  EXPECT_EQ(paths[1].path, "/another/copy.jpg");
  EXPECT_EQ(paths[2].path, "/elsewhere/copy.jpg");
  EXPECT_TRUE(paths[2].is_alias);
  const auto p = assets().find_path("/elsewhere/copy.jpg");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->asset_id, id);
  EXPECT_EQ(p->mtime_ns, 7);
  EXPECT_FALSE(assets().find_path("/nowhere.jpg"));
  EXPECT_EQ(assets().find_asset_by_path("/elsewhere/copy.jpg")->id, id);
  EXPECT_THROW(assets().add_asset(a, first_path_of(a)), std::exception);  // same content twice
  EXPECT_EQ(assets().asset_ids(), std::vector<AssetId>{id});
}

TEST_P(AssetStoreConformance, IngestErrorsAreOnePerPathAndClearedWhenThePathSucceeds) {
  const AssetRecord a = sample_asset("bbb");
  assets().record_ingest_error({a.source_path, "truncated", "t"});
  assets().record_ingest_error({a.source_path, "truncated again", "t2"});
  assets().record_ingest_error({"/photos/alias.jpg", "unreadable", "t3"});
  ASSERT_EQ(assets().ingest_errors().size(), 2u);
  EXPECT_EQ(assets().ingest_errors()[1].reason, "truncated again");  // by path
  const AssetId id = assets().add_asset(a, first_path_of(a));
  ASSERT_EQ(assets().ingest_errors().size(), 1u);
  assets().add_path({"/photos/alias.jpg", id, 1, 1, true});
  EXPECT_TRUE(assets().ingest_errors().empty());
}

TEST_P(AssetStoreConformance, AssetsAreListedInIdOrder) {
  std::vector<AssetId> added;
  for (const char* sha : {"c", "a", "b"}) {
    const AssetRecord a = sample_asset(sha);
    added.push_back(assets().add_asset(a, first_path_of(a)));
  }
  EXPECT_TRUE(std::is_sorted(added.begin(), added.end()));
  EXPECT_EQ(assets().asset_ids(), added);
  std::vector<std::string> seen;
  assets().for_each_asset([&](const AssetRecord& a) { seen.push_back(a.sha256); });
  EXPECT_EQ(seen, (std::vector<std::string>{"c", "a", "b"}));
}

TEST_P(AssetStoreConformance, FingerprintsCarryTheHashAndTheLargestColour) {
  AssetRecord a = sample_asset("two-colours");
  DominantColour second = a.colours.colours[0];
  second.lab = {90, 0, 0};
  second.share = 0.2;
  a.colours.colours.push_back(second);
  AssetRecord bare = sample_asset("no-colours");
  bare.phash = 7;
  bare.colours = {};
  const AssetId ia = assets().add_asset(a, first_path_of(a));
  const AssetId ib = assets().add_asset(bare, first_path_of(bare));
  const auto f = assets().fingerprints();
  ASSERT_EQ(f.size(), 2u);
  EXPECT_EQ(f[0].id, ia);
  EXPECT_EQ(f[0].phash, a.phash);
  EXPECT_TRUE(f[0].has_colour);
  EXPECT_DOUBLE_EQ(f[0].main_colour.L, 30);  // the first (largest), not the second
  EXPECT_DOUBLE_EQ(f[0].main_colour.a, 50);
  EXPECT_EQ(f[1].id, ib);
  EXPECT_EQ(f[1].phash, 7u);
  EXPECT_FALSE(f[1].has_colour);
}

TEST_P(AssetStoreConformance, EmbeddingsAreOnePerAssetAndModelAndListedByAsset) {
  std::vector<AssetId> ids;
  for (const char* sha : {"e1", "e2", "e3"}) {
    const AssetRecord a = sample_asset(sha);
    ids.push_back(assets().add_asset(a, first_path_of(a)));
  }
  assets().put_embedding(ids[2], "m", std::vector<float>{3, 3});
  assets().put_embedding(ids[0], "m", std::vector<float>{1, 1});
  assets().put_embedding(ids[0], "m", std::vector<float>{1, 0, 0});  // replaces
  assets().put_embedding(ids[1], "other", std::vector<float>{2});
  EXPECT_EQ(*assets().embedding(ids[0], "m"), (std::vector<float>{1, 0, 0}));
  std::vector<std::pair<AssetId, std::vector<float>>> seen;
  assets().for_each_embedding("m", [&](AssetId id, std::span<const float> v) {
    seen.emplace_back(id, std::vector<float>(v.begin(), v.end()));
  });
  ASSERT_EQ(seen.size(), 2u);
  EXPECT_EQ(seen[0].first, ids[0]);
  EXPECT_EQ(seen[0].second, (std::vector<float>{1, 0, 0}));
  EXPECT_EQ(seen[1].first, ids[2]);
}

// The change sequence a server's vector index follows (asset_store.h).
TEST_P(AssetStoreConformance, EveryEmbeddingWriteTakesANewNumberInTheChangeSequence) {
  EXPECT_TRUE(assets().embeddings_changed_since("m", 0, 100).empty());
  const AssetRecord a = sample_asset("q1"), b = sample_asset("q2"), c = sample_asset("q3");
  const AssetId ia = assets().add_asset(a, first_path_of(a), "m", std::vector<float>{1, 0});
  const AssetId ib = assets().add_asset(b, first_path_of(b));  // no embedding yet
  const AssetId ic = assets().add_asset(c, first_path_of(c), "m", std::vector<float>{0, 1});
  assets().put_embedding(ib, "other", std::vector<float>{5});  // another model's row
  assets().put_embedding(ib, "m", std::vector<float>{2, 2});

  const auto all = assets().embeddings_changed_since("m", 0, 100);
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].asset_id, ia);
  EXPECT_EQ(all[0].vector, (std::vector<float>{1, 0}));
  EXPECT_EQ(all[1].asset_id, ic);
  EXPECT_EQ(all[2].asset_id, ib);
  EXPECT_EQ(all[2].vector, (std::vector<float>{2, 2}));
  EXPECT_GT(all[0].seq, 0);
  EXPECT_LT(all[0].seq, all[1].seq);
  // The other model's write came between and took a number of its own.
  EXPECT_GT(all[2].seq, all[1].seq + 1);

  // Paging: after the last number seen, at most `limit`.
  const auto first = assets().embeddings_changed_since("m", 0, 1);
  ASSERT_EQ(first.size(), 1u);
  EXPECT_EQ(first[0].asset_id, ia);
  const auto rest = assets().embeddings_changed_since("m", first[0].seq, 100);
  ASSERT_EQ(rest.size(), 2u);
  EXPECT_EQ(rest[0].asset_id, ic);
  EXPECT_TRUE(assets().embeddings_changed_since("m", all[2].seq, 100).empty());
  EXPECT_TRUE(assets().embeddings_changed_since("m", 0, 0).empty());
  const auto others = assets().embeddings_changed_since("other", 0, 100);
  ASSERT_EQ(others.size(), 1u);
  EXPECT_EQ(others[0].asset_id, ib);

  // Replacing a vector reports the row again, once, under a new number.
  const std::int64_t watermark = all[2].seq;
  assets().put_embedding(ia, "m", std::vector<float>{0.6f, 0.8f});
  const auto replaced = assets().embeddings_changed_since("m", watermark, 100);
  ASSERT_EQ(replaced.size(), 1u);
  EXPECT_EQ(replaced[0].asset_id, ia);
  EXPECT_EQ(replaced[0].vector, (std::vector<float>{0.6f, 0.8f}));
  EXPECT_GT(replaced[0].seq, watermark);
  const auto again = assets().embeddings_changed_since("m", 0, 100);
  ASSERT_EQ(again.size(), 3u);  // one row per asset: the old number is gone
  EXPECT_EQ(again[0].asset_id, ic);
  EXPECT_EQ(again[1].asset_id, ib);
  EXPECT_EQ(again[2].asset_id, ia);
  EXPECT_EQ(again[2].seq, replaced[0].seq);
}

}  // namespace
}  // namespace tagsmith::store::conformance
