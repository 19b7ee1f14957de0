// Refitting the colour calibration from reviewed colour tags.
#include "tagsmith/training/colour_refit.h"

#include <fmt/format.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/training/registry.h"

namespace tagsmith::training {
namespace {

std::optional<store::ModelVersion> active_calibration(store::Store& store) {
  return active_of_kind(store, store::ModelKind::kColourCalibration);
}

std::string read_text(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw NotFoundError("cannot read colour calibration " + p.string());
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

}  // namespace

tagging::ColourCalibration active_colour_calibration(library::Library& library) {
  const auto v = active_calibration(library.store());
  if (!v) return tagging::ColourCalibration::builtin();
  const auto path = library.dir() / v->artifact_path;
  auto c = tagging::ColourCalibration::parse(read_text(path), path.string());
  c.version = v->version;
  return c;
}

ColourRefitResult refit_colour_calibration(library::Library& library,
                                           const ColourRefitOptions& options) {
  auto& store = library.store();
  ColourRefitResult r;
  const auto current = active_colour_calibration(library);
  r.current = current.version;

  std::map<store::AssetId, std::set<std::string>> labelled;
  for (const auto& t :
       store.tags_in_states({store::TagState::kConfirmed, store::TagState::kHumanSet}))
    if (t.attribute == options.attribute) labelled[t.asset_id].insert(t.node);

  std::vector<tagging::ColourExample> train, holdout;
  for (const auto& [id, families] : labelled) {
    const auto asset = store.find_asset(id);
    if (!asset || asset->colours.colours.empty()) continue;
    tagging::ColourExample e{asset->colours, families.size() == 1
                                                 ? *families.begin()
                                                 : std::string(tagging::kMultiColour)};
    // Held out by content, not by id: the same photos are held out in every
    // library, whatever order they were ingested in.
    std::uint64_t h = 1469598103934665603ull;  // FNV-1a of the content hash
    for (unsigned char ch : asset->sha256) h = (h ^ ch) * 1099511628211ull;
    const bool held = h % 5 == 0;
    (held ? holdout : train).push_back(std::move(e));
  }
  r.examples = train.size() + holdout.size();
  r.holdout = holdout.size();
  if (r.examples < options.min_examples || holdout.empty()) {
    r.reason = fmt::format("{} reviewed {} photos with a colour analysis, {} needed", r.examples,
                           options.attribute, options.min_examples);
    return r;
  }
  auto candidate = tagging::fit_colour_calibration(train, options.fit);
  r.candidate = next_version_name(store, store::ModelKind::kColourCalibration, "colour-cal");
  candidate.version = r.candidate;
  candidate.fitted_on =
      fmt::format("{} reviewed {} tags of this library", train.size(), options.attribute);
  r.current_loss = tagging::colour_log_loss(current, holdout);
  r.candidate_loss = tagging::colour_log_loss(candidate, holdout);
  if (r.candidate_loss >= r.current_loss && !options.force) {
    r.reason = fmt::format("held-out log-loss {:.3f} is not better than {}'s {:.3f}",
                           r.candidate_loss, r.current, r.current_loss);
    r.candidate.clear();
    return r;
  }

  store::ModelVersion v;
  v.version = r.candidate;
  v.kind = store::ModelKind::kColourCalibration;
  v.status = store::ModelStatus::kActive;
  v.created_at = now_utc_iso8601();
  v.artifact_path = "models/" + r.candidate + ".yaml";
  v.metrics_json = nlohmann::json{
      {"examples", train.size()},
      {"holdout", holdout.size()},
      {"holdout_log_loss", r.candidate_loss},
      {"replaces", r.current},
      {"replaced_log_loss",
       r.current_loss}}.dump();
  // Artifact first: a registry row must never point at a missing file.
  const auto path = library.dir() / v.artifact_path;
  std::filesystem::create_directories(path.parent_path());
  {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out << "# tagsmith colour calibration, refitted by `tagsmith train`\n" << candidate.to_yaml();
    if (!out) throw Error("cannot write " + path.string());
  }
  const auto previous = active_calibration(store);
  // Queued before the switch (as registry.h's promote does): a crash after it
  // leaves the catalogue's re-tag pending, never forgotten.
  store.queue_work_for_all(store::WorkStep::kTag);
  store.add_model_version(v);
  if (previous) {
    auto old = *previous;
    old.status = store::ModelStatus::kRetired;
    store.update_model_version(old);
  }
  r.promoted = true;
  return r;
}

}  // namespace tagsmith::training
