// The person model of colour analysis (DeepLab v3 MobileNetV2, 513 x 513,
// ../shared/models/deeplabv3-mnv2-pascal-quant) and the skin gate in front
// of it, on an ingest working image (longest side 512):
//   BM_PersonMask/threads:N   ms per image, torch intra-op threads = N, one caller;
//   BM_PersonMaskTwoWorkers   two ingest workers calling at once, 1 thread each
//                             (real time per image = wall time / images);
//   BM_SkinGate               the gate every ingested photo pays (skin_fraction).
// Run from the repository root: build/bench_person [--benchmark_min_time=2].
// Skips the model benchmarks when it is absent ($TAGSMITH_SHARED overrides
// ../shared). On a machine shared with other busy processes, libgomp's
// spinning workers make 2 threads slower than 1; compare with
// OMP_WAIT_POLICY=PASSIVE.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "tagsmith/image/analysis.h"
#include "tagsmith/image/skin.h"
#include "tagsmith/vision/person_segmenter.h"

namespace {

namespace fs = std::filesystem;
using tagsmith::vision::PersonSegmenter;

fs::path shared() {
  const char* s = std::getenv("TAGSMITH_SHARED");
  return s ? fs::path(s) : fs::path("../shared");
}
fs::path model_dir() {
  return shared() / "models" / "deeplabv3-mnv2-pascal-quant";
}

// grace_hopper.bmp (a person) shrunk as ingest shrinks its working copy;
// random pixels of the same size when it is absent (the cost is the same).
const cv::Mat& working_image() {
  static const cv::Mat img = [] {
    const fs::path p =
        shared() / "models" / "mobilenet-v2-1.0-224-quant" / "reference" / "grace_hopper.bmp";
    cv::Mat bgr = cv::imread(p.string(), cv::IMREAD_COLOR), rgb;
    if (bgr.empty()) {
      rgb.create(512, 384, CV_8UC3);
      cv::randu(rgb, 0, 255);
      return rgb;
    }
    cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
    return tagsmith::image::shrink_to(rgb, 512);
  }();
  return img;
}

// Loaded per benchmark: RuntimeOptions::threads is applied (process-wide) at load.
std::unique_ptr<PersonSegmenter> load(benchmark::State& state, int threads) {
  if (!fs::exists(model_dir())) {
    state.SkipWithError(("no person model at " + model_dir().string()).c_str());
    return nullptr;
  }
  auto s = PersonSegmenter::load(model_dir(), {.threads = threads});
  benchmark::DoNotOptimize(s->person_mask(working_image()));  // warm-up: oneDNN JIT
  return s;
}

void BM_PersonMask(benchmark::State& state) {
  const int threads = static_cast<int>(state.range(0));
  const auto s = load(state, threads);
  if (!s) return;
  for (auto _ : state) benchmark::DoNotOptimize(s->person_mask(working_image()));
  state.SetItemsProcessed(state.iterations());
  state.counters["threads"] = threads;
  state.counters["ms/image"] =
      benchmark::Counter(static_cast<double>(state.iterations()) / 1000.0,
                         benchmark::Counter::kIsRate | benchmark::Counter::kInvert);
}
BENCHMARK(BM_PersonMask)
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

// Ingest's shape: N decode workers each call the (shared, thread-safe)
// segmenter with torch on 1 intra-op thread.
std::unique_ptr<PersonSegmenter> g_shared;
void BM_PersonMaskTwoWorkers(benchmark::State& state) {
  if (!fs::exists(model_dir())) {
    state.SkipWithError(("no person model at " + model_dir().string()).c_str());
    return;
  }
  // The loops of both threads start together, after this set-up.
  if (state.thread_index() == 0) g_shared = load(state, 1);
  for (auto _ : state) benchmark::DoNotOptimize(g_shared->person_mask(working_image()));
  state.SetItemsProcessed(state.iterations());
  if (state.thread_index() == 0) state.counters["threads"] = 1;
}
BENCHMARK(BM_PersonMaskTwoWorkers)->Threads(2)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_SkinGate(benchmark::State& state) {
  const cv::Mat& img = working_image();
  for (auto _ : state) benchmark::DoNotOptimize(tagsmith::image::skin_fraction(img));
  state.SetItemsProcessed(state.iterations());
  state.counters["skin"] = tagsmith::image::skin_fraction(img);
}
BENCHMARK(BM_SkinGate)->Unit(benchmark::kMicrosecond);

}  // namespace

BENCHMARK_MAIN();
