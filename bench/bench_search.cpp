// Search at library scale: a synthetic library of N assets (default 1,000,000)
// with 512-d clustered embeddings and Zipf-distributed tags over 12 taxonomy
// attributes, built in memory through the same classes the CLI uses
// (FacetIndex::Builder, build_vector_index) -- SQLite is not what is measured.
//
// Each query benchmark runs 2 (then 4) threads issuing 500 queries each
// concurrently and reports p50/p99 latency (wall, and the query thread's own
// CPU time); BM_Setup reports build times, recall@10 of the approximate
// index against exact search, and memory.
//
// On a machine shared with other work, `chrt -f 10 build/bench_search` runs
// the bench ahead of it (real-time priority), so that wall latency measures
// the queries and not the scheduler.
//
//   build/bench_search                          # 1M assets, the library's default index
//   TAGSMITH_BENCH_N=200000 TAGSMITH_BENCH_INDEX=hnsw build/bench_search
// Knobs: TAGSMITH_BENCH_N, TAGSMITH_BENCH_INDEX (flat|ivf|ivf-sq8|hnsw), TAGSMITH_BENCH_M,
// TAGSMITH_BENCH_EFC, TAGSMITH_BENCH_EFS, TAGSMITH_BENCH_NPROBE, TAGSMITH_BENCH_RECALL_QUERIES.
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <thread>

#include "bench_support.h"
#include "tagsmith/search/search.h"
#include "tagsmith/search/vector_index.h"
#include "tagsmith/taxonomy/taxonomy.h"

using namespace tagsmith;
using namespace tagsmith::search;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int kDim = 512;
constexpr int kClusters = 2000;
constexpr int kThreads = 2;  // for building the synthetic library

using bench::env_int;
using bench::rss_gib;

void normalise(float* v) {
  float n = 0;
  for (int i = 0; i < kDim; ++i) n += v[i] * v[i];
  n = 1.0f / std::sqrt(n);
  for (int i = 0; i < kDim; ++i) v[i] *= n;
}

// A point near cluster c: centre + noise, unit length (within-cluster cosine ~0.75).
void sample_near(const std::vector<float>& centres, int c, std::mt19937_64& rng, float* out) {
  std::normal_distribution<float> g(0.0f, 0.6f / std::sqrt(static_cast<float>(kDim)));
  for (int i = 0; i < kDim; ++i) out[i] = centres[static_cast<std::size_t>(c) * kDim + i] + g(rng);
  normalise(out);
}

struct Zipf {
  std::vector<double> cdf;
  Zipf(std::size_t n, double s) {
    double total = 0;
    for (std::size_t i = 1; i <= n; ++i)
      cdf.push_back(total += 1.0 / std::pow(static_cast<double>(i), s));
    for (auto& x : cdf) x /= total;
  }
  std::size_t operator()(std::mt19937_64& rng) const {
    double u = std::uniform_real_distribution<double>(0, 1)(rng);
    return std::min<std::size_t>(std::lower_bound(cdf.begin(), cdf.end(), u) - cdf.begin(),
                                 cdf.size() - 1);
  }
};

class FakeText final : public TextEncoder {
 public:
  explicit FakeText(const std::vector<float>* centres) : centres_(centres) {}
  std::string version() const override { return "synthetic"; }
  std::vector<float> encode_text(const std::string& text) override {
    std::mt19937_64 rng(std::hash<std::string>{}(text));
    std::vector<float> v(kDim);
    sample_near(*centres_, static_cast<int>(rng() % kClusters), rng, v.data());
    return v;
  }

 private:
  const std::vector<float>* centres_;
};

struct World {
  std::size_t n = 0;
  taxonomy::Taxonomy tax = taxonomy::Taxonomy::builtin();
  std::vector<float> centres;
  std::shared_ptr<const FacetIndex> facets;
  std::unique_ptr<VectorIndex> vectors;
  std::unique_ptr<FakeText> text;
  std::unique_ptr<SearchEngine> engine;
  std::vector<std::vector<float>> probe_queries;
  double gen_s = 0, facet_build_s = 0, vector_build_s = 0, recall10 = 0, exact_ms = 0,
         rss_after = 0;
  std::size_t index_bytes = 0;
  std::vector<std::vector<std::string>> popular;  // per attribute: nodes by popularity
  std::vector<std::string> attributes;
};

World& world() {
  static World w = [] {
    World w;
    w.n = static_cast<std::size_t>(env_int("TAGSMITH_BENCH_N", 1'000'000));
    IndexOptions o;
    if (const char* kind = std::getenv("TAGSMITH_BENCH_INDEX"))
      o.approximate = index_kind_from_string(kind);
    o.hnsw_m = static_cast<int>(env_int("TAGSMITH_BENCH_M", 16));
    o.hnsw_ef_construction = static_cast<int>(env_int("TAGSMITH_BENCH_EFC", 40));
    o.hnsw_ef_search = static_cast<int>(env_int("TAGSMITH_BENCH_EFS", 96));
    o.ivf_probe = static_cast<int>(env_int("TAGSMITH_BENCH_NPROBE", o.ivf_probe));
    omp_set_num_threads(kThreads);

    auto t0 = Clock::now();
    std::mt19937_64 rng(1);
    w.centres.resize(static_cast<std::size_t>(kClusters) * kDim);
    std::normal_distribution<float> g;
    for (auto& x : w.centres) x = g(rng);
    for (int c = 0; c < kClusters; ++c) normalise(&w.centres[static_cast<std::size_t>(c) * kDim]);
    Zipf cluster_of(kClusters, 0.7);

    // Vectors, generated on 2 threads.
    std::vector<float> vecs(w.n * kDim);
    std::vector<AssetId> ids(w.n);
    std::vector<int> cluster(w.n);
    for (std::size_t i = 0; i < w.n; ++i)
      ids[i] = static_cast<AssetId>(i + 1), cluster[i] = static_cast<int>(cluster_of(rng));
    {
      std::vector<std::thread> ts;
      for (int t = 0; t < kThreads; ++t)
        ts.emplace_back([&, t] {
          std::mt19937_64 r(100 + t);
          for (std::size_t i = t; i < w.n; i += kThreads)
            sample_near(w.centres, cluster[i], r, &vecs[i * kDim]);
        });
      for (auto& t : ts) t.join();
    }

    // Tags: 12 attributes, each present with its own probability, values Zipf
    // over the attribute's nodes (a few colours and types dominate), states
    // mostly auto. Correlated with the cluster so facets and vectors agree.
    FacetIndex::Builder b(w.tax);
    const char* months[] = {"2025-09", "2025-10", "2025-11", "2025-12",
                            "2026-01", "2026-02", "2026-03"};
    const char* formats[] = {"jpeg", "jpeg", "jpeg", "png", "webp", "tiff"};
    struct AttrGen {
      std::string id;
      std::vector<std::string> nodes;
      double present;
      bool multi;
      std::unique_ptr<Zipf> zipf;
    };
    std::vector<AttrGen> gens;
    const std::map<std::string, double> presence{
        {"category", 0.98}, {"garment_type", 0.9}, {"colour_family", 0.97}, {"colour_shade", 0.8},
        {"material", 0.6},  {"pattern", 0.7},      {"neckline", 0.4},       {"sleeve_length", 0.45},
        {"style", 0.75},    {"season", 0.8},       {"scene", 0.95},         {"subjects", 0.5}};
    for (const auto& a : w.tax.attributes()) {
      if (!presence.contains(a.id)) continue;
      AttrGen ag{a.id, {}, presence.at(a.id), a.multi(), nullptr};
      for (const auto& nd : a.nodes) ag.nodes.push_back(nd.id);
      std::shuffle(ag.nodes.begin(), ag.nodes.end(), rng);
      ag.zipf = std::make_unique<Zipf>(ag.nodes.size(), 1.1);
      w.attributes.push_back(a.id);
      w.popular.push_back(ag.nodes);
      gens.push_back(std::move(ag));
    }
    const store::TagState states[] = {store::TagState::kAuto, store::TagState::kFlagged,
                                      store::TagState::kSuggested, store::TagState::kConfirmed,
                                      store::TagState::kHumanSet};
    const double state_cdf[] = {0.80, 0.90, 0.95, 0.98, 1.0};
    std::uniform_real_distribution<double> u(0, 1);
    for (std::size_t i = 0; i < w.n; ++i) {
      AssetMeta m;
      m.format = formats[rng() % 6];
      m.month = months[std::min<std::size_t>(cluster[i] % 7, 6)];
      m.folder =
          "/catalogue/brand" + std::to_string(cluster[i] % 40) + "/ss" + std::to_string(rng() % 4);
      m.file_size = static_cast<std::int64_t>(50'000 + (rng() % 8'000'000));
      b.add_asset(ids[i], m);
      std::mt19937_64 cr(static_cast<std::uint64_t>(cluster[i]) * 7919);  // cluster-typical values
      for (auto& ag : gens) {
        if (u(rng) > ag.present) continue;
        const int values = ag.multi && u(rng) < 0.3 ? 2 : 1;
        for (int k = 0; k < values; ++k) {
          std::size_t pick = u(rng) < 0.6 ? (*ag.zipf)(cr) : (*ag.zipf)(rng);
          double r = u(rng);
          int s = 0;
          while (r > state_cdf[s]) ++s;
          b.add_tag(ids[i], ag.id, ag.nodes[pick], states[s], 0.3 + 0.7 * u(rng));
        }
      }
    }
    w.gen_s = std::chrono::duration<double>(Clock::now() - t0).count();
    t0 = Clock::now();
    w.facets = b.build();
    w.facet_build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::cerr << "generated " << w.n << " assets in " << w.gen_s << " s; facet index "
              << w.facet_build_s << " s, " << w.facets->tag_count() << " entries, RSS " << rss_gib()
              << " GiB\n";

    t0 = Clock::now();
    w.vectors = build_vector_index(kDim, ids, vecs, o);
    w.vector_build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    std::vector<float>().swap(vecs);
    w.index_bytes = w.vectors->memory_bytes();
    std::cerr << to_string(w.vectors->kind()) << " index built in " << w.vector_build_s << " s\n";

    // Recall@10 of the index against exact search, on queries like the real ones.
    omp_set_num_threads(1);
    const long probes = env_int("TAGSMITH_BENCH_RECALL_QUERIES", 50);
    for (long q = 0; q < probes; ++q) {
      std::vector<float> v(kDim);
      sample_near(w.centres, static_cast<int>(cluster_of(rng)), rng, v.data());
      w.probe_queries.push_back(std::move(v));
    }
    std::size_t hit = 0;
    double exact_total = 0;
    for (const auto& q : w.probe_queries) {
      auto approx = w.vectors->search(q, 10);
      auto te = Clock::now();
      auto exact = w.vectors->search_exact(q, 10);
      exact_total += std::chrono::duration<double, std::milli>(Clock::now() - te).count();
      for (const auto& a : approx)
        hit += std::count_if(exact.begin(), exact.end(),
                             [&](const Neighbor& e) { return e.id == a.id; });
    }
    w.recall10 = static_cast<double>(hit) / (10.0 * w.probe_queries.size());
    w.exact_ms = exact_total / w.probe_queries.size();
    w.text = std::make_unique<FakeText>(&w.centres);
    w.engine =
        std::make_unique<SearchEngine>(w.tax, w.facets, w.vectors.get(), "synthetic", w.text.get());
    w.rss_after = rss_gib();
    std::cerr << "recall@10 " << w.recall10 << ", RSS " << w.rss_after << " GiB\n";
    return w;
  }();
  return w;
}

// Runs `per_thread` requests on each of state.range(0) threads; reports
// latency percentiles.
template <class MakeRequest>
void run_queries(benchmark::State& state, int per_thread, MakeRequest make) {
  World& w = world();
  const int threads = static_cast<int>(state.range(0));
  std::vector<double> lat, cpu;
  std::size_t total_hits = 0;
  for (auto _ : state) {
    std::vector<std::vector<double>> per(threads), per_cpu(threads);
    std::vector<std::size_t> hits(threads);
    auto t0 = Clock::now();
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        // One query = one core; the threads are the parallelism. (OpenMP's
        // thread count is per thread: setting it in main would not reach here.)
        omp_set_num_threads(1);
        std::mt19937_64 rng(1000 + t);
        for (int i = 0; i < per_thread; ++i) {
          SearchRequest req = make(w, rng);
          auto s = Clock::now();
          const double c0 = bench::thread_cpu_ms();
          auto res = w.engine->search(req);
          per_cpu[t].push_back(bench::thread_cpu_ms() - c0);
          per[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
          hits[t] += res.total;
        }
      });
    for (auto& t : ts) t.join();
    state.SetIterationTime(std::chrono::duration<double>(Clock::now() - t0).count());
    for (auto& p : per) lat.insert(lat.end(), p.begin(), p.end());
    for (auto& p : per_cpu) cpu.insert(cpu.end(), p.begin(), p.end());
    for (auto h : hits) total_hits += h;
  }
  std::sort(lat.begin(), lat.end());
  std::sort(cpu.begin(), cpu.end());
  auto pct = [](const std::vector<double>& v, double p) {
    return v[std::min(v.size() - 1, static_cast<std::size_t>(p * v.size()))];
  };
  state.counters["p50_ms"] = pct(lat, 0.50);
  state.counters["p99_ms"] = pct(lat, 0.99);
  // CPU time of the query's own thread: what a query costs when other work
  // shares the cores (wall latency then measures the scheduler too).
  state.counters["p50_cpu_ms"] = pct(cpu, 0.50);
  state.counters["p99_cpu_ms"] = pct(cpu, 0.99);
  state.counters["qps"] =
      benchmark::Counter(static_cast<double>(lat.size()), benchmark::Counter::kIsRate);
  state.counters["avg_matches"] = static_cast<double>(total_hits) / static_cast<double>(lat.size());
}

FacetClause clause(const World& w, std::size_t attr, std::mt19937_64& rng) {
  const auto& nodes = w.popular[attr];
  std::size_t pick =
      rng() % std::min<std::size_t>(nodes.size(), 6);  // popular values, as people click them
  return {{{w.attributes[attr], nodes[pick]}}, "--facet"};
}

void BM_Setup(benchmark::State& state) {
  World& w = world();
  for (auto _ : state) benchmark::DoNotOptimize(w.n);
  state.counters["assets"] = static_cast<double>(w.n);
  state.counters["facet_build_s"] = w.facet_build_s;
  state.counters["vector_build_s"] = w.vector_build_s;
  state.counters["recall@10"] = w.recall10;
  state.counters["exact_search_ms"] = w.exact_ms;
  state.counters["index_GiB"] = static_cast<double>(w.index_bytes) / (1 << 30);
  state.counters["rss_GiB"] = w.rss_after;
  state.SetLabel(to_string(w.vectors->kind()));
  state.counters["facet_entries"] = static_cast<double>(w.facets->tag_count());
}

void BM_FacetOnly(benchmark::State& state) {
  run_queries(state, 500, [](const World& w, std::mt19937_64& rng) {
    SearchRequest r;
    const std::size_t n = 1 + rng() % 3;  // 1-3 attributes, any order
    std::vector<std::size_t> attrs{2, 1,  9,
                                   5, 10, 4};  // colour, type, season, pattern, scene, material
    std::shuffle(attrs.begin(), attrs.end(), rng);
    for (std::size_t i = 0; i < n; ++i) r.facets.push_back(clause(w, attrs[i], rng));
    return r;
  });
}

const char* kFacetTexts[] = {
    "white dress",       "白色连衣裙",  "black jeans", "黑色 牛仔裤",   "summer floral maxi dress",
    "red sneakers",      "navy blazer", "冬季 大衣",   "striped shirt", "leather handbag",
    "beige trench coat", "pink 毛衣"};
const char* kFreeTexts[] = {"something flowy for a beach wedding",
                            "cosy weekend look",
                            "bold statement piece",
                            "office ready",
                            "festival outfit ideas",
                            "minimal scandinavian vibe"};
const char* kHybridTexts[] = {"flowy white dress",        "relaxed black jeans for travel",
                              "oversized 冬季 大衣",      "sparkly party dress",
                              "lightweight summer shirt", "chunky knit sweater"};

void BM_TextToFacets(benchmark::State& state) {
  run_queries(state, 500, [](const World&, std::mt19937_64& rng) {
    SearchRequest r;
    r.text = kFacetTexts[rng() % std::size(kFacetTexts)];
    return r;
  });
}

void BM_NaturalLanguage(benchmark::State& state) {
  run_queries(state, 500, [](const World&, std::mt19937_64& rng) {
    SearchRequest r;
    r.text = std::string(kFreeTexts[rng() % std::size(kFreeTexts)]) + " #" +
             std::to_string(rng() % 1000);
    return r;
  });
}

void BM_Hybrid(benchmark::State& state) {
  run_queries(state, 500, [](const World&, std::mt19937_64& rng) {
    SearchRequest r;
    r.text = std::string(kHybridTexts[rng() % std::size(kHybridTexts)]) + " #" +
             std::to_string(rng() % 1000);
    return r;
  });
}

void BM_SimilarImage(benchmark::State& state) {
  run_queries(state, 500, [](const World& w, std::mt19937_64& rng) {
    SearchRequest r;
    r.similar_to_asset = static_cast<AssetId>(1 + rng() % w.n);
    r.with_counts = false;  // the "more like this" button shows no facets
    return r;
  });
}

}  // namespace

BENCHMARK(BM_Setup)->Iterations(1)->Unit(benchmark::kMillisecond);
BENCHMARK(BM_FacetOnly)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_TextToFacets)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_NaturalLanguage)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK(BM_Hybrid)->Arg(2)->Arg(4)->Iterations(1)->UseManualTime()->Unit(benchmark::kMillisecond);
BENCHMARK(BM_SimilarImage)
    ->Arg(2)
    ->Arg(4)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kMillisecond);
BENCHMARK_MAIN();
