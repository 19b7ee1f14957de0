// Re-tag throughput (issue 4): decisions per second over 100,000 stored
// assets -- colour analyses and 512-d embeddings -- after a taxonomy change.
//
// The library is synthesised directly through Store::add_asset (random
// colours named against the palette, random unit embeddings) and cached in
// $TMPDIR between runs. A synthetic ScoreProvider scores every non-palette
// attribute from the stored embedding (softmax of 100 * cosine with a random
// class vector per node, like CLIP zero-shot), so the measured path includes
// reading embeddings back from the store. Each run imports a taxonomy that
// differs from the current one in its default thresholds and re-tags.
//
//   build/bench_retag                                  # 100k assets
//   build/bench_retag --benchmark_filter=Decide        # engine only, per asset
#include <benchmark/benchmark.h>

#include <cmath>
#include <filesystem>
#include <random>

#include "tagsmith/common/files.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/engine.h"
#include "tagsmith/tagging/service.h"

namespace fs = std::filesystem;
using namespace tagsmith;

namespace {

constexpr int kDim = 512;
constexpr const char* kModel = "bench-clip@1";

std::vector<float> random_unit(std::mt19937& rng) {
  std::normal_distribution<float> n(0, 1);
  std::vector<float> v(kDim);
  float norm = 0;
  for (auto& x : v) {
    x = n(rng);
    norm += x * x;
  }
  norm = std::sqrt(norm);
  for (auto& x : v) x /= norm;
  return v;
}

store::AssetRecord random_asset(int i, std::mt19937& rng, const image::Palette& palette) {
  store::AssetRecord a;
  a.sha256 = "bench" + std::to_string(i);
  a.source_path = "/bench/" + a.sha256 + ".jpg";
  a.width = a.height = 1000;
  a.format = "jpeg";
  a.ingested_at = "2026-01-01T00:00:00.000Z";
  // Two to four dominant colours with random Lab values, named like ingest does.
  std::uniform_real_distribution<double> L(5, 95), ab(-60, 60);
  const int k = 2 + static_cast<int>(rng() % 3);
  double left = 1.0;
  for (int c = 0; c < k; ++c) {
    image::DominantColour d;
    d.lab = {L(rng), ab(rng), ab(rng)};
    d.rgb = image::lab_to_srgb(d.lab);
    const auto& shade = palette.nearest(d.lab, &d.delta_e);
    d.shade = shade.id;
    d.family = shade.family;
    d.share = c + 1 == k ? left : left * std::uniform_real_distribution<double>(0.4, 0.8)(rng);
    left -= d.share;
    a.colours.colours.push_back(d);
  }
  return a;
}

fs::path bench_library(int count) {
  const fs::path dir =
      fs::temp_directory_path() / ("tagsmith-bench-retag-" + std::to_string(count));
  if (fs::exists(dir / "complete")) return dir;
  fs::remove_all(dir);
  auto lib = library::Library::open(dir);
  std::mt19937 rng(7);
  for (int i = 0; i < count; ++i) {
    const auto a = random_asset(i, rng, lib->palette());
    const auto e = random_unit(rng);
    store::PathRecord p;
    p.path = a.source_path;
    lib->store().add_asset(a, p, kModel, e);
  }
  write_file_atomic(dir / "complete", "");
  return dir;
}

// Zero-shot-like scores from stored embeddings: per attribute, the softmax of
// 100 * cosine(embedding, class vector) over its nodes.
class EmbeddingScoreProvider final : public tagging::ScoreProvider {
 public:
  std::string name() const override { return "bench-zero-shot"; }
  std::string embedding_model() const override { return kModel; }
  void prepare(const taxonomy::Taxonomy& tax) override {
    classes_.clear();
    for (const auto& a : tax.attributes()) {
      if (a.source == "palette") continue;
      Attr attr{a.id, {}, {}};
      for (const auto& n : a.nodes) {
        std::mt19937 rng(static_cast<unsigned>(std::hash<std::string>{}(a.id + "/" + n.id)));
        attr.nodes.push_back(n.id);
        attr.vectors.push_back(random_unit(rng));
      }
      classes_.push_back(std::move(attr));
    }
  }
  std::vector<tagging::ScoreSet> scores(const taxonomy::Taxonomy&,
                                        const tagging::ScoreRequest& r) const override {
    std::vector<tagging::ScoreSet> out;
    if (r.embedding.size() != static_cast<std::size_t>(kDim)) return out;
    std::vector<double> logits;
    for (const auto& a : classes_) {
      logits.assign(a.nodes.size(), 0);
      double top = -1e9;
      for (std::size_t i = 0; i < a.nodes.size(); ++i) {
        // Eight partial sums so the compiler can vectorise without -ffast-math
        // (a real model scores with a BLAS matrix product).
        const float* c = a.vectors[i].data();
        float acc[8] = {};
        for (int d = 0; d < kDim; d += 8)
          for (int k = 0; k < 8; ++k) acc[k] += c[d + k] * r.embedding[d + k];
        const float dot =
            ((acc[0] + acc[1]) + (acc[2] + acc[3])) + ((acc[4] + acc[5]) + (acc[6] + acc[7]));
        logits[i] = 100.0 * dot;
        top = std::max(top, logits[i]);
      }
      double sum = 0;
      for (auto& l : logits) sum += (l = std::exp(l - top));
      tagging::ScoreSet set{std::string("model:") + kModel, a.id, {}, nullptr};
      set.scores.reserve(a.nodes.size());
      for (std::size_t i = 0; i < a.nodes.size(); ++i)
        set.scores.push_back({a.nodes[i], logits[i] / sum, nullptr});
      out.push_back(std::move(set));
    }
    return out;
  }

 private:
  struct Attr {
    std::string id;
    std::vector<std::string> nodes;
    std::vector<std::vector<float>> vectors;
  };
  std::vector<Attr> classes_;
};

std::unique_ptr<tagging::TagService> make_service(library::Library& lib) {
  std::vector<std::unique_ptr<tagging::ScoreProvider>> providers;
  providers.push_back(std::make_unique<tagging::ColourScoreProvider>());
  providers.push_back(std::make_unique<EmbeddingScoreProvider>());
  return std::make_unique<tagging::TagService>(lib, std::move(providers));
}

// The builtin taxonomy with other default thresholds.
std::string taxonomy_variant(bool b) {
  std::string yaml(taxonomy::Taxonomy::builtin_yaml());
  const std::string from = "thresholds: {auto: 0.95, flag: 0.75, suggest: 0.30}";
  const std::string to = b ? "thresholds: {auto: 0.90, flag: 0.60, suggest: 0.25}"
                           : "thresholds: {auto: 0.95, flag: 0.70, suggest: 0.30}";
  yaml.replace(yaml.find(from), from.size(), to);
  return yaml;
}

void BM_RetagAfterTaxonomyChange(benchmark::State& state) {
  const int count = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  auto lib = library::Library::open(bench_library(count));
  std::int64_t decisions = 0, changed = 0, events = 0;
  for (auto _ : state) {
    state.PauseTiming();
    // Converge on variant A (untimed), then switch to B and time the re-tag.
    bool variant = false;
    if (auto cur = lib->store().latest_taxonomy_version())
      variant = cur->yaml == taxonomy_variant(false);
    if (!variant) {
      tagging::import_taxonomy_text(*lib, taxonomy_variant(false), "bench-a.yaml");
      make_service(*lib)->tag_all({.threads = threads});
    }
    tagging::import_taxonomy_text(*lib, taxonomy_variant(true), "bench-b.yaml");
    auto service = make_service(*lib);
    state.ResumeTiming();
    const auto r = service->tag_all({.threads = threads});
    decisions += r.decisions;
    changed += r.changed() + r.confidence_changed;
    events += r.events;
    // Back to A for the next iteration (untimed).
    state.PauseTiming();
    tagging::import_taxonomy_text(*lib, taxonomy_variant(false), "bench-a.yaml");
    make_service(*lib)->tag_all({.threads = threads});
    state.ResumeTiming();
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
  state.counters["assets/s"] = benchmark::Counter(static_cast<double>(count) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
  state.counters["changes"] = static_cast<double>(changed) / state.iterations();
  state.counters["events"] = static_cast<double>(events) / state.iterations();
}
BENCHMARK(BM_RetagAfterTaxonomyChange)
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

// The same re-tag without writing (reads + scoring + engine), to split read,
// decide and write costs.
void BM_RetagDryRun(benchmark::State& state) {
  auto lib = library::Library::open(bench_library(static_cast<int>(state.range(0))));
  auto service = make_service(*lib);
  std::int64_t decisions = 0;
  for (auto _ : state) decisions += service->tag_all({.threads = 1, .dry_run = true}).decisions;
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_RetagDryRun)->Arg(100'000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Engine alone on one asset's scores (no store).
void BM_DecideOneAsset(benchmark::State& state) {
  auto lib = library::Library::open(bench_library(static_cast<int>(state.range(0))));
  auto service = make_service(*lib);
  const auto& tax = service->taxonomy();
  EmbeddingScoreProvider provider;
  provider.prepare(tax);
  const auto asset = *lib->store().find_asset(1);
  const auto emb = *lib->store().embedding(1, kModel);
  tagging::AssetInput input;
  input.scores = provider.scores(tax, {asset, emb});
  input.colours = &asset.colours;
  std::int64_t decisions = 0;
  for (auto _ : state) {
    auto d = tagging::decide(tax, input);
    decisions += static_cast<std::int64_t>(d.size());
    benchmark::DoNotOptimize(d);
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_DecideOneAsset)->Arg(100'000);

}  // namespace
BENCHMARK_MAIN();
