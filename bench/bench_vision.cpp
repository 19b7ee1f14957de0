// CLIP encoder throughput on CPU with ViT-B/32 geometry and random weights
// (speed does not depend on the values): images/s at batch 1, 8 and 32,
// text encodes/s, achieved GFLOP/s (FLOPs counted analytically) and peak RSS.
// Run: build/bench_vision [--benchmark_min_time=2]. Threads: $TAGSMITH_THREADS
// (default 2). Precision: $TAGSMITH_PRECISION (fp32, bf16 or int8; default
// fp32). Uses the real BPE vocabulary from ../shared when present.
#include <benchmark/benchmark.h>
#include <malloc.h>
#include <sys/resource.h>

#include <cstdlib>
#include <fstream>
#include <nlohmann/json.hpp>
#include <random>

#include "tagsmith/vision/clip_model.h"
#include "tagsmith/vision/preprocess.h"

namespace {

namespace fs = std::filesystem;
using tagsmith::vision::ClipConfig;
using tagsmith::vision::ClipModel;
using tagsmith::vision::expected_tensors;

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

// Writes a random-weight ViT-B/32 checkpoint (fp16 to halve the file).
fs::path make_checkpoint() {
  const fs::path dir = fs::temp_directory_path() / "tagsmith-bench-vit-b-32";
  fs::create_directories(dir);
  const nlohmann::json cfg = {{"projection_dim", 512},
                              {"text_config",
                               {{"hidden_size", 512},
                                {"intermediate_size", 2048},
                                {"num_hidden_layers", 12},
                                {"num_attention_heads", 8},
                                {"vocab_size", 49408},
                                {"max_position_embeddings", 77},
                                {"eos_token_id", 49407}}},
                              {"vision_config",
                               {{"hidden_size", 768},
                                {"intermediate_size", 3072},
                                {"num_hidden_layers", 12},
                                {"num_attention_heads", 12},
                                {"image_size", 224},
                                {"patch_size", 32}}}};
  std::ofstream(dir / "config.json") << cfg.dump(2);
  if (!fs::exists(dir / "model.safetensors")) {
    nlohmann::json header = nlohmann::json::object();
    std::uint64_t off = 0;
    const auto tensors = expected_tensors(ClipConfig::from_json_text(cfg.dump(), "bench"));
    for (const auto& t : tensors) {
      if (t.optional) continue;
      std::int64_t n = 1;
      for (auto d : t.shape) n *= d;
      header[t.name] = {{"dtype", "F16"}, {"shape", t.shape}, {"data_offsets", {off, off + 2 * n}}};
      off += 2 * n;
    }
    std::string h = header.dump();
    h.append((8 - h.size() % 8) % 8, ' ');
    std::ofstream f(dir / "model.safetensors", std::ios::binary);
    const std::uint64_t hl = h.size();
    f.write(reinterpret_cast<const char*>(&hl), 8);
    f << h;
    // Small random fp16 values in [-0.03, 0.03]; exponents 0x2000..0x2400.
    std::mt19937 rng(1);
    std::vector<std::uint16_t> buf(1 << 20);
    for (std::uint64_t done = 0; done < off; done += 2 * buf.size()) {
      for (auto& v : buf)
        v = static_cast<std::uint16_t>(0x2000 + (rng() & 0x07FF)) | ((rng() & 1) << 15);
      f.write(reinterpret_cast<const char*>(buf.data()),
              static_cast<std::streamsize>(std::min<std::uint64_t>(2 * buf.size(), off - done)));
    }
  }
  const fs::path gz =
      fs::path("..") / "shared" / "models" / "clip-tokenizer" / "bpe_simple_vocab_16e6.txt.gz";
  if (fs::exists(gz)) {
    fs::copy_file(gz, dir / "bpe_simple_vocab_16e6.txt.gz", fs::copy_options::skip_existing);
  } else {
    // Byte-level fallback: no merges, so texts take more tokens than real.
    nlohmann::json vocab = nlohmann::json::object();
    // from_directory needs vocab.json + merges.txt; build the 512 byte symbols.
    std::vector<int> bs;
    for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
    for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
    for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
    std::vector<int> cs(256, -1);
    for (int b : bs) cs[b] = b;
    int n = 0, id = 0;
    for (int b = 0; b < 256; ++b)
      if (cs[b] < 0) cs[b] = 256 + n++;
    auto utf8 = [](int c) {
      std::string s;
      if (c < 0x80)
        s += static_cast<char>(c);
      else {
        s += static_cast<char>(0xC0 | (c >> 6));
        s += static_cast<char>(0x80 | (c & 0x3F));
      }
      return s;
    };
    for (int b = 0; b < 256; ++b) vocab[utf8(cs[b])] = id++;
    for (int b = 0; b < 256; ++b) vocab[utf8(cs[b]) + "</w>"] = id++;
    vocab["<|startoftext|>"] = id++;
    vocab["<|endoftext|>"] = 49407;
    std::ofstream(dir / "vocab.json") << vocab.dump();
    std::ofstream(dir / "merges.txt") << "#version: 0.2\n";
  }
  return dir;
}

ClipModel& model() {
  static std::unique_ptr<ClipModel> m =
      ClipModel::load(make_checkpoint(), {.threads = threads(), .precision = precision()});
  return *m;
}

double peak_rss_mib() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024.0;
}

// Multiply-adds x 2 of one transformer tower on T tokens.
double tower_flops(double T, double H, double I, double L) {
  return L * (2 * T * H * 3 * H + 2 * 2 * T * T * H + 2 * T * H * H + 2 * 2 * T * H * I);
}
double image_flops() {
  const double patches = 49, T = 50;
  return 2 * patches * 3 * 32 * 32 * 768 + tower_flops(T, 768, 3072, 12) + 2 * 768 * 512;
}
double text_flops(double T) {
  return tower_flops(T, 512, 2048, 12) + 2 * 512 * 512;
}

void BM_EncodeImages(benchmark::State& state) {
  auto& m = model();
  const int batch = static_cast<int>(state.range(0));
  std::vector<float> pixels(static_cast<std::size_t>(batch) * 3 * 224 * 224);
  std::mt19937 rng(2);
  std::normal_distribution<float> nd;
  for (auto& p : pixels) p = nd(rng);
  // Warm-up outside the timing: oneDNN creates (JIT-compiles) its kernels on
  // the first call for each shape, which costs more than the call itself.
  benchmark::DoNotOptimize(m.encode_pixels(pixels, batch));
  for (auto _ : state) benchmark::DoNotOptimize(m.encode_pixels(pixels, batch));
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["GFLOP/s"] = benchmark::Counter(image_flops() * batch * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_RSS_MiB"] = peak_rss_mib();
  state.SetLabel(std::string(tagsmith::vision::precision_name(precision())));
}
BENCHMARK(BM_EncodeImages)->Arg(1)->Arg(8)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_Preprocess640x480(benchmark::State& state) {
  cv::Mat img(480, 640, CV_8UC3);
  cv::randu(img, 0, 255);
  for (auto _ : state) benchmark::DoNotOptimize(tagsmith::vision::clip_preprocess(img, 224));
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Preprocess640x480)->Unit(benchmark::kMillisecond);

void BM_EncodeTexts(benchmark::State& state) {
  auto& m = model();
  const int batch = static_cast<int>(state.range(0));
  const std::vector<std::string> prompts = {
      "a product photo of a black wool coat.", "a photo of a red dress.", "white leather sneakers",
      "a close-up photo of a silver necklace with a pendant."};
  std::vector<std::string> texts;
  for (int i = 0; i < batch; ++i) texts.push_back(prompts[i % prompts.size()]);
  std::size_t longest = 0;
  for (const auto& t : texts) longest = std::max(longest, m.tokenizer().tokenize(t).size());
  benchmark::DoNotOptimize(m.encode_texts(texts));  // warm-up, as above
  for (auto _ : state) benchmark::DoNotOptimize(m.encode_texts(texts));
  state.SetItemsProcessed(state.iterations() * batch);
  state.counters["tokens"] = static_cast<double>(longest);
  state.counters["GFLOP/s"] = benchmark::Counter(text_flops(longest) * batch * 1e-9,
                                                 benchmark::Counter::kIsIterationInvariantRate);
  state.counters["peak_RSS_MiB"] = peak_rss_mib();
}
BENCHMARK(BM_EncodeTexts)->Arg(1)->Arg(32)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

BENCHMARK_MAIN();
