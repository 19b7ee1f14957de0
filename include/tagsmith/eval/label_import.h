#pragma once
// A catalogue's existing labels recorded as human tags (issue 13): the way a
// real team seeds training. The same CSV + YAML mapping `tagsmith eval`
// reads (labels.h) names, per image, a node per attribute; each becomes a
// human-set tag through the tagging service's `set`, so it is audited like a
// person's (one `applied` event, actor "import:<csv file name>") and the
// machine never overrides it.
//
// Idempotent: a tag the library already holds as a human fact is left alone,
// so importing the same file twice writes nothing the second time. A value
// this same import set earlier and the CSV now changes is corrected (one
// `corrected` event). Nothing else is overwritten: a person's different
// value or rejection is reported as a conflict.
//
// Bad rows are reported with their CSV line, never dropped silently: image
// file missing, image not in the library, value not in the mapping, two rows
// giving one image different values.
#include <cstddef>
#include <filesystem>
#include <string>
#include <vector>

#include "tagsmith/eval/labels.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::eval {

struct ImportOptions {
  std::string actor;           // "import:<file name>" (required)
  std::filesystem::path root;  // image paths in the CSV are relative to it
  std::string image_column = "image";
};

struct ImportProblem {
  int line = 0;        // CSV line of the row
  std::string image;   // as written in the CSV
  std::string reason;  // plain words: what is wrong and what to do
};

struct ImportReport {
  std::size_t rows = 0;                 // CSV data rows
  std::size_t labels = 0;               // mapped cells of rows whose image is in the library
  std::size_t set = 0;                  // new human tags written (one event each)
  std::size_t corrected = 0;            // this import's earlier value replaced (one event each)
  std::size_t unchanged = 0;            // already a human fact with that value
  std::size_t blank = 0;                // empty cells in mapped columns (no label, not a problem)
  std::size_t assets = 0;               // distinct assets labelled by this file
  std::vector<ImportProblem> problems;  // in CSV order
  std::size_t events() const { return set + corrected; }
};

// Validates the mapping against the service's taxonomy first (InputError
// listing every problem, nothing written), then imports row by row.
ImportReport import_labels(library::Library& library, tagging::TagService& service,
                           const CsvTable& csv, const std::vector<ColumnMapping>& mapping,
                           const ImportOptions& options);

}  // namespace tagsmith::eval
