#pragma once
// The tagging service: the pure engine (engine.h) connected to a library.
//
// It owns two jobs:
//  * machine tagging: for each asset, gather scores from every ScoreProvider
//    (score_provider.h: colour analysis always; zero-shot and trained heads
//    when a model is present), read the tags it carries, run decide() +
//    change_set(), and write the changes with their audit events
//    (store_changes.h says which);
//  * human operations (confirm, reject, correct, set, remove), used by the
//    CLI, the review queue and the HTTP API.
// Taxonomy versions (taxonomy_versions.h) give it the taxonomy it decides under.
//
// Audit contract: every tag row created, changed or deleted gets exactly one
// TagEvent, written in the same transaction as the row. The mapping:
//   engine add / update   -> upsert;  event applied | flagged | proposed (by tier)
//   engine replace        -> two rows, two events: the old node is deleted
//                            (event `removed`) and the new one upserted (tier
//                            event with previous_node = the old node)
//   engine remove         -> delete;  event `removed` (actor: who had set it)
//   confirm               -> state confirmed;            event `confirmed`
//   reject                -> state rejected;             event `rejected`
//   set                   -> state human_set;            event `applied` (actor user)
//   remove                -> delete;                     event `removed` (actor user)
//   correct(from -> to)   -> ONE event `corrected` (node = to, previous_node =
//                            from) covering two rows: `to` becomes human_set
//                            and `from` becomes rejected (so no model proposes
//                            it again). The event names both rows.
// Machine actors are the engine's decision actor: "colour" (colour analysis),
// "model:<version>", "rule:<id>"; people are "user:<name>".
//
// Threading: a TagService takes one call at a time. No two of its calls may
// run concurrently -- not even two human operations -- because each operation
// reads the asset's tags and then writes (two store calls, not one
// transaction), so a concurrent tag() could overwrite a person's confirm, and
// reload_taxonomy() replaces the taxonomy every other call reads. Callers that
// share one (the server, the review queue beside it) hold one mutex around
// every call. Inside tag()/tag_all() the service runs providers' scores() on
// its own threads (TagOptions::threads), while one more thread reads the
// next batch and the calling thread writes the last. The reference
// taxonomy() returns is valid until the next reload_taxonomy().
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/tagging/score_provider.h"
#include "tagsmith/tagging/taxonomy_versions.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

// --- machine tagging ------------------------------------------------------------

struct TagReport {
  std::int64_t assets = 0;              // assets decided
  std::int64_t assets_changed = 0;      // assets with at least one change
  std::int64_t decisions = 0;           // decisions the engine made
  std::int64_t added = 0;               // tags added
  std::int64_t removed = 0;             // machine tags no longer supported
  std::int64_t value_changed = 0;       // single-valued attribute changed value
  std::int64_t tier_changed = 0;        // same node, another tier
  std::int64_t confidence_changed = 0;  // same node and tier, confidence moved
  std::int64_t events = 0;              // audit events written
  double seconds = 0;
  // Of `seconds`, the time spent reading batches and writing them (each
  // overlaps deciding the next batch): where a slow run waits.
  double read_seconds = 0, write_seconds = 0;
  std::int64_t changed() const { return added + removed + value_changed + tier_changed; }
  TagReport& operator+=(const TagReport& other);  // every field summed
};

struct TagOptions {
  int threads = 1;  // engine threads (0 = hardware concurrency)
  // Assets per store transaction: a batch is read in a few range scans and
  // written in one commit, so a run killed half-way loses at most one batch.
  std::size_t batch = 10'000;
  bool dry_run = false;  // decide and count, write nothing
  std::function<void(std::int64_t done, std::int64_t total, double seconds)> on_progress;
};

// What the engine would do for one asset right now.
struct TagPlan {
  std::vector<Decision> decisions;
  std::vector<TagDelta> changes;
};

class TagService {
 public:
  // Colour analysis only: what a library without a vision model gets.
  explicit TagService(library::Library& lib);
  TagService(library::Library& lib, std::vector<std::unique_ptr<ScoreProvider>> providers);
  ~TagService();
  TagService(const TagService&) = delete;
  TagService& operator=(const TagService&) = delete;

  const taxonomy::Taxonomy& taxonomy() const { return current_.taxonomy; }
  std::int64_t taxonomy_version() const { return current_.version; }
  // Picks up a taxonomy imported since construction and re-prepares providers.
  void reload_taxonomy();

  // Recomputes and stores the machine tags of these assets (unknown ids are
  // skipped; in id order, each once). Human tags are never touched. Only
  // what changed is written (unchanged tags keep their row and get no
  // event). Each batch's transaction also settles the pending tag work
  // (store/work_queue.h) of the assets it decided.
  TagReport tag(std::span<const store::AssetId> ids, const TagOptions& options = {});
  // Every asset: queues the whole catalogue's tagging first, then works the
  // queue, so that a re-tag killed half-way is finished by tag_pending().
  // (A dry run queues nothing.)
  TagReport tag_all(const TagOptions& options = {});
  // Every asset with tagging pending, in id order: what ingest left for
  // tagging, re-embedded assets, and what an interrupted run did not finish.
  TagReport tag_pending(const TagOptions& options = {});
  TagPlan plan(store::AssetId id);

  // Human operations: each writes exactly one event with actor "user:<user>".
  // Nodes may be given by id, label or synonym. They return false (and write
  // nothing) when the tag is already in the requested state. Throw
  // NotFoundError for an unknown asset or a missing tag, InputError for an
  // unknown attribute or node.
  bool confirm(store::AssetId asset, const std::string& attribute, const std::string& node,
               const std::string& user);
  // A node not tagged yet can be rejected too: no model will propose it.
  bool reject(store::AssetId asset, const std::string& attribute, const std::string& node,
              const std::string& user);
  // On a single-valued attribute, the machine's other values are removed
  // (each with its own event) at the next tag/retag, since a person's value
  // stands alone; correct() replaces one value in one step.
  bool set(store::AssetId asset, const std::string& attribute, const std::string& node,
           const std::string& user);
  bool correct(store::AssetId asset, const std::string& attribute, const std::string& from_node,
               const std::string& to_node, const std::string& user);
  // A model may propose a removed tag again; reject() keeps it away.
  bool remove(store::AssetId asset, const std::string& attribute, const std::string& node,
              const std::string& user);

 private:
  struct Work;
  struct HumanEdit;
  // Node id for an id, label or synonym of the attribute; InputError otherwise.
  std::string resolve_node(const std::string& attribute, const std::string& node) const;
  // The one path of every human operation (human_operations.cpp): resolves the
  // node, names the actor, loads the asset's row for the node, asks `decide`
  // for the change (nullopt: already so, nothing written) and writes it.
  bool edit_by_person(
      store::AssetId asset, const std::string& attribute, const std::string& node,
      const std::string& user,
      const std::function<std::optional<store::TagChange>(const HumanEdit&)>& decide);
  TagReport run(std::span<const store::AssetId> ids, const TagOptions& options);

  library::Library& lib_;
  std::vector<std::unique_ptr<ScoreProvider>> providers_;
  LibraryTaxonomy current_;
};

}  // namespace tagsmith::tagging
