// tagsmith taxonomy import|validate|show|diff|versions -- the library's
// taxonomy and its versions (every import that changes it is a new version).
#include <fmt/format.h>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.h"
#include "open_library.h"
#include "output.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"
#include "tagsmith/taxonomy/diff.h"
#include "tagsmith/taxonomy/validation.h"

namespace tagsmith::cli {
namespace {

namespace fs = std::filesystem;
using nlohmann::json;

// Reports a file that does not validate: `file:line:col: message` lines on
// stderr (or JSON on stdout) and exit status 2.
void report_invalid(const taxonomy::ValidationError& e, const GlobalOptions& g) {
  if (g.json) {
    json errors = json::array();
    for (const auto& d : e.errors())
      errors.push_back({{"line", d.line}, {"column", d.column}, {"message", d.message}});
    print_json({{"valid", false}, {"file", e.source_name()}, {"errors", errors}});
  } else {
    std::cerr << taxonomy::format_diagnostics(e.source_name(), e.errors()) << "\n";
    std::cerr << fmt::format("{}: {} error{}; nothing was changed\n", e.source_name(),
                             e.errors().size(), e.errors().size() == 1 ? "" : "s");
  }
  set_exit_code(kUsage);
}

std::size_t node_count(const taxonomy::Taxonomy& t) {
  std::size_t n = 0;
  for (const auto& a : t.attributes()) n += a.nodes.size();
  return n;
}

std::optional<std::int64_t> parse_version_ref(const std::string& s) {
  std::string digits = (!s.empty() && (s[0] == 'v' || s[0] == 'V')) ? s.substr(1) : s;
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), ::isdigit)) return std::nullopt;
  return std::stoll(digits);
}

std::string thresholds_text(const taxonomy::Thresholds& t) {
  return fmt::format("auto {:.2f} flag {:.2f} suggest {:.2f}", t.auto_apply, t.flag, t.suggest);
}

std::string override_text(const taxonomy::ThresholdOverride& o) {
  std::vector<std::string> parts;
  if (o.auto_apply) parts.push_back(fmt::format("auto {:.2f}", *o.auto_apply));
  if (o.flag) parts.push_back(fmt::format("flag {:.2f}", *o.flag));
  if (o.suggest) parts.push_back(fmt::format("suggest {:.2f}", *o.suggest));
  return fmt::format("{}", fmt::join(parts, " "));
}

std::string labels_text(const std::map<std::string, std::string>& labels) {
  std::vector<std::string> parts;
  if (auto it = labels.find("en"); it != labels.end()) parts.push_back(it->second);
  if (auto it = labels.find("zh"); it != labels.end()) parts.push_back(it->second);
  for (const auto& [lang, text] : labels)
    if (lang != "en" && lang != "zh") parts.push_back(lang + ": " + text);
  return fmt::format("{}", fmt::join(parts, " / "));
}

json thresholds_json(const taxonomy::Thresholds& t) {
  return {{"auto", t.auto_apply}, {"flag", t.flag}, {"suggest", t.suggest}};
}

json attribute_json(const taxonomy::Attribute& a) {
  json nodes = json::array();
  for (const auto& n : a.nodes) {
    json o = json::object();
    if (n.thresholds.auto_apply) o["auto"] = *n.thresholds.auto_apply;
    if (n.thresholds.flag) o["flag"] = *n.thresholds.flag;
    if (n.thresholds.suggest) o["suggest"] = *n.thresholds.suggest;
    nodes.push_back({{"id", n.id},
                     {"parent", n.parent},
                     {"depth", n.depth},
                     {"labels", n.labels},
                     {"synonyms", n.synonyms},
                     {"prompts", n.prompts},
                     {"implies", n.implies},
                     {"threshold_override", o},
                     {"thresholds", thresholds_json(a.thresholds_for(n.id))}});
  }
  json applies = json::array();
  for (const auto& r : a.applies_to) applies.push_back(r.str());
  return {{"id", a.id},
          {"kind", a.multi() ? "multi" : "single"},
          {"labels", a.labels},
          {"source", a.source},
          {"palette", a.palette_level},
          {"applies_to", applies},
          {"thresholds", thresholds_json(a.thresholds)},
          {"nodes", nodes}};
}

void print_attribute(const taxonomy::Attribute& a) {
  std::cout << fmt::format("{}  [{}]  {}  thresholds: {}\n", a.id, a.multi() ? "multi" : "single",
                           labels_text(a.labels), thresholds_text(a.thresholds));
  if (!a.applies_to.empty()) {
    std::vector<std::string> refs;
    for (const auto& r : a.applies_to) refs.push_back(r.str());
    std::cout << fmt::format("  applies to: {}\n", fmt::join(refs, ", "));
  }
  if (a.source == "palette") std::cout << fmt::format("  from the palette ({})\n", a.palette_level);
  for (const auto& n : a.nodes) {
    std::string line =
        fmt::format("{}{}  {}", std::string(2 + 2 * n.depth, ' '), n.id, labels_text(n.labels));
    if (!n.synonyms.empty()) line += fmt::format("  (also: {})", fmt::join(n.synonyms, ", "));
    if (!n.thresholds.empty()) line += "  thresholds: " + override_text(n.thresholds);
    if (!n.family.empty()) line += "  family: " + n.family;
    std::cout << line << "\n";
  }
}

// A library for reading, or null when there is none at --library.
std::unique_ptr<library::Library> open_if_exists(const GlobalOptions& g) {
  if (!store::is_postgres_url(g.library) && !fs::exists(fs::path(g.library) / "library.db"))
    return nullptr;
  return library::Library::open_existing(g.library);
}

struct Loaded {
  std::string label;  // "v3" or the file path
  taxonomy::Taxonomy taxonomy;
};

Loaded load_ref(library::Library& lib, const std::string& ref) {
  if (auto v = parse_version_ref(ref); v && !fs::exists(ref)) {
    auto t = tagging::load_taxonomy_version(lib, *v);
    return {fmt::format("v{}", t.version), std::move(t.taxonomy)};
  }
  if (!fs::exists(ref))
    throw NotFoundError(fmt::format("'{}' is neither a taxonomy version nor a file", ref));
  return {ref, taxonomy::Taxonomy::load(ref, &lib.palette())};
}

}  // namespace

void register_taxonomy(CLI::App& app, GlobalOptions& g) {
  CLI::App* tax = app.add_subcommand(
      "taxonomy", "The library's taxonomy: import, validate, show, diff, versions");
  tax->require_subcommand(1);

  // --- import ---
  auto import_file = std::make_shared<std::string>();
  CLI::App* imp =
      tax->add_subcommand("import", "Validate a taxonomy file and store it as a new version");
  imp->add_option("file", *import_file, "Taxonomy YAML (format: docs/taxonomy.md)")->required();
  imp->callback([import_file, &g] {
    auto lib_context = open_library(g, OpenMode::create);
    auto& lib = lib_context->library();
    tagging::TaxonomyImport r;
    try {
      r = tagging::import_taxonomy(lib, *import_file);
    } catch (const taxonomy::ValidationError& e) {
      report_invalid(e, g);
      return;
    }
    if (g.json) {
      print_json({{"stored", r.stored},
                  {"version", r.version},
                  {"previous", r.previous},
                  {"diff", taxonomy::to_json(r.diff)},
                  {"next", r.stored ? "tagsmith retag" : ""}});
      return;
    }
    if (!r.stored) {
      std::cout << fmt::format("{} is identical to the current taxonomy v{}; nothing imported.\n",
                               *import_file, r.version);
      return;
    }
    std::cout << fmt::format("Imported {} as taxonomy v{} (changes from v{}):\n", *import_file,
                             r.version, r.previous);
    std::cout << taxonomy::render_text(r.diff);
    std::cout << fmt::format(
        "Existing tags still follow v{}. Run `tagsmith retag` to re-tag the library under v{}.\n",
        r.previous, r.version);
  });

  // --- validate ---
  auto validate_file = std::make_shared<std::string>();
  CLI::App* val = tax->add_subcommand(
      "validate", "Check a taxonomy file without importing it (exit 2 when invalid)");
  val->add_option("file", *validate_file, "Taxonomy YAML")->required();
  val->callback([validate_file, &g] {
    // Palette attributes take their nodes from the library's palette when there is one.
    auto lib = open_if_exists(g);
    const image::Palette builtin = image::Palette::builtin();
    const image::Palette* palette = lib ? &lib->palette() : &builtin;
    try {
      const auto t = taxonomy::Taxonomy::load(*validate_file, palette);
      if (g.json) {
        print_json({{"valid", true},
                    {"file", *validate_file},
                    {"attributes", t.attributes().size()},
                    {"nodes", node_count(t)},
                    {"rules", t.rules().size()}});
      } else {
        std::cout << fmt::format("{}: valid ({} attributes, {} nodes, {} rules)\n", *validate_file,
                                 t.attributes().size(), node_count(t), t.rules().size());
      }
    } catch (const taxonomy::ValidationError& e) {
      report_invalid(e, g);
    }
  });

  // --- show ---
  struct ShowArgs {
    std::int64_t version = 0;
    std::string attribute;
  };
  auto show_args = std::make_shared<ShowArgs>();
  CLI::App* show =
      tax->add_subcommand("show", "Print the taxonomy as a tree with labels and thresholds");
  show->add_option("--version", show_args->version, "Taxonomy version (default: the current one)");
  show->add_option("--attribute", show_args->attribute, "Only this attribute");
  show->callback([show_args, &g] {
    auto lib = open_if_exists(g);
    std::optional<tagging::LibraryTaxonomy> lt;
    std::string heading;
    taxonomy::Taxonomy builtin;
    const taxonomy::Taxonomy* t = nullptr;
    if (lib) {
      lt = show_args->version > 0 ? tagging::load_taxonomy_version(*lib, show_args->version)
                                  : tagging::current_taxonomy(*lib);
      t = &lt->taxonomy;
      heading = fmt::format("taxonomy v{} \"{}\" from {} ({})", lt->version, t->name(),
                            lt->record.source, lt->record.created_at);
    } else {
      // No library yet: show what a new one would start with.
      builtin = taxonomy::Taxonomy::builtin();
      t = &builtin;
      heading = fmt::format("builtin taxonomy \"{}\" (no library at {})", t->name(), g.library);
    }
    const taxonomy::Attribute* only = nullptr;
    if (!show_args->attribute.empty()) {
      only = t->attribute(show_args->attribute);
      if (!only)
        throw InputError(fmt::format("no attribute '{}' in this taxonomy", show_args->attribute));
    }
    if (g.json) {
      json attrs = json::array();
      for (const auto& a : t->attributes())
        if (!only || &a == only) attrs.push_back(attribute_json(a));
      json rules = json::array();
      for (const auto& r : t->rules()) rules.push_back({{"id", r.id}, {"describe", r.describe()}});
      print_json({{"version", lt ? lt->version : 0},
                  {"name", t->name()},
                  {"source", lt ? lt->record.source : "builtin"},
                  {"languages", t->languages()},
                  {"attributes", attrs},
                  {"rules", rules}});
      return;
    }
    std::cout << heading << "\n\n";
    for (const auto& a : t->attributes()) {
      if (only && &a != only) continue;
      print_attribute(a);
      std::cout << "\n";
    }
    if (!only && !t->rules().empty()) {
      std::cout << "rules\n";
      for (const auto& r : t->rules()) std::cout << fmt::format("  {}: {}\n", r.id, r.describe());
    }
  });

  // --- diff ---
  auto diff_refs = std::make_shared<std::vector<std::string>>();
  CLI::App* dif = tax->add_subcommand(
      "diff", "Differences between two versions (numbers like 2 or v2) or files");
  dif->add_option("a", *diff_refs, "Version number or file, then another")->required()->expected(2);
  dif->callback([diff_refs, &g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    Loaded a, b;
    try {
      a = load_ref(lib, (*diff_refs)[0]);
      b = load_ref(lib, (*diff_refs)[1]);
    } catch (const taxonomy::ValidationError& e) {
      report_invalid(e, g);
      return;
    }
    const auto d = taxonomy::diff(a.taxonomy, b.taxonomy);
    if (g.json) {
      print_json({{"from", a.label}, {"to", b.label}, {"diff", taxonomy::to_json(d)}});
      return;
    }
    std::cout << fmt::format("{} -> {}\n", a.label, b.label) << taxonomy::render_text(d);
  });

  // --- versions ---
  CLI::App* vers = tax->add_subcommand("versions", "List the taxonomy versions of the library");
  vers->callback([&g] {
    auto lib_context = open_library(g, OpenMode::existing);
    auto& lib = lib_context->library();
    tagging::current_taxonomy(lib);  // a library always has at least the builtin one
    const auto list = lib.store().taxonomy_versions();
    if (g.json) {
      json j = json::array();
      for (const auto& v : list)
        j.push_back({{"version", v.id},
                     {"created_at", v.created_at},
                     {"source", v.source},
                     {"sha256", v.sha256},
                     {"current", &v == &list.back()}});
      print_json(j);
      return;
    }
    for (const auto& v : list) {
      std::cout << fmt::format("v{:<4} {}  {}  {}{}\n", v.id, v.created_at, v.sha256.substr(0, 12),
                               v.source, &v == &list.back() ? "  (current)" : "");
    }
  });
}

}  // namespace tagsmith::cli
