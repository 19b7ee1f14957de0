// The manager's dashboard: what the team and the models did over the last
// days, read from the audit trail (every tag change has an event), plus the
// audit samples' precision estimates (review::audit_report).
//
// GET /api/v1/dashboard?days=N answers, in one call:
//  * tiers_per_day: tag events per day by the tier they put a tag in
//    (applied -> auto, flagged, proposed -> suggested, confirmed, rejected,
//    corrected -> human_set, removed): how tags flow between tiers;
//  * throughput_per_day: a person's decisions per day, by reviewer;
//  * audit: the auto tier's precision per attribute from audit samples,
//    with Wilson 95% intervals;
//  * accuracy: per attribute, how often people confirmed what a model
//    proposed (confirmed vs rejected or corrected), with Wilson intervals;
//  * drift: the confidence distribution (10 bins) of model proposals per
//    (model version, taxonomy version), newest first, and the population
//    stability index of the newest against the one before it.
// The audit trail is read newest first and at most kMaxEvents events, so a
// busy library's dashboard stays quick; `truncated` says when it stopped.
#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <map>

#include "internal.h"
#include "tagsmith/common/clock.h"

namespace tagsmith::server::detail {
namespace {

constexpr std::size_t kMaxEvents = 200'000;
constexpr int kBins = 10;

std::string day_of(const std::string& iso) {
  return iso.substr(0, 10);
}

std::string days_ago_iso(int days) {
  const auto t = std::chrono::system_clock::now() - std::chrono::hours(24 * days);
  const std::time_t tt = std::chrono::system_clock::to_time_t(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
  return buf;
}

// The tier an event leaves its tag in.
const char* tier_of(store::TagAction a) {
  switch (a) {
    case store::TagAction::kApplied:
      return "auto";
    case store::TagAction::kFlagged:
      return "flagged";
    case store::TagAction::kProposed:
      return "suggested";
    case store::TagAction::kConfirmed:
      return "confirmed";
    case store::TagAction::kRejected:
      return "rejected";
    case store::TagAction::kCorrected:
      return "human_set";
    case store::TagAction::kRemoved:
      return "removed";
    case store::TagAction::kUndone:  // back to whatever it was: no one tier
      return "undone";
  }
  return "unknown";
}

bool by_person(const store::TagEvent& e) {
  return e.actor.rfind("user:", 0) == 0;
}

json interval(std::int64_t k, std::int64_t n) {
  const auto [low, high] = review::wilson_interval(k, n);
  return {{"correct", k},
          {"reviewed", n},
          {"rate", n ? static_cast<double>(k) / static_cast<double>(n) : 0.0},
          {"low", low},
          {"high", high}};
}

// Population stability index of `b` against `a` (bins of counts), with a
// small floor so empty bins do not divide by zero. Above 0.25 is usually
// read as a real shift, 0.1-0.25 as a moderate one.
double psi(const std::vector<std::int64_t>& a, const std::vector<std::int64_t>& b) {
  double na = 0, nb = 0;
  for (auto x : a) na += static_cast<double>(x);
  for (auto x : b) nb += static_cast<double>(x);
  if (na == 0 || nb == 0) return 0;
  double s = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    const double pa = std::max(static_cast<double>(a[i]) / na, 1e-4);
    const double pb = std::max(static_cast<double>(b[i]) / nb, 1e-4);
    s += (pb - pa) * std::log(pb / pa);
  }
  return s;
}

}  // namespace

json dashboard_json(Context& c, int days) {
  const std::string since = days_ago_iso(days);
  std::map<std::string, std::map<std::string, std::int64_t>> tiers_per_day;    // day -> tier -> n
  std::map<std::string, std::map<std::string, std::int64_t>> reviews_per_day;  // day -> user -> n
  std::map<std::string, std::pair<std::int64_t, std::int64_t>> accuracy;       // attr -> (ok, n)
  struct Population {
    std::string model, newest_at;
    std::int64_t taxonomy = 0;
    std::vector<std::int64_t> bins = std::vector<std::int64_t>(kBins, 0);
    std::int64_t n = 0;
  };
  std::map<std::pair<std::string, std::int64_t>, Population> populations;
  std::size_t read = 0;
  bool truncated = false;
  std::int64_t before = 0;
  for (bool done = false; !done;) {
    const auto events = c.lib.store().recent_tag_events(before, 2000);
    if (events.empty()) break;
    for (const auto& e : events) {
      before = e.id;
      if (e.at < since) {
        done = true;
        break;
      }
      if (++read > kMaxEvents) {
        truncated = done = true;
        break;
      }
      const std::string day = day_of(e.at);
      ++tiers_per_day[day][tier_of(e.action)];
      if (by_person(e)) {
        const bool decision = e.action == store::TagAction::kConfirmed ||
                              e.action == store::TagAction::kRejected ||
                              e.action == store::TagAction::kCorrected;
        if (decision) {
          ++reviews_per_day[day][e.actor.substr(5)];
          // A decision on a model's proposal: the event keeps the model's
          // version and confidence when it decided one (manual tags have none).
          if (!e.model_version.empty()) {
            auto& [ok, n] = accuracy[e.attribute];
            ++n;
            if (e.action == store::TagAction::kConfirmed) ++ok;
          }
        }
      } else if (!e.model_version.empty() && (e.action == store::TagAction::kApplied ||
                                              e.action == store::TagAction::kFlagged ||
                                              e.action == store::TagAction::kProposed)) {
        auto& p = populations[{e.model_version, e.taxonomy_version}];
        p.model = e.model_version;
        p.taxonomy = e.taxonomy_version;
        if (p.newest_at.empty()) p.newest_at = e.at;  // events come newest first
        const int bin = std::clamp(static_cast<int>(e.confidence * kBins), 0, kBins - 1);
        ++p.bins[bin];
        ++p.n;
      }
    }
    if (events.size() < 2000) break;
  }

  json tiers = json::array();
  for (const auto& [day, by_tier] : tiers_per_day)
    tiers.push_back({{"day", day}, {"tiers", by_tier}});
  json throughput = json::array();
  for (const auto& [day, by_user] : reviews_per_day) {
    std::int64_t total = 0;
    for (const auto& [u, n] : by_user) total += n;
    throughput.push_back({{"day", day}, {"total", total}, {"by_user", by_user}});
  }
  json audit = json::array();
  for (const auto& a : review::audit_report(c.lib)) {
    audit.push_back({{"attribute", a.attribute},
                     {"reviewed", a.reviewed},
                     {"correct", a.correct},
                     {"pending", a.pending},
                     {"precision", a.precision},
                     {"low", a.low},
                     {"high", a.high}});
  }
  json acc = json::array();
  std::int64_t all_ok = 0, all_n = 0;
  for (const auto& [attr, okn] : accuracy) {
    json row = interval(okn.first, okn.second);
    row["attribute"] = attr;
    acc.push_back(row);
    all_ok += okn.first;
    all_n += okn.second;
  }
  if (all_n) {
    json row = interval(all_ok, all_n);
    row["attribute"] = "all";
    acc.push_back(row);
  }
  std::vector<const Population*> pops;
  for (const auto& [key, p] : populations) pops.push_back(&p);
  std::sort(pops.begin(), pops.end(),
            [](const Population* a, const Population* b) { return a->newest_at > b->newest_at; });
  json drift = json::array();
  for (const auto* p : pops) {
    drift.push_back({{"model_version", p->model},
                     {"taxonomy_version", p->taxonomy},
                     {"newest_at", p->newest_at},
                     {"proposals", p->n},
                     {"bins", p->bins}});
  }
  json out = {{"days", days},
              {"since", since},
              {"events_read", std::min(read, kMaxEvents)},
              {"truncated", truncated},
              {"tiers_per_day", tiers},
              {"throughput_per_day", throughput},
              {"audit", audit},
              {"accuracy", acc},
              {"drift", drift},
              {"at", now_utc_iso8601()}};
  if (pops.size() >= 2) out["drift_psi"] = psi(pops[1]->bins, pops[0]->bins);
  return out;
}

void register_dashboard_routes(Router& r, Context& c) {
  r.add("GET", "/api/v1/library/health", "viewer", "metrics",
        "What needs attention: files ingest rejected (path below the library root, reason), "
        "near-duplicate groups with their first 8 photos (duplicates=0 leaves them out), and the "
        "progress of queued work "
        "(tagging, ingest jobs)",
        [&c](Call& call) {
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 50, 1, 1000));
          // duplicates=0 leaves the (costlier) duplicate groups out: a page
          // polling progress asks for the work only.
          const bool with_duplicates = call.query("duplicates", "1") != "0";
          store::Store& db = c.lib.store();
          json rejected = json::array();
          const auto errors = db.ingest_errors();
          for (const auto& e : errors) {
            if (rejected.size() >= limit) break;
            rejected.push_back(
                {{"path", display_path(c, e.path)}, {"reason", e.reason}, {"at", e.at}});
          }
          const auto jobs = db.job_counts(store::JobKind::kIngest);
          json failed = json::array();
          for (const auto& j : db.jobs_in_state(store::JobState::kFailed, 20))
            failed.push_back(
                {{"id", j.id}, {"target", display_path(c, j.target)}, {"error", j.error}});
          send_json(
              call.res, 200,
              {{"assets", db.stats().assets},
               {"rejected", {{"total", errors.size()}, {"files", rejected}}},
               {"duplicates", with_duplicates ? duplicate_groups_json(c, limit, 8) : json(nullptr)},
               {"work",
                {{"tagging_pending", db.pending_count(store::WorkStep::kTag)},
                 {"tagging_claimed", db.claimed_count(store::WorkStep::kTag)},
                 {"ingest_jobs",
                  {{"queued", jobs.queued},
                   {"running", jobs.running},
                   {"done", jobs.done},
                   {"failed", jobs.failed}}},
                 {"failed_jobs", failed}}}});
        });

  r.add("GET", "/api/v1/dashboard", "viewer", "metrics",
        "For a manager, over the last `days` (1-365, default 30): tag events per day by tier, "
        "review decisions per day by reviewer, audit precision and per-attribute accuracy with "
        "Wilson 95% intervals, and model score distributions per model/taxonomy version (drift)",
        [&c](Call& call) {
          const int days = static_cast<int>(call.query_int("days", 30, 1, 365));
          send_json(call.res, 200, dashboard_json(c, days));
        });
}

}  // namespace tagsmith::server::detail
