// Re-tag throughput: decisions per second over stored assets -- colour
// analyses and 512-d embeddings -- after (a) a threshold change and (b) a
// taxonomy change, at 100,000 and 1,000,000 assets.
//
// The library is synthesised straight into its SQLite file (random colours
// named against the palette, random unit embeddings; the rows add_asset
// would write, 20,000 assets per transaction) and cached in $TMPDIR between
// runs; the first tagging of a fresh library is untimed. A synthetic
// ScoreProvider scores every non-palette attribute from the stored embedding
// (softmax of 100 * cosine with a random class vector per node, like CLIP
// zero-shot), so the measured path includes reading embeddings back from the
// store. Each timed run imports a taxonomy that differs from the current one
// and re-tags the whole catalogue:
//   Threshold: other default thresholds (auto/flag/suggest), flipped each run;
//              lowering them adds a suggestion to most assets (new rows),
//              raising them removes those again, so run it twice;
//   Taxonomy:  a sixth `scene` node added or removed, flipped each run (every
//              asset's scene scores move, many values change).
// Every run adds its events to the cached library, which slows later runs a
// little; delete $TMPDIR/tagsmith-bench-retag-* to start over.
//
//   build/bench_retag --benchmark_filter='Retag.*/100000/'    # 100k, 1 and 2 threads
//   build/bench_retag --benchmark_filter='Retag.*/1000000/'   # 1M (~12 GB, ~6 min once)
//   build/bench_retag --benchmark_filter=Decide               # engine only, per asset
#include <SQLiteCpp/SQLiteCpp.h>
#include <benchmark/benchmark.h>
#include <fmt/format.h>
#include <sys/resource.h>

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

// The rows Store::add_asset writes (asset, colours, path, embedding, pending
// tag work), written directly in transactions of 20,000 assets: a million
// one-asset transactions would take many minutes.
void write_assets(const fs::path& db_path, int count, const image::Palette& palette) {
  SQLite::Database db(db_path.string(), SQLite::OPEN_READWRITE);
  db.exec("PRAGMA synchronous=OFF");
  SQLite::Statement asset(db,
                          "INSERT INTO assets (id, sha256, source_path, file_size, width, height, "
                          "format, phash, ingested_at, product_fraction, background_removed, "
                          "colour_mask) VALUES (?,?,?,0,?,?,?,0,?,1,0,'')");
  SQLite::Statement colour(
      db,
      "INSERT INTO asset_colours (asset_id, rank, lab_l, lab_a, lab_b, rgb_hex, share, family, "
      "shade, delta_e, alt_family, alt_delta_e) VALUES (?,?,?,?,?,?,?,?,?,?,'',0)");
  SQLite::Statement path(db,
                         "INSERT INTO asset_paths (path, asset_id, file_size, mtime_ns, is_alias) "
                         "VALUES (?,?,0,0,0)");
  SQLite::Statement embedding(
      db, "INSERT INTO embeddings (asset_id, model_version, dim, vector, seq) VALUES (?,?,?,?,?)");
  SQLite::Statement work(db,
                         "INSERT INTO work_queue (asset_id, step, queued_at) VALUES (?, 'tag', ?)");
  std::mt19937 rng(7);
  constexpr int kPerCommit = 20'000;
  for (int first = 0; first < count; first += kPerCommit) {
    SQLite::Transaction tx(db);
    for (int i = first; i < std::min(count, first + kPerCommit); ++i) {
      const auto a = random_asset(i, rng, palette);
      const auto e = random_unit(rng);
      const std::int64_t id = i + 1;
      asset.reset();
      asset.bind(1, id);
      asset.bind(2, a.sha256);
      asset.bind(3, a.source_path);
      asset.bind(4, a.width);
      asset.bind(5, a.height);
      asset.bind(6, a.format);
      asset.bind(7, a.ingested_at);
      asset.exec();
      int rank = 0;
      for (const auto& c : a.colours.colours) {
        colour.reset();
        colour.bind(1, id);
        colour.bind(2, rank++);
        colour.bind(3, c.lab.L);
        colour.bind(4, c.lab.a);
        colour.bind(5, c.lab.b);
        colour.bind(6, fmt::format("#{:02x}{:02x}{:02x}", c.rgb[0], c.rgb[1], c.rgb[2]));
        colour.bind(7, c.share);
        colour.bind(8, c.family);
        colour.bind(9, c.shade);
        colour.bind(10, c.delta_e);
        colour.exec();
      }
      path.reset();
      path.bind(1, a.source_path);
      path.bind(2, id);
      path.exec();
      embedding.reset();
      embedding.bind(1, id);
      embedding.bind(2, kModel);
      embedding.bind(3, kDim);
      embedding.bind(4, e.data(), static_cast<int>(e.size() * sizeof(float)));
      embedding.bind(5, id);
      embedding.exec();
      work.reset();
      work.bind(1, id);
      work.bind(2, a.ingested_at);
      work.exec();
    }
    tx.commit();
  }
  db.exec(fmt::format("UPDATE change_counters SET value = {} WHERE name = 'embedding_seq'", count));
}

fs::path bench_library(int count) {
  const fs::path dir =
      fs::temp_directory_path() / ("tagsmith-bench-retag-" + std::to_string(count));
  if (fs::exists(dir / "complete")) return dir;
  fs::remove_all(dir);
  {
    auto lib = library::Library::open(dir);  // creates the schema and the palette
    write_assets(dir / "library.db", count, lib->palette());
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

// The builtin taxonomy with other default thresholds (`lower`) and/or a
// sixth `scene` node (`outdoor`).
struct Variant {
  bool lower = false, outdoor = false;
};
std::string taxonomy_variant(Variant v) {
  std::string yaml(taxonomy::Taxonomy::builtin_yaml());
  const std::string from = "thresholds: {auto: 0.95, flag: 0.75, suggest: 0.30}";
  const std::string to = v.lower ? "thresholds: {auto: 0.90, flag: 0.60, suggest: 0.25}"
                                 : "thresholds: {auto: 0.95, flag: 0.70, suggest: 0.30}";
  yaml.replace(yaml.find(from), from.size(), to);
  if (v.outdoor) {
    const std::string after = "prompts: [\"a close-up detail photo of fabric or stitching\"]}\n";
    yaml.insert(yaml.find(after) + after.size(),
                "      - {id: outdoor, labels: {en: Outdoor, zh: 户外}, prompts: [\"a product "
                "photographed outdoors\"]}\n");
  }
  return yaml;
}

// The variant the library is under, after converging (untimed) when it is
// under none of them.
Variant current_variant(library::Library& lib, int threads) {
  if (auto cur = lib.store().latest_taxonomy_version()) {
    for (bool lower : {false, true})
      for (bool outdoor : {false, true})
        if (cur->yaml == taxonomy_variant({lower, outdoor})) {
          if (lib.store().pending_work(store::WorkStep::kTag, 0, 1).empty())
            return {lower, outdoor};
        }
  }
  tagging::import_taxonomy_text(lib, taxonomy_variant({}), "bench-a.yaml");
  make_service(lib)->tag_all({.threads = threads});
  return {};
}

double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto sec = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec / 1e6; };
  return sec(u.ru_utime) + sec(u.ru_stime);
}

// Each run flips one aspect of the taxonomy from whatever the cached library
// is under and times the re-tag of every asset.
void retag_after_change(benchmark::State& state, bool thresholds) {
  const int count = static_cast<int>(state.range(0));
  const int threads = static_cast<int>(state.range(1));
  auto lib = library::Library::open(bench_library(count));
  std::int64_t decisions = 0, changed = 0, events = 0;
  double seconds = 0, cpu = 0, read = 0, write = 0;
  for (auto _ : state) {
    state.PauseTiming();
    Variant v = current_variant(*lib, threads);
    (thresholds ? v.lower : v.outdoor) ^= true;
    tagging::import_taxonomy_text(*lib, taxonomy_variant(v), "bench-b.yaml");
    auto service = make_service(*lib);
    const double cpu_before = process_cpu_seconds();
    state.ResumeTiming();
    const auto r = service->tag_all({.threads = threads});
    cpu += process_cpu_seconds() - cpu_before;
    decisions += r.decisions;
    changed += r.changed() + r.confidence_changed;
    events += r.events;
    seconds += r.seconds;
    read += r.read_seconds;
    write += r.write_seconds;
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
  state.counters["assets/s"] = benchmark::Counter(static_cast<double>(count) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
  state.counters["seconds"] = seconds / state.iterations();
  // Wall time of the store's reads and writes (each overlaps deciding).
  state.counters["read_s"] = read / state.iterations();
  state.counters["write_s"] = write / state.iterations();
  // CPU seconds of every thread: on a shared machine, wall time includes
  // waiting for the cores; cpu_seconds / 2 is what two idle cores would take.
  state.counters["cpu_seconds"] = cpu / state.iterations();
  state.counters["changes"] = static_cast<double>(changed) / state.iterations();
  state.counters["events"] = static_cast<double>(events) / state.iterations();
}

void BM_RetagAfterThresholdChange(benchmark::State& state) {
  retag_after_change(state, true);
}
void BM_RetagAfterTaxonomyChange(benchmark::State& state) {
  retag_after_change(state, false);
}
BENCHMARK(BM_RetagAfterThresholdChange)
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Args({1'000'000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();
BENCHMARK(BM_RetagAfterTaxonomyChange)
    ->Args({100'000, 2})
    ->Args({1'000'000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

// The same re-tag without writing (reads + scoring + engine), to split read,
// decide and write costs.
void BM_RetagDryRun(benchmark::State& state) {
  auto lib = library::Library::open(bench_library(static_cast<int>(state.range(0))));
  auto service = make_service(*lib);
  std::int64_t decisions = 0;
  double read = 0;
  for (auto _ : state) {
    const auto r = service->tag_all({.threads = static_cast<int>(state.range(1)), .dry_run = true});
    decisions += r.decisions;
    read += r.read_seconds;
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
  state.counters["read_s"] = read / state.iterations();
}
BENCHMARK(BM_RetagDryRun)
    ->Args({100'000, 1})
    ->Args({100'000, 2})
    ->Args({1'000'000, 2})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

// Engine alone on one asset's scores (no store), with every decision's
// evidence (what `tagsmith explain` needs) and with none (what a re-tag
// needs for an unchanged tag).
void decide_one_asset(benchmark::State& state, bool evidence) {
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
    auto d = tagging::decide(tax, input, [&](const tagging::Decision&) { return evidence; });
    decisions += static_cast<std::int64_t>(d.size());
    benchmark::DoNotOptimize(d);
  }
  state.counters["decisions/s"] =
      benchmark::Counter(static_cast<double>(decisions), benchmark::Counter::kIsRate);
}
void BM_DecideOneAsset(benchmark::State& state) {
  decide_one_asset(state, true);
}
void BM_DecideOneAssetWithoutEvidence(benchmark::State& state) {
  decide_one_asset(state, false);
}
BENCHMARK(BM_DecideOneAsset)->Arg(100'000);
BENCHMARK(BM_DecideOneAssetWithoutEvidence)->Arg(100'000);

}  // namespace
BENCHMARK_MAIN();
