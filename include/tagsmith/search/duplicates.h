#pragma once
// The near-duplicate view: ingest's perceptual-hash groups (colour-gated, see
// ingest/duplicates.h) checked and extended with embedding similarity.
//
//  * Within a phash group, two members with embeddings stay linked only if
//    their cosine similarity is >= confirm_similarity (a silhouette-alike of a
//    different product is split off); members without embeddings keep their
//    phash links.
//  * When the vector index is small enough (<= neighbour_scan_max assets),
//    every asset's nearest neighbours with similarity >= embedding_similarity
//    are linked too, catching crops and recolours the 64-bit hash misses.
// Groups are the connected components of size >= 2.
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/ingest/duplicates.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/store/store.h"

namespace tagsmith::search {

struct DuplicateOptions {
  int max_hamming = ingest::kDefaultNearDuplicateDistance;
  double max_colour_delta = ingest::kDefaultNearDuplicateColourDelta;
  float confirm_similarity = 0.90f;
  float embedding_similarity = 0.97f;
  std::size_t neighbour_scan_max = 200'000;
};

struct DuplicateGroup {
  std::vector<AssetId> ids;             // ascending
  std::optional<float> min_similarity;  // lowest cosine between linked members with embeddings
  std::string basis;                    // "phash", "embedding" or "phash+embedding"
};

std::vector<DuplicateGroup> near_duplicate_view(store::Store& db, const VectorIndex* vectors,
                                                const DuplicateOptions& options = {});

}  // namespace tagsmith::search
