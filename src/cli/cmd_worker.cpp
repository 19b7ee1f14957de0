// tagsmith worker — work a shared library's queue (docs/jobs.md);
// tagsmith jobs [retry [ID]] — what the queue holds.
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <atomic>
#include <csignal>
#include <iostream>
#include <memory>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/app/worker.h"
#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"

namespace tagsmith::cli {
namespace {

std::atomic<bool> g_stop{false};
void request_stop(int) {
  g_stop.store(true);
}

nlohmann::json job_json(const store::Job& j) {
  return {{"id", j.id},
          {"kind", store::to_string(j.kind)},
          {"target", j.target},
          {"state", store::to_string(j.state)},
          {"attempts", j.attempts},
          {"worker", j.worker},
          {"error", j.error},
          {"created_at", j.created_at},
          {"updated_at", j.updated_at}};
}

}  // namespace

void register_worker(CLI::App& app, GlobalOptions& g) {
  struct Args {
    std::string id;
    int lease_seconds = 60;
    std::size_t ingest_batch = 16, tag_batch = 256;
    bool until_idle = false;
    std::uint64_t max_file_mb = 256, max_megapixels = 120;
    ModelChoice model;
  };
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "worker",
      "Work the library's queue: ingest queued files, tag pending assets (start any number, on "
      "any machine that reaches the library)");
  cmd->add_option("--id", args->id, "Worker name (default host:pid:random); unique among workers");
  cmd->add_option("--lease", args->lease_seconds,
                  "Seconds a claim lasts without a heartbeat: how soon the work of a killed "
                  "worker goes to another")
      ->check(CLI::Range(2, 3600))
      ->capture_default_str();
  cmd->add_option("--ingest-batch", args->ingest_batch, "Files claimed at a time")
      ->check(CLI::Range(1, 4096))
      ->capture_default_str();
  cmd->add_option("--tag-batch", args->tag_batch, "Assets claimed for tagging at a time")
      ->check(CLI::Range(1, 100000))
      ->capture_default_str();
  cmd->add_flag("--until-idle", args->until_idle,
                "Exit once nothing is queued or held by another worker (batch jobs, tests)");
  cmd->add_option("--max-file-mb", args->max_file_mb, "Reject files larger than this")
      ->capture_default_str();
  cmd->add_option("--max-megapixels", args->max_megapixels, "Reject images with more pixels")
      ->capture_default_str();
  cmd->add_option("--model", args->model.name, "Vision model to embed with");
  cmd->add_flag("--no-model", args->model.disabled, "Skip recognition even if a model is present");
  cmd->add_flag("--no-person-model", args->model.person_disabled,
                "Analyse colours without the person model");
  cmd->footer(
      "SIGTERM or Ctrl-C: the worker finishes its batch, gives back what it holds and exits. "
      "Killed (kill -9, a machine lost): its leases run out and other workers take the work "
      "over; nothing is written twice.");
  cmd->callback([args, &g] {
    auto context = open_library(g, OpenMode::existing, args->model);
    app::WorkerOptions options;
    options.id = args->id;
    options.lease = std::chrono::seconds(args->lease_seconds);
    options.ingest_batch = args->ingest_batch;
    options.tag_batch = args->tag_batch;
    options.until_idle = args->until_idle;
    options.threads = g.threads;
    options.ingest.limits.max_file_bytes = args->max_file_mb << 20;
    options.ingest.limits.max_pixels = args->max_megapixels * 1'000'000;
    options.stop = &g_stop;
    std::signal(SIGTERM, request_stop);
    std::signal(SIGINT, request_stop);
    if (!g.quiet && !g.json) {
      options.log = [](const std::string& line) {
        std::cerr << now_utc_iso8601() << " worker: " << line << "\n";
      };
    }
    const app::WorkerReport r = app::run_worker(*context, options);
    if (g.json) {
      print_json({{"worker", r.id},
                  {"jobs_done", r.jobs_done},
                  {"jobs_failed", r.jobs_failed},
                  {"jobs_lost", r.jobs_lost},
                  {"ingested", r.ingested},
                  {"aliases", r.aliases},
                  {"skipped", r.skipped},
                  {"tagged_assets", r.tagged_assets},
                  {"tag_changes", r.tag_changes},
                  {"seconds", r.seconds}});
    } else {
      std::cout << fmt::format(
          "worker {}: {} jobs done, {} failed; {} ingested, {} duplicates; {} assets tagged "
          "({} changes) in {:.1f} s\n",
          r.id, r.jobs_done, r.jobs_failed, r.ingested, r.aliases, r.tagged_assets, r.tag_changes,
          r.seconds);
    }
  });

  // --- tagsmith jobs ---------------------------------------------------------------------
  auto show_failed = std::make_shared<std::size_t>(20);
  CLI::App* jobs = app.add_subcommand(
      "jobs",
      "What the queue holds: ingest jobs by state (failed ones with their reasons) and "
      "pending tagging");
  jobs->add_option("--failed", *show_failed, "How many failed jobs to list")->capture_default_str();
  jobs->callback([&g, show_failed, jobs] {
    if (jobs->get_subcommands().size() > 0) return;
    auto context = open_library(g, OpenMode::existing, ModelChoice{"", true, true});
    store::Store& db = context->store();
    const store::JobCounts c = db.job_counts(store::JobKind::kIngest);
    const std::int64_t pending = db.pending_count(store::WorkStep::kTag);
    const std::int64_t claimed = db.claimed_count(store::WorkStep::kTag);
    const auto failed = db.jobs_in_state(store::JobState::kFailed, *show_failed);
    if (g.json) {
      nlohmann::json list = nlohmann::json::array();
      for (const auto& j : failed) list.push_back(job_json(j));
      print_json(
          {{"ingest",
            {{"queued", c.queued}, {"running", c.running}, {"done", c.done}, {"failed", c.failed}}},
           {"tagging", {{"pending", pending}, {"running", claimed}}},
           {"failed", list}});
      return;
    }
    std::cout << fmt::format("ingest   {:>9} queued {:>9} running {:>9} done {:>9} failed\n",
                             c.queued, c.running, c.done, c.failed);
    std::cout << fmt::format("tagging  {:>9} pending ({} being tagged now)\n", pending, claimed);
    if (!failed.empty()) {
      std::cout << "\nfailed jobs:\n";
      for (const auto& j : failed)
        std::cout << fmt::format("  #{} {}: {} (after {} attempt{})\n", j.id, j.target, j.error,
                                 j.attempts, j.attempts == 1 ? "" : "s");
      std::cout << "\nretry them with `tagsmith jobs retry` (or `tagsmith jobs retry ID`).\n";
    }
  });
  auto retry_id = std::make_shared<std::int64_t>(0);
  CLI::App* retry = jobs->add_subcommand("retry", "Queue failed jobs again (all, or one by id)");
  retry->add_option("id", *retry_id, "Job id (default: every failed job)");
  retry->callback([&g, retry_id] {
    auto context = open_library(g, OpenMode::existing, ModelChoice{"", true, true});
    const std::int64_t n = context->store().retry_failed_jobs(*retry_id);
    if (g.json) {
      print_json({{"queued", n}});
    } else {
      std::cout << fmt::format("queued {} failed job{} again\n", n, n == 1 ? "" : "s");
    }
    if (*retry_id != 0 && n == 0)
      throw NotFoundError(
          fmt::format("no failed job #{} (or its file is queued already)", *retry_id));
  });
}

}  // namespace tagsmith::cli
