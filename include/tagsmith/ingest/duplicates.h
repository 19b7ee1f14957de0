#pragma once
// Near-duplicate groups: recompressed, resized or lightly cropped copies of the
// same photo have perceptual hashes a few bits apart. Exact copies never reach
// this stage: they share a SHA-256 and are stored once, with an alias path.
#include <cstdint>
#include <utility>
#include <vector>

#include "tagsmith/store/records.h"

namespace tagsmith::ingest {

constexpr int kDefaultNearDuplicateDistance = 10;        // of 64 bits
constexpr double kDefaultNearDuplicateColourDelta = 12;  // CIEDE2000 between main colours

// Groups (size ≥ 2) of assets connected by Hamming distance ≤ max_distance
// whose main colours are within max_colour_delta. The colour gate matters for
// catalogues: products shot on white share a silhouette-dominated hash, so a
// black and a red dress of the same cut can hash alike, but copies of one
// photo keep their colour. Groups are sorted by id, ordered by first id.
std::vector<std::vector<store::AssetId>> near_duplicate_groups(
    const std::vector<store::AssetFingerprint>& assets,
    int max_distance = kDefaultNearDuplicateDistance,
    double max_colour_delta = kDefaultNearDuplicateColourDelta);

}  // namespace tagsmith::ingest
