// CatalogueStore: taxonomy versions, model versions with their kind and
// status, and settings.
#include "conformance.h"
#include "tagsmith/common/error.h"

namespace tagsmith::store::conformance {
namespace {

TEST_P(CatalogueStoreConformance, TaxonomyVersionsAscendAndListWithoutTheirText) {
  EXPECT_FALSE(catalogue().latest_taxonomy_version());
  const auto v1 = catalogue().add_taxonomy_version({0, "t1", "builtin", "sha1", "a: 1"});
  const auto v2 = catalogue().add_taxonomy_version({0, "t2", "mine.yaml", "sha2", "a: 2"});
  EXPECT_LT(v1, v2);
  EXPECT_EQ(catalogue().latest_taxonomy_version()->yaml, "a: 2");
  EXPECT_EQ(catalogue().latest_taxonomy_version()->id, v2);
  const auto first = catalogue().taxonomy_version(v1);
  ASSERT_TRUE(first);
  EXPECT_EQ(first->source, "builtin");
  EXPECT_EQ(first->sha256, "sha1");
  EXPECT_EQ(first->created_at, "t1");
  EXPECT_EQ(first->yaml, "a: 1");
  EXPECT_FALSE(catalogue().taxonomy_version(v2 + 1));
  const auto all = catalogue().taxonomy_versions();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].id, v1);
  EXPECT_EQ(all[1].source, "mine.yaml");
  EXPECT_EQ(all[1].yaml, "");
}

TEST_P(CatalogueStoreConformance, ModelVersionsKeepKindStatusAndOrder) {
  catalogue().add_model_version(
      {0, "clip@1", ModelKind::kEncoder, "", ModelStatus::kActive, "t0", "{}", "/models/clip"});
  catalogue().add_model_version(
      {0, "heads-1", ModelKind::kHeads, "clip@1", ModelStatus::kCandidate, "t", "{}", ""});
  // Adding again changes nothing.
  catalogue().add_model_version(
      {0, "heads-1", ModelKind::kEncoder, "", ModelStatus::kRetired, "x", "{}", ""});
  auto m = *catalogue().model_version("heads-1");
  EXPECT_EQ(m.kind, ModelKind::kHeads);
  EXPECT_EQ(m.parent, "clip@1");
  EXPECT_EQ(m.status, ModelStatus::kCandidate);
  EXPECT_EQ(m.created_at, "t");
  m.status = ModelStatus::kActive;
  m.metrics_json = R"({"macro_f1":0.8})";
  m.artifact_path = "models/heads-1";
  catalogue().update_model_version(m);
  const auto back = catalogue().model_version("heads-1");
  EXPECT_EQ(back->status, ModelStatus::kActive);
  EXPECT_EQ(back->metrics_json, R"({"macro_f1":0.8})");
  EXPECT_EQ(back->artifact_path, "models/heads-1");
  EXPECT_THROW(catalogue().update_model_version(
                   {0, "nope", ModelKind::kHeads, "", ModelStatus::kActive, "", "", ""}),
               NotFoundError);
  EXPECT_FALSE(catalogue().model_version("nope"));
  const auto all = catalogue().model_versions();
  ASSERT_EQ(all.size(), 2u);
  EXPECT_EQ(all[0].version, "clip@1");
  EXPECT_EQ(all[0].kind, ModelKind::kEncoder);
  EXPECT_EQ(all[0].artifact_path, "/models/clip");
  EXPECT_LT(all[0].id, all[1].id);
}

TEST_P(CatalogueStoreConformance, SettingsAreReplacedByKey) {
  catalogue().set_setting("k", "v");
  catalogue().set_setting("k", "w");
  catalogue().set_setting("other", "x");
  EXPECT_EQ(*catalogue().setting("k"), "w");
  EXPECT_EQ(*catalogue().setting("other"), "x");
  EXPECT_FALSE(catalogue().setting("missing"));
}

// The stored spellings are part of the format (SQLite keeps them as text).
TEST(ModelKindAndStatus, SpellingsRoundTripAndUnknownOnesAreRefused) {
  for (auto k : {ModelKind::kEncoder, ModelKind::kHeads})
    EXPECT_EQ(model_kind_from_string(to_string(k)), k);
  for (auto s : {ModelStatus::kCandidate, ModelStatus::kActive, ModelStatus::kRetired})
    EXPECT_EQ(model_status_from_string(to_string(s)), s);
  EXPECT_EQ(to_string(ModelKind::kEncoder), "encoder");
  EXPECT_EQ(to_string(ModelKind::kHeads), "heads");
  EXPECT_EQ(to_string(ModelStatus::kCandidate), "candidate");
  EXPECT_EQ(to_string(ModelStatus::kActive), "active");
  EXPECT_EQ(to_string(ModelStatus::kRetired), "retired");
  EXPECT_THROW(model_kind_from_string("Heads"), InputError);
  EXPECT_THROW(model_status_from_string(""), InputError);
}

}  // namespace
}  // namespace tagsmith::store::conformance
