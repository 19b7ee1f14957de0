// Ingest throughput: decode + thumbnail + colours + perceptual hash + commit,
// for 1,000 generated 1500x1500 JPEGs on 2 threads; and with MobileNetV2
// (../shared/models/mobilenet-v2-1.0-224-quant) on real photos
// (../shared/datasets/clothing-small) and on the generated JPEGs.
//
//   build/bench_ingest --benchmark_filter=IngestFolder    # without a model
//   build/bench_ingest --benchmark_filter=IngestWithModel # MobileNetV2 (skipped without ../shared)
//   build/bench_ingest --benchmark_filter=Analysis        # per-stage costs only
//   build/bench_ingest --benchmark_filter=ShrinkOnLoad    # embeddings of shrunk vs full decodes
//
// Besides images/s (wall clock, which other work on the machine slows),
// each ingest run reports the process's CPU time per image and the rate two
// idle cores would give at that cost (images/s@2cores = 2 / cpu s per image),
// which is what to compare between runs on a busy machine.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <random>

#include "tagsmith/app/models.h"
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

// CPU seconds (user + system) this process has used, all threads.
double process_cpu_seconds() {
  rusage u{};
  getrusage(RUSAGE_SELF, &u);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + t.tv_usec * 1e-6; };
  return s(u.ru_utime) + s(u.ru_stime);
}

fs::path shared_dir() {
  const char* shared = std::getenv("TAGSMITH_SHARED");
  return shared ? fs::path(shared) : fs::path(TAGSMITH_SOURCE_DIR) / ".." / "shared";
}

// Ingests `listing` into a fresh library once per iteration and reports
// images/s, CPU ms per image and the rate that CPU cost gives on 2 cores.
void run_ingest(benchmark::State& state, const ingest::FileListing& listing,
                ingest::ImageEmbedder* embedder) {
  const auto count = static_cast<std::int64_t>(listing.files.size());
  double cpu = 0;
  for (auto _ : state) {
    state.PauseTiming();
    const fs::path lib_dir = fs::temp_directory_path() / "tagsmith-bench-lib";
    fs::remove_all(lib_dir);
    auto library = library::Library::open(lib_dir);
    const double cpu_before = process_cpu_seconds();
    state.ResumeTiming();
    ingest::IngestOptions options;
    options.threads = 2;
    options.embedder = embedder;
    const auto report = ingest::ingest_files(*library, listing, options);
    state.PauseTiming();
    cpu += process_cpu_seconds() - cpu_before;
    state.ResumeTiming();
    // (Exact copies among the files become aliases, without an embedding.)
    if (report.ingested + report.aliases != count)
      state.SkipWithError("not every file was ingested");
    if (embedder && report.embedded != report.ingested)
      state.SkipWithError("not every asset was embedded");
  }
  const double images = static_cast<double>(count) * static_cast<double>(state.iterations());
  state.counters["images/s"] = benchmark::Counter(images, benchmark::Counter::kIsRate);
  state.counters["cpu_ms/image"] = 1000.0 * cpu / images;
  state.counters["images/s@2cores"] = 2.0 * images / cpu;
}

void BM_IngestFolder(benchmark::State& state) {
  image::init_decoder();
  const int count = static_cast<int>(state.range(0));
  run_ingest(state, ingest::list_image_files({corpus_dir(count, 1500)}), nullptr);
}
BENCHMARK(BM_IngestFolder)->Arg(1000)->Unit(benchmark::kSecond)->Iterations(1)->UseRealTime();

// MobileNetV2 as ingest's embedder. `full_resolution` hides its input size,
// so ingest decodes every photo in full (as it did before shrink-on-load).
class ModelEmbedder final : public ingest::ImageEmbedder {
 public:
  ModelEmbedder(std::shared_ptr<const app::Encoder> encoder, bool full_resolution)
      : encoder_(std::move(encoder)), full_resolution_(full_resolution) {}
  std::string version() const override { return encoder_->version(); }
  int preferred_batch() const override { return encoder_->preferred_batch(); }
  int input_size() const override { return full_resolution_ ? 0 : encoder_->input_size(); }
  std::vector<std::vector<float>> embed(const std::vector<cv::Mat>& images) override {
    return encoder_->embed_images(images);
  }
  const app::Encoder& encoder() const { return *encoder_; }

 private:
  std::shared_ptr<const app::Encoder> encoder_;
  bool full_resolution_;
};

std::shared_ptr<const app::Encoder> mobilenet() {
  static const std::shared_ptr<const app::Encoder> encoder = [] {
    const fs::path dir = shared_dir() / "models" / "mobilenet-v2-1.0-224-quant";
    return fs::exists(dir) ? app::load_encoder(dir, 1) : nullptr;
  }();
  return encoder;
}

// The first `count` photos of clothing-small (train, then validation), in
// the order labels.csv lists them.
std::vector<fs::path> real_photos(std::size_t count) {
  const fs::path data = shared_dir() / "datasets" / "clothing-small";
  std::vector<fs::path> out;
  if (!fs::exists(data / "labels.csv")) return out;
  const std::string csv = read_file_text(data / "labels.csv");
  std::size_t start = csv.find('\n') + 1;  // past the header
  while (start < csv.size() && out.size() < count) {
    std::size_t end = csv.find('\n', start);
    if (end == std::string::npos) end = csv.size();
    const std::string line = csv.substr(start, end - start);
    start = end + 1;
    if (const auto comma = line.find(','); comma != std::string::npos)
      out.push_back(data / line.substr(0, comma));
  }
  return out;
}

// Arg 0: 0 = real photos (clothing-small, mostly 400x533), 1 = the generated
// 1500x1500 JPEGs. Arg 1: 1 = decode in full for the model (before
// shrink-on-load), 0 = as ingest does.
void BM_IngestWithModel(benchmark::State& state) {
  image::init_decoder();
  const auto encoder = mobilenet();
  if (!encoder) {
    state.SkipWithError("no ../shared/models/mobilenet-v2-1.0-224-quant");
    return;
  }
  ingest::FileListing listing;
  if (state.range(0) == 0) {
    listing.files = real_photos(1000);
    if (listing.files.empty()) {
      state.SkipWithError("no ../shared/datasets/clothing-small");
      return;
    }
  } else {
    listing = ingest::list_image_files({corpus_dir(1000, 1500)});
  }
  ModelEmbedder embedder(encoder, state.range(1) == 1);
  run_ingest(state, listing, &embedder);
}
BENCHMARK(BM_IngestWithModel)
    ->ArgNames({"synthetic", "full"})
    ->Args({0, 0})
    ->Args({0, 1})
    ->Args({1, 0})
    ->Args({1, 1})
    ->Unit(benchmark::kSecond)
    ->Iterations(1)
    ->UseRealTime();

double cosine(const std::vector<float>& a, const std::vector<float>& b) {
  double ab = 0, aa = 0, bb = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ab += double(a[i]) * b[i];
    aa += double(a[i]) * a[i];
    bb += double(b[i]) * b[i];
  }
  return ab / std::sqrt(aa * bb);
}

// How much shrink-on-load changes what the model sees: MobileNetV2's
// embedding of each photo decoded as ingest decodes it (512 px analysis,
// 224 on the short side) against that of the full decode. Arg 0 = 200 real
// photos of clothing-small enlarged 3x (1200x1600: its own photos are too
// small to be shrunk), 1 = 200 of the generated 1500x1500 JPEGs.
void BM_ShrinkOnLoadEmbeddingCosine(benchmark::State& state) {
  image::init_decoder();
  const auto encoder = mobilenet();
  if (!encoder) {
    state.SkipWithError("no ../shared/models/mobilenet-v2-1.0-224-quant");
    return;
  }
  std::vector<std::vector<std::uint8_t>> jpegs;
  if (state.range(0) == 0) {
    for (const auto& path : real_photos(200)) {
      const cv::Mat rgb = image::decode(read_file_bytes(path)).rgb;
      cv::Mat big, bgr;
      cv::resize(rgb, big, cv::Size(rgb.cols * 3, rgb.rows * 3), 0, 0, cv::INTER_CUBIC);
      cv::cvtColor(big, bgr, cv::COLOR_RGB2BGR);
      jpegs.emplace_back();
      cv::imencode(".jpg", bgr, jpegs.back(), {cv::IMWRITE_JPEG_QUALITY, 90});
    }
    if (jpegs.empty()) {
      state.SkipWithError("no ../shared/datasets/clothing-small");
      return;
    }
  } else {
    const fs::path dir = corpus_dir(1000, 1500);
    for (int i = 0; i < 200; ++i)
      jpegs.push_back(read_file_bytes(dir / ("p" + std::to_string(i) + ".jpg")));
  }
  const image::NeededSize need{512, encoder->input_size()};
  double sum = 0, worst = 1;
  int shrunk = 0;
  for (auto _ : state) {
    sum = 0;
    worst = 1;
    shrunk = 0;
    for (const auto& bytes : jpegs) {
      const image::DecodedImage small = image::decode(bytes, {}, need);
      shrunk += small.shrink > 1 ? 1 : 0;
      const auto e = encoder->embed_images({image::decode(bytes).rgb, small.rgb});
      const double c = cosine(e[0], e[1]);
      sum += c;
      worst = std::min(worst, c);
    }
  }
  state.counters["mean_cosine"] = sum / static_cast<double>(jpegs.size());
  state.counters["min_cosine"] = worst;
  state.counters["shrunk"] = shrunk;
}
BENCHMARK(BM_ShrinkOnLoadEmbeddingCosine)
    ->ArgName("synthetic")
    ->Arg(0)
    ->Arg(1)
    ->Unit(benchmark::kSecond)
    ->Iterations(1);

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

// Arg: the longest side needed (0 = full resolution; 512 = ingest's
// analysis, which shrinks a 1500x1500 JPEG by 2 on load).
void BM_AnalysisDecode(benchmark::State& state) {
  const image::NeededSize need{static_cast<int>(state.range(0)), 0};
  for (auto _ : state) benchmark::DoNotOptimize(image::decode(sample().jpeg, {}, need));
}
BENCHMARK(BM_AnalysisDecode)->ArgName("longest")->Arg(0)->Arg(512)->Unit(benchmark::kMillisecond);

// The working copy ingest analyses: 512 px from the 750 px a shrink-on-load
// decode gives (Arg 512), or from the full 1500 px decode (Arg 0).
void BM_AnalysisWorkingCopy(benchmark::State& state) {
  const cv::Mat decoded =
      image::decode(sample().jpeg, {}, {static_cast<int>(state.range(0)), 0}).rgb;
  for (auto _ : state) benchmark::DoNotOptimize(image::shrink_to(decoded, 512));
}
BENCHMARK(BM_AnalysisWorkingCopy)
    ->ArgName("longest")
    ->Arg(0)
    ->Arg(512)
    ->Unit(benchmark::kMillisecond);

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

// The malloc settings of the tagsmith binary (src/cli/main.cpp): without
// them glibc returns every photo's decode buffers to the kernel and faults
// them in afresh for the next, which costs more CPU than the decoding here
// (17-20 ms per 1500x1500 JPEG instead of 12, measured loaded).
int main(int argc, char** argv) {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 1 << 30);
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
