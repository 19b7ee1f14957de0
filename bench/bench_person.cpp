// The person model of colour analysis (DeepLab v3 MobileNetV2, 513 x 513,
// ../shared/models/deeplabv3-mnv2-pascal-quant) and the skin gate in front
// of it, on an ingest working image (longest side 512):
//   BM_PersonMask/threads:N   ms per image, torch intra-op threads = N, one caller;
//   BM_PersonMaskTwoWorkers   two ingest workers calling at once, 1 thread each
//                             (real time per image = wall time / images);
//   BM_SkinGate               the gate every ingested photo pays (skin_fraction);
//   BM_SkinGateOnClothingSmall  how many real catalogue photos pass it;
//   BM_PersonModelOnClothingSmall  (TAGSMITH_BENCH_DATASET=1, ~4 min) what the
//                             model finds on them.
// Run from the repository root: build/bench_person [--benchmark_min_time=2].
// Skips the model benchmarks when it is absent ($TAGSMITH_SHARED overrides
// ../shared). On a machine shared with other busy processes, libgomp's
// spinning workers make 2 threads slower than 1; compare with
// OMP_WAIT_POLICY=PASSIVE.
#include <benchmark/benchmark.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <sstream>

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

// The 400 photos of clothing-small/colour.csv (13 with a person), each
// shrunk to the working size as ingest does; empty when absent.
struct LabelledPhoto {
  cv::Mat rgb;
  bool has_person = false;
};
const std::vector<LabelledPhoto>& clothing_small() {
  static const std::vector<LabelledPhoto> photos = [] {
    std::vector<LabelledPhoto> out;
    const fs::path dir = shared() / "datasets" / "clothing-small";
    std::ifstream csv(dir / "colour.csv");
    std::string line;
    std::getline(csv, line);  // image,colour,garment,split,has_person,background
    while (std::getline(csv, line)) {
      std::vector<std::string> f;
      std::stringstream ss(line);
      for (std::string x; std::getline(ss, x, ',');) f.push_back(x);
      if (f.size() < 5) continue;
      cv::Mat bgr = cv::imread((dir / f[0]).string(), cv::IMREAD_COLOR), rgb;
      if (bgr.empty()) continue;
      cv::cvtColor(bgr, rgb, cv::COLOR_BGR2RGB);
      out.push_back({tagsmith::image::shrink_to(rgb, 512), f[4] == "yes"});
    }
    return out;
  }();
  return photos;
}

// How often the gate lets the model run on real catalogue photos.
// pass_person: share of the person photos that pass (the gate's recall);
// pass_other: share of the others (runs that find nobody).
void BM_SkinGateOnClothingSmall(benchmark::State& state) {
  const auto& photos = clothing_small();
  if (photos.empty()) {
    state.SkipWithError("no clothing-small/colour.csv under ../shared/datasets");
    return;
  }
  int person = 0, person_pass = 0, other = 0, other_pass = 0;
  for (auto _ : state) {
    person = person_pass = other = other_pass = 0;
    for (const auto& p : photos) {
      const bool pass = tagsmith::image::skin_fraction(p.rgb) >= 0.01;  // ingest's default gate
      (p.has_person ? person : other) += 1;
      (p.has_person ? person_pass : other_pass) += pass;
    }
  }
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(photos.size()));
  state.counters["photos"] = static_cast<double>(photos.size());
  state.counters["pass_person"] = person ? static_cast<double>(person_pass) / person : 0;
  state.counters["pass_other"] = other ? static_cast<double>(other_pass) / other : 0;
}
BENCHMARK(BM_SkinGateOnClothingSmall)->Unit(benchmark::kMillisecond)->Iterations(1);

// What the model finds on those photos (about 0.5 s each on one core, so
// only with TAGSMITH_BENCH_DATASET=1): mean person share of the frame, and
// how many photos have a person region over 5 % of the frame, per label.
void BM_PersonModelOnClothingSmall(benchmark::State& state) {
  const auto& photos = clothing_small();
  if (photos.empty()) {
    state.SkipWithError("no clothing-small/colour.csv under ../shared/datasets");
    return;
  }
  const auto s = load(state, 1);
  if (!s) return;
  double share_person = 0, share_other = 0;
  int person = 0, other = 0, found_person = 0, found_other = 0;
  for (auto _ : state) {
    for (const auto& p : photos) {
      const cv::Mat m = s->person_mask(p.rgb);
      const double share = cv::countNonZero(m) / static_cast<double>(m.total());
      (p.has_person ? share_person : share_other) += share;
      (p.has_person ? person : other) += 1;
      (p.has_person ? found_person : found_other) += share > 0.05;
    }
  }
  state.SetItemsProcessed(static_cast<std::int64_t>(person + other));
  state.counters["share_person"] = person ? share_person / person : 0;
  state.counters["share_other"] = other ? share_other / other : 0;
  state.counters["found_person"] = person ? static_cast<double>(found_person) / person : 0;
  state.counters["found_other"] = other ? static_cast<double>(found_other) / other : 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (const char* e = std::getenv("TAGSMITH_BENCH_DATASET"); e && std::string(e) == "1")
    benchmark::RegisterBenchmark("BM_PersonModelOnClothingSmall", BM_PersonModelOnClothingSmall)
        ->Unit(benchmark::kSecond)
        ->Iterations(1)
        ->UseRealTime();
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
