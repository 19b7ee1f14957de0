#include "tagsmith/app/worker.h"

#include <fmt/format.h>
#include <unistd.h>

#include <condition_variable>
#include <mutex>
#include <random>
#include <thread>

#include "tagsmith/common/error.h"

namespace tagsmith::app {
namespace fs = std::filesystem;
namespace {

// What the tagging decisions depend on besides the asset: the taxonomy and
// the active models. When another process changes them (a taxonomy import,
// a promote), the worker builds its tag service anew.
std::string catalogue_fingerprint(store::Store& db) {
  std::string out;
  if (auto t = db.latest_taxonomy_version()) out += std::to_string(t->id);
  for (const auto& m : db.model_versions())
    if (m.status == store::ModelStatus::kActive) out += "|" + m.version;
  return out;
}

// Renews the worker's leases every lease/3 on a thread of its own, so that a
// long batch (a slow model, a big file) never loses its claims.
class Heartbeat {
 public:
  Heartbeat(store::WorkQueue& queue, std::string worker, std::chrono::seconds lease,
            const std::function<void(const std::string&)>& log)
      : thread_([this, &queue, worker = std::move(worker), lease, &log](std::stop_token stop) {
          const auto period = std::max<std::chrono::milliseconds>(
              std::chrono::milliseconds(200),
              std::chrono::duration_cast<std::chrono::milliseconds>(lease) / 3);
          std::unique_lock lock(mu_);
          while (!stop.stop_requested()) {
            cv_.wait_for(lock, stop, period, [] { return false; });
            if (stop.stop_requested()) break;
            try {
              queue.renew_leases(worker, lease);
            } catch (const std::exception& e) {
              // The next beat tries again; if the database stays away the
              // leases run out and other workers take over, as designed.
              if (log) log(fmt::format("heartbeat failed: {}", e.what()));
            }
          }
        }) {}

 private:
  std::mutex mu_;
  std::condition_variable_any cv_;
  std::jthread thread_;  // last: stopped and joined before mu_ and cv_ go
};

}  // namespace

std::string new_worker_id() {
  char host[256] = {};
  if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "unknown");
  std::random_device rd;
  return fmt::format("{}:{}:{:08x}", host, ::getpid(), rd());
}

WorkerReport run_worker(LibraryContext& context, const WorkerOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  WorkerReport report;
  report.id = options.id.empty() ? new_worker_id() : options.id;
  store::Store& db = context.store();
  auto log = [&](const std::string& line) {
    if (options.log) options.log(line);
  };

  // Ingest stores vectors: the encoder this worker uses becomes the
  // library's, as with `tagsmith ingest`.
  context.adopt_encoder();
  const auto embedder = context.embedder();
  const auto person_masker = context.person_masker();
  const auto keyword_importer = context.keyword_importer();
  ingest::IngestOptions ingest_options = options.ingest;
  ingest_options.threads = options.threads;
  ingest_options.embedder = embedder.get();
  ingest_options.person_masker = person_masker.get();
  ingest_options.keywords = keyword_importer.get();

  std::unique_ptr<tagging::TagService> tagger;
  std::string tagger_catalogue;
  tagging::TagOptions tag_options;
  tag_options.threads = options.threads;

  Heartbeat heartbeat(db, report.id, options.lease, options.log);
  auto stopping = [&] { return options.stop && options.stop->load(); };
  // A store failure propagates with the leases still held: they run out as
  // if the worker had been killed. A clean return gives them back.
  {
    while (!stopping()) {
      bool worked = false;

      // 1. Files to ingest.
      const auto jobs = db.claim_jobs(store::JobKind::kIngest, report.id, options.lease,
                                      options.ingest_batch, options.max_attempts);
      if (!jobs.empty()) {
        worked = true;
        ingest::FileListing listing;
        for (const auto& j : jobs) listing.files.emplace_back(j.target);
        const ingest::IngestReport r =
            ingest::ingest_files(context.library(), listing, ingest_options);
        report.ingested += r.ingested;
        report.aliases += r.aliases;
        report.skipped += r.skipped - r.aliases;
        for (const auto& j : jobs) {
          std::string error;
          for (const auto& e : r.errors)
            if (e.path == j.target) error = e.reason;
          if (!db.finish_job(j.id, report.id, error)) {
            ++report.jobs_lost;
          } else if (error.empty()) {
            ++report.jobs_done;
          } else {
            ++report.jobs_failed;
          }
        }
        log(fmt::format("ingested {} files: {} new, {} duplicates, {} rejected", jobs.size(),
                        r.ingested, r.aliases, r.rejected));
      }

      // 2. Assets to tag.
      const auto ids =
          db.claim_work(store::WorkStep::kTag, report.id, options.lease, options.tag_batch);
      if (!ids.empty()) {
        worked = true;
        const std::string catalogue = catalogue_fingerprint(db);
        if (!tagger || catalogue != tagger_catalogue) {
          tagger = context.tag_service();
          tagger_catalogue = catalogue;
        }
        const tagging::TagReport t = tagger->tag(ids, tag_options);
        report.tagged_assets += t.assets;
        report.tag_changes += t.changed();
        log(fmt::format("tagged {} assets: {} changes", t.assets, t.changed()));
      }

      if (worked) continue;
      if (options.until_idle) {
        // Idle means nothing queued and nothing held by a live worker that
        // could still fail over to us.
        const auto counts = db.job_counts(store::JobKind::kIngest);
        if (counts.queued == 0 && counts.running == 0 &&
            db.pending_count(store::WorkStep::kTag) == 0)
          break;
      }
      std::this_thread::sleep_for(options.idle_poll);
    }
  }
  db.release_leases(report.id);
  report.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  return report;
}

}  // namespace tagsmith::app
