#include "tagsmith/search/facet_index.h"

#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <numeric>

#include "tagsmith/common/error.h"

namespace tagsmith::search {

namespace {

// Entry state for metadata values: always visible, no confidence.
constexpr std::uint8_t kMetaState = 255;

std::string key(std::string_view attribute, std::string_view node) {
  std::string k(attribute);
  k += '\x1f';
  k += node;
  return k;
}

bool visible_state(std::uint8_t s, Visibility v) {
  if (s == kMetaState) return true;
  return visible(static_cast<store::TagState>(s), v);
}

// A word-packed set of docs: unions and intersections of postings at 1M
// assets cost 16K words each.
class Bitset {
 public:
  explicit Bitset(std::size_t n, bool ones = false)
      : n_(n), w_((n + 63) / 64, ones ? ~0ull : 0ull) {
    if (ones && n % 64) w_.back() = (1ull << (n % 64)) - 1;
  }
  void set(std::size_t i) { w_[i >> 6] |= 1ull << (i & 63); }
  void and_with(const Bitset& o) {
    for (std::size_t i = 0; i < w_.size(); ++i) w_[i] &= o.w_[i];
  }
  std::vector<Doc> docs() const {
    std::size_t ones = 0;
    for (auto w : w_) ones += static_cast<std::size_t>(__builtin_popcountll(w));
    std::vector<Doc> out;
    out.reserve(ones);
    for (std::size_t i = 0; i < w_.size(); ++i) {
      for (std::uint64_t w = w_[i]; w; w &= w - 1)
        out.push_back(static_cast<Doc>(i * 64 + static_cast<std::size_t>(__builtin_ctzll(w))));
    }
    return out;
  }

 private:
  std::size_t n_;
  std::vector<std::uint64_t> w_;
};

}  // namespace

bool is_metadata_facet(std::string_view a) {
  return a == kFormatFacet || a == kMonthFacet || a == kFolderFacet || a == kSizeFacet;
}

bool visible(store::TagState s, Visibility v) {
  switch (s) {
    case store::TagState::kAuto:
    case store::TagState::kConfirmed:
    case store::TagState::kHumanSet:
      return true;
    case store::TagState::kFlagged:
      return v.include_flagged;
    case store::TagState::kSuggested:
      return v.include_suggested;
    case store::TagState::kRejected:
      return false;
  }
  return false;
}

std::string size_bucket(std::int64_t bytes) {
  constexpr std::int64_t kB = 1000, MB = 1000 * 1000;
  if (bytes < 100 * kB) return "<100KB";
  if (bytes < 1 * MB) return "100KB-1MB";
  if (bytes < 5 * MB) return "1-5MB";
  if (bytes < 20 * MB) return "5-20MB";
  return ">20MB";
}

AssetMeta asset_meta(const store::AssetRecord& a) {
  AssetMeta m;
  m.format = a.format;
  m.month = a.ingested_at.size() >= 7 ? a.ingested_at.substr(0, 7) : std::string();
  m.folder = std::filesystem::path(a.source_path).parent_path().string();
  m.file_size = a.file_size;
  m.name = std::filesystem::path(a.source_path).filename().string();
  return m;
}

std::string relative_to_root(const std::string& path, const std::string& root) {
  const std::filesystem::path p(path);
  if (!root.empty()) {
    const auto rel = p.lexically_relative(root);
    if (!rel.empty() && *rel.begin() != "..") return rel.string();
  }
  return p.filename().string();
}

// ---------------------------------------------------------------------------
// Builder

FacetIndex::Builder::Builder(const taxonomy::Taxonomy& tax) : index_(new FacetIndex) {
  // Every taxonomy node gets a value up front, in taxonomy order and with its
  // parent, so a parent filter reaches descendants even when no asset carries
  // the parent itself.
  for (const auto& attr : tax.attributes()) {
    for (const auto& node : attr.nodes) {  // pre-order: parents first
      std::uint32_t v = value_id(attr.id, node.id);
      if (!node.parent.empty())
        index_->values_[v].parent = static_cast<std::int32_t>(value_id(attr.id, node.parent));
    }
  }
  for (auto m : {kFormatFacet, kMonthFacet, kFolderFacet, kSizeFacet}) {
    attribute_ids_.emplace(std::string(m), static_cast<std::uint32_t>(index_->attributes_.size()));
    index_->attributes_.emplace_back(m);
  }
}

std::uint32_t FacetIndex::Builder::value_id(std::string_view attribute, std::string_view node) {
  auto& ix = *index_;
  auto k = key(attribute, node);
  if (auto it = ix.value_ids_.find(k); it != ix.value_ids_.end()) return it->second;
  auto [ait, inserted] = attribute_ids_.emplace(std::string(attribute),
                                                static_cast<std::uint32_t>(ix.attributes_.size()));
  if (inserted) ix.attributes_.emplace_back(attribute);
  auto v = static_cast<std::uint32_t>(ix.values_.size());
  ix.values_.push_back({ait->second, std::string(node), -1});
  ix.value_ids_.emplace(std::move(k), v);
  return v;
}

void FacetIndex::Builder::add_asset(AssetId id, const AssetMeta& meta) {
  assets_.push_back(id);
  names_.push_back(meta.name);
  auto add_meta = [&](std::string_view attr, const std::string& value) {
    if (!value.empty()) raw_.push_back({id, value_id(attr, value), kMetaState, 1.0f});
  };
  add_meta(kFormatFacet, meta.format);
  add_meta(kMonthFacet, meta.month);
  add_meta(kFolderFacet, meta.folder);
  add_meta(kSizeFacet, size_bucket(meta.file_size));
}

void FacetIndex::Builder::add_tag(AssetId id, std::string_view attribute, std::string_view node,
                                  store::TagState state, double confidence) {
  if (state == store::TagState::kRejected) return;  // never searchable: don't spend memory on it
  raw_.push_back({id, value_id(attribute, node), static_cast<std::uint8_t>(state),
                  static_cast<float>(confidence)});
}

void FacetIndex::Builder::set_freshness(const store::ChangeMarker& marker) {
  index_->loaded_at_ = marker;
}

void FacetIndex::Builder::cache_counts_from(std::size_t docs) {
  index_->cache_from_docs_ = docs;
}

std::shared_ptr<const FacetIndex> FacetIndex::Builder::build() {
  auto& ix = *index_;
  // Assets by id with their names; an asset added twice keeps its first name.
  std::vector<std::size_t> order(assets_.size());
  std::iota(order.begin(), order.end(), std::size_t{0});
  std::stable_sort(order.begin(), order.end(),
                   [&](std::size_t a, std::size_t b) { return assets_[a] < assets_[b]; });
  std::vector<std::string> names;
  for (std::size_t i : order) {
    if (!ix.ids_.empty() && ix.ids_.back() == assets_[i]) continue;
    ix.ids_.push_back(assets_[i]);
    names.push_back(std::move(names_[i]));
  }
  std::vector<AssetId>().swap(assets_);
  std::vector<std::string>().swap(names_);
  const std::size_t n = ix.ids_.size(), nv = ix.values_.size();
  {
    std::vector<Doc> by_name(n);
    std::iota(by_name.begin(), by_name.end(), Doc{0});
    std::stable_sort(by_name.begin(), by_name.end(),
                     [&](Doc a, Doc b) { return names[a] < names[b]; });
    ix.name_rank_.resize(n);
    for (std::size_t r = 0; r < n; ++r) ix.name_rank_[by_name[r]] = static_cast<std::uint32_t>(r);
  }

  if (nv > kValueMask)
    throw InputError(fmt::format(
        "the facet index holds at most {} distinct values, this library has {}", kValueMask, nv));
  ix.children_.assign(nv, {});
  for (std::uint32_t v = 0; v < nv; ++v) {
    if (ix.values_[v].parent >= 0) ix.children_[ix.values_[v].parent].push_back(v);
  }

  // Map assets to docs; sort entries by (doc, value) so the forward index is
  // one pass and duplicates (the same value twice) collapse.
  struct Entry {
    Doc doc;
    std::uint32_t value;
    std::uint8_t state;
    float confidence;
  };
  std::vector<Entry> entries;
  entries.reserve(raw_.size());
  for (const auto& r : raw_) {
    auto it = std::lower_bound(ix.ids_.begin(), ix.ids_.end(), r.asset);
    if (it == ix.ids_.end() || *it != r.asset) continue;  // tag of an unknown asset
    entries.push_back({static_cast<Doc>(it - ix.ids_.begin()), r.value, r.state, r.confidence});
  }
  std::vector<Raw>().swap(raw_);
  std::sort(entries.begin(), entries.end(), [](const Entry& a, const Entry& b) {
    return a.doc != b.doc ? a.doc < b.doc : a.value < b.value;
  });
  entries.erase(std::unique(entries.begin(), entries.end(),
                            [](const Entry& a, const Entry& b) {
                              return a.doc == b.doc && a.value == b.value;
                            }),
                entries.end());

  ix.doc_offsets_.assign(n + 1, 0);
  ix.entry_value_.resize(entries.size());
  ix.entry_state_.resize(entries.size());
  ix.entry_confidence_.resize(entries.size());
  std::vector<std::uint32_t> per_value(nv + 1, 0);
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const auto& e = entries[i];
    ix.doc_offsets_[e.doc + 1]++;
    ix.entry_value_[i] = e.value;
    ix.entry_state_[i] = e.state;
    // A person's decision outranks any model confidence: stored as 1 so
    // that ranking reads one number per entry.
    ix.entry_confidence_[i] = (e.state == static_cast<std::uint8_t>(store::TagState::kConfirmed) ||
                               e.state == static_cast<std::uint8_t>(store::TagState::kHumanSet))
                                  ? 1.0f
                                  : e.confidence;
    per_value[e.value + 1]++;
  }
  for (std::size_t d = 0; d < n; ++d) ix.doc_offsets_[d + 1] += ix.doc_offsets_[d];
  for (std::size_t v = 0; v < nv; ++v) per_value[v + 1] += per_value[v];
  ix.posting_offsets_ = per_value;
  ix.posting_docs_.resize(entries.size());
  ix.posting_state_.resize(entries.size());
  ix.posting_confidence_.resize(entries.size());
  // Entries are in doc order, so each posting list comes out ascending.
  for (const auto& e : entries) {
    auto pos = per_value[e.value]++;
    ix.posting_docs_[pos] = e.doc;
    ix.posting_state_[pos] = e.state;
    ix.posting_confidence_[pos] = ix.entry_confidence_[&e - entries.data()];
  }
  std::vector<Entry>().swap(entries);

  // The folder root: the deepest common ancestor of every folder.
  {
    const auto folder_attr = attribute_ids_.find(std::string(kFolderFacet));
    std::optional<std::filesystem::path> common;
    int distinct = 0;
    for (std::uint32_t v = 0; v < nv; ++v) {
      if (folder_attr == attribute_ids_.end() || ix.values_[v].attribute != folder_attr->second ||
          ix.posting_offsets_[v + 1] == ix.posting_offsets_[v])
        continue;
      const std::filesystem::path f(ix.values_[v].node);
      ++distinct;
      if (!common) {
        common = f;
        continue;
      }
      std::filesystem::path shared;
      for (auto a = common->begin(), b = f.begin(); a != common->end() && b != f.end() && *a == *b;
           ++a, ++b)
        shared /= *a;
      common = shared;
    }
    // One folder: its parent, so the label names the folder itself.
    if (common) ix.folder_root_ = (distinct > 1 ? *common : common->parent_path()).string();
  }

  ix.build_closure();
  std::vector<Doc> all(n);
  std::iota(all.begin(), all.end(), Doc{0});
  for (int slot = 0; slot < 4; ++slot)
    ix.count_into(all, Visibility{(slot & 1) != 0, (slot & 2) != 0}, ix.totals_[slot]);
  ix.warm_counts();
  return std::move(index_);
}

// ---------------------------------------------------------------------------
// Loading from the store

std::shared_ptr<const FacetIndex> FacetIndex::load(store::Store& db,
                                                   const taxonomy::Taxonomy& tax) {
  // The marker first: a change racing with the load makes the index look
  // stale (reloaded next time), never fresh.
  Builder b(tax);
  b.set_freshness(db.change_marker());
  db.for_each_asset([&](const store::AssetRecord& a) { b.add_asset(a.id, asset_meta(a)); });
  db.for_each_tag([&](const store::Tag& t) {
    b.add_tag(t.asset_id, t.attribute, t.node, t.state, t.confidence);
  });
  return b.build();
}

bool FacetIndex::stale(store::Store& db) const {
  const auto now = db.change_marker();
  return now.last_asset != loaded_at_.last_asset || now.last_tag_event != loaded_at_.last_tag_event;
}

std::optional<Doc> FacetIndex::doc_of(AssetId id) const {
  auto it = std::lower_bound(ids_.begin(), ids_.end(), id);
  if (it == ids_.end() || *it != id) return std::nullopt;
  return static_cast<Doc>(it - ids_.begin());
}

// ---------------------------------------------------------------------------
// Queries

std::vector<std::uint32_t> FacetIndex::expand(const FacetClause& clause) const {
  std::vector<std::uint32_t> out;
  for (const auto& fv : clause.any_of) {
    auto it = value_ids_.find(key(fv.attribute, fv.node));
    if (it == value_ids_.end()) continue;
    std::vector<std::uint32_t> stack{it->second};
    while (!stack.empty()) {
      auto v = stack.back();
      stack.pop_back();
      out.push_back(v);
      for (auto c : children_[v]) stack.push_back(c);
    }
  }
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

std::vector<char> FacetIndex::value_mask(const FacetClause& clause) const {
  std::vector<char> mask(values_.size(), 0);
  for (auto v : expand(clause)) mask[v] = 1;
  return mask;
}

std::vector<Doc> FacetIndex::match(const FacetFilter& filter, Visibility vis) const {
  const std::size_t n = ids_.size();
  if (filter.empty()) {
    std::vector<Doc> all(n);
    std::iota(all.begin(), all.end(), Doc{0});
    return all;
  }
  std::optional<Bitset> acc;
  for (const auto& clause : filter.all_of) {
    Bitset bits(n);
    for (auto v : expand(clause)) {
      for (auto p = posting_offsets_[v]; p < posting_offsets_[v + 1]; ++p)
        if (visible_state(posting_state_[p], vis)) bits.set(posting_docs_[p]);
    }
    if (acc)
      acc->and_with(bits);
    else
      acc = std::move(bits);
  }
  return acc->docs();
}

void FacetIndex::build_closure() {
  // Which visibility slots show an entry of each state.
  std::uint32_t slots_of[256];
  for (int st = 0; st < 256; ++st) {
    slots_of[st] = 0;
    for (int slot = 0; slot < 4; ++slot)
      if (visible_state(static_cast<std::uint8_t>(st),
                        Visibility{(slot & 1) != 0, (slot & 2) != 0}))
        slots_of[st] |= 1u << slot;
  }
  const std::size_t n = ids_.size();
  closure_offsets_.assign(n + 1, 0);
  closure_.clear();
  closure_.reserve(entry_value_.size() + entry_value_.size() / 2);
  for (std::size_t d = 0; d < n; ++d) {
    const std::size_t first = closure_.size();
    for (auto e = doc_offsets_[d], end = doc_offsets_[d + 1]; e < end; ++e) {
      const std::uint32_t slots = slots_of[entry_state_[e]];
      if (!slots) continue;
      // A value counts in a slot if any of the doc's entries at or below it
      // is visible there: OR the slots up the chain. A doc holds a few dozen
      // values at most, so a linear search is the cheapest set.
      for (std::int32_t v = static_cast<std::int32_t>(entry_value_[e]); v >= 0;
           v = values_[v].parent) {
        auto it = std::find_if(
            closure_.begin() + static_cast<std::ptrdiff_t>(first), closure_.end(),
            [&](std::uint32_t c) { return (c & kValueMask) == static_cast<std::uint32_t>(v); });
        if (it == closure_.end())
          closure_.push_back(static_cast<std::uint32_t>(v) | slots << kValueBits);
        else
          *it |= slots << kValueBits;
      }
    }
    closure_offsets_[d + 1] = static_cast<std::uint32_t>(closure_.size());
  }
  closure_.shrink_to_fit();
}

void FacetIndex::count_into(std::span<const Doc> docs, Visibility vis,
                            std::vector<std::int64_t>& out) const {
  out.assign(values_.size(), 0);
  const unsigned shift = kValueBits + static_cast<unsigned>(visibility_slot(vis));
  std::int64_t* counts = out.data();
  const std::uint32_t* closure = closure_.data();
  const std::uint32_t* offsets = closure_offsets_.data();
  // A result set of tens of thousands of docs is scattered over a 100 MB
  // table: each doc is a cache miss. Prefetching a few docs ahead keeps
  // several misses in flight instead of waiting for each in turn.
  constexpr std::size_t kAhead = 8;
  const std::size_t n = docs.size();
  for (std::size_t i = 0; i < n; ++i) {
    if (i + 2 * kAhead < n) __builtin_prefetch(&offsets[docs[i + 2 * kAhead]]);
    if (i + kAhead < n) __builtin_prefetch(&closure[offsets[docs[i + kAhead]]]);
    const Doc d = docs[i];
    for (auto c = offsets[d], end = offsets[d + 1]; c < end; ++c)
      counts[closure[c] & kValueMask] += (closure[c] >> shift) & 1;
  }
}

void FacetIndex::warm_counts() {
  // Clicking one popular value (all black items, all dresses) is the
  // commonest large query; counting its result set costs milliseconds that
  // the first person to click it would wait for. Count them all now, for
  // the default visibility, and keep them for the index's life.
  const Visibility vis{};
  const auto& totals = totals_[visibility_slot(vis)];
  for (std::uint32_t v = 0; v < values_.size(); ++v) {
    if (totals[v] < static_cast<std::int64_t>(cache_from_docs_) ||
        totals[v] == static_cast<std::int64_t>(ids_.size()))
      continue;
    FacetFilter filter;
    filter.all_of.push_back({{{attributes_[values_[v].attribute], values_[v].node}}, {}});
    const auto docs = match(filter, vis);
    auto key = count_key(filter, vis);
    if (cache_.contains(key)) continue;
    cache_.emplace(std::move(key),
                   std::make_shared<const std::vector<FacetCount>>(count(docs, vis)));
  }
}

std::vector<FacetCount> FacetIndex::to_counts(const std::vector<std::int64_t>& per_value) const {
  std::vector<FacetCount> out;
  std::vector<std::uint32_t> order;
  for (std::uint32_t v = 0; v < values_.size(); ++v)
    if (per_value[v] > 0) order.push_back(v);
  std::sort(order.begin(), order.end(), [&](std::uint32_t a, std::uint32_t b) {
    if (values_[a].attribute != values_[b].attribute)
      return values_[a].attribute < values_[b].attribute;
    if (per_value[a] != per_value[b]) return per_value[a] > per_value[b];
    return values_[a].node < values_[b].node;
  });
  out.reserve(order.size());
  for (auto v : order)
    out.push_back({attributes_[values_[v].attribute], values_[v].node, per_value[v]});
  return out;
}

std::vector<FacetCount> FacetIndex::count(std::span<const Doc> docs, Visibility vis) const {
  const auto& totals = totals_[visibility_slot(vis)];
  if (docs.size() == ids_.size()) return to_counts(totals);  // docs are unique
  std::vector<std::int64_t> per_value;
  if (docs.size() <= ids_.size() / 2) {
    count_into(docs, vis, per_value);
  } else {
    // Most of the library: count what is left out and subtract from the
    // totals (each asset counts once per value, so counts are additive).
    std::vector<Doc> rest;
    rest.reserve(ids_.size() - docs.size());
    Doc next = 0;
    for (Doc d : docs) {
      while (next < d) rest.push_back(next++);
      next = d + 1;
    }
    while (next < ids_.size()) rest.push_back(next++);
    count_into(rest, vis, per_value);
    for (std::size_t v = 0; v < per_value.size(); ++v) per_value[v] = totals[v] - per_value[v];
  }
  return to_counts(per_value);
}

std::string FacetIndex::count_key(const FacetFilter& filter, Visibility vis) const {
  // The key: visibility, then each clause's resolved values, clauses sorted
  // (an AND does not depend on their order).
  std::vector<std::string> clauses;
  for (const auto& c : filter.all_of) {
    std::string k;
    for (auto v : expand(c)) k += std::to_string(v) + ",";
    clauses.push_back(std::move(k));
  }
  std::sort(clauses.begin(), clauses.end());
  std::string key = std::to_string(visibility_slot(vis));
  for (const auto& c : clauses) key += "|" + c;
  return key;
}

std::vector<FacetCount> FacetIndex::count(const FacetFilter& filter, std::span<const Doc> docs,
                                          Visibility vis) const {
  if (docs.size() < cache_from_docs_ || docs.size() == ids_.size()) return count(docs, vis);
  const std::string key = count_key(filter, vis);
  {
    std::lock_guard lock(cache_mu_);
    if (auto it = cache_.find(key); it != cache_.end()) return *it->second;
  }
  auto counts = std::make_shared<const std::vector<FacetCount>>(count(docs, vis));
  std::lock_guard lock(cache_mu_);
  if (cache_.emplace(key, counts).second) {
    cache_order_.push_back(key);
    if (cache_order_.size() > kCachedCounts) {
      cache_.erase(cache_order_.front());
      cache_order_.pop_front();
    }
  }
  return *counts;
}

std::optional<ClauseMatch> FacetIndex::explain(Doc doc, const FacetClause& clause,
                                               Visibility vis) const {
  auto values = expand(clause);
  return explain(doc, values, vis);
}

std::optional<ClauseMatch> FacetIndex::explain(Doc doc, std::span<const std::uint32_t> values,
                                               Visibility vis) const {
  std::optional<ClauseMatch> best;
  for (auto e = doc_offsets_[doc]; e < doc_offsets_[doc + 1]; ++e) {
    if (!visible_state(entry_state_[e], vis)) continue;
    if (!std::binary_search(values.begin(), values.end(), entry_value_[e])) continue;
    // Human decisions outrank any model confidence (stored as 1 by build()).
    const auto s = entry_state_[e];
    const double conf = entry_confidence_[e];
    if (best && best->confidence >= conf) continue;
    const auto& val = values_[entry_value_[e]];
    ClauseMatch m{attributes_[val.attribute], val.node, std::nullopt, conf};
    if (s != kMetaState) m.state = static_cast<store::TagState>(s);
    best = std::move(m);
  }
  return best;
}

std::vector<char> FacetIndex::mask_of(std::span<const std::uint32_t> values) const {
  std::vector<char> mask(values_.size(), 0);
  for (auto v : values) mask[v] = 1;
  return mask;
}

double FacetIndex::clause_confidence(Doc doc, const std::vector<char>& mask, Visibility vis) const {
  double best = -1;
  for (auto e = doc_offsets_[doc], end = doc_offsets_[doc + 1]; e < end; ++e) {
    const auto v = entry_value_[e];
    if (!mask[v] || !visible_state(entry_state_[e], vis)) continue;
    best = std::max(best, static_cast<double>(entry_confidence_[e]));
  }
  return best;
}

double FacetIndex::mean_confidence(Doc doc, Visibility vis) const {
  double sum = 0;
  int n = 0;
  for (auto e = doc_offsets_[doc], end = doc_offsets_[doc + 1]; e < end; ++e) {
    if (entry_state_[e] == kMetaState || !visible_state(entry_state_[e], vis)) continue;
    sum += entry_confidence_[e];
    ++n;
  }
  return n ? sum / n : -1.0;
}

std::optional<ClauseMatch> FacetIndex::weakest_tag(Doc doc, Visibility vis) const {
  // Lower is less certain.
  auto rank = [](std::uint8_t s) {
    switch (static_cast<store::TagState>(s)) {
      case store::TagState::kFlagged:
        return 0;
      case store::TagState::kSuggested:
        return 1;
      case store::TagState::kAuto:
        return 2;
      default:
        return 3;
    }
  };
  std::optional<std::size_t> best;
  for (auto e = doc_offsets_[doc], end = doc_offsets_[doc + 1]; e < end; ++e) {
    if (entry_state_[e] == kMetaState || !visible_state(entry_state_[e], vis)) continue;
    if (!best || rank(entry_state_[e]) < rank(entry_state_[*best]) ||
        (rank(entry_state_[e]) == rank(entry_state_[*best]) &&
         entry_confidence_[e] < entry_confidence_[*best]))
      best = e;
  }
  if (!best) return std::nullopt;
  const auto& value = values_[entry_value_[*best]];
  return ClauseMatch{attributes_[value.attribute], value.node,
                     static_cast<store::TagState>(entry_state_[*best]),
                     static_cast<double>(entry_confidence_[*best])};
}

bool FacetIndex::attribute_used(std::string_view attribute, Visibility vis) const {
  const auto& totals = totals_[visibility_slot(vis)];
  for (std::size_t v = 0; v < values_.size() && v < totals.size(); ++v)
    if (attributes_[values_[v].attribute] == attribute && totals[v] > 0) return true;
  return false;
}

std::vector<std::pair<double, Doc>> FacetIndex::rank_by_confidence(
    std::span<const Doc> docs, const std::vector<std::vector<std::uint32_t>>& clauses,
    Visibility vis, std::size_t limit, RankPath path) const {
  // Mean over clauses of the doc's best visible confidence in that clause
  // (clauses a doc does not satisfy are left out of the mean; no clause: 0).
  //
  // At 1M assets a popular facet value selects hundreds of thousands of
  // docs. Fresh per-query tables that size (megabytes) cost more in page
  // faults than the ranking itself, so the tables are per thread and kept
  // between queries; each is put back as it was found.
  auto by = [](const std::pair<double, Doc>& a, const std::pair<double, Doc>& b) {
    return a.first != b.first ? a.first > b.first : a.second > b.second;
  };
  // The `limit` best, kept in a heap whose front is the worst of them.
  const std::size_t keep = std::min(limit, docs.size());
  std::vector<std::pair<double, Doc>> top;
  top.reserve(keep);
  auto consider = [&](double score, Doc d) {
    if (top.size() < keep) {
      top.emplace_back(score, d);
      std::push_heap(top.begin(), top.end(), by);
    } else if (by({score, d}, top.front())) {
      std::pop_heap(top.begin(), top.end(), by);
      top.back() = {score, d};
      std::push_heap(top.begin(), top.end(), by);
    }
  };
  if (keep == 0) return top;

  // One value clicked (the commonest facet query, and at 1M assets the one
  // with the largest results): its visible postings are the result set, in
  // the same order, each scored by its own confidence. One pass, checked
  // against docs as it goes; any other docs take the general path.
  if (path != RankPath::kDocs && clauses.size() == 1 && clauses[0].size() == 1) {
    const auto v = clauses[0][0];
    std::size_t i = 0;
    bool same = true;
    for (auto p = posting_offsets_[v]; p < posting_offsets_[v + 1] && same; ++p) {
      if (!visible_state(posting_state_[p], vis)) continue;
      same = i < docs.size() && docs[i] == posting_docs_[p];
      if (same) consider(static_cast<double>(posting_confidence_[p]), docs[i++]);
    }
    if (same && i == docs.size()) {
      std::sort_heap(top.begin(), top.end(), by);
      return top;
    }
    top.clear();
  }

  thread_local std::vector<double> sum_of;  // by position in docs
  thread_local std::vector<std::uint32_t> matched_of;
  thread_local std::vector<float> best_of;  // by doc, all -1 between uses
  if (sum_of.size() < docs.size()) sum_of.resize(docs.size()), matched_of.resize(docs.size());
  std::fill_n(sum_of.begin(), docs.size(), 0.0);
  std::fill_n(matched_of.begin(), docs.size(), 0u);
  double* sum = sum_of.data();
  std::uint32_t* matched = matched_of.data();
  if (!clauses.empty()) {
    std::size_t postings = 0;
    for (const auto& c : clauses)
      for (auto v : c) postings += posting_offsets_[v + 1] - posting_offsets_[v];
    const double per_doc =
        ids_.empty() ? 0.0
                     : static_cast<double>(entry_value_.size()) / static_cast<double>(ids_.size());
    if (path == RankPath::kAuto)
      path = static_cast<double>(docs.size()) * per_doc * static_cast<double>(clauses.size()) <
                     static_cast<double>(postings)
                 ? RankPath::kDocs
                 : RankPath::kPostings;
    if (path == RankPath::kDocs) {
      // Few docs: read each doc's own entries.
      for (const auto& c : clauses) {
        const auto mask = mask_of(c);
        for (std::size_t i = 0; i < docs.size(); ++i) {
          const double conf = clause_confidence(docs[i], mask, vis);
          if (conf >= 0) sum[i] += conf, ++matched[i];
        }
      }
    } else {
      // Many docs: read the clauses' postings once into a per-doc table
      // (put back to -1 afterwards by the same postings: no 1M-wide reset).
      if (best_of.size() < ids_.size()) best_of.resize(ids_.size(), -1.0f);
      float* best = best_of.data();
      for (const auto& c : clauses) {
        for (auto v : c)
          for (auto p = posting_offsets_[v]; p < posting_offsets_[v + 1]; ++p)
            if (visible_state(posting_state_[p], vis))
              best[posting_docs_[p]] = std::max(best[posting_docs_[p]], posting_confidence_[p]);
        for (std::size_t i = 0; i < docs.size(); ++i) {
          const float conf = best[docs[i]];
          if (conf >= 0) sum[i] += static_cast<double>(conf), ++matched[i];
        }
        for (auto v : c)
          for (auto p = posting_offsets_[v]; p < posting_offsets_[v + 1]; ++p)
            best[posting_docs_[p]] = -1.0f;
      }
    }
  }
  // Surest first, newest (highest doc) first on ties.
  for (std::size_t i = 0; i < docs.size(); ++i)
    consider(matched[i] ? sum[i] / static_cast<double>(matched[i]) : 0.0, docs[i]);
  std::sort_heap(top.begin(), top.end(), by);
  return top;
}

}  // namespace tagsmith::search
