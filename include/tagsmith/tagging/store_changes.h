#pragma once
// Conversions between the engine's vocabulary (engine.h) and the store's
// records (store/records.h). Pure functions, exposed for tests and for other
// writers of machine tags.
//
// Audit contract for machine changes (one event per row):
//   engine add / update   -> upsert;  event applied | flagged | proposed (by tier)
//   engine replace        -> two rows, two events: the old node is deleted
//                            (event `removed`, actor: the source of the new
//                            value) and the new one upserted (tier event with
//                            previous_node = the old node)
//   engine remove         -> delete;  event `removed` (actor: who had set it)
// The row and its event carry the same evidence (what `why` reads first).
#include <cstdint>
#include <string>
#include <vector>

#include "tagsmith/store/records.h"
#include "tagsmith/tagging/engine.h"

namespace tagsmith::tagging {

// A stored tag as the engine sees it (confirmed and human_set are human facts).
ExistingTag to_existing(const store::Tag& tag);
ExistingTag to_existing(store::TagSummary tag);  // its strings move
store::TagState to_state(Tier tier);
store::TagAction action_for(Tier tier);
// Store changes (one event per row, see the contract above) for one asset.
// Takes the deltas: moved in, their evidence is serialised without a copy.
std::vector<store::TagChange> to_store_changes(store::AssetId asset, std::vector<TagDelta> changes,
                                               std::int64_t taxonomy_version,
                                               const std::string& at);

}  // namespace tagsmith::tagging
