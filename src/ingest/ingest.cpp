#include "tagsmith/ingest/ingest.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstring>
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

namespace {

// Whether `path` (canonical) is `root` (canonical) or lies under it.
bool is_within(const fs::path& path, const fs::path& root) {
  return std::mismatch(root.begin(), root.end(), path.begin(), path.end()).first == root.end();
}

// A name that could be a photo's, or a folder's (no extension at all): the
// entries whose loss a user would want to hear about. A broken link called
// notes.txt is none of ingest's business.
bool could_hold_photos(const fs::path& name) {
  return is_image_extension(name) || name.extension().empty();
}

// Walks one folder named on the command line. Symbolic links are looked at,
// never walked through: a link to a file inside the folder is ingested under
// its own name (an alias of the file it points to); a link to a folder inside
// it adds nothing the walk does not reach anyway; a link that leads out of the
// folder is not followed, because the user asked for this folder and nothing
// else. Whatever a photo could hide in and cannot be looked at is reported.
void walk_folder(const fs::path& root, FileListing& out) {
  std::error_code ec;
  const fs::path real_root = fs::canonical(root, ec);
  if (ec) {
    out.not_taken.push_back({root.string(), fmt::format("cannot read folder: {}", ec.message())});
    return;
  }
  std::vector<fs::path> folders{root};
  while (!folders.empty()) {
    const fs::path folder = std::move(folders.back());
    folders.pop_back();
    fs::directory_iterator it(folder, ec), end;
    if (ec) {
      out.not_taken.push_back(
          {folder.string(), fmt::format("cannot read folder: {}: the photos in it, if any, were "
                                        "not ingested",
                                        ec.message())});
      continue;
    }
    for (; it != end; it.increment(ec)) {
      const fs::path& path = it->path();
      // Hidden folders (.git, .thumbnails, …) and files (._foo.jpg from macOS).
      if (path.filename().string().starts_with(".")) continue;
      std::error_code entry_ec;
      const fs::file_status own = it->symlink_status(entry_ec);
      if (entry_ec) {
        if (could_hold_photos(path.filename()))
          out.not_taken.push_back(
              {path.string(), fmt::format("cannot read: {}", entry_ec.message())});
        continue;
      }
      if (fs::is_directory(own)) {
        folders.push_back(path);
        continue;
      }
      if (!fs::is_symlink(own)) {
        // Regular files, and FIFOs or devices with a photo's name, which the
        // reader rejects without opening them.
        if (is_image_extension(path)) out.files.push_back(path);
        continue;
      }
      const fs::path target = fs::canonical(path, entry_ec);
      if (entry_ec) {
        if (!could_hold_photos(path.filename())) continue;
        std::error_code link_ec;
        const fs::path points_to = fs::read_symlink(path, link_ec);
        const std::string reason =
            entry_ec == std::errc::too_many_symbolic_link_levels
                ? "symbolic link loop: it never reaches a file"
            : entry_ec == std::errc::no_such_file_or_directory
                ? fmt::format("broken symbolic link: {} does not exist", points_to.string())
                : fmt::format("cannot follow symbolic link to {}: {}", points_to.string(),
                              entry_ec.message());
        out.not_taken.push_back({path.string(), reason});
        continue;
      }
      const bool to_folder = fs::is_directory(target, entry_ec);
      if (!to_folder && !is_image_extension(path)) continue;
      if (!is_within(target, real_root)) {
        out.not_taken.push_back(
            {path.string(),
             fmt::format("symbolic link to {}, outside {}: not followed (name it on the command "
                         "line to ingest it)",
                         target.string(), root.string())});
      } else if (!to_folder) {
        out.files.push_back(path);
      }
    }
    if (ec) {
      out.not_taken.push_back(
          {folder.string(),
           fmt::format("cannot read folder to the end: {}: some photos in it may be missing",
                       ec.message())});
    }
  }
}

}  // namespace

FileListing list_image_files(const std::vector<fs::path>& inputs) {
  FileListing out;
  for (const auto& input : inputs) {
    std::error_code ec;
    const fs::path root = fs::absolute(input, ec).lexically_normal();
    const fs::file_status status = fs::status(root, ec);
    if (fs::is_directory(status)) {
      walk_folder(root, out);
    } else if (fs::exists(status)) {
      // Named explicitly: always tried, whatever its extension or kind, and
      // wherever a symbolic link leads.
      out.files.push_back(root);
    } else if (!ec || ec == std::errc::no_such_file_or_directory) {
      throw InputError(fmt::format("no such file or directory: {}", input.string()));
    } else {
      throw InputError(fmt::format("cannot use {}: {}", input.string(), ec.message()));
    }
  }
  std::sort(out.files.begin(), out.files.end());
  out.files.erase(std::unique(out.files.begin(), out.files.end()), out.files.end());
  std::sort(out.not_taken.begin(), out.not_taken.end(),
            [](const auto& a, const auto& b) { return a.path < b.path; });
  return out;
}

namespace {

enum class Outcome { kNew, kSkipped, kAlias, kRejected };

struct FileResult {
  Outcome outcome = Outcome::kRejected;
  store::PathRecord path;
  store::AssetRecord asset;       // kNew
  cv::Mat rgb;                    // kNew with an embedder: the decoded image to encode
  bool person_masked = false;     // kNew: colours analysed with a person mask
  std::string reason;             // kRejected
  image::PhotoKeywords keywords;  // kNew, when IngestOptions::keywords
  std::string metadata_error;     // kNew: keywords could not be read
};

// The keywords of a photo and of its sidecar. Metadata a photo tool cannot
// read costs the keywords, never the photo: the error is reported apart.
void read_photo_keywords(FileResult& r, std::span<const std::uint8_t> bytes, const fs::path& path) {
  try {
    r.keywords = image::read_embedded_keywords(bytes, path.string());
  } catch (const image::MetadataError& e) {
    r.metadata_error = e.what();
  }
  try {
    if (const auto sidecar = image::find_sidecar(path))
      r.keywords.merge(image::read_keywords(*sidecar));
  } catch (const Error& e) {
    r.metadata_error = e.what();
  }
}

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

// The side the analyses (hash, colours, thumbnail, person mask) work at.
constexpr int kWorkingSide = 512;

// How large a photo must be decoded: the working copy's longest side, and
// the embedder's input on the shortest side (or all of it, when the
// embedder does not say).
image::NeededSize needed_size(const IngestOptions& options) {
  image::NeededSize need{kWorkingSide, 0};
  if (options.embedder) {
    const int input = options.embedder->input_size();
    if (input <= 0) return {};
    need.shortest_side = input;
  }
  return need;
}

FileResult process_file(library::Library& library, const fs::path& path,
                        const IngestOptions& options, const image::Palette& palette,
                        std::atomic<bool>& mask_failure_reported) {
  FileResult r;
  r.path.path = path.string();
  struct stat st {};
  if (::stat(path.c_str(), &st) != 0) {
    r.reason = fmt::format("cannot read file: {}", std::strerror(errno));
    return r;
  }
  // Opening a FIFO waits for a writer, forever; opening a device can have
  // effects of its own (a tape rewinds on close). Neither holds a photo.
  if (!S_ISREG(st.st_mode)) {
    r.reason = not_a_regular_file_reason(st.st_mode);
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
    // The size stat gave is not trusted for reading: /proc files say 0 and
    // a file being written grows.
    const auto bytes = read_regular_file_bytes(path, options.limits.max_file_bytes);
    r.asset.sha256 = sha256_hex(std::span<const std::uint8_t>(bytes));
    if (auto existing = db.find_asset_by_sha256(r.asset.sha256)) {
      r.outcome = Outcome::kAlias;
      r.path.asset_id = existing->id;
      r.path.is_alias = true;
      return r;
    }
    image::DecodedImage decoded = image::decode(bytes, options.limits, needed_size(options));
    store::AssetRecord& a = r.asset;
    a.source_path = r.path.path;
    a.file_size = static_cast<std::int64_t>(bytes.size());
    a.width = decoded.width;  // the photo's, not the decoded copy's
    a.height = decoded.height;
    a.format = decoded.format;
    // One shrunken working copy serves every analysis; only the encoder
    // (which has its own exact preprocessing) sees the decoded pixels.
    const cv::Mat working = image::shrink_to(decoded.rgb, kWorkingSide);
    a.phash = image::perceptual_hash(working);
    const cv::Mat person = person_mask_of(working, options, mask_failure_reported);
    r.person_masked = !person.empty();
    a.colours = image::analyse_colours(working, palette, options.colour, person);
    const image::Thumbnail thumb = image::make_thumbnail(working);
    a.thumbnail_sha256 = library.put_thumbnail(thumb);
    a.thumbnail_width = thumb.width;
    a.thumbnail_height = thumb.height;
    if (options.embedder) r.rgb = std::move(decoded.rgb);
    if (options.keywords) read_photo_keywords(r, bytes, path);
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
  return ingest_files(library, list_image_files(inputs), options);
}

IngestReport ingest_files(library::Library& library, const FileListing& listing,
                          const IngestOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  IngestReport report;
  const std::vector<fs::path>& files = listing.files;
  report.files = static_cast<std::int64_t>(files.size() + listing.not_taken.size());
  const image::Palette& palette = library.palette();  // load before the workers share it
  store::Store& db = library.store();
  // Leftovers of a killed run; in a shared library the writer may be alive
  // on another machine, where its process id means nothing here.
  if (!library.shared()) remove_stale_temporaries(library.dir() / "thumbs");
  // What the walk could not take (unreadable folders, broken links, links
  // out of the folder) is rejected like a file that cannot be decoded.
  for (const FileError& e : listing.not_taken) {
    db.record_ingest_error({e.path, e.reason, now_utc_iso8601()});
    report.errors.push_back(e);
    ++report.rejected;
  }

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
    store::AssetId id = 0;
    try {
      if (embedding) {
        id = db.add_asset(r.asset, r.path, options.embedder->version(), *embedding);
      } else {
        id = db.add_asset(r.asset, r.path);
      }
    } catch (const std::exception&) {
      // Another process sharing the library (a worker on another machine)
      // committed the same content first: this path is its alias -- unless
      // it committed this very path (both took the same job, the first
      // one's lease having run out), which is then already in place.
      const auto existing = db.find_asset_by_sha256(r.asset.sha256);
      if (!existing) throw;
      if (const auto known = db.find_path(r.path.path); known && known->asset_id == existing->id) {
        ++report.skipped;
        return;
      }
      r.path.asset_id = existing->id;
      r.path.is_alias = true;
      db.add_path(r.path);
      ++report.skipped;
      ++report.aliases;
      return;
    }
    report.person_masked += r.person_masked ? 1 : 0;
    if (embedding) ++report.embedded;
    ++report.ingested;
    if (!r.metadata_error.empty())
      report.metadata_errors.push_back({r.path.path, r.metadata_error});
    if (options.keywords && !r.keywords.empty()) {
      ++report.with_keywords;
      const auto outcome = options.keywords->import(id, r.keywords);
      report.keyword_tags += outcome.tags;
      for (const auto& k : outcome.unmatched) {
        ++report.keywords_unmatched;
        auto& listed = report.unmatched_keywords;
        auto it = std::find_if(listed.begin(), listed.end(), [&](auto& e) { return e.first == k; });
        if (it != listed.end())
          ++it->second;
        else if (listed.size() < IngestReport::kMaxUnmatchedListed)
          listed.emplace_back(k, 1);
      }
    }
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
