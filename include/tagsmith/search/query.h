#pragma once
// Query understanding: free text -> facet filters + a remainder for semantic
// ranking.
//
// The query is normalised like taxonomy labels (NFKC, case folding; see
// taxonomy/text.h) and cut into units: a unit is a space-separated word, or a
// single CJK character (Chinese has no spaces). Scanning left to right, the
// longest run of units that spells a node's id, label (any language) or
// synonym wins; unmatched units form the remainder. So "white dress" and
// "白色连衣裙" both give colour_family=white ∧ garment_type=dress, "maxi dress"
// gives garment_type=maxi_dress (not dress), and "flowy white dress" leaves
// "flowy" for the text encoder.
//
// A phrase naming several nodes (e.g. "linen": a material and a colour shade)
// becomes one clause matching any of them. A colour shade named the same as a
// family it belongs to ("white") reads as the family, which covers the shade.
// A remainder made only of stop words ("a", "with", "的") is dropped.
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tagsmith/search/facet_index.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::search {

struct QueryTerm {
  std::string text;                     // the matched phrase, normalised
  std::vector<taxonomy::NodeRef> refs;  // in taxonomy order; one clause, OR
};

struct ParsedQuery {
  std::string normalised;
  std::vector<QueryTerm> terms;
  std::string remainder;  // unmatched words for semantic ranking ("" if none)

  // The terms as filter clauses (source = the matched phrase).
  FacetFilter filter() const;
};

class QueryParser {
 public:
  explicit QueryParser(const taxonomy::Taxonomy& tax);
  ParsedQuery parse(std::string_view query) const;

 private:
  const taxonomy::Taxonomy& tax_;
  std::unordered_map<std::string, std::vector<taxonomy::NodeRef>>
      phrases_;  // joined units -> nodes
  std::size_t max_units_ = 1;
};

// Splits normalised text into units (exposed for tests): words, and one unit
// per CJK character; surrounding punctuation is dropped.
std::vector<std::string> query_units(std::string_view normalised);
// Joins units back: a space between two words, nothing next to CJK.
std::string join_units(const std::vector<std::string>& units, std::size_t begin, std::size_t end);

}  // namespace tagsmith::search
