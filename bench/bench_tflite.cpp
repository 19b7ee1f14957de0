// MobileNetV2 (../shared/models/mobilenet-v2-1.0-224-quant) on the TFLite
// runtime: images/s of the encode (input -> pooled 1280-d feature) at batch
// 1 and 32, the full classifier at batch 32, and the classifier crop of a
// 400x533 photo. Run from the repository root: build/bench_tflite
// [--benchmark_min_time=2]. Threads: $TAGSMITH_THREADS (default 2). Skips
// when the model is absent ($TAGSMITH_SHARED overrides ../shared).
// Precision: $TAGSMITH_PRECISION (fp32 or bf16; default fp32). CPU time
// is the whole process's. On a busy machine libgomp's spinning workers make
// 2 threads slower than 1; compare with OMP_WAIT_POLICY=PASSIVE.
#include <benchmark/benchmark.h>
#include <malloc.h>

#include <cstdlib>
#include <filesystem>
#include <random>

#include "tagsmith/vision/preprocess.h"
#include "tagsmith/vision/tflite_model.h"

namespace {

namespace fs = std::filesystem;
using tagsmith::vision::TfliteModel;

// As tagsmith's main(): large activation buffers stay on the heap instead of
// being mmap'ed and page-faulted in on every call (which costs more than the
// arithmetic on a busy machine and hides the difference between precisions).
const bool kHeapBuffers = [] {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  return true;
}();

int threads() {
  const char* t = std::getenv("TAGSMITH_THREADS");
  return t ? std::atoi(t) : 2;
}

tagsmith::vision::Precision precision() {
  const char* p = std::getenv("TAGSMITH_PRECISION");
  return p ? tagsmith::vision::parse_precision(p) : tagsmith::vision::Precision::fp32;
}

fs::path model_path() {
  const char* shared = std::getenv("TAGSMITH_SHARED");
  return fs::path(shared ? shared : "../shared") / "models" / "mobilenet-v2-1.0-224-quant" /
         "mobilenet_v2_1.0_224_quant.tflite";
}

const TfliteModel* model() {
  static std::unique_ptr<TfliteModel> m =
      fs::exists(model_path())
          ? TfliteModel::load(model_path(), {.threads = threads(), .precision = precision()})
          : nullptr;
  return m.get();
}

void run(benchmark::State& state, const std::string& output) {
  const TfliteModel* m = model();
  if (!m) {
    state.SkipWithError(("no model at " + model_path().string()).c_str());
    return;
  }
  const int batch = static_cast<int>(state.range(0));
  std::vector<float> x(static_cast<std::size_t>(batch) * 224 * 224 * 3);
  std::mt19937 rng(1);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto& v : x) v = u(rng);
  benchmark::DoNotOptimize(m->run(x, batch, output));  // warm-up: oneDNN JIT
  for (auto _ : state) benchmark::DoNotOptimize(m->run(x, batch, output));
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["threads"] = threads();
  state.SetLabel(std::string(tagsmith::vision::precision_name(precision())));
}

void BM_MobileNetV2Encode(benchmark::State& state) {
  run(state, "MobilenetV2/Logits/AvgPool");
}
BENCHMARK(BM_MobileNetV2Encode)
    ->Arg(1)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_MobileNetV2Classify(benchmark::State& state) {
  run(state, "MobilenetV2/Predictions/Softmax");
}
BENCHMARK(BM_MobileNetV2Classify)
    ->Arg(32)
    ->Unit(benchmark::kMillisecond)
    ->UseRealTime()
    ->MeasureProcessCPUTime();

void BM_ClassifierCrop400x533(benchmark::State& state) {
  cv::Mat img(533, 400, CV_8UC3);
  cv::randu(img, 0, 255);
  for (auto _ : state) benchmark::DoNotOptimize(tagsmith::vision::classifier_resize_crop(img, 224));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_ClassifierCrop400x533)->Unit(benchmark::kMillisecond);

}  // namespace

BENCHMARK_MAIN();
