#include "tagsmith/search/search.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "library_fixture.h"
#include "tagsmith/common/error.h"
#include "tagsmith/library/library.h"
#include "tagsmith/search/duplicates.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/search/library_index.h"
#include "tagsmith/search/query.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "temp_dir.h"

namespace tagsmith::search {
namespace {

using store::TagState;
using taxonomy::NodeRef;

const taxonomy::Taxonomy& tax() {
  static const taxonomy::Taxonomy t = taxonomy::Taxonomy::builtin();
  return t;
}

std::vector<std::vector<NodeRef>> refs_of(const ParsedQuery& q) {
  std::vector<std::vector<NodeRef>> out;
  for (const auto& t : q.terms) out.push_back(t.refs);
  return out;
}

const std::vector<std::vector<NodeRef>> kWhiteDress{{{"colour_family", "white"}},
                                                    {{"garment_type", "dress"}}};

// --- query understanding -------------------------------------------------------

TEST(QueryParser, EnglishAndChineseMapToTheSameFacets) {
  QueryParser p(tax());
  EXPECT_EQ(refs_of(p.parse("white dress")), kWhiteDress);
  EXPECT_EQ(refs_of(p.parse("白色连衣裙")), kWhiteDress);
  EXPECT_EQ(refs_of(p.parse("白色的连衣裙")), kWhiteDress);
  EXPECT_EQ(refs_of(p.parse("ＷＨＩＴＥ  Dress")), kWhiteDress);  // full-width, case, spaces
  EXPECT_EQ(refs_of(p.parse("white 连衣裙")), kWhiteDress);
  EXPECT_EQ(p.parse("白色连衣裙").remainder, "");
  EXPECT_EQ(p.parse("a white dress, please").remainder,
            "a please");  // stop words kept around real words: CLIP reads phrases
  EXPECT_EQ(p.parse("a white dress").remainder, "");  // stop words only
}

TEST(QueryParser, SynonymsAndLongestMatchFirst) {
  QueryParser p(tax());
  EXPECT_EQ(refs_of(p.parse("blouse")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "shirt"}}}));
  EXPECT_EQ(refs_of(p.parse("女式衬衫")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "shirt"}}}));
  EXPECT_EQ(refs_of(p.parse("maxi dress")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "maxi_dress"}}}));
  EXPECT_EQ(refs_of(p.parse("长款连衣裙")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "maxi_dress"}}}));
  EXPECT_EQ(refs_of(p.parse("T恤")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "t_shirt"}}}));
  EXPECT_EQ(refs_of(p.parse("t-shirt")),
            (std::vector<std::vector<NodeRef>>{{{"garment_type", "t_shirt"}}}));
  auto q = p.parse("flowy summer frock for a beach wedding");
  EXPECT_EQ(refs_of(q), (std::vector<std::vector<NodeRef>>{{{"season", "summer"}},
                                                           {{"garment_type", "dress"}}}));
  EXPECT_EQ(q.remainder, "flowy for a beach wedding");
  auto f = p.parse("夏季 红色 半身裙").filter();
  ASSERT_EQ(f.all_of.size(), 3u);
  EXPECT_EQ(f.all_of[1].any_of[0], (FacetValue{"colour_family", "red"}));
}

TEST(QueryParser, AmbiguousWordsBecomeOneOrClause) {
  QueryParser p(tax());
  auto q = p.parse("linen");  // a material and a colour shade
  ASSERT_EQ(q.terms.size(), 1u);
  std::set<std::string> attrs;
  for (const auto& r : q.terms[0].refs) attrs.insert(r.attribute);
  EXPECT_TRUE(attrs.contains("material"));
  EXPECT_TRUE(attrs.contains("colour_shade"));
}

TEST(QueryUnits, SplitsWordsAndCjkCharacters) {
  EXPECT_EQ(query_units("polo衫, white!"), (std::vector<std::string>{"polo", "衫", "white"}));
  auto u = query_units("polo衫");
  EXPECT_EQ(join_units(u, 0, u.size()), "polo衫");
}

// --- a small library ------------------------------------------------------------

struct TagSpec {
  std::string attribute, node;
  TagState state;
  double confidence;
};

store::AssetId add_asset(store::Store& db, int i, const std::vector<float>& vec = {},
                         const std::string& model = {}) {
  return test::FakeAsset("sha" + std::to_string(i))
      .path((i % 3 == 0 ? "/photos/ss24/" : "/photos/aw24/") + std::to_string(i) + ".jpg")
      .file_size((i % 4) * 700'000 + 50'000)
      .format(i % 5 == 0 ? "png" : "jpeg")
      .phash(static_cast<std::uint64_t>(i) * 0x9E3779B97F4A7C15ull)
      .ingested_at(i % 2 ? "2026-11-25T08:00:00.000Z" : "2026-12-01T08:00:00.000Z")
      .embedding(model, vec)
      .add_to(db);
}

void tag(store::Store& db, store::AssetId id, const TagSpec& t) {
  store::TagChange c;
  c.tag.asset_id = id;
  c.tag.attribute = t.attribute;
  c.tag.node = t.node;
  c.tag.state = t.state;
  c.tag.confidence = t.confidence;
  c.tag.actor = "test";
  c.event.asset_id = id;
  c.event.attribute = t.attribute;
  c.event.node = t.node;
  c.event.action = store::TagAction::kApplied;
  c.event.actor = "test";
  db.apply_tag_changes(std::span<const store::TagChange>(&c, 1));
}

std::vector<float> random_unit(std::mt19937& rng, int dim) {
  std::normal_distribution<float> g;
  std::vector<float> v(dim);
  float n = 0;
  for (auto& x : v) n += (x = g(rng)) * x;
  for (auto& x : v) x /= std::sqrt(n);
  return v;
}

// Tags drawn from a handful of attributes, in every state.
void populate(store::Store& db, int n, std::mt19937& rng) {
  const std::vector<std::pair<std::string, std::vector<std::string>>> pool{
      {"garment_type",
       {"dress", "maxi_dress", "midi_dress", "shirt", "jeans", "coat", "trench_coat"}},
      {"colour_family", {"white", "black", "red", "blue"}},
      {"season", {"spring", "summer", "autumn", "winter"}},
      {"category", {"apparel", "dresses", "tops", "bottoms", "outerwear"}},
      {"legacy_attr", {"gone_node"}}};  // not in the taxonomy: still searchable
  const TagState states[] = {TagState::kAuto,      TagState::kFlagged,  TagState::kSuggested,
                             TagState::kConfirmed, TagState::kRejected, TagState::kHumanSet};
  for (int i = 1; i <= n; ++i) {
    auto id = add_asset(db, i);
    for (const auto& [attr, nodes] : pool) {
      std::set<std::string> used;
      for (int k = 0; k < 2; ++k) {
        if (rng() % 3 == 0) continue;
        const auto& node = nodes[rng() % nodes.size()];
        if (!used.insert(node).second) continue;
        tag(db, id, {attr, node, states[rng() % 6], 0.3 + 0.7 * ((rng() % 100) / 100.0)});
      }
    }
  }
}

// Brute force over the Store: does asset `id` satisfy `clause`?
bool satisfies(const std::vector<store::Tag>& tags, const store::AssetRecord& a,
               const FacetClause& clause, Visibility v) {
  for (const auto& fv : clause.any_of) {
    if (is_metadata_facet(fv.attribute)) {
      auto m = asset_meta(a);
      const std::string got = fv.attribute == "format"   ? m.format
                              : fv.attribute == "month"  ? m.month
                              : fv.attribute == "folder" ? m.folder
                                                         : size_bucket(m.file_size);
      if (got == fv.node) return true;
      continue;
    }
    const auto* attr = tax().attribute(fv.attribute);
    for (const auto& t : tags) {
      if (t.attribute != fv.attribute || !visible(t.state, v)) continue;
      if (t.node == fv.node || (attr && attr->within(t.node, fv.node))) return true;
    }
  }
  return false;
}

std::map<std::pair<std::string, std::string>, std::int64_t> brute_counts(store::Store& db,
                                                                         const FacetFilter& f,
                                                                         Visibility v) {
  std::map<std::pair<std::string, std::string>, std::int64_t> out;
  std::vector<store::AssetRecord> assets;
  db.for_each_asset([&](const store::AssetRecord& a) { assets.push_back(a); });
  for (const auto& a : assets) {
    auto tags = db.tags_of(a.id);
    bool ok = std::all_of(f.all_of.begin(), f.all_of.end(),
                          [&](const auto& c) { return satisfies(tags, a, c, v); });
    if (!ok) continue;
    std::set<std::pair<std::string, std::string>> seen;
    for (const auto& t : tags) {
      if (!visible(t.state, v)) continue;
      seen.insert({t.attribute, t.node});
      if (const auto* attr = tax().attribute(t.attribute))
        for (const auto& anc : attr->ancestors(t.node)) seen.insert({t.attribute, anc});
    }
    auto m = asset_meta(a);
    seen.insert({"format", m.format});
    seen.insert({"month", m.month});
    seen.insert({"folder", m.folder});
    seen.insert({"size", size_bucket(m.file_size)});
    for (const auto& s : seen) ++out[s];
  }
  return out;
}

TEST(FacetIndex, CountsAreExactAgainstBruteForce) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  std::mt19937 rng(7);
  populate(lib->store(), 240, rng);
  auto fx = FacetIndex::load(lib->store(), tax());
  EXPECT_FALSE(fx->stale(lib->store()));
  FacetIndex::Builder b(tax());
  lib->store().for_each_asset(
      [&](const store::AssetRecord& a) { b.add_asset(a.id, asset_meta(a)); });
  lib->store().for_each_tag([&](const store::Tag& t) {
    b.add_tag(t.asset_id, t.attribute, t.node, t.state, t.confidence);
  });
  b.cache_counts_from(1);
  const auto cached_fx = b.build();

  const std::vector<FacetFilter> filters{
      {},
      {{{{{"season", "winter"}}, ""}}},  // one value, no children: ranked from its postings
      {{{{{"colour_family", "white"}}, ""}}},
      {{{{{"garment_type", "dress"}}, ""}}},  // parent: maxi and midi dresses too
      {{{{{"colour_family", "white"}, {"colour_family", "red"}}, ""},
        {{{"season", "summer"}}, ""}}},
      {{{{{"season", "winter"}}, ""}, {{{"garment_type", "coat"}}, ""}, {{{"format", "png"}}, ""}}},
      {{{{{"folder", "/photos/ss24"}}, ""}, {{{"size", "1-5MB"}}, ""}}},
      {{{{{"legacy_attr", "gone_node"}}, ""}}},
      {{{{{"category", "apparel"}}, ""}, {{{"month", "2026-12"}}, ""}}},
      // Most of the library but not all: counted by complement (totals minus
      // the rest), which must agree too.
      {{{{{"category", "apparel"}, {"season", "summer"}}, ""}}},
  };
  for (Visibility v :
       {Visibility{}, Visibility{true, false}, Visibility{false, true}, Visibility{true, true}}) {
    for (std::size_t i = 0; i < filters.size(); ++i) {
      auto docs = fx->match(filters[i], v);
      if (i == filters.size() - 1) {
        EXPECT_GT(docs.size(), fx->size() / 2);
        EXPECT_LT(docs.size(), fx->size());
      }
      auto expected = brute_counts(lib->store(), filters[i], v);
      std::map<std::pair<std::string, std::string>, std::int64_t> got;
      for (const auto& c : fx->count(docs, v)) got[{c.attribute, c.node}] = c.count;
      EXPECT_EQ(got, expected) << "filter " << i << " flagged " << v.include_flagged
                               << " suggested " << v.include_suggested;
      // Counted through the cache (every result set is cached here), twice:
      // the second answer comes from the cache and must be the same.
      for (int round = 0; round < 2; ++round) {
        std::map<std::pair<std::string, std::string>, std::int64_t> cached;
        for (const auto& c : cached_fx->count(filters[i], cached_fx->match(filters[i], v), v))
          cached[{c.attribute, c.node}] = c.count;
        EXPECT_EQ(cached, expected) << "filter " << i << " round " << round;
      }
      const std::int64_t in_months =
          expected[{"month", "2026-11"}] + expected[{"month", "2026-12"}];
      EXPECT_EQ(static_cast<std::int64_t>(docs.size()), in_months);

      // Facet-only ranking: both ways of computing it agree with scoring
      // every doc through explain(), order and scores alike.
      std::vector<std::vector<std::uint32_t>> resolved;
      for (const auto& c : filters[i].all_of) resolved.push_back(fx->resolve(c));
      std::vector<std::pair<double, Doc>> want;
      for (Doc d : docs) {
        double sum = 0;
        int n = 0;
        for (const auto& r : resolved)
          if (auto m = fx->explain(d, r, v)) sum += m->confidence, ++n;
        want.emplace_back(n ? sum / n : 0.0, d);
      }
      std::sort(want.begin(), want.end(), [](const auto& a, const auto& b) {
        return a.first != b.first ? a.first > b.first : a.second > b.second;
      });
      if (want.size() > 25) want.resize(25);
      using Path = FacetIndex::RankPath;
      EXPECT_EQ(fx->rank_by_confidence(docs, resolved, v, 25, Path::kDocs), want) << "filter " << i;
      EXPECT_EQ(fx->rank_by_confidence(docs, resolved, v, 25, Path::kPostings), want)
          << "filter " << i;
      EXPECT_EQ(fx->rank_by_confidence(docs, resolved, v, 25), want) << "filter " << i;
    }
  }
  tag(lib->store(), 1, {"season", "summer", TagState::kAuto, 0.99});
  EXPECT_TRUE(fx->stale(lib->store()));
}

TEST(FacetOption, AcceptsIdsLabelsAndMergesOneAttribute) {
  auto c = parse_facet_option(tax(), "colour_family=白色,black");
  EXPECT_EQ(c.any_of,
            (std::vector<FacetValue>{{"colour_family", "white"}, {"colour_family", "black"}}));
  EXPECT_THROW(parse_facet_option(tax(), "colour_family=plaid"), InputError);
  EXPECT_THROW(parse_facet_option(tax(), "nonsense=x"), InputError);
  EXPECT_THROW(parse_facet_option(tax(), "season"), InputError);
  auto merged = merge_facet_clauses({parse_facet_option(tax(), "season=summer"),
                                     parse_facet_option(tax(), "format=png"),
                                     parse_facet_option(tax(), "season=spring")});
  ASSERT_EQ(merged.size(), 2u);
  EXPECT_EQ(merged[0].any_of.size(), 2u);
}

// --- vector indexes -------------------------------------------------------------

std::vector<AssetId> ids(const std::vector<Neighbor>& ns) {
  std::vector<AssetId> out;
  for (const auto& n : ns) out.push_back(n.id);
  return out;
}

// Brute force written independently of the index.
std::vector<AssetId> brute_top(const std::map<AssetId, std::vector<float>>& data,
                               const std::vector<float>& q, std::size_t k, const Selection* sel) {
  std::vector<std::pair<float, AssetId>> s;
  for (const auto& [id, v] : data) {
    if (sel && !sel->contains(id)) continue;
    float dot = 0;
    for (std::size_t i = 0; i < q.size(); ++i) dot += q[i] * v[i];
    s.push_back({-dot, id});
  }
  std::sort(s.begin(), s.end());
  std::vector<AssetId> out;
  for (std::size_t i = 0; i < std::min(k, s.size()); ++i) out.push_back(s[i].second);
  return out;
}

TEST(VectorIndex, FilteredSearchMatchesBruteForceOnSmallSets) {
  const int dim = 32, n = 3000;
  std::mt19937 rng(11);
  std::map<AssetId, std::vector<float>> data;
  std::vector<AssetId> all_ids;
  std::vector<float> flat;
  for (int i = 0; i < n; ++i) {
    AssetId id = 1000 + i * 3;
    data[id] = random_unit(rng, dim);
    all_ids.push_back(id);
    flat.insert(flat.end(), data[id].begin(), data[id].end());
  }
  IndexOptions exact_opts;
  auto exact = build_vector_index(dim, all_ids, flat, exact_opts);
  EXPECT_EQ(exact->kind(), IndexKind::kFlat);

  for (IndexKind approx :
       {IndexKind::kHnsw, IndexKind::kIvf, IndexKind::kIvfSq8, IndexKind::kIvfFp16}) {
    // SQ8 codes score within ~0.002 of the float vectors, so near-ties may
    // trade places: its exact answers are held to 9 of 10 in common.
    const bool coded = approx == IndexKind::kIvfSq8 || approx == IndexKind::kIvfFp16;
    auto same_top = [&](const std::vector<AssetId>& got, const std::vector<AssetId>& want) {
      if (!coded) return got == want;
      std::size_t common = 0;
      for (AssetId id : got) common += std::count(want.begin(), want.end(), id);
      return got.size() == want.size() && common + 1 >= want.size();
    };
    IndexOptions o;
    o.approximate_threshold = 100;
    o.approximate = approx;
    o.exact_max_selected = 0;  // force the approximate path wherever the fraction allows
    o.exact_fraction = 0.05;
    auto index = build_vector_index(dim, all_ids, flat, o);
    ASSERT_EQ(index->kind(), approx);
    for (double keep : {1.0, 0.5, 0.1, 0.04, 0.01, 0.002}) {
      std::vector<AssetId> chosen;
      for (AssetId id : all_ids)
        if ((rng() % 100000) / 100000.0 < keep) chosen.push_back(id);
      Selection sel(chosen);
      for (int t = 0; t < 5; ++t) {
        auto q = random_unit(rng, dim);
        const std::size_t k = 10;
        auto want = brute_top(data, q, k, keep < 1.0 ? &sel : nullptr);
        EXPECT_EQ(ids(exact->search(q, k, keep < 1.0 ? &sel : nullptr)), want);
        EXPECT_TRUE(same_top(ids(index->search_exact(q, k, keep < 1.0 ? &sel : nullptr)), want))
            << to_string(approx) << " keep " << keep;
        auto got = ids(index->search(q, k, keep < 1.0 ? &sel : nullptr));
        // Never a silent drop: as many hits as the filter allows, all allowed.
        ASSERT_EQ(got.size(), want.size()) << to_string(approx) << " keep " << keep;
        for (AssetId id : got) EXPECT_TRUE(keep == 1.0 || sel.contains(id));
        if (keep <= o.exact_fraction) {
          EXPECT_TRUE(same_top(got, want)) << "selective filters are answered exactly";
        } else {
          std::size_t common = 0;
          for (AssetId id : got) common += std::count(want.begin(), want.end(), id);
          EXPECT_GE(common, 8u) << to_string(approx) << " keep "
                                << keep;  // recall@10 on random data
        }
      }
    }
  }
}

// The compressed kinds against exact search on a small clustered library
// (points near shared centres, like photos of similar products): overall
// recall@10 at least 0.95.
TEST(VectorIndex, CompressedIndexesKeepTheExactTopTen) {
  const int dim = 64, n = 4000, centres = 40;
  std::mt19937 rng(21);
  std::vector<std::vector<float>> centre;
  for (int c = 0; c < centres; ++c) centre.push_back(random_unit(rng, dim));
  std::normal_distribution<float> noise(0.0f, 0.5f / std::sqrt(static_cast<float>(dim)));
  auto near = [&](int c) {
    std::vector<float> v(dim);
    float norm = 0;
    for (int i = 0; i < dim; ++i) norm += (v[i] = centre[c][i] + noise(rng)) * v[i];
    for (auto& x : v) x /= std::sqrt(norm);
    return v;
  };
  std::map<AssetId, std::vector<float>> data;
  std::vector<AssetId> all;
  std::vector<float> flat;
  for (int i = 0; i < n; ++i) {
    const AssetId id = i + 1;
    data[id] = near(static_cast<int>(rng() % centres));
    all.push_back(id);
    flat.insert(flat.end(), data[id].begin(), data[id].end());
  }
  for (IndexKind kind : {IndexKind::kIvfSq8, IndexKind::kIvfFp16}) {
    IndexOptions o;
    o.approximate_threshold = 1000;
    o.approximate = kind;
    auto index = build_vector_index(dim, all, flat, o);
    ASSERT_EQ(index->kind(), kind);
    // Codes of 1 (SQ8) or 2 (fp16) bytes per dimension, plus ids: well under floats.
    const double share = kind == IndexKind::kIvfSq8 ? 0.45 : 0.7;
    EXPECT_LT(static_cast<double>(index->memory_bytes()), share * n * dim * sizeof(float))
        << to_string(kind);
    std::size_t common = 0, total = 0;
    for (int q = 0; q < 60; ++q) {
      const auto query = near(static_cast<int>(rng() % centres));
      const auto want = brute_top(data, query, 10, nullptr);
      for (const auto& found : {ids(index->search(query, 10)), ids(index->search_exact(query, 10))})
        for (AssetId id : found) common += std::count(want.begin(), want.end(), id);
      total += 2 * want.size();
    }
    EXPECT_GE(static_cast<double>(common) / static_cast<double>(total), 0.95) << to_string(kind);
  }
}

TEST(VectorIndex, AddSkipsKnownIdsAndChecksDimensions) {
  auto index = make_vector_index(IndexKind::kFlat, 4, {});
  std::vector<AssetId> a{1, 2, 2};
  std::vector<float> v{1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0};
  index->add(a, v);
  EXPECT_EQ(index->size(), 2u);
  index->add(std::vector<AssetId>{2, 3}, std::vector<float>{0, 0, 0, 1, 0, 0, 1, 0});
  EXPECT_EQ(index->size(), 3u);
  EXPECT_EQ((*index->vector(3))[2], 1.0f);
  EXPECT_THROW(index->add(std::vector<AssetId>{9}, std::vector<float>{1, 2}), InputError);
  EXPECT_THROW(index->search(std::vector<float>{1, 0}, 1), InputError);
}

// --- the library's persisted index ---------------------------------------------------

TEST(LibraryVectorIndex, PersistsSyncsIncrementallyAndRebuildsOnModelChange) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(3);
  const int dim = 16;
  std::map<AssetId, std::vector<float>> data;
  for (int i = 1; i <= 50; ++i) {
    auto v = random_unit(rng, dim);
    auto id = add_asset(db, i, v, "m1");
    data[id] = v;
  }
  add_asset(db, 51);  // no embedding
  IndexOptions o;
  o.approximate_threshold = 60;  // becomes HNSW once it grows past 60
  o.approximate = IndexKind::kHnsw;
  auto q = random_unit(rng, dim);
  std::vector<AssetId> before;
  {
    auto li = LibraryVectorIndex::open(*lib, "m1", o);
    EXPECT_TRUE(li->last_open().rebuilt);
    ASSERT_NE(li->index(), nullptr);
    EXPECT_EQ(li->index()->size(), 50u);
    before = ids(li->index()->search(q, 5));
    EXPECT_EQ(before, brute_top(data, q, 5, nullptr));
    EXPECT_TRUE(std::filesystem::exists(li->index_file()));
  }
  {
    auto li = LibraryVectorIndex::open(*lib, "m1", o);  // a restart
    EXPECT_TRUE(li->last_open().loaded);
    EXPECT_FALSE(li->last_open().rebuilt);
    EXPECT_EQ(li->last_open().added, 0u);
    EXPECT_EQ(ids(li->index()->search(q, 5)), before);

    // Incremental: new assets, and a backfilled embedding on an old one.
    for (int i = 52; i <= 55; ++i) {
      auto v = random_unit(rng, dim);
      data[add_asset(db, i, v, "m1")] = v;
    }
    auto r = li->sync();
    EXPECT_EQ(r.added, 4u);
    EXPECT_EQ(li->index()->size(), 54u);
    auto backfill = random_unit(rng, dim);
    db.put_embedding(51, "m1", backfill);
    data[51] = backfill;
    EXPECT_EQ(li->sync().added, 1u);
    EXPECT_EQ(li->sync().added, 0u);
    EXPECT_EQ(ids(li->index()->search(q, 5)), brute_top(data, q, 5, nullptr));
  }
  {
    auto li = LibraryVectorIndex::open(*lib, "m1", o);
    EXPECT_TRUE(li->last_open().loaded);
    EXPECT_EQ(li->index()->size(), 55u);
    // Growing past the threshold turns it into HNSW.
    for (int i = 56; i <= 70; ++i) {
      auto v = random_unit(rng, dim);
      data[add_asset(db, i, v, "m1")] = v;
    }
    auto r = li->sync();
    EXPECT_TRUE(r.rebuilt);
    EXPECT_EQ(li->index()->kind(), IndexKind::kHnsw);
    EXPECT_EQ(li->index()->size(), 70u);
  }
  {
    auto li = LibraryVectorIndex::open(*lib, "m1", o);
    EXPECT_EQ(li->index()->kind(), IndexKind::kHnsw);
    EXPECT_EQ(li->index()->size(), 70u);
    EXPECT_EQ(ids(li->index()->search(q, 5)), brute_top(data, q, 5, nullptr));
  }
  const auto old_file = LibraryVectorIndex::open(*lib, "m1", o)->index_file();
  // Model change: new vectors under m2, the m1 index is dropped.
  db.put_embedding(3, "m2", random_unit(rng, 8));
  auto li2 = LibraryVectorIndex::open(*lib, "m2", o);
  EXPECT_TRUE(li2->last_open().rebuilt);
  EXPECT_EQ(li2->index()->size(), 1u);
  EXPECT_EQ(li2->index()->dim(), 8);
  EXPECT_FALSE(std::filesystem::exists(old_file));
  // A damaged id map is rebuilt from the store, not trusted.
  std::filesystem::resize_file(li2->index_file().string() + ".ids", 3);
  auto li3 = LibraryVectorIndex::open(*lib, "m2", o);
  EXPECT_TRUE(li3->last_open().rebuilt);
  EXPECT_EQ(li3->index()->size(), 1u);
}

// Replacing held vectors, as the change sequence asks of a follower.
TEST(VectorIndex, ReplaceRewritesHeldVectorsInEveryKind) {
  std::mt19937 rng(11);
  const int dim = 16;
  std::vector<AssetId> all;
  std::vector<float> vecs;
  for (AssetId id = 1; id <= 300; ++id) {
    all.push_back(id);
    auto v = random_unit(rng, dim);
    vecs.insert(vecs.end(), v.begin(), v.end());
  }
  for (IndexKind kind : {IndexKind::kFlat, IndexKind::kHnsw, IndexKind::kIvf, IndexKind::kIvfSq8,
                         IndexKind::kIvfFp16}) {
    // Coded kinds give the vector back within one step of their code.
    const double tolerance = kind == IndexKind::kIvfSq8    ? 5e-3
                             : kind == IndexKind::kIvfFp16 ? 1e-3
                                                           : 1e-5;
    IndexOptions o;
    o.approximate_threshold = kind == IndexKind::kFlat ? 1000 : 1;
    o.approximate = kind == IndexKind::kFlat ? IndexKind::kHnsw : kind;
    auto index = build_vector_index(dim, all, vecs, o);
    ASSERT_EQ(index->kind(), kind);
    const std::vector<AssetId> changed{7, 150, 299, 5000};  // 5000 is not held
    std::vector<float> fresh;
    std::vector<std::vector<float>> fresh_rows;
    for (std::size_t i = 0; i < changed.size(); ++i) {
      fresh_rows.push_back(random_unit(rng, dim));
      // Scaled: the index stores unit vectors whatever the encoder's scale.
      for (float x : fresh_rows.back()) fresh.push_back(3 * x);
    }
    EXPECT_EQ(index->replace(changed, fresh), 3u) << to_string(kind);
    EXPECT_EQ(index->size(), 300u);
    EXPECT_FALSE(index->contains(5000));
    for (std::size_t i = 0; i < 3; ++i) {
      const auto held = index->vector(changed[i]);
      ASSERT_TRUE(held);
      for (int d = 0; d < dim; ++d) EXPECT_NEAR((*held)[d], fresh_rows[i][d], tolerance);
      // Found by its new vector, exactly and approximately.
      const auto exact = index->search_exact(fresh_rows[i], 1);
      ASSERT_EQ(exact.size(), 1u);
      EXPECT_EQ(exact[0].id, changed[i]) << to_string(kind);
      EXPECT_NEAR(exact[0].score, 1.0f, std::max(1e-4, tolerance));
      const auto approx = index->search(fresh_rows[i], 1);
      ASSERT_EQ(approx.size(), 1u);
      EXPECT_EQ(approx[0].id, changed[i]) << to_string(kind);
    }
    EXPECT_THROW(index->replace(changed, std::vector<float>(3)), InputError);
  }
}

TEST(LibraryVectorIndex, FollowsNewAndReplacedEmbeddingsWithoutRebuilding) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(5);
  const int dim = 16;
  std::map<AssetId, std::vector<float>> data;
  for (int i = 1; i <= 30; ++i) {
    auto v = random_unit(rng, dim);
    data[add_asset(db, i, v, "m1")] = v;
  }
  const AssetId bare = add_asset(db, 31);  // no embedding yet
  auto li = LibraryVectorIndex::open(*lib, "m1");
  ASSERT_TRUE(li->last_open().rebuilt);
  const VectorIndex* before = li->index();
  EXPECT_EQ(li->watermark(), db.change_marker().last_embedding_seq);

  db.put_embedding(2, "m2", random_unit(rng, 8));  // another model: not ours
  for (int i = 32; i <= 34; ++i) {                 // newly ingested
    auto v = random_unit(rng, dim);
    data[add_asset(db, i, v, "m1")] = v;
  }
  for (AssetId id : {AssetId{4}, AssetId{17}}) {  // re-embedded
    data[id] = random_unit(rng, dim);
    db.put_embedding(id, "m1", data[id]);
  }
  data[bare] = random_unit(rng, dim);  // backfilled
  db.put_embedding(bare, "m1", data[bare]);

  const auto r = li->sync();
  EXPECT_FALSE(r.rebuilt) << r.reason;
  EXPECT_EQ(r.added, 4u);
  EXPECT_EQ(r.replaced, 2u);
  EXPECT_EQ(li->index(), before);  // the same index, changed in place
  EXPECT_EQ(li->index()->size(), 34u);
  EXPECT_EQ(li->watermark(), db.change_marker().last_embedding_seq);
  for (AssetId id : {AssetId{4}, AssetId{17}}) {
    const auto held = li->index()->vector(id);
    ASSERT_TRUE(held);
    for (int d = 0; d < dim; ++d) EXPECT_NEAR((*held)[d], data[id][d], 1e-5);
  }
  for (int t = 0; t < 5; ++t) {
    const auto q = random_unit(rng, dim);
    EXPECT_EQ(ids(li->index()->search(q, 5)), brute_top(data, q, 5, nullptr));
  }
  const auto idle = li->sync();
  EXPECT_EQ(idle.added + idle.replaced, 0u);
  EXPECT_FALSE(idle.rebuilt);

  // A restart picks up where the files left off, replacements included.
  auto again = LibraryVectorIndex::open(*lib, "m1");
  EXPECT_TRUE(again->last_open().loaded);
  EXPECT_FALSE(again->last_open().rebuilt);
  EXPECT_EQ(again->last_open().added + again->last_open().replaced, 0u);
  const auto q = random_unit(rng, dim);
  EXPECT_EQ(ids(again->index()->search(q, 5)), brute_top(data, q, 5, nullptr));
  EXPECT_EQ(*again->index()->vector(17), *li->index()->vector(17));
}

TEST(LibraryVectorIndex, ChangesKeptForLaterAreSavedOnRequest) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(8);
  for (int i = 1; i <= 5; ++i) add_asset(db, i, random_unit(rng, 8), "m1");
  auto li = LibraryVectorIndex::open(*lib, "m1");
  add_asset(db, 6, random_unit(rng, 8), "m1");
  EXPECT_EQ(li->sync(LibraryVectorIndex::Persist::kLater).added, 1u);
  // Not on disk yet: another opener catches up from the store itself.
  EXPECT_EQ(LibraryVectorIndex::open(*lib, "m1")->last_open().added, 1u);
  add_asset(db, 7, random_unit(rng, 8), "m1");
  EXPECT_EQ(li->sync(LibraryVectorIndex::Persist::kLater).added, 1u);
  li->save_if_changed();
  auto reopened = LibraryVectorIndex::open(*lib, "m1");
  EXPECT_TRUE(reopened->last_open().loaded);
  EXPECT_EQ(reopened->last_open().added, 0u);
  EXPECT_EQ(reopened->index()->size(), 7u);
}

TEST(LibraryVectorIndex, TheEnvironmentPicksTheApproximateKind) {
  ::unsetenv("TAGSMITH_VECTOR_INDEX");
  EXPECT_EQ(index_options_from_environment().approximate, IndexKind::kIvfFp16);
  ::setenv("TAGSMITH_VECTOR_INDEX", "hnsw", 1);
  EXPECT_EQ(index_options_from_environment().approximate, IndexKind::kHnsw);
  ::setenv("TAGSMITH_VECTOR_INDEX", "ivf-sq8", 1);
  EXPECT_EQ(index_options_from_environment().approximate, IndexKind::kIvfSq8);
  ::setenv("TAGSMITH_VECTOR_INDEX", "annoy", 1);
  try {
    index_options_from_environment();
    ADD_FAILURE() << "an unknown kind must be refused";
  } catch (const InputError& e) {
    EXPECT_NE(std::string(e.what()).find("TAGSMITH_VECTOR_INDEX"), std::string::npos);
    EXPECT_NE(std::string(e.what()).find("ivf-sq8"), std::string::npos) << e.what();
  }
  ::unsetenv("TAGSMITH_VECTOR_INDEX");
}

// An index of the kind an older version chose (HNSW) is rebuilt once as the
// kind the options now choose, and kept from then on.
TEST(LibraryVectorIndex, AnIndexOfAnotherKindIsRebuiltOnce) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(9);
  const int dim = 8;
  for (int i = 1; i <= 80; ++i) add_asset(db, i, random_unit(rng, dim), "m1");
  IndexOptions old_default;
  old_default.approximate_threshold = 50;
  old_default.approximate = IndexKind::kHnsw;
  ASSERT_EQ(LibraryVectorIndex::open(*lib, "m1", old_default)->index()->kind(), IndexKind::kHnsw);
  IndexOptions now;
  now.approximate_threshold = 50;
  auto li = LibraryVectorIndex::open(*lib, "m1", now);
  EXPECT_TRUE(li->last_open().rebuilt);
  EXPECT_NE(li->last_open().reason.find("hnsw"), std::string::npos) << li->last_open().reason;
  EXPECT_EQ(li->index()->kind(), IndexKind::kIvfFp16);
  EXPECT_EQ(li->index()->size(), 80u);
  li.reset();
  auto again = LibraryVectorIndex::open(*lib, "m1", now);
  EXPECT_TRUE(again->last_open().loaded);
  EXPECT_FALSE(again->last_open().rebuilt) << again->last_open().reason;
}

TEST(LibraryVectorIndex, HnswRelinksOnceATenthOfItsNodesWereReplacedInPlace) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(9);
  const int dim = 8;
  for (int i = 1; i <= 40; ++i) add_asset(db, i, random_unit(rng, dim), "m1");
  IndexOptions o;
  o.approximate_threshold = 10;
  o.approximate = IndexKind::kHnsw;
  auto li = LibraryVectorIndex::open(*lib, "m1", o);
  ASSERT_EQ(li->index()->kind(), IndexKind::kHnsw);
  for (AssetId id : {1, 2, 3}) db.put_embedding(id, "m1", random_unit(rng, dim));
  auto r = li->sync();
  EXPECT_FALSE(r.rebuilt);
  EXPECT_EQ(r.replaced, 3u);
  for (AssetId id : {4, 5}) db.put_embedding(id, "m1", random_unit(rng, dim));
  r = li->sync();  // 5 of 40 replaced in place: over a tenth
  EXPECT_TRUE(r.rebuilt);
  EXPECT_NE(r.reason.find("replaced in place"), std::string::npos) << r.reason;
  EXPECT_EQ(li->index()->size(), 40u);
  db.put_embedding(6, "m1", random_unit(rng, dim));
  EXPECT_FALSE(li->sync().rebuilt);  // the count started again
}

// What the server relies on: searches under read_lock() while another
// thread syncs (in place, and through a flat -> HNSW rebuild).
TEST(LibraryVectorIndex, SearchesUnderTheReadLockRunWhileItSyncs) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  std::mt19937 rng(12);
  const int dim = 8;
  for (int i = 1; i <= 20; ++i) add_asset(db, i, random_unit(rng, dim), "m1");
  IndexOptions o;
  o.approximate_threshold = 60;
  o.approximate = IndexKind::kHnsw;
  auto li = LibraryVectorIndex::open(*lib, "m1", o);
  std::atomic<bool> done{false};
  std::atomic<int> searches{0};
  std::vector<std::thread> readers;
  for (int t = 0; t < 3; ++t) {
    readers.emplace_back([&, t] {
      std::mt19937 local(100 + t);
      while (!done) {
        const auto q = random_unit(local, dim);
        const auto reading = li->read_lock();
        const auto index = li->shared_index();
        if (index && !index->search(q, 3).empty()) ++searches;
      }
    });
  }
  for (int i = 21; i <= 100; ++i) {
    add_asset(db, i, random_unit(rng, dim), "m1");
    if (i % 7 == 0) db.put_embedding(i - 5, "m1", random_unit(rng, dim));
    li->sync(LibraryVectorIndex::Persist::kLater);
  }
  done = true;
  for (auto& r : readers) r.join();
  EXPECT_GT(searches.load(), 0);
  EXPECT_EQ(li->index()->size(), 100u);
  EXPECT_EQ(li->index()->kind(), IndexKind::kHnsw);
}

TEST(LibraryVectorIndex, AnIndexFromBeforeTheChangeSequenceIsRebuiltOnce) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  std::mt19937 rng(4);
  for (int i = 1; i <= 6; ++i) add_asset(lib->store(), i, random_unit(rng, 8), "m1");
  const auto file = LibraryVectorIndex::open(*lib, "m1")->index_file();
  // The metadata an older tagsmith wrote: a count-based watermark.
  const auto meta = dir.path() / "index" / "m1.json";
  {
    std::ofstream out(meta, std::ios::trunc);
    out << R"({"model_version": "m1", "kind": "flat", "dim": 8, "count": 6,)"
        << R"( "store_embeddings": 6, "checked_max_asset": 6})";
  }
  auto li = LibraryVectorIndex::open(*lib, "m1");
  EXPECT_TRUE(li->last_open().rebuilt);
  EXPECT_NE(li->last_open().reason.find("change sequence"), std::string::npos)
      << li->last_open().reason;
  EXPECT_EQ(li->index()->size(), 6u);
  auto next = LibraryVectorIndex::open(*lib, "m1");
  EXPECT_TRUE(next->last_open().loaded);
  EXPECT_FALSE(next->last_open().rebuilt);
  EXPECT_TRUE(std::filesystem::exists(file));
}

// --- the engine ---------------------------------------------------------------------

// Maps a word to a fixed unit vector along one axis.
class FakeText : public TextEncoder {
 public:
  explicit FakeText(int dim) : dim_(dim) {}
  std::string version() const override { return "fake"; }
  std::vector<float> encode_text(const std::string& text) override {
    std::vector<float> v(dim_, 0);
    v[std::hash<std::string>{}(text) % dim_] = 1;
    last = text;
    return v;
  }
  std::string last;

 private:
  int dim_;
};

TEST(SearchEngine, HybridRankingExplainsEveryHit) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  const int dim = 8;
  FakeText text(dim);
  auto axis = text.encode_text("flowy");
  // Assets 1..6 are white dresses; the closer to the "flowy" axis the higher the id.
  for (int i = 1; i <= 8; ++i) {
    std::vector<float> v(dim, 0);
    v[(std::find(axis.begin(), axis.end(), 1.0f) - axis.begin())] = static_cast<float>(i) / 10;
    v[(std::find(axis.begin(), axis.end(), 1.0f) - axis.begin() + 1) % dim] =
        std::sqrt(1 - v[0] * v[0]);
    float n = 0;
    for (float x : v) n += x * x;
    for (float& x : v) x /= std::sqrt(n);
    auto id = add_asset(db, i, v, "fake");
    if (i <= 6) {
      tag(db, id, {"colour_family", "white", TagState::kAuto, 0.97});
      tag(db, id,
          {"garment_type", i % 2 ? "maxi_dress" : "dress",
           i == 2 ? TagState::kConfirmed : TagState::kAuto, 0.9});
    }
  }
  tag(db, 7, {"colour_family", "white", TagState::kFlagged, 0.8});
  tag(db, 7, {"garment_type", "dress", TagState::kAuto, 0.9});
  auto fx = FacetIndex::load(db, tax());
  auto li = LibraryVectorIndex::open(*lib, "fake");
  SearchEngine engine(tax(), fx, li->index(), "fake", &text);

  SearchRequest req;
  req.text = "flowy white dress";
  auto res = engine.search(req);
  EXPECT_EQ(res.ranking, "hybrid");
  EXPECT_EQ(text.last, "flowy");
  EXPECT_EQ(res.total, 6u);  // 7's white is only flagged
  ASSERT_EQ(res.hits.size(), 6u);
  for (const auto& h : res.hits) {
    EXPECT_NE(h.why.find("matched colour_family=white (auto 0.97)"), std::string::npos) << h.why;
    EXPECT_NE(h.why.find("similarity"), std::string::npos) << h.why;
    EXPECT_NE(h.why.find("'flowy'"), std::string::npos) << h.why;
  }
  for (std::size_t i = 1; i < res.hits.size(); ++i)
    EXPECT_GE(res.hits[i - 1].score, res.hits[i].score);

  req.visibility.include_flagged = true;
  EXPECT_EQ(engine.search(req).total, 7u);

  // Facet counts for the result set; white dresses by type.
  req.visibility = {};
  req.text = "白色连衣裙";
  res = engine.search(req);
  EXPECT_EQ(res.ranking, "facets");
  EXPECT_EQ(res.total, 6u);
  std::map<std::string, std::int64_t> types;
  for (const auto& c : res.counts)
    if (c.attribute == "garment_type") types[c.node] = c.count;
  EXPECT_EQ(types, (std::map<std::string, std::int64_t>{{"dress", 6}, {"maxi_dress", 3}}));
  EXPECT_NE(res.hits[0].why.find("garment_type=dress (confirmed)"), std::string::npos)
      << res.hits[0].why;

  // Similar to an asset: never itself, within filters.
  SearchRequest sim;
  sim.similar_to_asset = 3;
  sim.facets = {parse_facet_option(tax(), "garment_type=maxi_dress")};
  res = engine.search(sim);
  EXPECT_EQ(res.ranking, "similar");
  ASSERT_EQ(res.hits.size(), 2u);  // 1 and 5
  for (const auto& h : res.hits) EXPECT_NE(h.id, 3);

  // Without a text model: semantic words are reported, not silently used.
  SearchEngine plain(tax(), fx, li->index(), "fake");
  res = plain.search({.text = "flowy white dress"});
  EXPECT_EQ(res.ranking, "facets");
  EXPECT_EQ(res.total, 6u);
  ASSERT_EQ(res.notes.size(), 1u);
  EXPECT_NE(res.notes[0].find("flowy"), std::string::npos);
  EXPECT_EQ(plain.search({.text = "flowy"}).hits.size(), 0u);
}

TEST(NearDuplicates, PhashGroupsAreCheckedWithEmbeddings) {
  test::TempDir dir;
  auto lib = library::Library::open(dir.path());
  auto& db = lib->store();
  auto add = [&](int i, std::uint64_t phash, std::vector<float> v) {
    return test::FakeAsset("d" + std::to_string(i))
        .path("/d/" + std::to_string(i) + ".jpg")
        .size(0, 0)
        .phash(phash)
        .ingested_at("2026-11-25T08:00:00.000Z")
        .embedding("m", v)
        .add_to(db);
  };
  add(1, 0xFF00FF00FF00FF00ull, {1, 0, 0, 0});
  add(2, 0xFF00FF00FF00FF01ull, {0.999f, 0.0447f, 0, 0});  // copy of 1
  add(3, 0xFF00FF00FF00FF03ull, {0, 1, 0, 0});             // same silhouette, other product
  add(4, 0x00FF00FF00FF00FFull, {0, 0, 1, 0});
  add(5, 0x0F0F0F0F0F0F0F0Full, {0, 0, 0.9999f, 0.01414f});  // crop of 4 the hash missed
  auto li = LibraryVectorIndex::open(*lib, "m");
  auto groups = near_duplicate_view(db, li->index());
  ASSERT_EQ(groups.size(), 2u);
  EXPECT_EQ(groups[0].ids, (std::vector<AssetId>{1, 2}));
  EXPECT_EQ(groups[0].basis, "phash+embedding");
  EXPECT_EQ(groups[1].ids, (std::vector<AssetId>{4, 5}));
  EXPECT_EQ(groups[1].basis, "embedding");
  auto phash_only = near_duplicate_view(db, nullptr);
  ASSERT_EQ(phash_only.size(), 1u);
  EXPECT_EQ(phash_only[0].ids, (std::vector<AssetId>{1, 2, 3}));
}

}  // namespace
}  // namespace tagsmith::search

namespace tagsmith::search {
namespace {

// Five assets built directly: names out of id order, two folders, tags of
// several tiers. Every sort order covers the result once, pages agree with
// one long page, and an empty result says why.
TEST(SearchEngine, SortOrdersPagesBadgesAndHints) {
  FacetIndex::Builder b(tax());
  const std::vector<std::string> names = {"e.jpg", "b.jpg", "d.jpg", "a.jpg", "c.jpg"};
  for (int i = 0; i < 5; ++i) {
    AssetMeta m;
    m.format = "jpeg";
    m.month = "2026-11";
    m.folder = std::string("/srv/photos/") + (i % 2 ? "shoes" : "dresses");
    m.name = names[static_cast<std::size_t>(i)];
    b.add_asset(i + 1, m);
  }
  b.add_tag(1, "colour_family", "white", TagState::kAuto, 0.9);
  b.add_tag(2, "colour_family", "white", TagState::kFlagged, 0.6);
  b.add_tag(3, "colour_family", "black", TagState::kConfirmed, 0.7);
  b.add_tag(4, "colour_family", "white", TagState::kSuggested, 0.4);
  b.add_tag(4, "colour_family", "black", TagState::kAuto, 0.95);
  b.add_tag(5, "colour_family", "red", TagState::kSuggested, 0.3);
  auto fx = b.build();
  EXPECT_EQ(fx->folder_root(), "/srv/photos");
  EXPECT_EQ(relative_to_root("/srv/photos/shoes/b.jpg", fx->folder_root()), "shoes/b.jpg");
  EXPECT_EQ(relative_to_root("/elsewhere/x.jpg", fx->folder_root()), "x.jpg");
  SearchEngine engine(tax(), fx);

  auto ids = [&](SortOrder sort, std::size_t offset, std::size_t limit) {
    SearchRequest r;
    r.sort = sort;
    r.offset = offset;
    r.limit = limit;
    r.visibility = {true, true};
    const auto res = engine.search(r);
    EXPECT_EQ(res.total, 5u);
    std::vector<AssetId> out;
    for (const auto& h : res.hits) out.push_back(h.id);
    return out;
  };
  EXPECT_EQ(ids(SortOrder::kNewest, 0, 10), (std::vector<AssetId>{5, 4, 3, 2, 1}));
  EXPECT_EQ(ids(SortOrder::kOldest, 0, 10), (std::vector<AssetId>{1, 2, 3, 4, 5}));
  EXPECT_EQ(ids(SortOrder::kName, 0, 10), (std::vector<AssetId>{4, 2, 5, 3, 1}));
  // Mean confidence over all tags (a person's decision counts 1): 3 (1.0),
  // 1 (0.9), 4 (0.675), 2 (0.6), 5 (0.3).
  EXPECT_EQ(ids(SortOrder::kConfidence, 0, 10), (std::vector<AssetId>{3, 1, 4, 2, 5}));
  EXPECT_EQ(ids(SortOrder::kLeastConfident, 0, 10), (std::vector<AssetId>{5, 2, 4, 1, 3}));
  for (auto sort : {SortOrder::kRelevance, SortOrder::kNewest, SortOrder::kName,
                    SortOrder::kConfidence, SortOrder::kLeastConfident}) {
    std::vector<AssetId> paged;
    for (std::size_t off = 0; off < 5; off += 2)
      for (auto id : ids(sort, off, 2)) paged.push_back(id);
    EXPECT_EQ(paged, ids(sort, 0, 5)) << to_string(sort);
  }

  // The badge is the least certain visible tag: asset 4's suggested white.
  SearchRequest r;
  r.visibility = {true, true};
  r.sort = SortOrder::kOldest;
  r.limit = 5;
  const auto res = engine.search(r);
  ASSERT_TRUE(res.hits[3].weakest);
  EXPECT_EQ(res.hits[3].weakest->node, "white");
  EXPECT_EQ(res.hits[3].weakest->state, TagState::kSuggested);
  r.visibility = {false, false};
  EXPECT_FALSE(engine.search(r).hits[4].weakest);  // its only tag is not visible

  // Empty results say why.
  SearchRequest dress;
  dress.text = "white dress";
  auto empty = engine.search(dress);
  EXPECT_EQ(empty.total, 0u);
  EXPECT_NE(empty.hint.find("garment_type"), std::string::npos) << empty.hint;
  SearchRequest waiting;
  waiting.facets.push_back(parse_facet_option(tax(), "colour_family=red"));
  waiting.visibility = {false, false};
  // Asset 5 is red only as a suggestion: waiting for review.
  empty = engine.search(waiting);
  EXPECT_EQ(empty.total, 0u);
  EXPECT_NE(empty.hint.find("waiting for review"), std::string::npos) << empty.hint;
  SearchRequest both;
  both.facets.push_back(parse_facet_option(tax(), "colour_family=white"));
  both.facets.push_back(parse_facet_option(tax(), "colour_family=black"));
  // White (asset 1) and black (3, 4) each match; asset 4's white is a suggestion.
  empty = engine.search(both);
  EXPECT_EQ(empty.total, 0u);
  EXPECT_NE(empty.hint.find("no photo matches all"), std::string::npos) << empty.hint;
  EXPECT_THROW(sort_order_from_string("sideways"), InputError);
  EXPECT_EQ(sort_order_from_string("least_confident"), SortOrder::kLeastConfident);
}

}  // namespace
}  // namespace tagsmith::search
