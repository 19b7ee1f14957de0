// What spans the roles: the counts in stats().
#include "conformance.h"

namespace tagsmith::store::conformance {
namespace {

TEST_P(WholeStoreConformance, StatsCountEveryRole) {
  EXPECT_GT(store_->schema_version(), 0);
  const auto empty = store_->stats();
  EXPECT_EQ(empty.assets, 0);
  EXPECT_EQ(empty.tag_events, 0);

  const AssetRecord a = sample_asset("s1"), b = sample_asset("s2");
  const AssetId ia = store_->add_asset(a, first_path_of(a), "m", std::vector<float>{1});
  store_->add_asset(b, first_path_of(b));
  store_->add_path({"/copy.jpg", ia, 1, 1, true});
  store_->record_ingest_error({"/bad.jpg", "truncated", "t"});
  std::vector<TagChange> changes{
      tag_change(ia, "colour", "red", TagState::kAuto, TagAction::kApplied),
      tag_change(ia, "scene", "studio", TagState::kFlagged, TagAction::kFlagged),
      tag_change(ia, "season", "summer", TagState::kSuggested, TagAction::kProposed),
      tag_change(ia, "style", "casual", TagState::kConfirmed, TagAction::kConfirmed),
      tag_change(ia, "fit", "slim", TagState::kRejected, TagAction::kRejected),
      tag_change(ia, "sleeve", "long", TagState::kHumanSet, TagAction::kCorrected),
      tag_change(ia, "material", "wool", TagState::kHumanSet, TagAction::kCorrected),
  };
  store_->apply_tag_changes(changes);
  const auto s = store_->stats();
  EXPECT_EQ(s.assets, 2);
  EXPECT_EQ(s.aliases, 1);
  EXPECT_EQ(s.rejected_files, 1);
  EXPECT_EQ(s.embeddings, 1);
  EXPECT_EQ(s.tags_auto, 1);
  EXPECT_EQ(s.tags_flagged, 1);
  EXPECT_EQ(s.tags_suggested, 1);
  EXPECT_EQ(s.tags_confirmed, 1);
  EXPECT_EQ(s.tags_rejected, 1);
  EXPECT_EQ(s.tags_human_set, 2);
  EXPECT_EQ(s.tag_events, 7);
}

// What a server polls to follow a shared library (store.h).
TEST_P(WholeStoreConformance, TheChangeMarkerMovesWithAssetsTagsEmbeddingsAndTaxonomy) {
  const ChangeMarker empty = store_->change_marker();
  EXPECT_EQ(empty, ChangeMarker{});

  const AssetRecord a = sample_asset("c1");
  const AssetId ia = store_->add_asset(a, first_path_of(a));
  const ChangeMarker m1 = store_->change_marker();
  EXPECT_GT(m1.last_asset, empty.last_asset);
  EXPECT_EQ(m1.last_tag_event, 0);
  EXPECT_EQ(m1.last_embedding_seq, 0);
  EXPECT_EQ(m1.last_taxonomy_version, 0);

  std::vector<TagChange> changes{
      tag_change(ia, "colour", "red", TagState::kAuto, TagAction::kApplied)};
  store_->apply_tag_changes(changes);
  const ChangeMarker m2 = store_->change_marker();
  EXPECT_GT(m2.last_tag_event, m1.last_tag_event);
  EXPECT_EQ(m2.last_asset, m1.last_asset);
  EXPECT_EQ(m2.last_embedding_seq, 0);

  store_->put_embedding(ia, "m", std::vector<float>{1, 2});
  const ChangeMarker m3 = store_->change_marker();
  EXPECT_EQ(m3.last_embedding_seq, store_->embeddings_changed_since("m", 0, 10).at(0).seq);
  EXPECT_EQ(m3.last_tag_event, m2.last_tag_event);
  store_->put_embedding(ia, "m", std::vector<float>{3, 4});  // a replacement moves it too
  const ChangeMarker m4 = store_->change_marker();
  EXPECT_GT(m4.last_embedding_seq, m3.last_embedding_seq);

  const auto v = store_->add_taxonomy_version({0, "t1", "builtin", "sha1", "a: 1"});
  const ChangeMarker m5 = store_->change_marker();
  EXPECT_GT(m5.last_taxonomy_version, m4.last_taxonomy_version);
  EXPECT_GT(v, 0);
  EXPECT_EQ(m5.last_embedding_seq, m4.last_embedding_seq);

  // What search does not depend on leaves it alone.
  store_->add_path({"/copy.jpg", ia, 1, 1, true});
  store_->record_ingest_error({"/bad.jpg", "truncated", "t"});
  store_->set_setting("k", "v");
  EXPECT_EQ(store_->change_marker(), m5);
}

}  // namespace
}  // namespace tagsmith::store::conformance
