#include "tagsmith/ingest/reembed.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <set>
#include <thread>

#include "tagsmith/common/queue.h"
#include "tagsmith/image/decode.h"

namespace tagsmith::ingest {
namespace fs = std::filesystem;
namespace {

struct Decoded {
  store::AssetId id = 0;
  cv::Mat rgb;         // empty when the file could not be read
  std::string path;    // the file tried last
  std::string reason;  // why it could not be read
};

Decoded decode_asset(store::Store& db, store::AssetId id, const image::DecodeLimits& limits,
                     const image::NeededSize& need) {
  Decoded d;
  d.id = id;
  std::vector<std::string> candidates;
  if (auto a = db.find_asset(id)) candidates.push_back(a->source_path);
  for (const auto& p : db.paths_of(id))
    if (std::find(candidates.begin(), candidates.end(), p.path) == candidates.end())
      candidates.push_back(p.path);
  for (const auto& path : candidates) {
    d.path = path;
    try {
      d.rgb = image::decode_file(path, limits, need).rgb;
      d.reason.clear();
      return d;
    } catch (const std::exception& e) {
      d.reason = e.what();
    }
  }
  if (candidates.empty()) d.reason = "no file is known for this asset";
  return d;
}

}  // namespace

ReembedReport embed_missing(library::Library& library, ImageEmbedder& embedder,
                            const ReembedOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto seconds = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  store::Store& db = library.store();
  const std::string version = embedder.version();
  std::set<store::AssetId> have;
  db.for_each_embedding(version,
                        [&](store::AssetId id, std::span<const float>) { have.insert(id); });
  std::vector<store::AssetId> todo;
  for (auto id : db.asset_ids())
    if (!have.count(id)) todo.push_back(id);
  ReembedReport report;
  report.missing = static_cast<std::int64_t>(todo.size());
  if (todo.empty()) return report;

  const int threads = options.threads > 0
                          ? options.threads
                          : static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  const int batch = std::max(1, embedder.preferred_batch());
  BoundedQueue<Decoded> decoded(static_cast<std::size_t>(std::max(2 * batch, 4 * threads)));
  // Only the embedder looks at the pixels: decoded no larger than its input.
  const image::NeededSize need{0, std::max(0, embedder.input_size())};
  std::atomic<std::size_t> next{0};
  std::atomic<int> running{threads};
  std::vector<std::jthread> workers;
  for (int t = 0; t < threads; ++t) {
    workers.emplace_back([&] {
      for (std::size_t i = next++; i < todo.size(); i = next++)
        if (!decoded.push(decode_asset(db, todo[i], options.limits, need))) break;
      if (--running == 0) decoded.close();
    });
  }

  std::int64_t done = 0;
  std::vector<Decoded> pending;
  auto flush = [&] {
    if (pending.empty()) return;
    std::vector<cv::Mat> images;
    for (const auto& d : pending) images.push_back(d.rgb);
    const auto vectors = embedder.embed(images);  // a failing model is an error here
    for (std::size_t i = 0; i < pending.size() && i < vectors.size(); ++i) {
      db.put_embedding(pending[i].id, version, vectors[i]);
      ++report.embedded;
    }
    done += static_cast<std::int64_t>(pending.size());
    pending.clear();
    if (options.on_progress) options.on_progress(done, report.missing, seconds());
  };
  try {
    while (auto d = decoded.pop()) {
      if (d->rgb.empty()) {
        report.errors.push_back({d->path, d->reason});
        ++done;
        continue;
      }
      pending.push_back(std::move(*d));
      if (static_cast<int>(pending.size()) >= batch) flush();
    }
    flush();
  } catch (...) {
    decoded.close();  // unblock the workers before they are joined
    throw;
  }
  workers.clear();
  report.seconds = seconds();
  return report;
}

}  // namespace tagsmith::ingest
