#include "tagsmith/tagging/taxonomy_versions.h"

#include <fmt/format.h>

#include "tagsmith/common/clock.h"
#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/hash.h"

namespace tagsmith::tagging {

namespace {

std::string version_source_name(std::int64_t id) {
  return fmt::format("taxonomy v{}", id);
}

LibraryTaxonomy parse_version(library::Library& lib, store::TaxonomyVersion v) {
  LibraryTaxonomy out;
  out.taxonomy = taxonomy::Taxonomy::parse(v.yaml, version_source_name(v.id), &lib.palette());
  out.version = v.id;
  out.record = std::move(v);
  return out;
}

}  // namespace

LibraryTaxonomy current_taxonomy(library::Library& lib) {
  store::Store& db = lib.store();
  auto latest = db.latest_taxonomy_version();
  if (!latest) {
    // Lazily, so libraries created before taxonomies existed get one too.
    store::TaxonomyVersion v;
    v.created_at = now_utc_iso8601();
    v.source = "builtin";
    v.yaml = std::string(taxonomy::Taxonomy::builtin_yaml());
    v.sha256 = sha256_hex(std::string_view(v.yaml));
    db.add_taxonomy_version(v);
    latest = db.latest_taxonomy_version();
  }
  return parse_version(lib, std::move(*latest));
}

LibraryTaxonomy load_taxonomy_version(library::Library& lib, std::int64_t version) {
  if (version == 1 && lib.store().taxonomy_versions().empty()) return current_taxonomy(lib);
  auto v = lib.store().taxonomy_version(version);
  if (!v)
    throw NotFoundError(fmt::format(
        "no taxonomy version {} in this library (see `tagsmith taxonomy versions`)", version));
  return parse_version(lib, std::move(*v));
}

TaxonomyImport import_taxonomy_text(library::Library& lib, std::string_view yaml,
                                    std::string_view source_name) {
  // Parse first: a file that does not validate must leave the library untouched.
  taxonomy::Taxonomy imported = taxonomy::Taxonomy::parse(yaml, source_name, &lib.palette());
  LibraryTaxonomy current = current_taxonomy(lib);
  TaxonomyImport out;
  out.previous = current.version;
  out.diff = taxonomy::diff(current.taxonomy, imported);
  const std::string sha = sha256_hex(yaml);
  if (sha == current.record.sha256) {
    out.version = current.version;
    return out;
  }
  store::TaxonomyVersion v;
  v.created_at = now_utc_iso8601();
  v.source = std::string(source_name);
  v.sha256 = sha;
  v.yaml = std::string(yaml);
  out.version = lib.store().add_taxonomy_version(v);
  out.stored = true;
  return out;
}

TaxonomyImport import_taxonomy(library::Library& lib, const std::filesystem::path& path) {
  std::error_code ec;
  const auto abs = std::filesystem::absolute(path, ec);
  return import_taxonomy_text(lib, read_file_text(path),
                              (ec ? path : abs).lexically_normal().string());
}

}  // namespace tagsmith::tagging
