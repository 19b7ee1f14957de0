// Head training time for 10,000 labelled 512-d embeddings and 50 classes on
// 2 threads, plus the per-asset scoring cost.
//
//   build/bench_training
//   build/bench_training --benchmark_filter=Train   # training only
//
// The embeddings are synthetic: 50 random unit centres in 512-d, samples =
// normalise(centre + 0.04 * N(0, I)) -- about the in-class spread of CLIP
// image embeddings (cosine to the class centroid ~0.75).
#include <benchmark/benchmark.h>

#include <cmath>
#include <random>

#include "tagsmith/common/threads.h"
#include "tagsmith/training/heads.h"
#include "tagsmith/training/scorer.h"

using namespace tagsmith::training;

namespace {

HeadData make_data(int classes, int dim, int rows, double noise, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::normal_distribution<float> g;
  auto unit = [&](std::vector<float> v) {
    double n = 0;
    for (float x : v) n += x * x;
    for (auto& x : v) x = static_cast<float>(x / std::sqrt(n));
    return v;
  };
  std::vector<std::vector<float>> centres;
  HeadData d;
  d.attribute = "garment_type";
  d.dim = dim;
  for (int k = 0; k < classes; ++k) {
    std::vector<float> c(dim);
    for (auto& x : c) x = g(rng);
    centres.push_back(unit(c));
    d.classes.push_back("class_" + std::to_string(k));
  }
  for (int i = 0; i < rows; ++i) {
    const int k = i % classes;
    std::vector<float> v(dim);
    for (int j = 0; j < dim; ++j) v[j] = centres[k][j] + static_cast<float>(noise) * g(rng);
    v = unit(v);
    d.embeddings.insert(d.embeddings.end(), v.begin(), v.end());
    d.labels.push_back(k);
  }
  return d;
}

void BM_TrainLinearHead(benchmark::State& state) {
  tagsmith::limit_blas_threads(1);  // as the CLI does: torch's threads, not OpenBLAS's
  const auto data = make_data(50, 512, 10000, 0.04, 1);
  HeadOptions o;
  o.threads = 2;
  o.hidden = static_cast<int>(state.range(0));
  HeadTrainingReport report;
  for (auto _ : state) {
    auto head = train_head(data, o, nullptr, &report);
    benchmark::DoNotOptimize(head);
  }
  state.counters["epochs"] = report.epochs;
  state.counters["train_rows"] = static_cast<double>(report.train_rows);
  state.counters["temperature"] = report.temperature;
}
BENCHMARK(BM_TrainLinearHead)
    ->Arg(0)
    ->Arg(256)
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

void BM_ScoreOneAsset(benchmark::State& state) {
  const auto data = make_data(50, 512, 2000, 0.04, 2);
  HeadSet set;
  set.version = "heads-bench";
  HeadOptions o;
  o.threads = 2;
  set.heads.push_back(train_head(data, o));
  const HeadScorer scorer(set);
  const std::vector<float> x(data.embeddings.begin(), data.embeddings.begin() + 512);
  for (auto _ : state) benchmark::DoNotOptimize(scorer.score(x));
}
BENCHMARK(BM_ScoreOneAsset)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
