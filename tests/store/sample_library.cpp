#include "sample_library.h"

#include <fmt/format.h>

#include <chrono>
#include <vector>

namespace tagsmith::store::test_library {
namespace {

AssetRecord asset(int i, int variant) {
  AssetRecord a;
  a.sha256 =
      fmt::format("{:02x}{:062x}", variant, static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull);
  a.source_path = fmt::format("/photos/{:03d}/item-{}.jpg", i % 97, i);
  a.file_size = 100'000 + i;
  a.width = 800 + i % 400;
  a.height = 600 + i % 300;
  a.format = i % 3 ? "jpeg" : "png";
  a.phash = 0x8000000000000000ull | (static_cast<std::uint64_t>(i) * 2654435761ull);
  a.ingested_at = fmt::format("2026-11-{:02d}T08:{:02d}:{:02d}.{:03d}Z", 1 + i % 28, i % 60,
                              (i / 60) % 60, i % 1000);
  a.thumbnail_sha256 = fmt::format("{:064x}", static_cast<std::uint64_t>(i) + 7);
  a.thumbnail_width = 256;
  a.thumbnail_height = 192;
  for (int rank = 0; rank < 2; ++rank) {
    DominantColour c;
    // Values that only survive a copy at full precision.
    c.lab = {i / 7.0, -i / 13.0 + rank, 1.0 / (i + 3)};
    c.rgb = {static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(rank * 100),
             static_cast<std::uint8_t>(i / 3)};
    c.share = rank ? 1.0 / 3 : 2.0 / 3;
    c.family = rank ? "blue" : "red";
    c.shade = rank ? "navy" : "burgundy";
    c.delta_e = 0.1 + 0.2 + i * 1e-9;
    c.alt_family = "grey";
    c.alt_delta_e = 1e-300 * (i + 1);
    a.colours.colours.push_back(c);
  }
  a.colours.product_fraction = (i % 100) / 99.0;
  a.colours.background_removed = i % 2 == 0;
  a.colours.mask = i % 2 ? "none" : "background";
  return a;
}

TagChange change(AssetId id, const std::string& attribute, const std::string& node, TagState state,
                 TagAction action, double confidence, const std::string& actor,
                 const std::string& at) {
  TagChange c;
  const bool model = actor.starts_with("model:");
  c.tag = {id,
           attribute,
           node,
           state,
           confidence,
           actor,
           model ? "heads-0001" : "",
           1,
           at,
           fmt::format(R"({{"score":{}}})", confidence)};
  c.event.asset_id = id;
  c.event.attribute = attribute;
  c.event.node = node;
  c.event.action = action;
  c.event.actor = actor;
  c.event.confidence = confidence;
  c.event.model_version = c.tag.model_version;
  c.event.taxonomy_version = 1;
  c.event.at = at;
  c.event.evidence_json = c.tag.evidence_json;
  return c;
}

}  // namespace

void fill(Store& s, int assets, int variant) {
  s.set_setting("review.filters", R"(["mine"])");
  s.set_setting("review.filter.mine", R"({"attribute":"colour"})");
  s.add_taxonomy_version({0, "2026-11-01T00:00:00Z", "builtin", std::string(64, 'a'),
                          "attributes:\n  category: [shirt, shoe]\n"});
  s.add_taxonomy_version({0, "2026-11-02T00:00:00Z", "taxonomy.yaml", std::string(64, 'b'),
                          "attributes:\n  category: [shirt, shoe, bag]\n"});
  s.add_model_version({0, "clip@1", ModelKind::kEncoder, "", ModelStatus::kActive,
                       "2026-11-01T00:00:00Z", R"({"dim":8})", "models/clip"});
  s.add_model_version({0, "heads-0001", ModelKind::kHeads, "clip@1", ModelStatus::kActive,
                       "2026-11-01T01:00:00Z", R"({"macro_f1":0.8125})", "heads/0001"});

  std::vector<AssetId> decided;
  for (int i = 1; i <= assets; ++i) {
    const AssetRecord a = asset(i, variant);
    std::vector<float> vector(8);
    for (int d = 0; d < 8; ++d) vector[d] = static_cast<float>((i * 31 + d) % 101) / 101.0f;
    const AssetId id = s.add_asset(
        a, {a.source_path, 0, a.file_size, 1'700'000'000'000'000'000 + i}, "clip@1", vector);
    if (i % 10 == 0) s.add_path({fmt::format("/mirror/item-{}.jpg", i), id, a.file_size, 42, true});

    const std::string at = fmt::format("2026-11-20T10:{:02d}:{:02d}.000Z", i % 60, (i / 60) % 60);
    const double conf = 0.5 + (i % 50) / 101.0;
    std::vector<TagChange> changes = {
        change(id, "category", i % 2 ? "shirt" : "shoe", TagState::kAuto, TagAction::kApplied, conf,
               "model:heads-0001", at),
        change(id, "colour", "red", TagState::kFlagged, TagAction::kFlagged, conf / 2,
               "colour:palette", at),
        change(id, "material", "cotton", TagState::kSuggested, TagAction::kProposed, conf / 3,
               "model:heads-0001", at)};
    // Three quarters of the assets are decided; the rest stay in the work queue.
    decided.assign(1, id);
    s.apply_tag_changes(changes,
                        i % 4 ? std::span<const AssetId>(decided) : std::span<const AssetId>());
    if (i % 5 == 0) {
      const std::vector<TagChange> human = {change(id, "colour", "red", TagState::kConfirmed,
                                                   TagAction::kConfirmed, 1.0, "user:ann", at)};
      s.apply_tag_changes(human);
      s.add_review_log({0, id, "colour", "red", "confirm", "ann", 2.5 + i / 1000.0, at});
    }
  }

  const std::int64_t ann = s.add_user({0, "ann", "reviewer", "pbkdf2$ann", "2026-11-01T00:00:00Z"});
  const std::int64_t bob = s.add_user({0, "bob", "admin", "", "2026-11-01T00:00:01Z"});
  s.add_user({0, "carol", "viewer", "pbkdf2$carol", "2026-11-01T00:00:02Z"});
  s.add_api_token(bob, std::string(64, 'c'), "2026-11-02T00:00:00Z");
  s.add_session(
      {std::string(64, 'd'), ann, "csrf-ann", "2026-11-30T00:00:00Z", "2099-01-01T00:00:00Z"});
  for (int i = 0; i < 20; ++i)
    s.add_login_failure({0, fmt::format("2026-11-21T00:00:{:02d}Z", i), i % 2 ? "ann" : "mallory",
                         "10.0.0." + std::to_string(i), i > 15});
  for (int i = 0; i < 3; ++i)
    s.add_export_record({0, fmt::format("2026-11-22T00:00:{:02d}Z", i), "user:ann",
                         i % 2 ? "json" : "csv", "\"white dress\"", 10 + i, "http"});

  std::vector<AuditSample> samples;
  for (int i = 1; i <= std::min(assets, 40); ++i)
    samples.push_back({0, 1, i, "category", i % 2 ? "shirt" : "shoe", "auto", 0.9,
                       "2026-11-22T00:00:00Z", "", "", ""});
  s.add_audit_samples(samples);
  s.resolve_audit_samples(1, "category", "shirt", "confirmed", "ann", "2026-11-22T01:00:00Z");

  // Review for a team: one tag held by a reviewer, one undoable decision.
  const AssetId first = s.asset_ids().front();
  const std::vector<ReviewClaim> claims = {{first, "colour", "red", "ann", "2099-01-01T00:00:00Z"}};
  s.claim_for_review(claims, "2026-11-22T00:00:00Z");
  s.add_review_decision(
      {0, "ann", first, "colour", "red", "confirm", 1, "[]", "2026-11-22T00:00:00Z", ""});

  for (int i = 0; i < 25; ++i)
    s.record_ingest_error(
        {fmt::format("/photos/broken-{:02d}.jpg", i), "not an image", "2026-11-20T00:00:00Z"});

  // Pending work, part of it claimed by a worker under a lease.
  s.claim_work(WorkStep::kTag, "worker-a", std::chrono::seconds(600), 5);
  // Ingest jobs: done, failed, running (leased) and queued.
  std::vector<std::string> targets;
  for (int i = 0; i < 12; ++i) targets.push_back(fmt::format("/incoming/{:02d}.jpg", i));
  s.enqueue_jobs(JobKind::kIngest, targets);
  const auto claimed = s.claim_jobs(JobKind::kIngest, "worker-b", std::chrono::seconds(600), 6);
  s.finish_job(claimed.at(0).id, "worker-b");
  s.finish_job(claimed.at(1).id, "worker-b", "not an image");
}

}  // namespace tagsmith::store::test_library
