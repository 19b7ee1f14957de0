// The tagging service against a real library: taxonomy versions, one audit
// event per tag row change, human tags surviving re-tags, `why`.
#include "tagsmith/tagging/service.h"

#include <gtest/gtest.h>

#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <tuple>

#include "colour_fixture.h"
#include "library_fixture.h"
#include "tagsmith/common/files.h"
#include "tagsmith/tagging/explain.h"
#include "tagsmith/tagging/store_changes.h"
#include "tagsmith/taxonomy/validation.h"
#include "temp_dir.h"

namespace tagsmith::tagging {
namespace {

using store::AssetId;
using store::TagAction;
using store::TagState;
namespace fs = std::filesystem;

// Scores for the single-valued `scene` attribute, settable per asset: a
// stand-in for a model provider (zero-shot or heads).
class FakeModelProvider : public ScoreProvider {
 public:
  std::string name() const override { return "fake"; }
  std::vector<ScoreSet> scores(const taxonomy::Taxonomy&, const ScoreRequest& r) const override {
    auto it = scene.find(r.asset.id);
    if (it == scene.end()) return {};
    ScoreSet set{"model:fake@1", "scene", {}, nullptr};
    for (const auto& [node, score] : it->second) set.scores.push_back({node, score, nullptr});
    return {set};
  }
  std::map<AssetId, std::map<std::string, double>> scene;
};

class ServiceTest : public ::testing::Test {
 protected:
  void SetUp() override { lib = library::Library::open(dir / "lib"); }

  store::Store& db() { return lib->store(); }

  // An asset whose largest colour is the shade `shade` (family `family`) at ΔE `de`.
  AssetId add_asset(const std::string& family, const std::string& shade, double de,
                    double share = 0.62) {
    test::FakeAsset a("sha" + std::to_string(next_++));
    a.colour(family, shade, de, share, {0x1f, 0x2a, 0x44});
    if (share < 1) a.colour("white", "white", 1, 1 - share);
    return a.add_to(db());
  }

  std::int64_t events() { return db().stats().tag_events; }
  std::int64_t rows() {
    std::int64_t n = 0;
    db().for_each_tag([&](const store::Tag&) { ++n; });
    return n;
  }
  std::optional<store::Tag> tag(AssetId id, const std::string& attr, const std::string& node) {
    for (auto& t : db().tags_of(id))
      if (t.attribute == attr && t.node == node) return t;
    return std::nullopt;
  }

  // The builtin taxonomy with extra lines after the colour_family palette key.
  std::string builtin_with_family_thresholds(const std::string& thresholds) {
    std::string yaml(taxonomy::Taxonomy::builtin_yaml());
    const std::string key = "    palette: families\n";
    auto pos = yaml.find(key);
    EXPECT_NE(pos, std::string::npos);
    // The colour_family's own thresholds line (the first after the key) is replaced.
    const std::string own = "    thresholds: {auto: 0.95, flag: 0.5}\n";
    const auto line = yaml.find(own, pos);
    EXPECT_NE(line, std::string::npos);
    yaml.erase(line, own.size());
    yaml.insert(pos + key.size(), "    thresholds: " + thresholds + "\n");
    return yaml;
  }
  // A tag service whose colour scores come from the test calibration.
  std::unique_ptr<TagService> colour_service() {
    std::vector<std::unique_ptr<ScoreProvider>> providers;
    providers.push_back(std::make_unique<ColourScoreProvider>(test::decisive_colour_calibration()));
    return std::make_unique<TagService>(*lib, std::move(providers));
  }
  std::unique_ptr<TagService> service_with(FakeModelProvider** fake) {
    std::vector<std::unique_ptr<ScoreProvider>> providers;
    providers.push_back(std::make_unique<ColourScoreProvider>(test::decisive_colour_calibration()));
    auto f = std::make_unique<FakeModelProvider>();
    *fake = f.get();
    providers.push_back(std::move(f));
    return std::make_unique<TagService>(*lib, std::move(providers));
  }

  test::TempDir dir;
  std::unique_ptr<library::Library> lib;
  int next_ = 0;
};

TEST_F(ServiceTest, NewLibraryStartsWithTheBuiltinTaxonomyAsVersionOne) {
  EXPECT_TRUE(db().taxonomy_versions().empty());
  const auto t = current_taxonomy(*lib);
  EXPECT_EQ(t.version, 1);
  EXPECT_EQ(t.record.source, "builtin");
  EXPECT_NE(t.taxonomy.attribute("colour_family"), nullptr);
  current_taxonomy(*lib);  // lazily once, not once per call
  EXPECT_EQ(db().taxonomy_versions().size(), 1u);
}

TEST_F(ServiceTest, ImportStoresANewVersionOnlyWhenDifferent) {
  current_taxonomy(*lib);
  write_file_atomic(dir / "t.yaml", builtin_with_family_thresholds("{auto: 0.85, flag: 0.5}"));
  auto r = import_taxonomy(*lib, dir / "t.yaml");
  EXPECT_TRUE(r.stored);
  EXPECT_EQ(r.version, 2);
  EXPECT_EQ(r.previous, 1);
  ASSERT_FALSE(r.diff.thresholds.empty());
  EXPECT_EQ(r.diff.thresholds[0].attribute, "colour_family");
  auto again = import_taxonomy(*lib, dir / "t.yaml");
  EXPECT_FALSE(again.stored);
  EXPECT_EQ(again.version, 2);
  EXPECT_TRUE(again.diff.empty());
  EXPECT_EQ(db().taxonomy_versions().size(), 2u);
  EXPECT_EQ(current_taxonomy(*lib).taxonomy.attribute("colour_family")->thresholds.auto_apply,
            0.85);
}

TEST_F(ServiceTest, ABadImportChangesNothingAndSaysWhere) {
  current_taxonomy(*lib);
  // Line 3, column 3: an unknown key inside the attribute.
  write_file_atomic(dir / "bad.yaml",
                    "attributes:\n  - id: category\n    colour: red\n    nodes: [{id: a}]\n");
  try {
    import_taxonomy(*lib, dir / "bad.yaml");
    FAIL() << "a bad file was imported";
  } catch (const taxonomy::ValidationError& e) {
    ASSERT_FALSE(e.errors().empty());
    EXPECT_EQ(e.errors()[0].line, 3);
    EXPECT_EQ(e.errors()[0].column, 5);
    EXPECT_NE(std::string(e.what()).find("bad.yaml:3:5:"), std::string::npos) << e.what();
  }
  EXPECT_EQ(db().taxonomy_versions().size(), 1u);
}

TEST_F(ServiceTest, ColourTagsAppearWithoutAnyModel) {
  const AssetId id = add_asset("navy", "space_cadet", 4.4);
  TagService service(*lib);
  const auto r = service.tag(std::vector<AssetId>{id});
  EXPECT_EQ(r.assets, 1);
  // The stored confidences are the calibrated colour scores, tiered by the
  // taxonomy's colour thresholds.
  const auto tax = taxonomy::Taxonomy::builtin();
  const auto sets = colour_scores(tax, db().find_asset(id)->colours);
  auto expected = [&](const std::string& attribute, const std::string& node) {
    for (const auto& set : sets)
      if (set.attribute == attribute)
        for (const auto& s : set.scores)
          if (s.node == node) return s.score;
    return -1.0;
  };
  auto state_for = [&](const std::string& attribute, double confidence) {
    const auto& t = tax.attribute(attribute)->thresholds;
    return confidence >= t.auto_apply ? TagState::kAuto
           : confidence >= t.flag     ? TagState::kFlagged
                                      : TagState::kSuggested;
  };
  auto family = tag(id, "colour_family", "navy");
  ASSERT_TRUE(family);
  EXPECT_NEAR(family->confidence, expected("colour_family", "navy"), 1e-9);
  EXPECT_EQ(family->state, state_for("colour_family", family->confidence));
  EXPECT_EQ(family->actor, "colour");
  EXPECT_EQ(family->taxonomy_version, 1);
  auto shade = tag(id, "colour_shade", "space_cadet");
  ASSERT_TRUE(shade);
  EXPECT_NEAR(shade->confidence, expected("colour_shade", "space_cadet"), 1e-9);
  EXPECT_LT(shade->confidence, family->confidence);  // ΔE 4.4: a loose shade match
  EXPECT_EQ(shade->state, state_for("colour_shade", shade->confidence));
}

// Every tag row created, changed or deleted leaves exactly one event.
TEST_F(ServiceTest, EveryMachineChangeLeavesOneEventPerRow) {
  FakeModelProvider* fake = nullptr;
  auto service = service_with(&fake);
  const AssetId id = add_asset("navy", "space_cadet", 4.4);

  // add
  fake->scene[id] = {{"studio", 0.97}};
  auto before = events();
  auto r = service->tag(std::vector<AssetId>{id});
  EXPECT_GT(r.added, 0);
  EXPECT_EQ(events() - before, r.added);
  EXPECT_EQ(rows(), r.added);
  ASSERT_TRUE(tag(id, "scene", "studio"));
  EXPECT_EQ(tag(id, "scene", "studio")->model_version, "fake@1");

  // nothing changed: nothing written
  before = events();
  r = service->tag(std::vector<AssetId>{id});
  EXPECT_EQ(r.changed() + r.confidence_changed, 0);
  EXPECT_EQ(events(), before);

  // update: same node, other tier
  fake->scene[id] = {{"studio", 0.8}};
  before = events();
  auto rows_before = rows();
  r = service->tag(std::vector<AssetId>{id});
  EXPECT_EQ(r.tier_changed, 1);
  EXPECT_EQ(events() - before, 1);
  EXPECT_EQ(rows(), rows_before);
  EXPECT_EQ(tag(id, "scene", "studio")->state, TagState::kFlagged);
  EXPECT_EQ(db().tag_events(id, "scene").back().action, TagAction::kFlagged);

  // replace on a single-valued attribute: two rows, two events
  fake->scene[id] = {{"on_model", 0.97}, {"studio", 0.1}};
  before = events();
  r = service->tag(std::vector<AssetId>{id});
  EXPECT_EQ(r.value_changed, 1);
  EXPECT_EQ(events() - before, 2);
  EXPECT_FALSE(tag(id, "scene", "studio"));
  EXPECT_TRUE(tag(id, "scene", "on_model"));
  auto ev = db().tag_events(id, "scene");
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[ev.size() - 2].action, TagAction::kRemoved);
  EXPECT_EQ(ev[ev.size() - 2].node, "studio");
  EXPECT_EQ(ev.back().action, TagAction::kApplied);
  EXPECT_EQ(ev.back().node, "on_model");
  EXPECT_EQ(ev.back().previous_node, "studio");

  // remove: the model no longer supports it
  fake->scene.erase(id);
  before = events();
  r = service->tag(std::vector<AssetId>{id});
  EXPECT_EQ(r.removed, 1);
  EXPECT_EQ(events() - before, 1);
  EXPECT_FALSE(tag(id, "scene", "on_model"));
  EXPECT_EQ(db().tag_events(id, "scene").back().action, TagAction::kRemoved);
}

TEST_F(ServiceTest, EveryHumanOperationLeavesExactlyOneEvent) {
  FakeModelProvider* fake = nullptr;
  auto service = service_with(&fake);
  const AssetId id = add_asset("navy", "space_cadet", 4.4);
  fake->scene[id] = {{"studio", 0.97}};
  service->tag(std::vector<AssetId>{id});

  auto one_event = [&](const char* what, auto op, TagAction action) {
    const auto before = events();
    EXPECT_TRUE(op()) << what;
    EXPECT_EQ(events() - before, 1) << what;
    EXPECT_EQ(db().tag_events(id).back().action, action) << what;
    EXPECT_EQ(db().tag_events(id).back().actor, "user:ana") << what;
  };
  one_event(
      "confirm", [&] { return service->confirm(id, "colour_family", "navy", "ana"); },
      TagAction::kConfirmed);
  EXPECT_EQ(tag(id, "colour_family", "navy")->state, TagState::kConfirmed);
  one_event(
      "reject", [&] { return service->reject(id, "colour_shade", "space_cadet", "ana"); },
      TagAction::kRejected);
  EXPECT_EQ(tag(id, "colour_shade", "space_cadet")->state, TagState::kRejected);
  one_event(
      "set", [&] { return service->set(id, "season", "summer", "ana"); }, TagAction::kApplied);
  EXPECT_EQ(tag(id, "season", "summer")->state, TagState::kHumanSet);
  one_event(
      "correct", [&] { return service->correct(id, "scene", "studio", "flat_lay", "ana"); },
      TagAction::kCorrected);
  EXPECT_EQ(tag(id, "scene", "flat_lay")->state, TagState::kHumanSet);
  EXPECT_EQ(tag(id, "scene", "studio")->state, TagState::kRejected);  // covered by the same event
  EXPECT_EQ(db().tag_events(id).back().previous_node, "studio");
  one_event(
      "remove", [&] { return service->remove(id, "season", "summer", "ana"); },
      TagAction::kRemoved);
  EXPECT_FALSE(tag(id, "season", "summer"));
  // Labels and synonyms name nodes too ("Navy" is the label of navy).
  const auto before = events();
  EXPECT_FALSE(service->confirm(id, "colour_family", "Navy", "ana"));  // already confirmed: no-op
  EXPECT_EQ(events(), before);
  EXPECT_THROW(service->confirm(id, "colour_family", "no_such_colour", "ana"), InputError);
  EXPECT_THROW(service->confirm(id, "scene", "on_model", "ana"), NotFoundError);
  EXPECT_EQ(events(), before);
}

TEST_F(ServiceTest, StoreChangesHaveOneEventPerRowForEachEngineKind) {
  Decision d{"scene", "on_model", Tier::kAuto, 0.97, "model:m@1", {{"source", "model:m@1"}}};
  ExistingTag old{"scene", "studio", Tier::kFlagged, 0.8, "model:m@0", false, false};
  const std::vector<TagDelta> changes = {
      {TagDelta::Kind::kAdd, std::nullopt, d},
      {TagDelta::Kind::kUpdate, old,
       Decision{d.attribute, "studio", Tier::kAuto, 0.96, d.actor, {}}},
      {TagDelta::Kind::kReplace, old, d},
      {TagDelta::Kind::kRemove, old, std::nullopt}};
  const auto out = to_store_changes(7, changes, 3, "2026-01-01T00:00:00.000Z");
  ASSERT_EQ(out.size(), 5u);  // replace = removed + applied
  for (const auto& c : out) {
    EXPECT_EQ(c.event.asset_id, 7);
    EXPECT_EQ(c.event.node, c.tag.node);
    EXPECT_EQ(c.event.taxonomy_version, 3);
    EXPECT_TRUE(c.covered.empty());
  }
  EXPECT_EQ(out[0].event.action, TagAction::kApplied);
  EXPECT_EQ(out[0].tag.model_version, "m@1");
  EXPECT_EQ(out[1].event.action, TagAction::kApplied);
  EXPECT_EQ(out[2].kind, store::TagChange::Kind::kRemove);
  EXPECT_EQ(out[2].event.action, TagAction::kRemoved);
  EXPECT_EQ(out[3].event.previous_node, "studio");
  EXPECT_EQ(out[4].event.action, TagAction::kRemoved);
  EXPECT_EQ(out[4].event.actor, "model:m@0");
  // Evidence decided as text (what a re-tag stores) gets the same previous_*
  // fields, spliced into the text.
  for (const auto& c : out) {
    const auto ev = nlohmann::json::parse(c.event.evidence_json);
    if (c.event.action == TagAction::kRemoved) continue;
    if (c.event.node == "studio" || !c.event.previous_node.empty())
      EXPECT_EQ(ev.value("previous_tier", ""), "flagged");
  }
  Decision text = d;
  text.evidence = nullptr;
  text.evidence_text = R"({"source":"model:m@1"})";
  Decision empty_text = text;
  empty_text.evidence_text = "{}";
  const auto from_text = to_store_changes(7,
                                          {{TagDelta::Kind::kUpdate, old, text},
                                           {TagDelta::Kind::kUpdate, old, empty_text},
                                           {TagDelta::Kind::kAdd, std::nullopt, text}},
                                          3, "2026-01-01T00:00:00.000Z");
  ASSERT_EQ(from_text.size(), 3u);
  EXPECT_EQ(nlohmann::json::parse(from_text[0].event.evidence_json),
            nlohmann::json({{"source", "model:m@1"},
                            {"previous_tier", "flagged"},
                            {"previous_confidence", 0.8},
                            {"previous_actor", "model:m@0"}}));
  EXPECT_EQ(nlohmann::json::parse(from_text[1].event.evidence_json),
            nlohmann::json({{"previous_tier", "flagged"},
                            {"previous_confidence", 0.8},
                            {"previous_actor", "model:m@0"}}));
  EXPECT_EQ(from_text[2].event.evidence_json, R"({"source":"model:m@1"})");
  EXPECT_EQ(from_text[2].tag.evidence_json, from_text[2].event.evidence_json);
}

TEST_F(ServiceTest, HumanTagsSurviveARetagAfterATaxonomyChange) {
  FakeModelProvider* fake = nullptr;
  auto service = service_with(&fake);
  const AssetId id = add_asset("navy", "space_cadet", 4.4);
  fake->scene[id] = {{"studio", 0.97}};
  service->tag(std::vector<AssetId>{id});
  ASSERT_TRUE(service->confirm(id, "colour_family", "navy", "ana"));
  ASSERT_TRUE(service->correct(id, "scene", "studio", "flat_lay", "ana"));
  auto navy_events = [&] {
    std::size_t n = 0;
    for (const auto& e : db().tag_events(id, "colour_family")) n += e.node == "navy";
    return n;
  };
  const auto family_events = navy_events();

  // The new taxonomy would not even suggest navy any more (suggest floor 0.99),
  // and the model is now sure the photo is on a model.
  write_file_atomic(dir / "t.yaml",
                    builtin_with_family_thresholds("{auto: 1.0, flag: 0.995, suggest: 0.99}"));
  ASSERT_TRUE(import_taxonomy(*lib, dir / "t.yaml").stored);
  fake->scene[id] = {{"on_model", 0.99}, {"studio", 0.99}};
  service->reload_taxonomy();
  EXPECT_EQ(service->taxonomy_version(), 2);
  service->tag_all();

  auto family = tag(id, "colour_family", "navy");
  ASSERT_TRUE(family);
  EXPECT_EQ(family->state, TagState::kConfirmed);
  EXPECT_EQ(family->actor, "user:ana");
  EXPECT_EQ(navy_events(), family_events);
  EXPECT_EQ(tag(id, "scene", "flat_lay")->state, TagState::kHumanSet);
  EXPECT_EQ(tag(id, "scene", "studio")->state, TagState::kRejected);
  EXPECT_FALSE(tag(id, "scene", "on_model"));
}

TEST_F(ServiceTest, RetagAfterAThresholdChangeMovesTiersAndCountsThem) {
  // ΔE 8 -> family confidence 0.917 (test calibration): flagged under auto 0.95.
  // Single-colour products, so only these family tags are in play.
  const AssetId a = add_asset("navy", "space_cadet", 8, 1.0);
  const AssetId b = add_asset("navy", "navy", 8, 1.0);
  const AssetId c = add_asset("red", "burgundy", 1, 1.0);  // 0.9999: auto either way
  colour_service()->tag_all();
  EXPECT_EQ(tag(a, "colour_family", "navy")->state, TagState::kFlagged);
  EXPECT_EQ(tag(c, "colour_family", "red")->state, TagState::kAuto);

  write_file_atomic(dir / "t.yaml", builtin_with_family_thresholds("{auto: 0.85, flag: 0.5}"));
  ASSERT_TRUE(import_taxonomy(*lib, dir / "t.yaml").stored);
  auto owned = colour_service();
  TagService& service = *owned;
  const auto before = events();
  const auto r = service.tag_all();
  EXPECT_EQ(r.assets, 3);
  EXPECT_EQ(r.tier_changed, 2);
  EXPECT_EQ(r.assets_changed, 2);
  EXPECT_EQ(r.added + r.removed + r.value_changed, 0);
  EXPECT_EQ(events() - before, r.events);
  EXPECT_EQ(r.events, 2 + r.confidence_changed);
  EXPECT_EQ(tag(a, "colour_family", "navy")->state, TagState::kAuto);
  EXPECT_EQ(tag(b, "colour_family", "navy")->state, TagState::kAuto);
  EXPECT_EQ(tag(a, "colour_family", "navy")->taxonomy_version, 2);

  // A dry run counts the same changes without writing them.
  write_file_atomic(dir / "t2.yaml", builtin_with_family_thresholds("{auto: 0.95, flag: 0.5}"));
  import_taxonomy(*lib, dir / "t2.yaml");
  service.reload_taxonomy();
  const auto before_dry = events();
  TagOptions dry;
  dry.dry_run = true;
  dry.threads = 2;
  EXPECT_EQ(service.tag_all(dry).tier_changed, 2);
  EXPECT_EQ(events(), before_dry);
}

TEST_F(ServiceTest, RetagWritesOnlyWhatChangedAndARepeatWritesNothing) {
  // Family confidences (test calibration) spread across the tiers: ΔE 1 ->
  // 0.9999, ΔE 8 -> 0.917, ΔE 14 -> about 0.8, in single-colour products.
  std::vector<AssetId> ids;
  for (int i = 0; i < 12; ++i)
    ids.push_back(add_asset(i % 2 ? "navy" : "red", i % 2 ? "space_cadet" : "burgundy",
                            i % 3 == 0   ? 1
                            : i % 3 == 1 ? 8
                                         : 14,
                            1.0));
  colour_service()->tag_all();
  using Key = std::tuple<AssetId, std::string, std::string>;
  auto snapshot = [&] {
    std::map<Key, store::Tag> out;
    db().for_each_tag([&](const store::Tag& t) { out[{t.asset_id, t.attribute, t.node}] = t; });
    return out;
  };
  const auto before = snapshot();
  const auto last_event = db().recent_tag_events(0, 1).at(0).id;

  write_file_atomic(dir / "t.yaml", builtin_with_family_thresholds("{auto: 0.85, flag: 0.5}"));
  ASSERT_TRUE(import_taxonomy(*lib, dir / "t.yaml").stored);
  TagOptions options;
  options.batch = 5;  // several transactions
  options.threads = 2;
  const auto r = colour_service()->tag_all(options);
  const auto after = snapshot();

  // The tags whose tier, value or presence changed, and only those, got an event.
  std::set<Key> changed;
  for (const auto& [k, t] : after) {
    auto b = before.find(k);
    if (b == before.end() || b->second.state != t.state || b->second.confidence != t.confidence) {
      changed.insert(k);
    } else {  // an unchanged row is not rewritten
      EXPECT_EQ(t.updated_at, b->second.updated_at);
      EXPECT_EQ(t.taxonomy_version, b->second.taxonomy_version);
      EXPECT_EQ(t.evidence_json, b->second.evidence_json);
    }
  }
  for (const auto& [k, t] : before)
    if (!after.count(k)) changed.insert(k);
  ASSERT_GT(r.tier_changed, 0);
  EXPECT_EQ(static_cast<std::int64_t>(changed.size()), r.changed() + r.confidence_changed);
  std::set<Key> evented;
  for (const auto& e : db().recent_tag_events(0, 10'000)) {
    if (e.id <= last_event) break;
    EXPECT_TRUE(evented.insert({e.asset_id, e.attribute, e.node}).second) << "two events";
    // Each change's event says who, with what confidence, when and why.
    EXPECT_EQ(e.actor, "colour");
    EXPECT_GT(e.confidence, 0);
    EXPECT_EQ(e.taxonomy_version, 2);
    EXPECT_FALSE(e.at.empty());
    const auto ev = nlohmann::json::parse(e.evidence_json);
    EXPECT_TRUE(ev.contains("previous_tier")) << e.evidence_json;
    EXPECT_TRUE(ev.contains("thresholds")) << e.evidence_json;
    // The changed row carries the same evidence.
    EXPECT_EQ(after.at({e.asset_id, e.attribute, e.node}).evidence_json, e.evidence_json);
  }
  EXPECT_EQ(evented, changed);
  EXPECT_EQ(static_cast<std::int64_t>(evented.size()), r.events);

  // The same re-tag again: nothing to change, nothing written.
  const auto events_before_repeat = events();
  const auto repeat = colour_service()->tag_all(options);
  EXPECT_EQ(repeat.assets, 12);
  EXPECT_EQ(repeat.changed() + repeat.confidence_changed, 0);
  EXPECT_EQ(repeat.events, 0);
  EXPECT_EQ(events(), events_before_repeat);
  EXPECT_EQ(snapshot().size(), after.size());
  EXPECT_TRUE(db().pending_work(store::WorkStep::kTag, 0, 100).empty());
}

TEST_F(ServiceTest, ParallelTaggingMatchesSerialTagging) {
  for (int i = 0; i < 40; ++i)
    add_asset(i % 2 ? "navy" : "red", i % 2 ? "space_cadet" : "burgundy", i % 9);
  TagService service(*lib);
  TagOptions opts;
  opts.threads = 4;
  opts.batch = 7;
  const auto r = service.tag_all(opts);
  EXPECT_EQ(r.assets, 40);
  EXPECT_EQ(rows(), r.added);
  EXPECT_EQ(events(), r.events);
}

TEST_F(ServiceTest, WhyExplainsInPlainWordsWithShadeAndDeltaE) {
  const AssetId id = add_asset("navy", "space_cadet", 4.4, 0.8);
  auto owned = colour_service();
  TagService& service = *owned;
  service.tag(std::vector<AssetId>{id});
  auto e = explain(*lib, id, "colour_family");
  EXPECT_NE(e.text.find("is tagged navy (colour_family)"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("auto-applied at 0.97"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("by colour analysis"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("the largest colour (80% of the product) is #1f2a44"), std::string::npos)
      << e.text;
  EXPECT_NE(e.text.find("probability from colour calibration colour-cal-test"), std::string::npos)
      << e.text;
  EXPECT_NE(e.text.find("ΔE 4.4 from the shade Space Cadet"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("taxonomy v1"), std::string::npos) << e.text;
  ASSERT_GE(e.json["tags"].size(), 1u);
  EXPECT_EQ(e.json["tags"][0]["node"], "navy");

  service.confirm(id, "colour_family", "navy", "ana");
  e = explain(*lib, id, "colour_family");
  EXPECT_NE(e.text.find("confirmed by user:ana on"), std::string::npos) << e.text;
  EXPECT_NE(e.text.find("ΔE 4.4"), std::string::npos) << e.text;  // the machine's reason is kept

  EXPECT_NE(explain(*lib, id, "material").text.find("has no material tag"), std::string::npos);
  EXPECT_THROW(explain(*lib, id, "no_such_attribute"), InputError);
  EXPECT_THROW(explain(*lib, 999, "colour_family"), NotFoundError);
}

}  // namespace
}  // namespace tagsmith::tagging
