// WorkQueue conformance: what an interrupted job leaves behind is exactly
// what its steps have not committed.
#include <chrono>
#include <string>
#include <thread>
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

// --- claims, jobs and leases: workers sharing one library ----------------------------

namespace tagsmith::store::conformance {
namespace {

using std::chrono::seconds;

std::vector<AssetId> add_assets(Store& s, int n, const std::string& prefix) {
  std::vector<AssetId> ids;
  for (int i = 0; i < n; ++i) {
    const auto a = sample_asset(prefix + std::to_string(i));
    ids.push_back(s.add_asset(a, first_path_of(a)));
  }
  return ids;
}

// A lease of 0 s has run out as soon as the clock moves on.
void let_leases_run_out() {
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
}

}  // namespace

TEST_P(WorkQueueConformance, ClaimedEntriesBelongToOneWorkerUntilItsLeaseRunsOut) {
  const auto ids = add_assets(*store_, 5, "c");
  const auto first = work().claim_work(WorkStep::kTag, "w1", seconds(60), 3);
  EXPECT_EQ(first, std::vector<AssetId>(ids.begin(), ids.begin() + 3));
  const auto second = work().claim_work(WorkStep::kTag, "w2", seconds(60), 10);
  EXPECT_EQ(second, std::vector<AssetId>(ids.begin() + 3, ids.end()));
  EXPECT_TRUE(work().claim_work(WorkStep::kTag, "w3", seconds(60), 10).empty());
  EXPECT_EQ(work().claimed_count(WorkStep::kTag), 5);
  // Claims don't hide work from the single-process view of what is left.
  EXPECT_EQ(work().pending_count(WorkStep::kTag), 5);

  // Settling ends the claim with the entry.
  store_->apply_tag_changes({}, std::span(first.data(), 1));
  EXPECT_EQ(work().claimed_count(WorkStep::kTag), 4);

  // A worker that dies stops renewing: its entries go to the next one.
  const auto ids2 = add_assets(*store_, 2, "d");
  EXPECT_EQ(work().claim_work(WorkStep::kTag, "dies", seconds(0), 10), ids2);
  let_leases_run_out();
  EXPECT_EQ(work().claim_work(WorkStep::kTag, "w4", seconds(60), 10), ids2);
}

TEST_P(WorkQueueConformance, ARenewedLeaseKeepsTheClaimAndAReleasedOneGivesItBack) {
  const auto ids = add_assets(*store_, 2, "r");
  ASSERT_EQ(work().claim_work(WorkStep::kTag, "alive", seconds(0), 10), ids);
  EXPECT_EQ(work().renew_leases("alive", seconds(60)), 2);
  let_leases_run_out();
  EXPECT_TRUE(work().claim_work(WorkStep::kTag, "other", seconds(60), 10).empty());
  work().release_leases("alive");
  EXPECT_EQ(work().claim_work(WorkStep::kTag, "other", seconds(60), 10), ids);
  EXPECT_EQ(work().renew_leases("alive", seconds(60)), 0);
}

TEST_P(WorkQueueConformance, JobsAreQueuedOnceClaimedOnceAndFinishedByTheirHolder) {
  const std::vector<std::string> files = {"/p/a.jpg", "/p/b.jpg", "/p/c.jpg"};
  EXPECT_EQ(work().enqueue_jobs(JobKind::kIngest, files), 3);
  EXPECT_EQ(work().enqueue_jobs(JobKind::kIngest, files), 0);  // already queued
  auto mine = work().claim_jobs(JobKind::kIngest, "w1", seconds(60), 2);
  ASSERT_EQ(mine.size(), 2u);
  EXPECT_EQ(mine[0].target, "/p/a.jpg");
  EXPECT_EQ(mine[0].state, JobState::kRunning);
  EXPECT_EQ(mine[0].attempts, 1);
  EXPECT_EQ(mine[0].worker, "w1");
  auto theirs = work().claim_jobs(JobKind::kIngest, "w2", seconds(60), 10);
  ASSERT_EQ(theirs.size(), 1u);
  EXPECT_EQ(theirs[0].target, "/p/c.jpg");

  EXPECT_FALSE(work().finish_job(mine[0].id, "w2"));  // not w2's
  EXPECT_TRUE(work().finish_job(mine[0].id, "w1"));
  EXPECT_FALSE(work().finish_job(mine[0].id, "w1"));  // finished once
  EXPECT_TRUE(work().finish_job(mine[1].id, "w1", "cannot decode: truncated JPEG"));
  const JobCounts counts = work().job_counts(JobKind::kIngest);
  EXPECT_EQ(counts.queued, 0);
  EXPECT_EQ(counts.running, 1);
  EXPECT_EQ(counts.done, 1);
  EXPECT_EQ(counts.failed, 1);
  const auto failed = work().jobs_in_state(JobState::kFailed, 10);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_EQ(failed[0].target, "/p/b.jpg");
  EXPECT_EQ(failed[0].error, "cannot decode: truncated JPEG");

  // A done file may be queued again (a new version of it, say).
  EXPECT_EQ(work().enqueue_jobs(JobKind::kIngest, std::span(files.data(), 1)), 1);
  EXPECT_EQ(work().retry_failed_jobs(), 1);
  EXPECT_EQ(work().job_counts(JobKind::kIngest).queued, 2);
  EXPECT_EQ(work().job_counts(JobKind::kIngest).failed, 0);
}

TEST_P(WorkQueueConformance, AJobWhoseWorkersKeepDyingFailsWithTheReason) {
  const std::vector<std::string> files = {"/p/poison.jpg"};
  work().enqueue_jobs(JobKind::kIngest, files);
  ASSERT_EQ(work().claim_jobs(JobKind::kIngest, "w1", seconds(0), 1, 2).size(), 1u);
  let_leases_run_out();
  auto again = work().claim_jobs(JobKind::kIngest, "w2", seconds(0), 1, 2);
  ASSERT_EQ(again.size(), 1u);
  EXPECT_EQ(again[0].attempts, 2);
  EXPECT_FALSE(work().finish_job(again[0].id, "w1"));  // w1's lease was taken over
  let_leases_run_out();
  EXPECT_TRUE(work().claim_jobs(JobKind::kIngest, "w3", seconds(60), 1, 2).empty());
  const auto failed = work().jobs_in_state(JobState::kFailed, 10);
  ASSERT_EQ(failed.size(), 1u);
  EXPECT_NE(failed[0].error.find("stopped (killed or lost) 2 times"), std::string::npos)
      << failed[0].error;

  // A worker that stops cleanly gives its job back without using an attempt.
  const std::vector<std::string> more = {"/p/next.jpg"};
  work().enqueue_jobs(JobKind::kIngest, more);
  ASSERT_EQ(work().claim_jobs(JobKind::kIngest, "w4", seconds(60), 1).size(), 1u);
  work().release_leases("w4");
  const auto back = work().claim_jobs(JobKind::kIngest, "w5", seconds(60), 1);
  ASSERT_EQ(back.size(), 1u);
  EXPECT_EQ(back[0].attempts, 1);
}

}  // namespace tagsmith::store::conformance
