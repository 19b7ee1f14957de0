// The one JSON schema for stored records (record_json.h), pinned by a golden
// file: CLI --json, `why --json` and the API all print these objects, and the
// web UI reads their fields. A change here is a change to all of them.
// To accept an intended change: TAGSMITH_UPDATE_GOLDEN=1 and re-run, then
// review the diff of tests/tagging/golden/records.json.
#include "tagsmith/tagging/record_json.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>

#include "tagsmith/common/files.h"

namespace tagsmith::tagging {
namespace {

using nlohmann::json;

const std::filesystem::path kGolden =
    std::filesystem::path(TAGSMITH_TAGGING_TEST_DIR) / "golden" / "records.json";

store::Tag sample_tag() {
  store::Tag t;
  t.asset_id = 42;
  t.attribute = "colour_family";
  t.node = "navy";
  t.state = store::TagState::kFlagged;
  t.confidence = 0.75;
  t.actor = "model:clip@3f2a";
  t.model_version = "clip@3f2a";
  t.taxonomy_version = 3;
  t.updated_at = "2026-01-02T03:04:05.000Z";
  t.evidence_json = R"({"source":"model:clip@3f2a","sources":{"model:clip@3f2a":0.75}})";
  return t;
}

store::TagEvent sample_event() {
  store::TagEvent e;
  e.id = 7;
  e.asset_id = 42;
  e.attribute = "category";
  e.node = "dresses";
  e.action = store::TagAction::kCorrected;
  e.actor = "user:ana";
  e.confidence = 1.0;
  e.taxonomy_version = 3;
  e.at = "2026-01-02T03:04:06.000Z";
  e.previous_node = "tops";
  e.evidence_json = R"({"previous_state":"auto","previous_confidence":0.5})";
  return e;
}

store::ModelVersion sample_model() {
  store::ModelVersion m;
  m.id = 5;
  m.version = "heads-0003";
  m.kind = store::ModelKind::kHeads;
  m.parent = "clip@3f2a";
  m.status = store::ModelStatus::kActive;
  m.created_at = "2026-01-01T00:00:00.000Z";
  m.metrics_json = R"({"macro_f1":0.5})";
  m.artifact_path = "models/heads-0003.safetensors";
  return m;
}

store::AssetRecord sample_asset() {
  store::AssetRecord a;
  a.id = 42;
  a.sha256 = std::string(64, 'a');
  a.source_path = "/srv/photos/spring/dress-01.jpg";
  a.file_size = 123456;
  a.width = 800;
  a.height = 1200;
  a.format = "jpeg";
  a.phash = 0x00ff00ff00ff00ffULL;
  a.ingested_at = "2026-01-01T12:00:00.000Z";
  a.thumbnail_sha256 = std::string(64, 'b');
  a.colours.product_fraction = 0.5;
  a.colours.background_removed = true;
  image::DominantColour c;
  c.lab = {25.5, 2.5, -30.25};
  c.rgb = {0x1f, 0x2a, 0x44};
  c.share = 0.75;
  c.family = "navy";
  c.shade = "navy";
  c.delta_e = 1.5;
  a.colours.colours.push_back(c);
  return a;
}

json actual_records() {
  store::Tag bad = sample_tag();
  bad.evidence_json = "{not json";
  store::ModelVersion bad_metrics = sample_model();
  bad_metrics.metrics_json = "";
  return {{"tag", to_json(sample_tag())},
          {"tag_with_bad_evidence", to_json(bad)},
          {"event", to_json(sample_event())},
          {"model_public", to_json(sample_model(), View::kPublic)},
          {"model_admin", to_json(sample_model(), View::kAdmin)},
          {"model_without_metrics", to_json(bad_metrics, View::kPublic)},
          {"asset_public", to_json(sample_asset(), View::kPublic)},
          {"asset_admin", to_json(sample_asset(), View::kAdmin)}};
}

TEST(RecordJson, MatchesTheGoldenFile) {
  const json actual = actual_records();
  if (std::getenv("TAGSMITH_UPDATE_GOLDEN")) write_file_atomic(kGolden, actual.dump(2) + "\n");
  const json golden = json::parse(read_file_text(kGolden));
  EXPECT_EQ(actual, golden) << "actual:\n" << actual.dump(2) << "\ngolden:\n" << golden.dump(2);
}

TEST(RecordJson, BadEvidenceKeepsItsTextAndTheFieldsType) {
  store::Tag t = sample_tag();
  t.evidence_json = "{not json";
  const json j = to_json(t);
  EXPECT_TRUE(j.at("evidence").is_object());
  EXPECT_TRUE(j.at("evidence").empty());
  EXPECT_EQ(j.at("evidence_raw"), "{not json");
  // Good evidence has no raw copy.
  EXPECT_FALSE(to_json(sample_tag()).contains("evidence_raw"));
}

TEST(RecordJson, PublicViewHidesServerPaths) {
  const json pub = to_json(sample_asset(), View::kPublic);
  EXPECT_EQ(pub.at("name"), "dress-01.jpg");
  EXPECT_FALSE(pub.contains("source_path"));
  EXPECT_FALSE(pub.dump().find("/srv/photos") != std::string::npos);
  const json admin = to_json(sample_asset(), View::kAdmin);
  EXPECT_EQ(admin.at("name"), "/srv/photos/spring/dress-01.jpg");
  EXPECT_EQ(admin.at("source_path"), "/srv/photos/spring/dress-01.jpg");
  EXPECT_FALSE(to_json(sample_model(), View::kPublic).contains("artifact_path"));
  EXPECT_EQ(to_json(sample_model(), View::kAdmin).at("artifact_path"),
            "models/heads-0003.safetensors");
}

}  // namespace
}  // namespace tagsmith::tagging
