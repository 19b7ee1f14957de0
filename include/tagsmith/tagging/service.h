#pragma once
// The tagging service: the pure engine (engine.h) connected to a library.
//
// It owns three jobs:
//  * taxonomy versions: a library always has a current taxonomy (the builtin
//    one is stored as version 1 on first use); imports are validated against
//    the library's palette and stored only when valid and different;
//  * machine tagging: for each asset, gather scores from every ScoreProvider
//    (colour analysis always; zero-shot and trained heads when a model is
//    present), read the tags it carries, run decide() + change_set(), and
//    write the changes with their audit events;
//  * human operations (confirm, reject, correct, set, remove), used by the
//    CLI, the review queue and the HTTP API.
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
#include <cstdint>
#include <filesystem>
#include <functional>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/library/library.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/taxonomy/diff.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

// --- taxonomy versions --------------------------------------------------------

struct LibraryTaxonomy {
  std::int64_t version = 0;       // taxonomy_versions.id
  store::TaxonomyVersion record;  // with its YAML text
  taxonomy::Taxonomy taxonomy;
};

// The library's current (latest) taxonomy. A library without one gets the
// builtin taxonomy stored as its first version.
LibraryTaxonomy current_taxonomy(library::Library& lib);
// A stored version, parsed with the library's palette. Throws NotFoundError.
LibraryTaxonomy load_taxonomy_version(library::Library& lib, std::int64_t version);

struct TaxonomyImport {
  bool stored = false;          // false: same text (sha256) as the current version
  std::int64_t version = 0;     // the new version; the current one when !stored
  std::int64_t previous = 0;    // the version it replaces
  taxonomy::TaxonomyDiff diff;  // previous -> imported
};
// Validates the file against the library's palette -- throwing
// taxonomy::ValidationError and storing nothing when it is invalid -- then
// stores it as a new version unless it is identical to the current one.
// Existing tags are not touched: run a retag.
TaxonomyImport import_taxonomy(library::Library& lib, const std::filesystem::path& path);
TaxonomyImport import_taxonomy_text(library::Library& lib, std::string_view yaml,
                                    std::string_view source_name);

// --- score providers ------------------------------------------------------------

// What a provider gets for one asset. `embedding` is the stored vector under
// the provider's embedding_model(), empty when it has none or asks for none:
// scoring never decodes the photo again.
struct ScoreRequest {
  const store::AssetRecord& asset;
  std::span<const float> embedding;
};

// A source of machine scores: colour analysis, zero-shot CLIP, trained heads.
// Sources must be named "model:<version>" for models (that version is stored
// on the tags they win), "colour" for colour analysis.
class ScoreProvider {
 public:
  virtual ~ScoreProvider() = default;
  virtual std::string name() const = 0;
  // The model version whose stored embeddings scores() needs; "" for none.
  virtual std::string embedding_model() const { return {}; }
  // Called once per taxonomy before any scores() under it (e.g. to encode
  // the zero-shot prompts of every node).
  virtual void prepare(const taxonomy::Taxonomy& tax) {}
  // Scores for one asset. Called concurrently from several threads.
  virtual std::vector<ScoreSet> scores(const taxonomy::Taxonomy& tax,
                                       const ScoreRequest& request) const = 0;
};

// Colour family and shade from the colour analysis stored at ingest.
class ColourScoreProvider final : public ScoreProvider {
 public:
  std::string name() const override { return "colour"; }
  std::vector<ScoreSet> scores(const taxonomy::Taxonomy& tax,
                               const ScoreRequest& request) const override;
};

// "model:clip@3f2a" -> "clip@3f2a"; "" for any other actor.
std::string model_version_of(std::string_view actor);

// --- conversions (pure; exposed for tests and other writers) -------------------

ExistingTag to_existing(const store::Tag& tag);
store::TagState to_state(Tier tier);
store::TagAction action_for(Tier tier);
// Store changes (one event per row, see the contract above) for one asset.
std::vector<store::TagChange> to_store_changes(store::AssetId asset,
                                               const std::vector<TagChange>& changes,
                                               std::int64_t taxonomy_version,
                                               const std::string& at);

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
  std::int64_t changed() const { return added + removed + value_changed + tier_changed; }
};

struct TagOptions {
  int threads = 1;          // engine threads (0 = hardware concurrency)
  std::size_t batch = 512;  // assets per store transaction
  bool dry_run = false;     // decide and count, write nothing
  std::function<void(std::int64_t done, std::int64_t total, double seconds)> on_progress;
};

// What the engine would do for one asset right now.
struct TagPlan {
  std::vector<Decision> decisions;
  std::vector<TagChange> changes;
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
  // skipped). Human tags are never touched.
  TagReport tag(std::span<const store::AssetId> ids, const TagOptions& options = {});
  TagReport tag_all(const TagOptions& options = {});
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
  std::string resolve_node(const std::string& attribute, const std::string& node) const;
  TagReport run(std::span<const store::AssetId> ids, const TagOptions& options);

  library::Library& lib_;
  std::vector<std::unique_ptr<ScoreProvider>> providers_;
  LibraryTaxonomy current_;
};

}  // namespace tagsmith::tagging
