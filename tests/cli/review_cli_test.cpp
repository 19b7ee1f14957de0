// `tagsmith review` follows the team rules of the web reviewer: items another
// reviewer holds are not offered, "u" undoes the last decision (the tag is as
// it was, with an `undone` event), and `review undo` says when there is
// nothing left to undo.
#include <gtest/gtest.h>

#include <iostream>
#include <sstream>

#include "fixtures.h"
#include "tagsmith/cli/app.h"
#include "tagsmith/library/library.h"
#include "tagsmith/review/queue.h"
#include "tagsmith/tagging/service.h"
#include "temp_dir.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;

class ReviewCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    fs::create_directories(photos);
    test::write_jpeg(photos / "navy.jpg", test::synthetic_product(300, 360, 1, {25, 35, 90}));
    test::write_jpeg(photos / "red.jpg", test::synthetic_product(300, 360, 2, {200, 20, 30}));
    ASSERT_EQ(run({"ingest", photos.string()}).rc, 0);
    // Something to review on each photo: a flagged scene.
    auto library = library::Library::open_existing(lib);
    for (auto id : library->store().asset_ids()) {
      store::TagChange c;
      c.tag = {id,          "scene", "studio", store::TagState::kFlagged,  0.8,
               "model:m@1", "m@1",   1,        "2026-01-01T00:00:00.000Z", "{}"};
      c.event.asset_id = id;
      c.event.attribute = "scene";
      c.event.node = "studio";
      c.event.action = store::TagAction::kFlagged;
      c.event.actor = "model:m@1";
      c.event.confidence = 0.8;
      c.event.at = c.tag.updated_at;
      library->store().apply_tag_changes(std::span(&c, 1));
    }
  }

  struct Result {
    int rc;
    std::string out, err;
  };
  Result run(std::vector<std::string> args, const std::string& input = {}) {
    args.insert(args.end(), {"--library", lib.string(), "--quiet"});
    std::istringstream in(input);
    std::streambuf* saved = std::cin.rdbuf(in.rdbuf());
    testing::internal::CaptureStdout();
    testing::internal::CaptureStderr();
    const int rc = cli::run(args);
    Result r{rc, testing::internal::GetCapturedStdout(), testing::internal::GetCapturedStderr()};
    std::cin.rdbuf(saved);
    std::cin.clear();
    return r;
  }
  std::vector<store::Tag> scene_tags() {
    std::vector<store::Tag> out;
    auto library = library::Library::open_existing(lib);
    for (auto id : library->store().asset_ids())
      for (const auto& t : library->store().tags_of(id))
        if (t.attribute == "scene") out.push_back(t);
    return out;
  }

  test::TempDir dir;
  fs::path photos = dir / "photos";
  fs::path lib = dir / "lib";
};

TEST_F(ReviewCliTest, ItemsAnotherReviewerHoldsAreNotOffered) {
  {
    auto library = library::Library::open_existing(lib);
    tagging::TagService tagger(*library);
    review::ReviewQueue queue(*library, tagger);
    review::ReviewFilter f;
    f.attributes = {"scene"};
    ASSERT_EQ(queue.items(f, review::Order::kValue, 10, 0, "bo").size(), 2u);
  }
  const auto r = run({"review", "--user", "ana", "--attribute", "scene"}, "y\nq\n");
  EXPECT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("nothing to review"), std::string::npos) << r.out;
  for (const auto& t : scene_tags()) EXPECT_EQ(t.state, store::TagState::kFlagged);
}

TEST_F(ReviewCliTest, UndoKeyRestoresTheTagAndIsAudited) {
  const auto r = run({"review", "--user", "ana", "--attribute", "scene"}, "y\nu\nq\n");
  ASSERT_EQ(r.rc, 0) << r.err;
  EXPECT_NE(r.out.find("undid confirm of scene=studio"), std::string::npos) << r.out;
  for (const auto& t : scene_tags()) EXPECT_EQ(t.state, store::TagState::kFlagged);
  auto library = library::Library::open_existing(lib);
  int undone = 0;
  for (auto id : library->store().asset_ids())
    for (const auto& e : library->store().tag_events(id, "scene"))
      if (e.action == store::TagAction::kUndone && e.actor == "user:ana") ++undone;
  EXPECT_EQ(undone, 1);
  // Quitting gave the claims back: another reviewer gets both items.
  tagging::TagService tagger(*library);
  review::ReviewQueue queue(*library, tagger);
  review::ReviewFilter f;
  f.attributes = {"scene"};
  EXPECT_EQ(queue.items(f, review::Order::kValue, 10, 0, "bo").size(), 2u);
  const auto again = run({"review", "undo", "--user", "ana"});
  EXPECT_EQ(again.rc, 0) << again.err;
  EXPECT_NE(again.out.find("nothing to undo"), std::string::npos) << again.out;
}

}  // namespace
}  // namespace tagsmith::cli
