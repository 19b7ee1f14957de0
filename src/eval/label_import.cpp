#include "tagsmith/eval/label_import.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

#include "tagsmith/common/error.h"

namespace tagsmith::eval {
namespace fs = std::filesystem;

namespace {

// The library stores absolute, lexically normal paths (ingest); a library
// ingested through a symlinked folder is found through the canonical path.
std::optional<store::AssetId> asset_at(store::Store& db, const fs::path& path) {
  auto lookup = [&](const std::string& p) -> std::optional<store::AssetId> {
    if (const auto known = db.find_path(p)) return known->asset_id;
    if (const auto a = db.find_asset_by_path(p)) return a->id;
    return std::nullopt;
  };
  if (auto id = lookup(path.string())) return id;
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(path, ec);
  if (!ec && canonical != path) return lookup(canonical.string());
  return std::nullopt;
}

}  // namespace

ImportReport import_labels(library::Library& library, tagging::TagService& service,
                           const CsvTable& csv, const std::vector<ColumnMapping>& mapping,
                           const ImportOptions& options) {
  if (options.actor.empty()) throw InputError("an import needs an actor (import:<file>)");
  const auto& tax = service.taxonomy();
  validate_mapping(mapping, tax);
  const LabelledSet set = build_labelled_set(csv, mapping, options.root, options.image_column);
  store::Store& db = library.store();

  ImportReport report;
  report.rows = set.rows;
  for (const auto& [column, n] : set.blank) report.blank += n;
  for (const auto& m : set.missing_images)
    report.problems.push_back(
        {m.line, m.image,
         m.image.empty()
             ? "no image path"
             : fmt::format("no such image file ({})",
                           (fs::absolute(options.root) / m.image).lexically_normal().string())});
  std::map<int, std::size_t> row_at_line;
  for (std::size_t r = 0; r < csv.rows.size(); ++r) row_at_line.emplace(csv.lines[r], r);
  const int image_col = csv.column(options.image_column);  // exists: build_labelled_set checked
  for (const auto& c : set.unmapped_cells) {
    const std::string image = csv.rows[row_at_line.at(c.line)][image_col];
    report.problems.push_back(
        {c.line, image,
         fmt::format("value '{}' of column '{}' is not in the mapping (add it under `values:`)",
                     c.value, c.column)});
  }

  // (asset, single-valued attribute) -> (node, line) given by this file, so
  // two rows disagreeing about one image are reported, not flip-flopped.
  std::map<std::pair<store::AssetId, std::string>, std::pair<std::string, int>> given;
  std::set<store::AssetId> assets;
  for (const auto& item : set.items) {
    if (item.labels.empty()) continue;
    const auto asset = asset_at(db, item.path);
    if (!asset) {
      report.problems.push_back(
          {item.line, item.image,
           fmt::format("{} is not in the library (ingest it first)", item.path.string())});
      continue;
    }
    assets.insert(*asset);
    const auto tags = db.tags_of(*asset);
    for (const auto& [attribute, node] : item.labels) {
      ++report.labels;
      const bool multi = tax.attribute(attribute)->multi();
      if (!multi) {
        auto [it, fresh] =
            given.emplace(std::make_pair(*asset, attribute), std::make_pair(node, item.line));
        if (!fresh && it->second.first != node) {
          report.problems.push_back(
              {item.line, item.image,
               fmt::format("{} is {} here but {} on line {} (same image)", attribute, node,
                           it->second.first, it->second.second)});
          continue;
        }
      }
      const store::Tag* same = nullptr;
      const store::Tag* other_human = nullptr;
      for (const auto& t : tags) {
        if (t.attribute != attribute) continue;
        if (t.node == node) {
          same = &t;
        } else if (!multi && (t.state == store::TagState::kHumanSet ||
                              t.state == store::TagState::kConfirmed)) {
          other_human = &t;
        }
      }
      if (same && same->state == store::TagState::kRejected) {
        // This import's own earlier correction rejected it: the catalogue
        // changed back, which is not a person's decision to respect.
        if (same->actor != options.actor) {
          report.problems.push_back({item.line, item.image,
                                     fmt::format("{} {} was rejected by {}; not imported",
                                                 attribute, node, same->actor)});
          continue;
        }
      } else if (same && store::is_human(same->state)) {
        ++report.unchanged;
        continue;
      }
      if (other_human) {
        if (other_human->actor == options.actor) {
          // This file set another value before: the catalogue was corrected.
          service.correct(*asset, attribute, other_human->node, node, options.actor);
          ++report.corrected;
        } else {
          report.problems.push_back(
              {item.line, item.image,
               fmt::format("{} is already {} (set by {}); not overwritten", attribute,
                           other_human->node, other_human->actor)});
        }
        continue;
      }
      if (service.set(*asset, attribute, node, options.actor))
        ++report.set;
      else
        ++report.unchanged;
    }
  }
  report.assets = assets.size();
  std::stable_sort(report.problems.begin(), report.problems.end(),
                   [](const ImportProblem& a, const ImportProblem& b) { return a.line < b.line; });
  return report;
}

}  // namespace tagsmith::eval
