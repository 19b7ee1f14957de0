#pragma once
// Taxonomy versions of a library.
//
// A library always has a current taxonomy: the builtin one is stored as
// version 1 on first use. Imports are validated against the library's palette
// and stored only when valid and different from the current version; existing
// tags are never touched by an import (run a retag).
#include <cstdint>
#include <filesystem>
#include <string_view>

#include "tagsmith/library/library.h"
#include "tagsmith/taxonomy/diff.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::tagging {

struct LibraryTaxonomy {
  std::int64_t version = 0;       // taxonomy_versions.id
  store::TaxonomyVersion record;  // with its YAML text
  taxonomy::Taxonomy taxonomy;
};

// The library's current (latest) taxonomy. A library without one gets the
// builtin taxonomy stored as its first version.
LibraryTaxonomy current_taxonomy(library::Library& lib);
// A stored version, parsed with the library's palette. Throws NotFoundError.
LibraryTaxonomy load_taxonomy_version(library::Library& lib, std::int64_t version);

struct TaxonomyImport {
  bool stored = false;          // false: same text (sha256) as the current version
  std::int64_t version = 0;     // the new version; the current one when !stored
  std::int64_t previous = 0;    // the version it replaces
  taxonomy::TaxonomyDiff diff;  // previous -> imported
};
// Validates the file against the library's palette -- throwing
// taxonomy::ValidationError and storing nothing when it is invalid -- then
// stores it as a new version unless it is identical to the current one.
// Existing tags are not touched: run a retag.
TaxonomyImport import_taxonomy(library::Library& lib, const std::filesystem::path& path);
TaxonomyImport import_taxonomy_text(library::Library& lib, std::string_view yaml,
                                    std::string_view source_name);

}  // namespace tagsmith::tagging
