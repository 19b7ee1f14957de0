#pragma once
// Exports: the assets a search selects, with their tags, in the formats DAM
// and photo tools read (`tagsmith export`, GET /api/v1/export).
//
// Selection (select_for_export): what `tagsmith search` counts as its result
// set -- the facet clauses (--facet / facet=) AND the words of the text the
// taxonomy understood (search/query.h), with the same visibility of flagged
// and suggested tags. Ranking words (the remainder a vision model would rank
// by) do not narrow a search's result set, so they do not narrow an export
// either: they are noted. A text made only of such words selects nothing a
// filter could name, so it is refused (InputError) rather than exporting the
// whole library by surprise. An empty query selects every asset.
// Assets are exported in ascending id order.
//
// Formats (ExportFormat):
//   csv    one row per (asset, tag), RFC 4180, UTF-8, header first; an asset
//          without any exported tag still has one row (tag columns empty).
//          Text cells that a spreadsheet would run as a formula (= + - @ at
//          the start) are prefixed with ' (CSV injection).
//   json   one JSON array, one object per asset with a "tags" array
//   jsonl  the same objects, one per line
//   xmp    sidecars (image/xmp.h): dc:subject + lr:hierarchicalSubject
// Every tag is (attribute, node, label, hierarchy, state, confidence,
// set_by, updated_at); labels in ExportOptions::language; which tag states
// are written: ExportOptions::states (default: applied ones -- auto,
// flagged, confirmed, human_set -- as search counts them).
//
// Table formats stream: assets and tags are read from the store in batches
// of kExportBatch and written out, so memory stays bounded at any library
// size (only the selected ids are held: 8 bytes an asset).
//
// Audit: record_export writes one ExportRecord (who, when, format, query,
// how many assets, where to) before anything leaves: an export that is
// interrupted is still on record.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <ostream>
#include <span>
#include <string>
#include <vector>

#include "tagsmith/image/xmp.h"
#include "tagsmith/search/facet_index.h"
#include "tagsmith/store/records.h"
#include "tagsmith/store/store.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::app {

enum class ExportFormat { kCsv, kJson, kJsonLines, kXmp };
ExportFormat export_format_from_string(const std::string& s);  // InputError naming the formats
std::string to_string(ExportFormat f);

inline constexpr std::size_t kExportBatch = 512;

struct ExportQuery {
  std::string text;                 // as `tagsmith search TEXT`
  std::vector<std::string> facets;  // "attribute=value[,value...]", as --facet
  search::Visibility visibility;
  // One line for the audit record and messages: text and facets as given.
  std::string describe() const;
};

struct ExportSelection {
  std::vector<store::AssetId> ids;  // ascending
  std::vector<std::string> notes;   // e.g. words that only rank, ignored
};

// Throws InputError for a bad facet or a text that names no filter.
ExportSelection select_for_export(const taxonomy::Taxonomy& tax, const search::FacetIndex& facets,
                                  const ExportQuery& query);

// Parses "--tiers": comma-separated tag states (auto, flagged, suggested,
// confirmed, rejected, human_set), "applied" (the default set) or "all".
std::vector<store::TagState> export_states_from_string(const std::string& s);

struct ExportOptions {
  std::vector<store::TagState> states = {store::TagState::kAuto, store::TagState::kFlagged,
                                         store::TagState::kConfirmed, store::TagState::kHumanSet};
  std::string language = "en";  // labels: "en" or "zh" (or any language the taxonomy has)
  bool include_paths = true;    // false: the path column/field is left empty (file name kept)
};

// Writes csv/json/jsonl for `ids`; returns the number of assets written
// (ids no longer in the store are skipped).
std::size_t write_export_table(store::Store& db, const taxonomy::Taxonomy& tax,
                               std::span<const store::AssetId> ids, ExportFormat format,
                               const ExportOptions& options, std::ostream& out);

// Where XMP goes.
struct XmpTarget {
  // Sidecars next to each photo (its source path); otherwise under `dir`,
  // mirroring the photos' folders below their common parent folder.
  bool in_place = false;
  std::filesystem::path dir;
  // Embed XMP into copies of the photos under `dir` instead of sidecars
  // (never into the originals).
  bool embed = false;
  image::KeywordWrite mode = image::KeywordWrite::kMerge;
};

struct XmpExportReport {
  std::size_t written = 0;       // sidecars or copies written
  std::size_t without_tags = 0;  // assets with no exported tag: nothing written
  std::vector<std::pair<std::string, std::string>> failed;  // path, reason
};

XmpExportReport write_xmp(store::Store& db, const taxonomy::Taxonomy& tax,
                          std::span<const store::AssetId> ids, const ExportOptions& options,
                          const XmpTarget& target);

// The audit record of one export; returns its id.
std::int64_t record_export(store::Store& db, const std::string& actor, ExportFormat format,
                           const ExportQuery& query, std::size_t assets,
                           const std::string& destination, bool embedded = false);

}  // namespace tagsmith::app
