#include "tagsmith/store/records.h"

#include <array>
#include <utility>

#include "tagsmith/common/error.h"

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

}  // namespace tagsmith::store
