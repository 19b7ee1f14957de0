// Vector index kinds side by side: build time, memory, recall@10 against
// exact search, and query latency (p50/p99 on 1 and 2 threads), for the
// table in docs/search.md that the default kind is chosen from.
//
//   build/bench_vector_index                                    # 100k, synthetic clusters
//   TAGSMITH_BENCH_N=1000000 build/bench_vector_index --benchmark_filter='flat|ivf'
//   TAGSMITH_BENCH_DATA=/tmp/clothing-embeddings.txt build/bench_vector_index
//
// Data: by default 2,000 random centres in 512-d with points scattered around
// them (within-cluster cosine ~0.75), the same generator as bench_search.
// With TAGSMITH_BENCH_DATA (one vector per line, as `tagsmith embed` prints
// them) the centres are real embeddings instead -- e.g. MobileNetV2 features
// of ../shared/datasets/clothing-small -- which crowd into a narrow cone the
// way a catalogue's photos do, and points lie closer to them (cosine ~0.9):
// a harder distribution for partitioning and for quantisation than random
// centres. Knobs: TAGSMITH_BENCH_N, TAGSMITH_BENCH_DIM (real centres are
// projected to it, default 512), TAGSMITH_BENCH_QUERIES (default 200),
// TAGSMITH_BENCH_NPROBE (IVF lists probed), TAGSMITH_BENCH_M / _EFC / _EFS (HNSW).
#include <benchmark/benchmark.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <random>
#include <sstream>
#include <thread>

#include "bench_support.h"
#include "tagsmith/search/vector_index.h"

using namespace tagsmith;
using namespace tagsmith::search;
using Clock = std::chrono::steady_clock;

namespace {

using bench::env_int;
using bench::rss_gib;

void normalise(float* v, int d) {
  double n = 0;
  for (int i = 0; i < d; ++i) n += double(v[i]) * v[i];
  const float inv = n > 0 ? static_cast<float>(1.0 / std::sqrt(n)) : 0.0f;
  for (int i = 0; i < d; ++i) v[i] *= inv;
}

struct Data {
  int dim = 512;
  std::size_t n = 0;
  std::string name;
  std::vector<float> centres;  // unit rows
  float spread = 0;            // per-component noise
  std::vector<AssetId> ids;
  std::vector<float> vectors;
  std::vector<std::vector<float>> queries;
  std::vector<std::vector<AssetId>> truth;  // exact top-10 per query
};

void sample(const Data& d, std::mt19937_64& rng, float* out) {
  const std::size_t centres = d.centres.size() / d.dim;
  const std::size_t c = rng() % centres;
  std::normal_distribution<float> g(0.0f, d.spread);
  for (int i = 0; i < d.dim; ++i) out[i] = d.centres[c * d.dim + i] + g(rng);
  normalise(out, d.dim);
}

Data& data() {
  static Data d = [] {
    Data d;
    d.n = static_cast<std::size_t>(env_int("TAGSMITH_BENCH_N", 100'000));
    std::mt19937_64 rng(7);
    if (const char* file = std::getenv("TAGSMITH_BENCH_DATA")) {
      std::ifstream in(file);
      std::string line;
      int dim = 0;
      while (std::getline(in, line)) {
        std::istringstream s(line);
        std::vector<float> v;
        for (float x; s >> x;) v.push_back(x);
        if (v.empty()) continue;
        if (dim == 0) dim = static_cast<int>(v.size());
        if (static_cast<int>(v.size()) != dim) continue;
        normalise(v.data(), dim);
        d.centres.insert(d.centres.end(), v.begin(), v.end());
      }
      if (dim == 0) {
        std::cerr << "no vectors in " << file << "\n";
        std::exit(2);
      }
      // Projected to TAGSMITH_BENCH_DIM dimensions (default 512, CLIP's) by a
      // random Gaussian matrix, which keeps their cosines (Johnson-Lindenstrauss),
      // so that 1M of them fit in memory like 1M CLIP vectors would.
      const int target = static_cast<int>(env_int("TAGSMITH_BENCH_DIM", 512));
      const std::size_t count = d.centres.size() / dim;
      if (target > 0 && target < dim) {
        std::vector<float> proj(static_cast<std::size_t>(dim) * target), out(count * target);
        std::normal_distribution<float> g;
        for (auto& x : proj) x = g(rng);
        for (std::size_t c = 0; c < count; ++c) {
          for (int j = 0; j < target; ++j) {
            double s = 0;
            for (int i = 0; i < dim; ++i)
              s += double(d.centres[c * dim + i]) * proj[static_cast<std::size_t>(i) * target + j];
            out[c * target + j] = static_cast<float>(s);
          }
          normalise(&out[c * target], target);
        }
        d.centres = std::move(out);
        dim = target;
      }
      d.dim = dim;
      d.name = "real centres (" + std::to_string(count) + " from " + file + ")";
      d.spread = 0.45f / std::sqrt(static_cast<float>(dim));  // cosine to the centre ~0.9
    } else {
      d.centres.resize(2000 * static_cast<std::size_t>(d.dim));
      std::normal_distribution<float> g;
      for (auto& x : d.centres) x = g(rng);
      for (std::size_t c = 0; c < 2000; ++c) normalise(&d.centres[c * d.dim], d.dim);
      d.name = "2000 random centres";
      d.spread = 0.6f / std::sqrt(static_cast<float>(d.dim));  // cosine to the centre ~0.85
    }
    d.ids.resize(d.n);
    d.vectors.resize(d.n * d.dim);
    std::vector<std::thread> ts;
    for (int t = 0; t < 2; ++t)
      ts.emplace_back([&, t] {
        std::mt19937_64 r(100 + t);
        for (std::size_t i = t; i < d.n; i += 2) {
          d.ids[i] = static_cast<AssetId>(i + 1);
          sample(d, r, &d.vectors[i * d.dim]);
        }
      });
    for (auto& t : ts) t.join();
    const long nq = env_int("TAGSMITH_BENCH_QUERIES", 200);
    for (long q = 0; q < nq; ++q) {
      std::vector<float> v(d.dim);
      sample(d, rng, v.data());
      d.queries.push_back(std::move(v));
    }
    // The truth, from a flat index (exact inner products on the float vectors).
    IndexOptions flat;
    flat.approximate_threshold = d.n + 1;
    auto exact = build_vector_index(d.dim, d.ids, d.vectors, flat);
    for (const auto& q : d.queries) {
      std::vector<AssetId> top;
      for (const auto& nb : exact->search_exact(q, 10)) top.push_back(nb.id);
      d.truth.push_back(std::move(top));
    }
    std::cerr << d.n << " vectors of " << d.dim << " dimensions around " << d.name << "\n";
    return d;
  }();
  return d;
}

void BM_Index(benchmark::State& state, IndexKind kind) {
  Data& d = data();
  IndexOptions o;
  o.approximate_threshold = kind == IndexKind::kFlat ? d.n + 1 : 1;
  o.approximate = kind == IndexKind::kFlat ? IndexKind::kIvfSq8 : kind;
  o.ivf_probe = static_cast<int>(env_int("TAGSMITH_BENCH_NPROBE", o.ivf_probe));
  o.hnsw_m = static_cast<int>(env_int("TAGSMITH_BENCH_M", 16));
  o.hnsw_ef_construction = static_cast<int>(env_int("TAGSMITH_BENCH_EFC", 40));
  o.hnsw_ef_search = static_cast<int>(env_int("TAGSMITH_BENCH_EFS", 96));
  omp_set_num_threads(2);  // building may use both cores (FAISS k-means, assignment, HNSW)
  const double rss_before = rss_gib();
  double build_s = 0;
  std::unique_ptr<VectorIndex> index;
  for (auto _ : state) {
    const auto t0 = Clock::now();
    index = build_vector_index(d.dim, d.ids, d.vectors, o);
    build_s = std::chrono::duration<double>(Clock::now() - t0).count();
    state.SetIterationTime(build_s);
  }
  const double rss_delta = rss_gib() - rss_before;

  // Recall@10 and latency, one query per thread at a time.
  auto run = [&](int threads, std::vector<double>& lat, std::size_t& hits) {
    std::vector<std::vector<double>> per(threads);
    std::vector<std::size_t> found(threads, 0);
    std::vector<std::thread> ts;
    for (int t = 0; t < threads; ++t)
      ts.emplace_back([&, t] {
        omp_set_num_threads(1);
        for (std::size_t q = t; q < d.queries.size(); q += threads) {
          const auto s = Clock::now();
          const auto got = index->search(d.queries[q], 10);
          per[t].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
          for (const auto& nb : got)
            found[t] += std::count(d.truth[q].begin(), d.truth[q].end(), nb.id);
        }
      });
    for (auto& t : ts) t.join();
    for (auto& p : per) lat.insert(lat.end(), p.begin(), p.end());
    std::sort(lat.begin(), lat.end());
    hits = 0;
    for (auto f : found) hits += f;
  };
  auto pct = [](const std::vector<double>& lat, double p) {
    return lat[std::min(lat.size() - 1, static_cast<std::size_t>(p * lat.size()))];
  };
  std::vector<double> one, two;
  std::size_t hits = 0;
  run(1, one, hits);
  run(2, two, hits);
  state.SetLabel(to_string(index->kind()) + ", " + d.name);
  state.counters["n"] = static_cast<double>(d.n);
  state.counters["build_s"] = build_s;
  state.counters["index_GiB"] = static_cast<double>(index->memory_bytes()) / (1 << 30);
  state.counters["rss_delta_GiB"] = rss_delta;
  state.counters["recall@10"] = static_cast<double>(hits) / (10.0 * d.queries.size());
  state.counters["p50_ms_1t"] = pct(one, 0.5);
  state.counters["p99_ms_1t"] = pct(one, 0.99);
  state.counters["p50_ms_2t"] = pct(two, 0.5);
  state.counters["p99_ms_2t"] = pct(two, 0.99);
}

}  // namespace

BENCHMARK_CAPTURE(BM_Index, flat, IndexKind::kFlat)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Index, ivf, IndexKind::kIvf)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Index, ivf_sq8, IndexKind::kIvfSq8)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Index, ivf_fp16, IndexKind::kIvfFp16)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK_CAPTURE(BM_Index, hnsw, IndexKind::kHnsw)
    ->Iterations(1)
    ->UseManualTime()
    ->Unit(benchmark::kSecond);
BENCHMARK_MAIN();
