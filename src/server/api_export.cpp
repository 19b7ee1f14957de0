// Export for the web: GET /api/v1/export -- the assets a search selects with
// their tags, as a CSV or JSON download (app/export.h), audited like the
// CLI's `tagsmith export`.
//
// The selection is the search's own (the same snapshot of taxonomy and
// facets that /api/v1/search answers from), so the count a page shows is
// the number of assets exported. The transport answers with whole bodies
// (transport.h), so a web export is capped at kMaxWebExportAssets; larger
// ones are refused with 413 and pointed at the CLI, which streams.
#include <fmt/format.h>

#include <ctime>
#include <sstream>

#include "internal.h"
#include "tagsmith/app/export.h"

namespace tagsmith::server::detail {

namespace {

constexpr std::size_t kMaxWebExportAssets = 50'000;

std::string content_type_of(app::ExportFormat f) {
  switch (f) {
    case app::ExportFormat::kCsv:
      return "text/csv; charset=utf-8";
    case app::ExportFormat::kJson:
      return "application/json; charset=utf-8";
    case app::ExportFormat::kJsonLines:
      return "application/x-ndjson; charset=utf-8";
    case app::ExportFormat::kXmp:
      break;
  }
  throw HttpError(400, "format must be csv, json or jsonl (XMP is written by `tagsmith export`)");
}

std::string download_name(app::ExportFormat f) {
  const std::time_t now = std::time(nullptr);
  std::tm utc{};
  gmtime_r(&now, &utc);
  char stamp[32];
  std::strftime(stamp, sizeof stamp, "%Y%m%d-%H%M%S", &utc);
  return fmt::format("tagsmith-export-{}.{}", stamp, app::to_string(f));
}

}  // namespace

void register_export_routes(Router& r, Context& c) {
  r.add("GET", "/api/v1/export", "viewer", "search",
        "Download the assets a search selects with their tags: format=csv|json|jsonl, q, "
        "facet=ATTR=VALUE (repeatable), flagged, suggested (as /search), lang=en|zh, "
        "tiers=applied|all|auto,flagged,... Audited.",
        [&c](Call& call) {
          const auto format = app::export_format_from_string(call.query("format", "csv"));
          const std::string content_type = content_type_of(format);
          app::ExportQuery query;
          query.text = call.query("q");
          if (query.text.size() > 1000) throw HttpError(400, "the query is too long");
          for (std::size_t i = 0; i < call.req.get_param_value_count("facet"); ++i)
            query.facets.push_back(call.req.get_param_value("facet", i));
          query.visibility.include_flagged = call.query_bool("flagged");
          query.visibility.include_suggested = call.query_bool("suggested");
          app::ExportOptions options;
          options.language = call.query("lang", "en");
          options.states = app::export_states_from_string(call.query("tiers", "applied"));
          // Server paths are for admins; everyone gets the file name.
          options.include_paths = call.who().role == Role::kAdmin;

          const auto view = search_view(c);
          const auto selection = app::select_for_export(*view.taxonomy, *view.facets, query);
          if (selection.ids.size() > kMaxWebExportAssets) {
            throw HttpError(413, fmt::format("the search selects {} assets; a web export takes at "
                                             "most {}: narrow the search, or run `tagsmith "
                                             "export` on the server, which has no limit",
                                             selection.ids.size(), kMaxWebExportAssets));
          }
          call.res.set_header("Content-Disposition",
                              fmt::format("attachment; filename=\"{}\"", download_name(format)));
          call.res.set_header("X-Tagsmith-Export-Assets", std::to_string(selection.ids.size()));
          if (call.req.method == "HEAD") {
            call.res.set_content(std::string(), content_type);
            return;
          }
          app::record_export(c.lib.store(), "user:" + call.who().name, format, query,
                             selection.ids.size(), "http");
          std::ostringstream body;
          app::write_export_table(c.lib.store(), *view.taxonomy, selection.ids, format, options,
                                  body);
          call.res.status = 200;
          call.res.set_content(std::move(body).str(), content_type);
        });

  r.add("GET", "/api/v1/exports", "admin", "admin",
        "The newest exports (who, when, format, query, assets): limit", [&c](Call& call) {
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 100, 1, 10'000));
          json out = json::array();
          for (const auto& e : c.lib.store().export_records(limit))
            out.push_back({{"id", e.id},
                           {"at", e.at},
                           {"actor", e.actor},
                           {"format", e.format},
                           {"query", e.query},
                           {"assets", e.assets},
                           {"destination", e.destination}});
          send_json(call.res, 200, {{"exports", out}});
        });
}

}  // namespace tagsmith::server::detail
