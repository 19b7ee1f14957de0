#pragma once
// Search: facets, free text through the taxonomy, natural language and
// similar images, combined into one ranked, explained result.
//
// How a request is answered:
//  1. The text is parsed (query.h) into facet clauses and a remainder; they
//     join the explicit facet clauses (AND).
//  2. The facet index gives the assets satisfying every clause: the result
//     set. Facet counts are computed over it.
//  3. Ranking, by what the request has:
//     - similar (asset or image file): cosine similarity to that embedding,
//       within the result set ("similar");
//     - a remainder and a text encoder: cosine similarity of the remainder's
//       embedding, within the result set ("semantic", or "hybrid" when facets
//       also matched);
//     - otherwise the mean confidence of the tags that satisfied the query's
//       clauses, newest first on ties ("facets").
//     In the vector modes score = similarity + kFacetWeight * facet
//     confidence, so among equally similar photos the surer tags win; result
//     assets without an embedding follow the ranked ones (never dropped).
//  4. Every hit carries the tags that matched and its similarity, and a
//     one-line reason ("matched colour_family=white (auto 0.97); similarity
//     0.31 to 'flowy'").
// Without a text encoder, or with one from another model than the index,
// semantic ranking is off and the result says so in `notes`; a query whose
// words all went unmatched then returns no hits rather than the whole library.
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/search/encoders.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/search/query.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::search {

inline constexpr double kFacetWeight = 0.1;

// The order of a facet-ranked result. Similarity rankings (semantic, hybrid,
// similar) keep their order whatever is asked: a note says so.
enum class SortOrder {
  kRelevance,  // as described above
  kNewest,     // most recently ingested first (ascending id reversed)
  kOldest,
  kName,           // by file name, A to Z
  kConfidence,     // surest first: the matched tags' mean confidence, or all tags' without a filter
  kLeastConfident  // the same, least sure first (what to check)
};
SortOrder sort_order_from_string(const std::string& s);  // InputError naming the known ones
std::string to_string(SortOrder s);

struct SearchRequest {
  std::string text;
  std::vector<FacetClause> facets;  // explicit filters, e.g. from --facet (see parse_facet_option)
  std::optional<AssetId> similar_to_asset;
  std::optional<std::filesystem::path> similar_to_file;
  std::size_t limit = 20;
  std::size_t offset = 0;
  Visibility visibility;
  bool with_counts = true;
  SortOrder sort = SortOrder::kRelevance;
};

struct Hit {
  AssetId id = 0;
  double score = 0;
  std::optional<float> similarity;
  std::vector<ClauseMatch> matched;  // one per clause, in filter order
  std::string why;
  // The hit's least certain visible tag (FacetIndex::weakest_tag): its badge.
  std::optional<ClauseMatch> weakest;
};

struct SearchResult {
  ParsedQuery query;
  FacetFilter filter;     // explicit clauses, then the query's
  std::string ranking;    // "facets" | "semantic" | "hybrid" | "similar"
  std::size_t total = 0;  // assets satisfying the filter
  std::vector<Hit> hits;
  std::vector<FacetCount> counts;
  std::vector<std::string> notes;
  // When nothing matched: why, in words a person can act on ("nothing is
  // tagged garment_type=dress yet: ..."). Empty otherwise.
  std::string hint;
};

class SearchEngine {
 public:
  // `vectors`, `text` and `image` may be null (features off). All must
  // outlive the engine; the facet index is shared.
  SearchEngine(const taxonomy::Taxonomy& tax, std::shared_ptr<const FacetIndex> facets,
               const VectorIndex* vectors = nullptr, std::string vector_model = {},
               TextEncoder* text = nullptr, ImageEncoder* image = nullptr);

  SearchResult search(const SearchRequest& request) const;
  const QueryParser& parser() const { return parser_; }
  void set_facets(std::shared_ptr<const FacetIndex> facets) { facets_ = std::move(facets); }

 private:
  const taxonomy::Taxonomy& tax_;
  QueryParser parser_;
  std::shared_ptr<const FacetIndex> facets_;
  const VectorIndex* vectors_;
  std::string vector_model_;
  TextEncoder* text_;
  ImageEncoder* image_;
};

// Parses "attribute=value[,value...]". The value may be a node id or any of
// its labels/synonyms ("colour_family=白色"); metadata facets take their
// values verbatim. Throws InputError naming the known attributes or values.
FacetClause parse_facet_option(const taxonomy::Taxonomy& tax, const std::string& option);
// Merges clauses of the same single attribute into one OR clause
// (--facet season=summer --facet season=spring == season=summer,spring).
std::vector<FacetClause> merge_facet_clauses(std::vector<FacetClause> clauses);

}  // namespace tagsmith::search
