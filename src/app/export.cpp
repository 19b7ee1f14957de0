#include "tagsmith/app/export.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/search/query.h"
#include "tagsmith/search/search.h"
#include "tagsmith/tagging/keywords.h"

namespace tagsmith::app {
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

std::string attribute_label(const taxonomy::Taxonomy& tax, const std::string& attribute,
                            const std::string& language) {
  const auto* a = tax.attribute(attribute);
  if (!a) return attribute;
  for (const std::string& lang : {language, std::string("en")})
    if (auto it = a->labels.find(lang); it != a->labels.end() && !it->second.empty())
      return it->second;
  return a->id;
}

std::string node_label(const taxonomy::Taxonomy& tax, const std::string& attribute,
                       const std::string& node, const std::string& language) {
  const auto* n = tax.node(attribute, node);
  return n ? n->label(language) : node;
}

// RFC 4180 cell; text a spreadsheet would evaluate is defused with a quote.
std::string csv_cell(std::string_view text, bool defuse = true) {
  std::string s(text);
  if (defuse && !s.empty() && std::string_view("=+-@\t\r").find(s.front()) != std::string::npos)
    s.insert(s.begin(), '\'');
  if (s.find_first_of(",\"\r\n") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + '"';
}

std::string json_line(const json& j) {
  return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

bool wanted(const std::vector<store::TagState>& states, store::TagState s) {
  return std::find(states.begin(), states.end(), s) != states.end();
}

// Reads `ids` in batches: fn(asset, its exported tags) in ascending id order.
void for_each_asset(
    store::Store& db, std::span<const store::AssetId> ids, const ExportOptions& options,
    const std::function<void(const store::AssetRecord&, const std::vector<store::Tag>&)>& fn) {
  std::vector<store::Tag> mine;
  for (std::size_t b = 0; b < ids.size(); b += kExportBatch) {
    const auto batch = ids.subspan(b, std::min(kExportBatch, ids.size() - b));
    const auto assets = db.find_assets(batch);
    const auto tags = db.tags_of_assets(batch, false);
    auto t = tags.begin();
    for (const auto& a : assets) {
      while (t != tags.end() && t->asset_id < a.id) ++t;
      mine.clear();
      for (; t != tags.end() && t->asset_id == a.id; ++t)
        if (wanted(options.states, t->state)) mine.push_back(*t);
      fn(a, mine);
    }
  }
}

constexpr const char* kCsvHeader =
    "asset_id,file_name,path,format,width,height,sha256,ingested_at,attribute,attribute_label,"
    "node,label,hierarchy,state,confidence,set_by,updated_at\r\n";

json tag_json(const taxonomy::Taxonomy& tax, const store::Tag& t, const std::string& lang) {
  return {{"attribute", t.attribute},
          {"attribute_label", attribute_label(tax, t.attribute, lang)},
          {"node", t.node},
          {"label", node_label(tax, t.attribute, t.node, lang)},
          {"hierarchy", tagging::hierarchy_of(tax, t.attribute, t.node, lang)},
          {"state", store::to_string(t.state)},
          {"confidence", t.confidence},
          {"set_by", t.actor},
          {"updated_at", t.updated_at}};
}

}  // namespace

ExportFormat export_format_from_string(const std::string& s) {
  if (s == "csv") return ExportFormat::kCsv;
  if (s == "json") return ExportFormat::kJson;
  if (s == "jsonl") return ExportFormat::kJsonLines;
  if (s == "xmp") return ExportFormat::kXmp;
  throw InputError(fmt::format("unknown export format '{}' (known: csv, json, jsonl, xmp)", s));
}

std::string to_string(ExportFormat f) {
  switch (f) {
    case ExportFormat::kCsv:
      return "csv";
    case ExportFormat::kJson:
      return "json";
    case ExportFormat::kJsonLines:
      return "jsonl";
    case ExportFormat::kXmp:
      return "xmp";
  }
  return "?";
}

std::string ExportQuery::describe() const {
  std::vector<std::string> parts;
  if (!text.empty()) parts.push_back(fmt::format("\"{}\"", text));
  for (const auto& f : facets) parts.push_back("--facet " + f);
  if (visibility.include_flagged) parts.push_back("--include-flagged");
  if (visibility.include_suggested) parts.push_back("--include-suggested");
  return parts.empty() ? "(all assets)" : fmt::format("{}", fmt::join(parts, " "));
}

std::vector<store::TagState> export_states_from_string(const std::string& s) {
  if (s.empty() || s == "applied") return ExportOptions{}.states;
  if (s == "all")
    return {store::TagState::kAuto,      store::TagState::kFlagged,  store::TagState::kSuggested,
            store::TagState::kConfirmed, store::TagState::kRejected, store::TagState::kHumanSet};
  std::vector<store::TagState> out;
  std::size_t b = 0;
  while (b <= s.size()) {
    auto e = s.find(',', b);
    if (e == std::string::npos) e = s.size();
    const std::string name = s.substr(b, e - b);
    if (!name.empty()) {
      try {
        out.push_back(store::tag_state_from_string(name));
      } catch (const InputError&) {
        throw InputError(fmt::format(
            "unknown tier '{}' (known: auto, flagged, suggested, confirmed, rejected, human_set, "
            "applied, all)",
            name));
      }
    }
    b = e + 1;
  }
  if (out.empty()) throw InputError("--tiers names no tier");
  return out;
}

ExportSelection select_for_export(const taxonomy::Taxonomy& tax, const search::FacetIndex& facets,
                                  const ExportQuery& query) {
  ExportSelection out;
  search::FacetFilter filter;
  std::vector<search::FacetClause> clauses;
  for (const auto& f : query.facets) clauses.push_back(search::parse_facet_option(tax, f));
  filter.all_of = search::merge_facet_clauses(std::move(clauses));
  const search::QueryParser parser(tax);
  const auto parsed = parser.parse(query.text);
  for (auto& c : parsed.filter().all_of) filter.all_of.push_back(std::move(c));
  if (!parsed.remainder.empty()) {
    if (filter.empty())
      throw InputError(fmt::format(
          "nothing in '{}' names a taxonomy value, so it selects no assets to export (an export "
          "takes a search's filters: words like \"white dress\" or --facet ATTRIBUTE=VALUE)",
          query.text));
    out.notes.push_back(
        fmt::format("'{}' only ranks search results; the export holds every asset the rest selects",
                    parsed.remainder));
  }
  const auto docs = facets.match(filter, query.visibility);
  out.ids.reserve(docs.size());
  for (auto d : docs) out.ids.push_back(facets.id_of(d));
  return out;
}

std::size_t write_export_table(store::Store& db, const taxonomy::Taxonomy& tax,
                               std::span<const store::AssetId> ids, ExportFormat format,
                               const ExportOptions& options, std::ostream& out) {
  if (format == ExportFormat::kXmp) throw InputError("XMP is written as files: use write_xmp");
  const std::string& lang = options.language;
  std::size_t written = 0;
  if (format == ExportFormat::kCsv) out << kCsvHeader;
  if (format == ExportFormat::kJson) out << "[";
  for_each_asset(
      db, ids, options, [&](const store::AssetRecord& a, const std::vector<store::Tag>& tags) {
        const std::string name = fs::path(a.source_path).filename().string();
        const std::string path = options.include_paths ? a.source_path : std::string();
        if (format == ExportFormat::kCsv) {
          const std::string asset_cells =
              fmt::format("{},{},{},{},{},{},{},{}", a.id, csv_cell(name), csv_cell(path), a.format,
                          a.width, a.height, a.sha256, a.ingested_at);
          if (tags.empty()) out << asset_cells << ",,,,,,,,,\r\n";
          for (const auto& t : tags) {
            out << asset_cells << ',' << csv_cell(t.attribute) << ','
                << csv_cell(attribute_label(tax, t.attribute, lang)) << ',' << csv_cell(t.node)
                << ',' << csv_cell(node_label(tax, t.attribute, t.node, lang)) << ','
                << csv_cell(tagging::hierarchy_of(tax, t.attribute, t.node, lang)) << ','
                << store::to_string(t.state) << ',' << fmt::format("{:.4f}", t.confidence) << ','
                << csv_cell(t.actor) << ',' << t.updated_at << "\r\n";
          }
        } else {
          json tag_list = json::array();
          for (const auto& t : tags) tag_list.push_back(tag_json(tax, t, lang));
          const json j = {{"id", a.id},         {"file_name", name},
                          {"path", path},       {"format", a.format},
                          {"width", a.width},   {"height", a.height},
                          {"sha256", a.sha256}, {"ingested_at", a.ingested_at},
                          {"tags", tag_list}};
          if (format == ExportFormat::kJson) out << (written == 0 ? "\n" : ",\n");
          out << json_line(j);
          if (format == ExportFormat::kJsonLines) out << "\n";
        }
        ++written;
      });
  if (format == ExportFormat::kJson) out << (written == 0 ? "]\n" : "\n]\n");
  out.flush();
  return written;
}

XmpExportReport write_xmp(store::Store& db, const taxonomy::Taxonomy& tax,
                          std::span<const store::AssetId> ids, const ExportOptions& options,
                          const XmpTarget& target) {
  XmpExportReport report;
  if (!target.in_place && target.dir.empty())
    throw InputError("XMP export needs an output folder (--out DIR) or --in-place-sidecars");
  if (target.in_place && target.embed)
    throw InputError("embedded XMP is written into copies under --out DIR, never in place");
  // The photos' common parent folder, so that the output mirrors only the
  // folders below it (one pass over the paths, nothing held).
  fs::path common;
  bool first = true;
  if (!target.in_place) {
    for_each_asset(db, ids, options,
                   [&](const store::AssetRecord& a, const std::vector<store::Tag>&) {
                     const fs::path parent = fs::path(a.source_path).parent_path();
                     if (first) {
                       common = parent;
                       first = false;
                       return;
                     }
                     fs::path shared;
                     for (auto i = common.begin(), j = parent.begin();
                          i != common.end() && j != parent.end() && *i == *j; ++i, ++j)
                       shared /= *i;
                     common = shared;
                   });
    fs::create_directories(target.dir);
  }
  // Two photos of one folder may share a stem (a.jpg, a.png): the second
  // gets the full-name sidecar (a.png.xmp). Hashes of the names written.
  std::unordered_set<std::size_t> written_names;
  for_each_asset(
      db, ids, options, [&](const store::AssetRecord& a, const std::vector<store::Tag>& tags) {
        if (tags.empty()) {
          ++report.without_tags;
          return;
        }
        const auto keywords = tagging::keywords_of(tax, tags, options.language);
        const fs::path source(a.source_path);
        fs::path out_dir = source.parent_path();
        if (!target.in_place)
          out_dir = target.dir / source.parent_path().lexically_relative(common);
        try {
          fs::create_directories(out_dir);
          if (target.embed) {
            image::write_embedded_copy(source, out_dir / source.filename(), keywords, target.mode);
          } else {
            fs::path sidecar = image::sidecar_path(out_dir / source.filename());
            if (!written_names.insert(std::hash<std::string>{}(sidecar.string())).second)
              sidecar = image::sidecar_path(out_dir / source.filename(), true);
            // A sidecar in an export folder is ours to replace; one next to the
            // photo may hold a person's work, merged unless asked otherwise.
            image::write_sidecar(sidecar, keywords,
                          target.in_place ? target.mode : image::KeywordWrite::kReplace);
            written_names.insert(std::hash<std::string>{}(sidecar.string()));
          }
          ++report.written;
        } catch (const std::exception& e) {
          report.failed.emplace_back(a.source_path, e.what());
        }
      });
  return report;
}

std::int64_t record_export(store::Store& db, const std::string& actor, ExportFormat format,
                           const ExportQuery& query, std::size_t assets,
                           const std::string& destination, bool embedded) {
  store::ExportRecord r;
  r.at = now_utc_iso8601();
  r.actor = actor;
  r.format = format == ExportFormat::kXmp && embedded ? "xmp-embedded" : to_string(format);
  r.query = query.describe();
  r.assets = static_cast<std::int64_t>(assets);
  r.destination = destination;
  return db.add_export_record(r);
}

}  // namespace tagsmith::app
