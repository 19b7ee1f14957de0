#pragma once
// The facet index: which assets carry which value, in memory, for filtering
// and counting at library scale (1M assets: a filter or a count is a scan of
// postings, not a query against SQLite).
//
// Values are (attribute, node) pairs from applied tags plus four metadata
// pseudo-attributes derived from the asset record:
//   format  "jpeg", "png", ...          month   ingest month, "2026-11"
//   folder  the directory the asset was first ingested from
//   size    file size bucket: "<100KB", "100KB-1MB", "1-5MB", "5-20MB", ">20MB"
//
// Semantics (the contract tests check against brute force over the Store):
//   * a tag counts when its state is auto, confirmed or human_set; flagged only
//     with include_flagged, suggested only with include_suggested; rejected never;
//   * filtering by a node matches the node and every node below it in the
//     taxonomy tree, and a node's count is the number of result assets that
//     carry it or a descendant (each asset counted once);
//   * a filter is an AND of clauses; a clause is an OR of values (several
//     values of one attribute, or the readings of one ambiguous query word);
//   * counts are over the current result set.
//
// A FacetIndex is immutable once built, so searches on several threads share
// it without locks; refresh by building a new one (stale() says when) and
// swapping a shared_ptr.
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "tagsmith/store/records.h"
#include "tagsmith/store/store.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::search {

using store::AssetId;

// Metadata pseudo-attributes (never taxonomy attributes).
inline constexpr std::string_view kFormatFacet = "format";
inline constexpr std::string_view kMonthFacet = "month";
inline constexpr std::string_view kFolderFacet = "folder";
inline constexpr std::string_view kSizeFacet = "size";
bool is_metadata_facet(std::string_view attribute);

struct Visibility {
  bool include_flagged = false;
  bool include_suggested = false;
};
// Whether a tag in state `s` counts for search under `v`.
bool visible(store::TagState s, Visibility v);

struct AssetMeta {
  std::string format, month, folder;
  std::int64_t file_size = 0;
  std::string name;  // the file name, for sorting by name (not a facet)
};
AssetMeta asset_meta(const store::AssetRecord& a);
std::string size_bucket(std::int64_t bytes);
// `path` relative to `root` when it lies under it ("2026/shoes"), otherwise
// its last component: what a page shows instead of a server path.
std::string relative_to_root(const std::string& path, const std::string& root);

struct FacetValue {
  std::string attribute, node;
  friend bool operator==(const FacetValue&, const FacetValue&) = default;
};

struct FacetClause {
  std::vector<FacetValue> any_of;
  std::string source;  // where it came from, for explanations: a query word or "--facet"
};

struct FacetFilter {
  std::vector<FacetClause> all_of;
  bool empty() const { return all_of.empty(); }
};

struct FacetCount {
  std::string attribute, node;
  std::int64_t count = 0;
};

// The tag (or metadata value) that made an asset satisfy a clause.
struct ClauseMatch {
  std::string attribute, node;
  std::optional<store::TagState> state;  // nullopt for metadata
  double confidence = 1;
};

// Dense document numbers: doc i is the i-th asset in ascending id order.
using Doc = std::uint32_t;

class FacetIndex {
 public:
  class Builder;

  // Reads every asset and tag of the store. The taxonomy provides the tree
  // (parents) and the attribute order; tags whose node it does not know are
  // indexed as roots, so nothing a library holds is unsearchable.
  static std::shared_ptr<const FacetIndex> load(store::Store& db, const taxonomy::Taxonomy& tax);

  std::size_t size() const { return ids_.size(); }
  AssetId id_of(Doc d) const { return ids_[d]; }
  std::optional<Doc> doc_of(AssetId id) const;

  // Assets (ascending docs) satisfying every clause. Values the index has
  // never seen match nothing.
  std::vector<Doc> match(const FacetFilter& filter, Visibility v) const;
  // Count of every value present in `docs` (ascending, unique), attributes in
  // taxonomy order then metadata, values by count descending then name.
  std::vector<FacetCount> count(std::span<const Doc> docs, Visibility v) const;
  // The same for docs = match(filter, v), remembering the counts of large
  // result sets: at 1M assets a result of hundreds of thousands costs
  // milliseconds to count, and only popular values (few by definition) give
  // results that large, so a small cache holds them all. The index is
  // immutable, so a cached count never goes stale. The counts of every
  // single value that large are made when the index is built (default
  // visibility) and kept for the index's life; other large results are
  // remembered as they come, oldest forgotten first. Thread-safe.
  std::vector<FacetCount> count(const FacetFilter& filter, std::span<const Doc> docs,
                                Visibility v) const;
  // The best (highest-confidence) visible value of `doc` satisfying `clause`.
  std::optional<ClauseMatch> explain(Doc doc, const FacetClause& clause, Visibility v) const;
  // The same with the clause resolved once (value ids, ascending), for
  // explaining many docs against one clause.
  std::vector<std::uint32_t> resolve(const FacetClause& clause) const { return expand(clause); }
  std::optional<ClauseMatch> explain(Doc doc, std::span<const std::uint32_t> resolved,
                                     Visibility v) const;
  // A resolved clause as a table indexed by value id, for clause_confidence.
  std::vector<char> mask_of(std::span<const std::uint32_t> resolved) const;
  // The confidence explain() would report (1 for a person's decision), or a
  // negative number when the doc does not satisfy the clause; allocates
  // nothing, for ranking a large result set by facet confidence.
  double clause_confidence(Doc doc, const std::vector<char>& mask, Visibility v) const;
  // The `limit` best of `docs` (ascending) when ranked by facets alone: the
  // mean over `clauses` (resolved) of the confidence explain() reports for
  // each, clauses a doc does not satisfy left out; highest doc (newest)
  // first on ties. kAuto reads each doc's entries or the clauses' postings,
  // whichever is fewer (one single-value clause whose result is `docs`:
  // its postings alone); all give the same answer (kDocs/kPostings force
  // one, for tests).
  enum class RankPath { kAuto, kDocs, kPostings };
  std::vector<std::pair<double, Doc>> rank_by_confidence(
      std::span<const Doc> docs, const std::vector<std::vector<std::uint32_t>>& clauses,
      Visibility v, std::size_t limit, RankPath path = RankPath::kAuto) const;

  // Whether the store's assets or tags changed since this index was loaded
  // (their high-water marks in Store::change_marker moved: cheap to ask).
  bool stale(store::Store& db) const;
  // The store's change marker read just before loading (a change racing
  // with the load makes the index look stale, never fresh).
  const store::ChangeMarker& loaded_at() const { return loaded_at_; }

  // Position of the doc when all are sorted by file name (then id): sorting
  // a result set by name without keeping the names in memory.
  std::uint32_t name_rank(Doc doc) const { return name_rank_.empty() ? doc : name_rank_[doc]; }
  // Mean confidence of the doc's visible taxonomy tags (a person's decision
  // counts 1), or a negative number when it has none.
  double mean_confidence(Doc doc, Visibility v) const;
  // The doc's visible taxonomy tag in the least certain tier (flagged, then
  // suggested, then auto, then a person's), lowest confidence first: what a
  // thumbnail's badge shows. nullopt when the doc has no visible tag.
  std::optional<ClauseMatch> weakest_tag(Doc doc, Visibility v) const;
  // Whether any asset carries a value of `attribute` visible under `v`.
  bool attribute_used(std::string_view attribute, Visibility v) const;
  // The deepest directory every asset's folder lies in (for a single folder,
  // its parent; empty without assets): folders are shown relative to it, so
  // the page names "2026/shoes" rather than a server path.
  const std::string& folder_root() const { return folder_root_; }

  std::size_t value_count() const { return values_.size(); }
  std::size_t tag_count() const { return entry_value_.size(); }

 private:
  friend class Builder;
  struct Value {
    std::uint32_t attribute = 0;  // index into attributes_
    std::string node;
    std::int32_t parent = -1;  // value id, -1 for roots
  };
  std::vector<std::uint32_t> expand(
      const FacetClause& clause) const;  // value ids incl. descendants
  std::vector<char> value_mask(const FacetClause& clause) const;
  void build_closure();  // closure_ from the forward index
  void warm_counts();    // caches the counts of every large single-value result
  std::string count_key(const FacetFilter& filter, Visibility v) const;
  void count_into(std::span<const Doc> docs, Visibility v, std::vector<std::int64_t>& out) const;
  std::vector<FacetCount> to_counts(const std::vector<std::int64_t>& per_value) const;
  static int visibility_slot(Visibility v) {
    return (v.include_flagged ? 1 : 0) | (v.include_suggested ? 2 : 0);
  }

  std::vector<AssetId> ids_;             // doc -> asset id, ascending
  std::vector<std::string> attributes_;  // taxonomy order, then metadata, then unknown ones
  std::vector<Value> values_;
  std::unordered_map<std::string, std::uint32_t> value_ids_;  // "attribute\x1fnode" -> value id
  std::vector<std::vector<std::uint32_t>> children_;          // value id -> child value ids
  // Forward index (CSR): doc -> its values with state and confidence.
  std::vector<std::uint32_t> doc_offsets_;
  std::vector<std::uint32_t> entry_value_;
  std::vector<std::uint8_t> entry_state_;  // TagState, or kMetaState
  std::vector<float> entry_confidence_;    // 1 for a person's decision
  // Postings (CSR): value -> docs (ascending) with the state of the tag.
  std::vector<std::uint32_t> posting_offsets_;
  std::vector<Doc> posting_docs_;
  std::vector<std::uint8_t> posting_state_;
  std::vector<float> posting_confidence_;  // as entry_confidence_
  // Counting index (CSR): doc -> every value it counts for, ancestors
  // included and each once, packed as value | visible-in-slot bits << 28.
  // Counting a result set is then one add per element with no parent walk
  // and no per-doc de-duplication: at 1M assets a cold count of a
  // 300k-asset result set drops from tens of milliseconds to a few.
  static constexpr std::uint32_t kValueBits = 28;
  static constexpr std::uint32_t kValueMask = (1u << kValueBits) - 1;
  std::vector<std::uint32_t> closure_offsets_;
  std::vector<std::uint32_t> closure_;
  // Counts over all assets, per visibility combination (the unfiltered view).
  std::vector<std::int64_t> totals_[4];
  store::ChangeMarker loaded_at_;
  std::vector<std::uint32_t> name_rank_;  // doc -> rank by name (empty: by doc)
  std::string folder_root_;
  // Counts of large result sets by filter (see count(filter, ...)); those
  // in cache_order_ are evicted oldest first, the warmed ones never.
  static constexpr std::size_t kCachedCounts = 256;
  std::size_t cache_from_docs_ = 20'000;
  mutable std::mutex cache_mu_;
  mutable std::unordered_map<std::string, std::shared_ptr<const std::vector<FacetCount>>> cache_;
  mutable std::deque<std::string> cache_order_;
};

// Builds a FacetIndex from any source: the Store (FacetIndex::load) or
// synthetic data (bench). Assets may come in any order; tags may name assets
// added before or after them (tags of unknown assets are dropped at build()).
class FacetIndex::Builder {
 public:
  explicit Builder(const taxonomy::Taxonomy& tax);
  void add_asset(AssetId id, const AssetMeta& meta);
  void add_tag(AssetId id, std::string_view attribute, std::string_view node, store::TagState state,
               double confidence);
  // The store's change marker at load time, for stale().
  void set_freshness(const store::ChangeMarker& marker);
  // Result sets of at least `docs` have their counts cached (default 20,000).
  void cache_counts_from(std::size_t docs);
  std::shared_ptr<const FacetIndex> build();

 private:
  std::uint32_t value_id(std::string_view attribute, std::string_view node);
  struct Raw {
    AssetId asset;
    std::uint32_t value;
    std::uint8_t state;
    float confidence;
  };
  std::shared_ptr<FacetIndex> index_;
  std::unordered_map<std::string, std::uint32_t> attribute_ids_;
  std::vector<Raw> raw_;
  std::vector<AssetId> assets_;
  std::vector<std::string> names_;  // parallel to assets_
};

}  // namespace tagsmith::search
