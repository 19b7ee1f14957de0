// WorkQueue conformance: what an interrupted job leaves behind is exactly
// what its steps have not committed.
#include <vector>

#include "conformance.h"

namespace tagsmith::store::conformance {
namespace {

std::vector<AssetId> all_pending(WorkQueue& q) {
  return q.pending_work(WorkStep::kTag, 0, 1000);
}

}  // namespace

TEST_P(WorkQueueConformance, AddingAnAssetQueuesItsTagging) {
  const auto a = sample_asset("a1");
  const AssetId id = store_->add_asset(a, first_path_of(a));
  EXPECT_EQ(all_pending(work()), std::vector<AssetId>{id});
  EXPECT_EQ(work().pending_count(WorkStep::kTag), 1);
  EXPECT_EQ(store_->stats().pending_tagging, 1);
}

TEST_P(WorkQueueConformance, TaggingSettlesOnlyTheDecidedAssetsInTheSameCall) {
  std::vector<AssetId> ids;
  for (const char* sha : {"b1", "b2", "b3"}) {
    const auto a = sample_asset(sha);
    ids.push_back(store_->add_asset(a, first_path_of(a)));
  }
  // A decision with changes and one without (nothing to tag) both settle.
  const auto change =
      tag_change(ids[0], "colour_family", "red", TagState::kAuto, TagAction::kApplied);
  const std::vector<AssetId> decided = {ids[0], ids[2]};
  store_->apply_tag_changes(std::span(&change, 1), decided);
  EXPECT_EQ(all_pending(work()), std::vector<AssetId>{ids[1]});
  // Human edits (no decided assets) leave the queue alone.
  const auto human =
      tag_change(ids[1], "colour_family", "red", TagState::kHumanSet, TagAction::kApplied);
  store_->apply_tag_changes(std::span(&human, 1));
  EXPECT_EQ(all_pending(work()), std::vector<AssetId>{ids[1]});
}

TEST_P(WorkQueueConformance, QueueingIsIdempotentAndIgnoresUnknownAssets) {
  const auto a = sample_asset("c1");
  const AssetId id = store_->add_asset(a, first_path_of(a));
  const std::vector<AssetId> twice = {id, id, 999'999};
  work().queue_work(twice, WorkStep::kTag);
  EXPECT_EQ(all_pending(work()), std::vector<AssetId>{id});
}

TEST_P(WorkQueueConformance, QueueForAllAndPageThroughInIdOrder) {
  std::vector<AssetId> ids;
  for (int i = 0; i < 5; ++i) {
    const auto a = sample_asset("d" + std::to_string(i));
    ids.push_back(store_->add_asset(a, first_path_of(a)));
  }
  store_->apply_tag_changes({}, ids);
  EXPECT_EQ(work().pending_count(WorkStep::kTag), 0);
  EXPECT_EQ(work().queue_work_for_all(WorkStep::kTag), 5);
  EXPECT_EQ(work().pending_work(WorkStep::kTag, 0, 2), (std::vector<AssetId>{ids[0], ids[1]}));
  EXPECT_EQ(work().pending_work(WorkStep::kTag, ids[1], 10),
            (std::vector<AssetId>{ids[2], ids[3], ids[4]}));
}

TEST_P(WorkQueueConformance, ANewEmbeddingQueuesReTagging) {
  const auto a = sample_asset("e1");
  const AssetId id = store_->add_asset(a, first_path_of(a));
  store_->apply_tag_changes({}, std::vector<AssetId>{id});
  ASSERT_EQ(work().pending_count(WorkStep::kTag), 0);
  const std::vector<float> v = {1, 0, 0};
  store_->put_embedding(id, "enc@1", v);
  EXPECT_EQ(all_pending(work()), std::vector<AssetId>{id});
}

}  // namespace tagsmith::store::conformance
