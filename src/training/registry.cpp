#include "tagsmith/training/registry.h"

#include <cstdio>
#include <nlohmann/json.hpp>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"

namespace tagsmith::training {
namespace {

nlohmann::json metrics_of(const store::ModelVersion& v) {
  try {
    auto j = nlohmann::json::parse(v.metrics_json.empty() ? "{}" : v.metrics_json);
    return j.is_object() ? j : nlohmann::json::object();
  } catch (const nlohmann::json::exception&) {
    return nlohmann::json::object();  // unreadable metrics must not block operations
  }
}

}  // namespace

std::optional<store::ModelVersion> active_of_kind(store::Store& store, store::ModelKind kind) {
  std::optional<store::ModelVersion> found;
  // Highest id wins should two ever be active (a crash between the two
  // updates of promote()).
  for (auto& v : store.model_versions()) {
    if (v.kind == kind && v.status == store::ModelStatus::kActive) found = v;
  }
  return found;
}

std::string next_version_name(store::Store& store, store::ModelKind kind,
                              const std::string& prefix) {
  int count = 0;
  for (const auto& v : store.model_versions()) count += v.kind == kind;
  for (int n = count + 1;; ++n) {
    char number[16];
    std::snprintf(number, sizeof number, "-%04d", n);
    if (!store.model_version(prefix + number)) return prefix + number;
  }
}

std::optional<store::ModelVersion> active_heads(store::Store& store) {
  return active_of_kind(store, store::ModelKind::kHeads);
}

std::optional<store::ModelVersion> active_encoder(store::Store& store) {
  return active_of_kind(store, store::ModelKind::kEncoder);
}

std::string next_heads_version(store::Store& store) {
  return next_version_name(store, store::ModelKind::kHeads, "heads");
}

std::string artifact_relative_path(const std::string& version) {
  return "models/" + version;
}

store::ModelVersion register_candidate(library::Library& library, const HeadSet& heads,
                                       const nlohmann::json& metrics) {
  auto& store = library.store();
  if (heads.version.empty()) throw InputError("a head set needs a version name to be registered");
  if (store.model_version(heads.version)) {
    throw InputError("model version '" + heads.version + "' already exists");
  }
  store::ModelVersion v;
  v.version = heads.version;
  v.kind = store::ModelKind::kHeads;
  v.parent = heads.encoder_version;
  v.status = store::ModelStatus::kCandidate;
  v.created_at = heads.created_at.empty() ? now_utc_iso8601() : heads.created_at;
  v.metrics_json = metrics.dump();
  v.artifact_path = artifact_relative_path(heads.version);
  // Artifact first: a registry row must never point at a missing model.
  heads.save(library.dir() / v.artifact_path);
  store.add_model_version(v);
  return *store.model_version(v.version);
}

PromoteResult promote(store::Store& store, const std::string& version, bool force) {
  auto v = store.model_version(version);
  if (!v) throw NotFoundError("no model version '" + version + "'");
  if (v->kind != store::ModelKind::kHeads) {
    throw InputError("'" + version + "' is a " + store::to_string(v->kind) +
                     " model, not a heads version");
  }
  if (v->status == store::ModelStatus::kActive)
    throw InputError("'" + version + "' is already active");
  auto metrics = metrics_of(*v);
  if (!force && metrics.contains("gate") && metrics["gate"].value("promote", true) == false) {
    throw InputError("'" + version + "' failed the evaluation gate; promote it anyway with force");
  }
  const auto previous = active_heads(store);
  PromoteResult r{version, previous ? previous->version : ""};
  metrics["replaces"] = r.retired;
  metrics["promoted_at"] = now_utc_iso8601();
  v->metrics_json = metrics.dump();
  v->status = store::ModelStatus::kActive;
  // The catalogue's re-tag is queued before the switch, so a crash at any
  // point after it leaves the re-tag pending, never forgotten.
  store.queue_work_for_all(store::WorkStep::kTag);
  // Activate first, then retire: a crash in between leaves two active rows,
  // which active_heads() resolves to the newer one, never zero.
  store.update_model_version(*v);
  if (previous) {
    auto old = *previous;
    old.status = store::ModelStatus::kRetired;
    store.update_model_version(old);
  }
  return r;
}

RollbackResult rollback(store::Store& store) {
  auto active = active_heads(store);
  if (!active) throw InputError("no heads version is active: nothing to roll back");
  auto metrics = metrics_of(*active);
  RollbackResult r{active->version, metrics.value("replaces", std::string{})};
  store.queue_work_for_all(store::WorkStep::kTag);  // as in promote()
  if (!r.reactivated.empty()) {
    auto prev = store.model_version(r.reactivated);
    if (!prev)
      throw NotFoundError("'" + active->version + "' replaced '" + r.reactivated +
                          "', which is no longer registered");
    prev->status = store::ModelStatus::kActive;
    store.update_model_version(*prev);
  }
  metrics["rolled_back_at"] = now_utc_iso8601();
  active->metrics_json = metrics.dump();
  active->status = store::ModelStatus::kRetired;
  store.update_model_version(*active);
  return r;
}

HeadSet load_heads(library::Library& library, const store::ModelVersion& version) {
  if (version.artifact_path.empty()) {
    throw NotFoundError("model version '" + version.version + "' has no artifact");
  }
  return HeadSet::load(library.dir() / version.artifact_path);
}

std::optional<HeadSet> load_active_heads(library::Library& library) {
  auto v = active_heads(library.store());
  if (!v) return std::nullopt;
  return load_heads(library, *v);
}

}  // namespace tagsmith::training
