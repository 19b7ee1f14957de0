#pragma once
// Model-version registry operations for head sets, over the store's
// model_versions table (kind "heads", parent = encoder version).
//
// Life cycle: train -> candidate -> promote -> active -> (next promote)
// retired. At most one heads version is active. Promoting records the version
// it replaces in the new one's metrics_json ("replaces"), so rollback walks
// back exactly the promotions that happened: it retires the active version
// and re-activates the one it replaced (none: no heads are active, and the
// tagging service falls back to zero-shot). Both queue the whole catalogue's
// re-tag (store/work_queue.h) before they switch versions; working the queue
// is the caller's job (TagService::tag_pending), and whatever a crash leaves
// of it is finished by the next command that works the queue.
#include <optional>
#include <string>

#include "tagsmith/library/library.h"
#include "tagsmith/training/heads.h"

namespace tagsmith::training {

// The active version of `kind` (the highest id, should two ever be active).
std::optional<store::ModelVersion> active_of_kind(store::Store& store, store::ModelKind kind);
// "<prefix>-0001", "<prefix>-0002", ...: one past the number of versions of
// `kind`, skipping names already taken.
std::string next_version_name(store::Store& store, store::ModelKind kind,
                              const std::string& prefix);

std::optional<store::ModelVersion> active_heads(store::Store& store);
std::optional<store::ModelVersion> active_encoder(store::Store& store);
// "heads-0001", "heads-0002", ...: one past the number of heads versions,
// skipping names already taken.
std::string next_heads_version(store::Store& store);

// Where a version's artifact lives: DIR/models/<version> (relative path
// stored in the registry: "models/<version>").
std::string artifact_relative_path(const std::string& version);

// Saves the head set under the library and registers it as a candidate.
// `metrics` goes into metrics_json. Throws InputError when the version exists.
store::ModelVersion register_candidate(library::Library& library, const HeadSet& heads,
                                       const nlohmann::json& metrics);

struct PromoteResult {
  std::string promoted;
  std::string retired;  // the previously active version, "" if none
};
// Activates `version` and retires the active one. Refuses (InputError) when
// the version is unknown, not a heads version, already active, or its stored
// gate verdict says not to promote -- unless `force`.
PromoteResult promote(store::Store& store, const std::string& version, bool force = false);

struct RollbackResult {
  std::string retired;      // the version that was active
  std::string reactivated;  // the one it had replaced, "" if none
};
// Throws InputError when no heads version is active.
RollbackResult rollback(store::Store& store);

// Loads a registered version's artifact.
HeadSet load_heads(library::Library& library, const store::ModelVersion& version);
// The active head set, if any.
std::optional<HeadSet> load_active_heads(library::Library& library);

}  // namespace tagsmith::training
