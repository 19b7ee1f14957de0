// The state of the library as a whole: near-duplicate groups, and the
// progress of its long-running work (re-tag, ingest jobs for workers) with the
// files ingest could not take.
#include <fmt/format.h>

#include <algorithm>
#include <filesystem>
#include <map>

#include "internal.h"
#include "tagsmith/search/duplicates.h"
#include "tagsmith/store/work_queue.h"

namespace tagsmith::server::detail {
namespace {

// A job's file as the caller may see it: admins run the machine and get the
// path; everyone else gets the file name (the server's folders are not theirs
// to know).
std::string shown_path(const std::string& path, const Call& call) {
  if (call.who().role == Role::kAdmin) return path;
  return std::filesystem::path(path).filename().string();
}

json job_json(const store::Job& j, const Call& call) {
  return {{"id", j.id},
          {"kind", store::to_string(j.kind)},
          {"file", shown_path(j.target, call)},
          {"state", store::to_string(j.state)},
          {"attempts", j.attempts},
          {"worker", j.worker},
          {"error", j.error},
          {"created_at", j.created_at},
          {"updated_at", j.updated_at}};
}

}  // namespace

void register_library_routes(Router& r, Context& c) {
  r.add("GET", "/api/v1/duplicates", "viewer", "library",
        "Near-duplicate groups (perceptual hash, confirmed and extended by embeddings); "
        "?limit=&offset= page through the groups, largest first",
        [&c](Call& call) {
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 50, 1, 500));
          const auto offset = static_cast<std::size_t>(call.query_int("offset", 0, 0, INT64_MAX));
          auto groups = near_duplicate_groups(c);
          // Largest first: the groups worth a person's look; then by first id.
          std::stable_sort(groups.begin(), groups.end(), [](const auto& a, const auto& b) {
            return a.ids.size() > b.ids.size();
          });
          std::int64_t assets_in_groups = 0;
          for (const auto& g : groups) assets_in_groups += static_cast<std::int64_t>(g.ids.size());
          // One batched read for every member shown, not one per asset.
          std::vector<store::AssetId> shown;
          for (std::size_t i = offset; i < groups.size() && i < offset + limit; ++i)
            shown.insert(shown.end(), groups[i].ids.begin(), groups[i].ids.end());
          std::map<store::AssetId, store::AssetRecord> records;
          for (auto& a : c.lib.store().find_assets(shown)) records.emplace(a.id, std::move(a));
          json out = json::array();
          for (std::size_t i = offset; i < groups.size() && i < offset + limit; ++i) {
            const auto& g = groups[i];
            json members = json::array();
            for (store::AssetId id : g.ids)
              if (auto it = records.find(id); it != records.end())
                members.push_back(asset_json(it->second, view_of(call)));
            json group = {{"basis", g.basis}, {"size", g.ids.size()}, {"assets", members}};
            group["min_similarity"] = g.min_similarity ? json(*g.min_similarity) : json(nullptr);
            out.push_back(std::move(group));
          }
          send_json(call.res, 200,
                    {{"total", groups.size()},
                     {"assets_in_groups", assets_in_groups},
                     {"offset", offset},
                     {"groups", out}});
        });

  r.add("GET", "/api/v1/work", "viewer", "library",
        "Progress of the library's long-running work: assets waiting to be (re-)tagged, ingest "
        "jobs by state, and the files ingest jobs could not take (?failed_limit=)",
        [&c](Call& call) {
          const auto failed_limit =
              static_cast<std::size_t>(call.query_int("failed_limit", 50, 0, 1000));
          auto& db = c.lib.store();
          const auto counts = db.job_counts(store::JobKind::kIngest);
          json failed = json::array();
          if (failed_limit > 0)
            for (const auto& j : db.jobs_in_state(store::JobState::kFailed, failed_limit))
              failed.push_back(job_json(j, call));
          json running = json::array();
          for (const auto& j : db.jobs_in_state(store::JobState::kRunning, 20))
            running.push_back(job_json(j, call));
          const std::int64_t assets = db.stats().assets;
          const std::int64_t tag_pending = db.pending_count(store::WorkStep::kTag);
          send_json(
              call.res, 200,
              {{"assets", assets},
               // A re-tag (after a taxonomy or threshold change, a new model or
               // new embeddings) queues every asset it must decide again and
               // settles each as it goes: done = assets - pending.
               {"tagging",
                {{"pending", tag_pending},
                 {"claimed", db.claimed_count(store::WorkStep::kTag)},
                 {"done_share", assets ? 1.0 - static_cast<double>(std::min(tag_pending, assets)) /
                                                   static_cast<double>(assets)
                                       : 1.0}}},
               {"ingest_jobs",
                {{"queued", counts.queued},
                 {"running", counts.running},
                 {"done", counts.done},
                 {"failed", counts.failed}}},
               {"running", running},
               {"failed", failed}});
        });
}

}  // namespace tagsmith::server::detail
