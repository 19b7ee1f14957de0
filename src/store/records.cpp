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
constexpr std::array<std::pair<TagAction, const char*>, 8> kActions{{
    {TagAction::kProposed, "proposed"},
    {TagAction::kApplied, "applied"},
    {TagAction::kFlagged, "flagged"},
    {TagAction::kConfirmed, "confirmed"},
    {TagAction::kRejected, "rejected"},
    {TagAction::kCorrected, "corrected"},
    {TagAction::kRemoved, "removed"},
    {TagAction::kUndone, "undone"},
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

// The name of `v` in `table`, and back.
template <class E, std::size_t N>
std::string name_of(const std::array<std::pair<E, const char*>, N>& table, E v) {
  for (auto [value, name] : table)
    if (value == v) return name;
  return "unknown";
}
template <class E, std::size_t N>
E value_of(const std::array<std::pair<E, const char*>, N>& table, const std::string& s,
           const char* what) {
  for (auto [value, name] : table)
    if (s == name) return value;
  throw InputError(std::string("unknown ") + what + " '" + s + "'");
}
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

namespace {
constexpr std::array<std::pair<JobKind, const char*>, 1> kJobKinds{{{JobKind::kIngest, "ingest"}}};
constexpr std::array<std::pair<JobState, const char*>, 4> kJobStates{{
    {JobState::kQueued, "queued"},
    {JobState::kRunning, "running"},
    {JobState::kDone, "done"},
    {JobState::kFailed, "failed"},
}};
}  // namespace

std::string to_string(JobKind k) {
  return name_of(kJobKinds, k);
}
std::string to_string(JobState s) {
  return name_of(kJobStates, s);
}
JobKind job_kind_from_string(const std::string& s) {
  return value_of(kJobKinds, s, "job kind");
}
JobState job_state_from_string(const std::string& s) {
  return value_of(kJobStates, s, "job state");
}

std::string to_string(WorkStep step) {
  switch (step) {
    case WorkStep::kTag:
      return "tag";
  }
  return "tag";
}

}  // namespace tagsmith::store
