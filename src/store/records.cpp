#include "tagsmith/store/records.h"

#include <array>
#include <utility>

#include "tagsmith/common/error.h"
#include "tagsmith/store/work_queue.h"

namespace tagsmith::store {
namespace {
constexpr std::array<std::pair<TagState, const char*>, 6> kStates{{
    {TagState::kAuto, "auto"},
    {TagState::kFlagged, "flagged"},
    {TagState::kSuggested, "suggested"},
    {TagState::kConfirmed, "confirmed"},
    {TagState::kRejected, "rejected"},
    {TagState::kHumanSet, "human_set"},
}};
constexpr std::array<std::pair<TagAction, const char*>, 7> kActions{{
    {TagAction::kProposed, "proposed"},
    {TagAction::kApplied, "applied"},
    {TagAction::kFlagged, "flagged"},
    {TagAction::kConfirmed, "confirmed"},
    {TagAction::kRejected, "rejected"},
    {TagAction::kCorrected, "corrected"},
    {TagAction::kRemoved, "removed"},
}};
constexpr std::array<std::pair<ModelKind, const char*>, 3> kModelKinds{{
    {ModelKind::kEncoder, "encoder"},
    {ModelKind::kHeads, "heads"},
    {ModelKind::kColourCalibration, "colour-calibration"},
}};
constexpr std::array<std::pair<ModelStatus, const char*>, 3> kModelStatuses{{
    {ModelStatus::kCandidate, "candidate"},
    {ModelStatus::kActive, "active"},
    {ModelStatus::kRetired, "retired"},
}};
}  // namespace

std::string to_string(TagState s) {
  for (auto [v, name] : kStates)
    if (v == s) return name;
  return "unknown";
}
TagState tag_state_from_string(const std::string& s) {
  for (auto [v, name] : kStates)
    if (s == name) return v;
  throw InputError("unknown tag state '" + s + "'");
}
std::string to_string(TagAction a) {
  for (auto [v, name] : kActions)
    if (v == a) return name;
  return "unknown";
}
TagAction tag_action_from_string(const std::string& s) {
  for (auto [v, name] : kActions)
    if (s == name) return v;
  throw InputError("unknown tag action '" + s + "'");
}

std::string to_string(ModelKind k) {
  for (auto [v, name] : kModelKinds)
    if (v == k) return name;
  return "unknown";
}
ModelKind model_kind_from_string(const std::string& s) {
  for (auto [v, name] : kModelKinds)
    if (s == name) return v;
  throw InputError("unknown model kind '" + s + "' (expected encoder or heads)");
}
std::string to_string(ModelStatus st) {
  for (auto [v, name] : kModelStatuses)
    if (v == st) return name;
  return "unknown";
}
ModelStatus model_status_from_string(const std::string& s) {
  for (auto [v, name] : kModelStatuses)
    if (s == name) return v;
  throw InputError("unknown model status '" + s + "'");
}

std::string to_string(WorkStep step) {
  switch (step) {
    case WorkStep::kTag:
      return "tag";
  }
  return "tag";
}

}  // namespace tagsmith::store
