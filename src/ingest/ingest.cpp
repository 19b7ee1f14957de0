#include "tagsmith/ingest/ingest.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <set>
#include <thread>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"
#include "tagsmith/common/queue.h"
#include "tagsmith/image/analysis.h"
#include "tagsmith/image/skin.h"

namespace tagsmith::ingest {
namespace fs = std::filesystem;

bool is_image_extension(const fs::path& path) {
  std::string ext = path.extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  static const char* kExtensions[] = {".jpg", ".jpeg", ".jpe", ".png", ".webp",
                                      ".tif", ".tiff", ".bmp", ".gif"};
  return std::any_of(std::begin(kExtensions), std::end(kExtensions),
                     [&](const char* e) { return ext == e; });
}

std::vector<fs::path> list_image_files(const std::vector<fs::path>& inputs) {
  std::vector<fs::path> files;
  for (const auto& input : inputs) {
    std::error_code ec;
    const fs::path root = fs::absolute(input, ec).lexically_normal();
    if (fs::is_directory(root, ec)) {
      for (fs::recursive_directory_iterator
               it(root, fs::directory_options::skip_permission_denied, ec),
           end;
           it != end; it.increment(ec)) {
        if (ec) break;
        // Skip hidden directories (.git, .thumbnails, …) and hidden files (._foo.jpg from macOS).
        if (it->path().filename().string().starts_with(".")) {
          if (it->is_directory(ec)) it.disable_recursion_pending();
          continue;
        }
        if (it->is_regular_file(ec) && is_image_extension(it->path())) files.push_back(it->path());
      }
    } else if (fs::exists(root, ec)) {
      files.push_back(root);  // named explicitly: always tried, whatever its extension
    } else {
      throw InputError(fmt::format("no such file or directory: {}", input.string()));
    }
  }
  std::sort(files.begin(), files.end());
  files.erase(std::unique(files.begin(), files.end()), files.end());
  return files;
}

namespace {

enum class Outcome { kNew, kSkipped, kAlias, kRejected };

struct FileResult {
  Outcome outcome = Outcome::kRejected;
  store::PathRecord path;
  store::AssetRecord asset;    // kNew
  cv::Mat rgb;                 // kNew with an embedder: the decoded image to encode
  bool person_masked = false;  // kNew: colours analysed with a person mask
  std::string reason;          // kRejected
};

std::int64_t mtime_ns(const struct stat& st) {
  return static_cast<std::int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
}

// The person mask of a photo that passes the skin gate (see IngestOptions);
// empty otherwise. A failing model costs the mask, not the asset: the
// colours are then analysed as without a model, and the first failure is
// logged once per run.
cv::Mat person_mask_of(const cv::Mat& working, const IngestOptions& options,
                       std::atomic<bool>& failure_reported) {
  if (!options.person_masker || image::skin_fraction(working) < options.person_gate_skin_fraction)
    return {};
  try {
    return options.person_masker->person_mask(working);
  } catch (const std::exception& e) {
    if (!failure_reported.exchange(true))
      spdlog::warn("person model failed, colours are analysed without it: {}", e.what());
    return {};
  }
}

FileResult process_file(library::Library& library, const fs::path& path,
                        const IngestOptions& options, const image::Palette& palette,
                        std::atomic<bool>& mask_failure_reported) {
  FileResult r;
  r.path.path = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    r.reason = "cannot read file";
    return r;
  }
  r.path.file_size = st.st_size;
  r.path.mtime_ns = mtime_ns(st);
  store::Store& db = library.store();
  if (auto known = db.find_path(r.path.path);
      known && known->file_size == r.path.file_size && known->mtime_ns == r.path.mtime_ns) {
    r.outcome = Outcome::kSkipped;
    return r;
  }
  try {
    if (static_cast<std::uint64_t>(st.st_size) > options.limits.max_file_bytes) {
      throw image::DecodeError(fmt::format("file is {} bytes, over the limit of {} bytes",
                                           st.st_size, options.limits.max_file_bytes));
    }
    const auto bytes = read_file_bytes(path);
    r.asset.sha256 = sha256_hex(std::span<const std::uint8_t>(bytes));
    if (auto existing = db.find_asset_by_sha256(r.asset.sha256)) {
      r.outcome = Outcome::kAlias;
      r.path.asset_id = existing->id;
      r.path.is_alias = true;
      return r;
    }
    image::DecodedImage decoded = image::decode(bytes, options.limits);
    store::AssetRecord& a = r.asset;
    a.source_path = r.path.path;
    a.file_size = static_cast<std::int64_t>(bytes.size());
    a.width = decoded.rgb.cols;
    a.height = decoded.rgb.rows;
    a.format = decoded.format;
    // One shrunken working copy serves every analysis; only the encoder
    // (which has its own exact preprocessing) sees the full-size pixels.
    const cv::Mat working = image::shrink_to(decoded.rgb, 512);
    a.phash = image::perceptual_hash(working);
    const cv::Mat person = person_mask_of(working, options, mask_failure_reported);
    r.person_masked = !person.empty();
    a.colours = image::analyse_colours(working, palette, options.colour, person);
    const image::Thumbnail thumb = image::make_thumbnail(working);
    a.thumbnail_sha256 = library.put_thumbnail(thumb);
    a.thumbnail_width = thumb.width;
    a.thumbnail_height = thumb.height;
    if (options.embedder) r.rgb = std::move(decoded.rgb);
    r.outcome = Outcome::kNew;
  } catch (const std::exception& e) {
    r.outcome = Outcome::kRejected;
    r.reason = e.what();
  }
  return r;
}

}  // namespace

IngestReport ingest(library::Library& library, const std::vector<fs::path>& inputs,
                    const IngestOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  IngestReport report;
  const std::vector<fs::path> files = list_image_files(inputs);
  report.files = static_cast<std::int64_t>(files.size());
  const image::Palette& palette = library.palette();  // load before the workers share it
  store::Store& db = library.store();
  remove_stale_temporaries(library.dir() / "thumbs");  // leftovers of a killed run

  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int batch = options.embedder ? std::max(1, options.embedder->preferred_batch()) : 1;
  BoundedQueue<FileResult> results(static_cast<std::size_t>(std::max(2 * batch, 4 * threads)));
  std::atomic<std::size_t> next{0};
  std::vector<std::jthread> workers;
  std::atomic<int> running{threads};
  std::atomic<bool> mask_failure_reported{false};
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < files.size(); i = next++) {
        if (!results.push(process_file(library, files[i], options, palette, mask_failure_reported)))
          break;
      }
      if (--running == 0) results.close();
    });
  }
  if (threads == 0 || files.empty()) results.close();

  Progress progress;
  progress.total = report.files;
  auto report_progress = [&] {
    progress.done = report.ingested + report.skipped + report.rejected;
    progress.ingested = report.ingested;
    progress.skipped = report.skipped;
    progress.rejected = report.rejected;
    progress.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    if (options.on_progress) options.on_progress(progress);
  };

  auto commit_new = [&](FileResult& r, const std::vector<float>* embedding) {
    // Two files with the same content can be decoded concurrently; the writer
    // is the one place that sees them in order, so it decides which is the alias.
    if (auto existing = db.find_asset_by_sha256(r.asset.sha256)) {
      r.path.asset_id = existing->id;
      r.path.is_alias = true;
      db.add_path(r.path);
      ++report.skipped;
      ++report.aliases;
      return;
    }
    r.asset.ingested_at = now_utc_iso8601();
    report.person_masked += r.person_masked ? 1 : 0;
    if (embedding) {
      db.add_asset(r.asset, r.path, options.embedder->version(), *embedding);
      ++report.embedded;
    } else {
      db.add_asset(r.asset, r.path);
    }
    ++report.ingested;
  };

  std::vector<FileResult> pending;  // decoded, waiting for a full batch to encode
  bool embed_failure_reported = false;
  auto flush = [&] {
    if (pending.empty()) return;
    // Identical files decoded concurrently are encoded once; commit_new turns
    // the later ones into aliases.
    std::vector<cv::Mat> images;
    std::vector<int> slot(pending.size(), -1);
    std::set<std::string> seen;
    for (std::size_t i = 0; i < pending.size(); ++i) {
      if (seen.insert(pending[i].asset.sha256).second &&
          !db.find_asset_by_sha256(pending[i].asset.sha256)) {
        slot[i] = static_cast<int>(images.size());
        images.push_back(pending[i].rgb);
      }
    }
    std::vector<std::vector<float>> vectors;
    std::string failure;
    try {
      vectors = options.embedder->embed(images);
      if (vectors.size() != images.size())
        failure = "vision model returned the wrong number of embeddings";
    } catch (const std::exception& e) {
      failure = e.what();
    }
    if (!failure.empty() && !embed_failure_reported) {
      // The assets are still worth having: colours and hashes need no model.
      spdlog::warn("vision model failed, assets are stored without embeddings: {}", failure);
      embed_failure_reported = true;
    }
    for (std::size_t i = 0; i < pending.size(); ++i) {
      commit_new(pending[i], failure.empty() && slot[i] >= 0
                                 ? &vectors[static_cast<std::size_t>(slot[i])]
                                 : nullptr);
    }
    pending.clear();
    report_progress();
  };

  // The writer encodes a batch as soon as it is full; meanwhile the workers
  // keep decoding into the bounded queue, so decoding and encoding overlap.
  while (std::optional<FileResult> item = results.pop()) {
    FileResult& r = *item;
    switch (r.outcome) {
      case Outcome::kSkipped:
        ++report.skipped;
        break;
      case Outcome::kAlias:
        db.add_path(r.path);
        ++report.skipped;
        ++report.aliases;
        break;
      case Outcome::kRejected:
        db.record_ingest_error({r.path.path, r.reason, now_utc_iso8601()});
        report.errors.push_back({r.path.path, r.reason});
        ++report.rejected;
        break;
      case Outcome::kNew:
        if (options.embedder) {
          pending.push_back(std::move(r));
          if (static_cast<int>(pending.size()) >= batch) flush();
          continue;
        }
        commit_new(r, nullptr);
        break;
    }
    report_progress();
  }
  flush();
  workers.clear();
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::sort(report.errors.begin(), report.errors.end(),
            [](auto& a, auto& b) { return a.path < b.path; });
  return report;
}

}  // namespace tagsmith::ingest
