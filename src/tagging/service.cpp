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
// phases of a batch.
struct TagService::Work {
  store::AssetRecord asset;
  std::vector<ExistingTag> existing;
  std::vector<std::vector<float>> embeddings;  // per provider (empty: none)
  std::vector<Decision> decisions;
  std::vector<TagDelta> changes;
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

TagReport TagService::run(std::span<const AssetId> ids, const TagOptions& options) {
  const auto start = std::chrono::steady_clock::now();
  auto elapsed = [&] {
    return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  };
  store::Store& db = lib_.store();
  const taxonomy::Taxonomy& tax = current_.taxonomy;
  int threads =
      options.threads > 0 ? options.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, threads);
  const std::size_t batch = std::max<std::size_t>(1, options.batch);

  TagReport report;
  std::vector<Work> work;
  for (std::size_t first = 0; first < ids.size(); first += batch) {
    const std::size_t n = std::min(batch, ids.size() - first);
    // Read phase (the store serialises access anyway).
    work.clear();
    work.reserve(n);
    for (std::size_t i = 0; i < n; ++i) {
      auto asset = db.find_asset(ids[first + i]);
      if (!asset) continue;
      Work& w = work.emplace_back();
      w.asset = std::move(*asset);
      for (const auto& t : db.tags_of(w.asset.id)) w.existing.push_back(to_existing(t));
      w.embeddings.resize(providers_.size());
      for (std::size_t p = 0; p < providers_.size(); ++p) {
        if (auto m = providers_[p]->embedding_model(); !m.empty()) {
          if (auto v = db.embedding(w.asset.id, m)) w.embeddings[p] = std::move(*v);
        }
      }
    }
    // Decide phase: pure, in parallel.
    const std::string at = now_utc_iso8601();
    auto decide_one = [&](Work& w) {
      AssetInput input;
      for (std::size_t p = 0; p < providers_.size(); ++p) {
        auto sets = providers_[p]->scores(tax, ScoreRequest{w.asset, w.embeddings[p]});
        std::move(sets.begin(), sets.end(), std::back_inserter(input.scores));
      }
      input.existing = std::move(w.existing);
      w.decisions = decide(tax, input);
      w.changes = change_set(tax, input.existing, w.decisions);
      if (!options.dry_run)
        w.store_changes = to_store_changes(w.asset.id, w.changes, current_.version, at);
    };
    const int t_count = std::min<int>(threads, static_cast<int>(work.size()));
    if (t_count <= 1) {
      for (auto& w : work) decide_one(w);
    } else {
      std::atomic<std::size_t> next{0};
      std::vector<std::exception_ptr> errors(t_count);
      {
        std::vector<std::jthread> pool;
        for (int t = 0; t < t_count; ++t) {
          pool.emplace_back([&, t] {
            try {
              for (std::size_t i; (i = next.fetch_add(1)) < work.size();) decide_one(work[i]);
            } catch (...) {
              errors[t] = std::current_exception();
              next = work.size();
            }
          });
        }
      }
      for (auto& e : errors)
        if (e) std::rethrow_exception(e);
    }
    // Write phase: one transaction per batch, which also settles the batch's
    // pending tag work.
    std::vector<store::TagChange> all;
    std::vector<AssetId> decided;
    decided.reserve(work.size());
    for (auto& w : work) {
      decided.push_back(w.asset.id);
      ++report.assets;
      report.decisions += static_cast<std::int64_t>(w.decisions.size());
      if (!w.changes.empty()) ++report.assets_changed;
      for (const auto& c : w.changes) {
        switch (c.kind) {
          case TagDelta::Kind::kAdd:
            ++report.added;
            break;
          case TagDelta::Kind::kRemove:
            ++report.removed;
            break;
          case TagDelta::Kind::kReplace:
            ++report.value_changed;
            break;
          case TagDelta::Kind::kUpdate:
            if (c.tier_changed())
              ++report.tier_changed;
            else
              ++report.confidence_changed;
            break;
        }
      }
      std::move(w.store_changes.begin(), w.store_changes.end(), std::back_inserter(all));
    }
    if (!options.dry_run && (!all.empty() || !decided.empty())) {
      db.apply_tag_changes(all, decided);
      report.events += static_cast<std::int64_t>(all.size());
    }
    if (options.on_progress)
      options.on_progress(static_cast<std::int64_t>(first + n),
                          static_cast<std::int64_t>(ids.size()), elapsed());
  }
  report.seconds = elapsed();
  return report;
}

}  // namespace tagsmith::tagging
