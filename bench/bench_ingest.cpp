// Ingest throughput: decode + thumbnail + colours + perceptual hash + commit,
// for 1,000 generated 1500x1500 JPEGs on 2 threads.
//
//   build/bench_ingest                 # full run (writes ~1000 files to $TMPDIR first)
//   build/bench_ingest --benchmark_filter=Analysis   # per-stage costs only
#include <benchmark/benchmark.h>

#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "tagsmith/common/files.h"
#include "tagsmith/image/analysis.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/image/synthetic.h"
#include "tagsmith/ingest/ingest.h"

namespace fs = std::filesystem;
using namespace tagsmith;

namespace {

fs::path corpus_dir(int count, int side) {
  const fs::path dir =
      fs::temp_directory_path() /
      ("tagsmith-bench-corpus-" + std::to_string(count) + "-" + std::to_string(side));
  if (fs::exists(dir / "complete")) return dir;
  fs::create_directories(dir);
  std::mt19937 rng(42);
  for (int i = 0; i < count; ++i) {
    const cv::Scalar rgb(rng() % 256, rng() % 256, rng() % 256);
    cv::Mat bgr;
    cv::cvtColor(image::synthetic_product(side, side, static_cast<unsigned>(i), rgb), bgr,
                 cv::COLOR_RGB2BGR);
    cv::imwrite((dir / ("p" + std::to_string(i) + ".jpg")).string(), bgr,
                {cv::IMWRITE_JPEG_QUALITY, 90});
  }
  write_file_atomic(dir / "complete", "");
  return dir;
}

void BM_IngestFolder(benchmark::State& state) {
  image::init_decoder();
  const int count = static_cast<int>(state.range(0));
  const fs::path photos = corpus_dir(count, 1500);
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path lib_dir = fs::temp_directory_path() / "tagsmith-bench-lib";
    fs::remove_all(lib_dir);
    auto library = library::Library::open(lib_dir);
    state.ResumeTiming();
    ingest::IngestOptions options;
    options.threads = 2;
    const auto report = ingest::ingest(*library, {photos}, options);
    if (report.ingested != count) state.SkipWithError("not every file was ingested");
  }
  state.counters["images/s"] = benchmark::Counter(static_cast<double>(count) * state.iterations(),
                                                  benchmark::Counter::kIsRate);
}
BENCHMARK(BM_IngestFolder)->Arg(1000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// Per-stage costs on one 1500x1500 JPEG, single thread.
struct Sample {
  std::vector<std::uint8_t> jpeg;
  cv::Mat rgb;
  Sample() {
    image::init_decoder();
    cv::Mat bgr;
    cv::cvtColor(image::synthetic_product(1500, 1500, 7, {120, 10, 35}), bgr, cv::COLOR_RGB2BGR);
    cv::imencode(".jpg", bgr, jpeg, {cv::IMWRITE_JPEG_QUALITY, 90});
    rgb = image::decode(jpeg).rgb;
  }
};
const Sample& sample() {
  static const Sample s;
  return s;
}

void BM_AnalysisDecode(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(image::decode(sample().jpeg));
}
BENCHMARK(BM_AnalysisDecode)->Unit(benchmark::kMillisecond);

void BM_AnalysisThumbnail(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(image::make_thumbnail(sample().rgb));
}
BENCHMARK(BM_AnalysisThumbnail)->Unit(benchmark::kMillisecond);

void BM_AnalysisColours(benchmark::State& state) {
  const auto palette = image::Palette::builtin();
  for (auto _ : state) benchmark::DoNotOptimize(image::analyse_colours(sample().rgb, palette));
}
BENCHMARK(BM_AnalysisColours)->Unit(benchmark::kMillisecond);

void BM_AnalysisPerceptualHash(benchmark::State& state) {
  for (auto _ : state) benchmark::DoNotOptimize(image::perceptual_hash(sample().rgb));
}
BENCHMARK(BM_AnalysisPerceptualHash)->Unit(benchmark::kMillisecond);

// Colour analysis on real photos (the 400 of clothing-small's colour.csv, at
// ingest's 512 px working size), single thread; counts which product mask
// each photo got. Skipped without ../shared.
void BM_AnalysisColoursRealPhotos(benchmark::State& state) {
  const fs::path data =
      fs::path(TAGSMITH_SOURCE_DIR) / ".." / "shared" / "datasets" / "clothing-small";
  if (!fs::exists(data / "colour.csv")) {
    state.SkipWithError("no ../shared/datasets/clothing-small");
    return;
  }
  image::init_decoder();
  std::vector<cv::Mat> photos;
  for (const auto& entry : fs::recursive_directory_iterator(data / "images")) {
    if (photos.size() >= 400) break;
    if (entry.path().extension() != ".jpg") continue;
    photos.push_back(image::shrink_to(image::decode(read_file_bytes(entry.path())).rgb, 512));
  }
  const auto palette = image::Palette::builtin();
  std::map<std::string, int> masks;
  for (auto _ : state) {
    masks.clear();
    for (const auto& p : photos) ++masks[image::analyse_colours(p, palette).mask];
  }
  state.counters["images/s"] = benchmark::Counter(
      static_cast<double>(photos.size()) * state.iterations(), benchmark::Counter::kIsRate);
  for (const auto& [kind, n] : masks) state.counters["mask_" + kind] = n;
}
BENCHMARK(BM_AnalysisColoursRealPhotos)->Unit(benchmark::kMillisecond)->Iterations(3);

}  // namespace

BENCHMARK_MAIN();
