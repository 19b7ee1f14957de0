#include "tagsmith/tagging/service.h"

#include <fmt/format.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <limits>
#include <map>
#include <thread>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/tagging/store_changes.h"

namespace tagsmith::tagging {

using store::AssetId;

TagReport& TagReport::operator+=(const TagReport& o) {
  assets += o.assets;
  assets_changed += o.assets_changed;
  decisions += o.decisions;
  added += o.added;
  removed += o.removed;
  value_changed += o.value_changed;
  tier_changed += o.tier_changed;
  confidence_changed += o.confidence_changed;
  events += o.events;
  seconds += o.seconds;
  read_seconds += o.read_seconds;
  write_seconds += o.write_seconds;
  return *this;
}

TagService::TagService(library::Library& lib) : lib_(lib) {
  providers_.push_back(std::make_unique<ColourScoreProvider>());
  reload_taxonomy();
}

TagService::TagService(library::Library& lib, std::vector<std::unique_ptr<ScoreProvider>> providers)
    : lib_(lib), providers_(std::move(providers)) {
  reload_taxonomy();
}

TagService::~TagService() = default;

void TagService::reload_taxonomy() {
  current_ = current_taxonomy(lib_);
  for (auto& p : providers_) p->prepare(current_.taxonomy);
}

// One asset's inputs and results, handed between the read, decide and write
// phases of a batch. Deciding frees the inputs and keeps only counts and
// rows, so what the engine threads allocate is freed on them and the writer
// handles only rows.
struct TagService::Work {
  store::AssetRecord asset;
  std::vector<ExistingTag> existing;
  std::vector<std::vector<float>> embeddings;  // per embedding model read (empty: none)
  TagReport counts;                            // this asset's share of the report
  std::vector<store::TagChange> store_changes;
};

TagPlan TagService::plan(AssetId id) {
  auto asset = lib_.store().find_asset(id);
  if (!asset) throw NotFoundError(fmt::format("no asset {} in the library", id));
  AssetInput input;
  for (const auto& t : lib_.store().tags_of(id)) input.existing.push_back(to_existing(t));
  for (const auto& p : providers_) {
    std::vector<float> emb;
    if (auto m = p->embedding_model(); !m.empty()) {
      if (auto v = lib_.store().embedding(id, m)) emb = std::move(*v);
    }
    auto sets = p->scores(current_.taxonomy, ScoreRequest{*asset, emb});
    std::move(sets.begin(), sets.end(), std::back_inserter(input.scores));
  }
  TagPlan out;
  out.decisions = decide(current_.taxonomy, input);
  out.changes = change_set(current_.taxonomy, input.existing, out.decisions);
  return out;
}

TagReport TagService::tag(std::span<const AssetId> ids, const TagOptions& options) {
  return run(ids, options);
}

TagReport TagService::tag_all(const TagOptions& options) {
  if (options.dry_run) {
    const auto ids = lib_.store().asset_ids();
    return run(ids, options);
  }
  // Queue first, then work the queue: a re-tag killed half-way is finished
  // by the next tag_pending(), not forgotten.
  lib_.store().queue_work_for_all(store::WorkStep::kTag);
  return tag_pending(options);
}

TagReport TagService::tag_pending(const TagOptions& options) {
  const auto ids = lib_.store().pending_work(store::WorkStep::kTag, 0,
                                             std::numeric_limits<std::size_t>::max() / 2);
  return run(ids, options);
}

// A batch at a time, in three phases: read (a few range scans for the whole
// batch: assets with colours, tag summaries, one embedding per
// model), decide (pure, on `threads` threads; evidence JSON only for the
// decisions that change a stored tag) and write (one transaction with only
// the changes and their events, which also settles the batch's pending work,
// so a run killed half-way loses at most one batch and the next tag_pending()
// finishes it). Three batches are in flight at once: while the engine
// threads decide batch N, one thread reads batch N+1 and this thread writes
// batch N-1 (stores are thread-safe, and both SQLite and PostgreSQL read on
// another connection than the one that writes).
TagReport TagService::run(std::span<const AssetId> requested, const TagOptions& options) {
  auto seconds_since = [](std::chrono::steady_clock::time_point t0) {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  };
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] { return seconds_since(start); };
  store::Store& db = lib_.store();
  const taxonomy::Taxonomy& tax = current_.taxonomy;
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  const std::size_t batch = std::max<std::size_t>(1, options.batch);
  // In id order, each asset once: batches are then dense id ranges.
  std::vector<AssetId> ids(requested.begin(), requested.end());
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());

  // The embedding models the providers read, each read once per batch.
  std::vector<std::string> models;
  std::vector<int> model_of(providers_.size(), -1);
  for (std::size_t p = 0; p < providers_.size(); ++p) {
    const auto m = providers_[p]->embedding_model();
    if (m.empty()) continue;
    auto it = std::find(models.begin(), models.end(), m);
    model_of[p] = static_cast<int>(it - models.begin());
    if (it == models.end()) models.push_back(m);
  }

  TagReport report;
  auto read = [&](std::size_t first) {
    const auto t0 = std::chrono::steady_clock::now();
    const auto batch_ids =
        std::span<const AssetId>(ids).subspan(first, std::min(batch, ids.size() - first));
    std::vector<Work> work;
    auto assets = db.find_assets(batch_ids);
    work.reserve(assets.size());
    for (auto& a : assets) {
      Work& w = work.emplace_back();
      w.asset = std::move(a);
      w.embeddings.resize(models.size());
    }
    // Every list is by ascending asset id, like `work`: merges.
    auto at = [&](AssetId id, std::size_t& i) -> Work* {
      while (i < work.size() && work[i].asset.id < id) ++i;
      return i < work.size() && work[i].asset.id == id ? &work[i] : nullptr;
    };
    std::size_t i = 0;
    db.visit_tag_summaries(batch_ids, [&](store::TagSummary& t) {
      if (Work* w = at(t.asset_id, i)) w->existing.push_back(to_existing(std::move(t)));
    });
    for (std::size_t m = 0; m < models.size(); ++m) {
      i = 0;
      for (auto& [id, v] : db.embeddings(batch_ids, models[m]))
        if (Work* w = at(id, i)) w->embeddings[m] = std::move(v);
    }
    report.read_seconds += seconds_since(t0);
    return work;
  };

  auto decide_one = [&](Work& w, const std::string& at) {
    AssetInput input;
    for (std::size_t p = 0; p < providers_.size(); ++p) {
      const std::span<const float> emb = model_of[p] >= 0
                                             ? std::span<const float>(w.embeddings[model_of[p]])
                                             : std::span<const float>();
      auto sets = providers_[p]->scores(tax, ScoreRequest{w.asset, emb});
      std::move(sets.begin(), sets.end(), std::back_inserter(input.scores));
    }
    w.embeddings.clear();
    w.embeddings.shrink_to_fit();
    input.existing = std::move(w.existing);
    auto decisions = decide(
        tax, input, [&](const Decision& d) { return changes_stored_tag(input.existing, d); },
        EvidenceForm::kText);
    TagReport& n = w.counts;  // summed into the run's report by write()
    n.assets = 1;
    n.decisions = static_cast<std::int64_t>(decisions.size());
    auto changes = change_set(tax, input.existing, std::move(decisions));
    n.assets_changed = changes.empty() ? 0 : 1;
    for (const auto& c : changes) {
      switch (c.kind) {
        case TagDelta::Kind::kAdd:
          ++n.added;
          break;
        case TagDelta::Kind::kRemove:
          ++n.removed;
          break;
        case TagDelta::Kind::kReplace:
          ++n.value_changed;
          break;
        case TagDelta::Kind::kUpdate:
          if (c.tier_changed())
            ++n.tier_changed;
          else
            ++n.confidence_changed;
          break;
      }
    }
    if (!options.dry_run && !changes.empty())
      w.store_changes = to_store_changes(w.asset.id, std::move(changes), current_.version, at);
    const store::AssetId id = w.asset.id;
    w.asset = {};
    w.asset.id = id;
  };

  auto write = [&](std::vector<Work>& work) {
    const auto t0 = std::chrono::steady_clock::now();
    std::vector<store::TagChange> all;
    std::vector<AssetId> decided;
    decided.reserve(work.size());
    for (auto& w : work) {
      decided.push_back(w.asset.id);
      report += w.counts;
      std::move(w.store_changes.begin(), w.store_changes.end(), std::back_inserter(all));
    }
    if (!options.dry_run && (!all.empty() || !decided.empty())) {
      db.apply_tag_changes(all, decided);
      report.events += static_cast<std::int64_t>(all.size());
    }
    work.clear();
    report.write_seconds += seconds_since(t0);
  };

  std::vector<Work> current, written;
  std::size_t next_first = 0;
  if (!ids.empty()) {
    current = read(0);
    next_first = std::min(batch, ids.size());
  }
  for (std::size_t done = 0; done < ids.size();) {
    const std::size_t batch_end = next_first;
    // Decide `current` on the engine threads...
    const std::string at = now_utc_iso8601();
    std::atomic<std::size_t> next{0};
    const int t_count = std::max(1, std::min<int>(threads, static_cast<int>(current.size())));
    std::vector<std::exception_ptr> errors(t_count);
    std::vector<Work> upcoming;
    std::exception_ptr store_error;
    {
      std::vector<std::jthread> pool;
      for (int t = 0; t < t_count; ++t) {
        pool.emplace_back([&, t] {
          try {
            for (std::size_t i; (i = next.fetch_add(1)) < current.size();)
              decide_one(current[i], at);
          } catch (...) {
            errors[t] = std::current_exception();
            next = current.size();
          }
        });
      }
      // ... while one thread reads the next batch and this one writes the
      // previous batch.
      std::exception_ptr read_error;
      if (next_first < ids.size()) {
        pool.emplace_back([&] {
          try {
            upcoming = read(next_first);
          } catch (...) {
            read_error = std::current_exception();
          }
        });
      }
      try {
        if (!written.empty()) write(written);
      } catch (...) {
        store_error = std::current_exception();
      }
      for (auto& t : pool) t.join();
      if (!store_error) store_error = read_error;
      next_first = std::min(next_first + batch, ids.size());
    }
    for (auto& e : errors)
      if (e) std::rethrow_exception(e);
    if (store_error) std::rethrow_exception(store_error);
    if (options.on_progress && done > 0)
      options.on_progress(static_cast<std::int64_t>(done), static_cast<std::int64_t>(ids.size()),
                          elapsed());
    written = std::move(current);
    current = std::move(upcoming);
    done = batch_end;
  }
  if (!written.empty()) write(written);
  if (options.on_progress && !ids.empty())
    options.on_progress(static_cast<std::int64_t>(ids.size()),
                        static_cast<std::int64_t>(ids.size()), elapsed());
  report.seconds = elapsed();
  return report;
}

}  // namespace tagsmith::tagging
