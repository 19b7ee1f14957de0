#pragma once
// Tags as photo keywords and back: the bridge between the taxonomy and the
// keywords DAM and photo tools exchange (image/xmp.h).
//
// Out (keywords_of): each applied tag becomes
//   dc:subject               the node's label                  "Maxi dress"
//   lr:hierarchicalSubject   attribute label | ancestors' labels | node label
//                            "Product type|Dresses|Maxi dress"
// in one language (English default; "zh" for Chinese; a node without a label
// in that language falls back to English, then its id).
//
// In (map_keywords): each keyword is looked up among the taxonomy's node ids,
// labels (every language) and synonyms, normalised as search does.
//  * A hierarchical subject is matched by its last component; the others are
//    a hint that decides between several nodes of that name (the attribute's
//    label or id, ancestors' labels).
//  * A flat keyword that is also a component of one of the photo's
//    hierarchical subjects is that subject's, not a keyword of its own
//    (Lightroom writes the parents of a keyword into dc:subject too).
//  * A colour shade named the same as its own family reads as the family
//    (as in search).
//  * Still ambiguous, naming no node, or a second different value of a
//    single-valued attribute (other than an ancestor of the first, which the
//    deeper node covers): not imported, and reported with the reason. Nothing
//    is dropped silently.
//
// import_keywords records the matches through TagService::set as a person's
// facts attributed to the import (actor "import:xmp", state human_set, one
// `applied` event each): what `tagsmith tags import` does for a CSV, so the
// machine never overrides them.
#include <string>
#include <vector>

#include "tagsmith/image/xmp.h"
#include "tagsmith/store/records.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

inline constexpr const char* kKeywordImportActor = "import:xmp";

// The keywords of `tags` (every tag given: the caller picks which states).
// Tags whose node the taxonomy does not know are written by id.
image::PhotoKeywords keywords_of(const taxonomy::Taxonomy& tax, const std::vector<store::Tag>& tags,
                                 const std::string& language = "en");
// "Product type|Dresses|Maxi dress" for one node.
std::string hierarchy_of(const taxonomy::Taxonomy& tax, const std::string& attribute,
                         const std::string& node, const std::string& language = "en");

struct KeywordMatch {
  taxonomy::NodeRef ref;
  std::string keyword;  // as the photo wrote it
};

struct UnmatchedKeyword {
  std::string keyword;
  std::string reason;  // "names no node of the taxonomy", "ambiguous: …", "conflicts with …"
};

struct KeywordMapping {
  std::vector<KeywordMatch> matched;  // at most one per (attribute, node)
  std::vector<UnmatchedKeyword> unmatched;
};

KeywordMapping map_keywords(const taxonomy::Taxonomy& tax, const image::PhotoKeywords& keywords);

struct KeywordImport {
  std::size_t matched = 0;    // distinct nodes the keywords named
  std::size_t set = 0;        // tags written (one audit event each)
  std::size_t unchanged = 0;  // already a person's fact with that value
  std::vector<UnmatchedKeyword> unmatched;
};

// Maps the keywords through the service's taxonomy and records the matches
// on `asset` with TagService::set. A person's decision is never overwritten
// (as `tagsmith tags import`): a node a person rejected, or another value a
// person gave a single-valued attribute, is reported in `unmatched` instead.
// `db` is the store the service writes to (the asset's tags are read first).
KeywordImport import_keywords(TagService& service, store::Store& db, store::AssetId asset,
                              const image::PhotoKeywords& keywords,
                              const std::string& actor = kKeywordImportActor);

}  // namespace tagsmith::tagging
