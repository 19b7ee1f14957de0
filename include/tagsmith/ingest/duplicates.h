#pragma once
// Near-duplicate groups: recompressed, resized or lightly cropped copies of the
// same photo have perceptual hashes a few bits apart. Exact copies never reach
// this stage: they share a SHA-256 and are stored once, with an alias path.
#include <cstdint>
#include <utility>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::ingest {

constexpr int kDefaultNearDuplicateDistance = 10;  // of 64 bits

// Groups (size ≥ 2) of assets connected by Hamming distance ≤ max_distance,
// each sorted by id, groups ordered by their first id.
std::vector<std::vector<store::AssetId>> near_duplicate_groups(
    const std::vector<std::pair<store::AssetId, std::uint64_t>>& hashes,
    int max_distance = kDefaultNearDuplicateDistance);

}  // namespace tagsmith::ingest
