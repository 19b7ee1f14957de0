#pragma once
// A labelled image set for the evaluation harness: a CSV (one row per image,
// an image column plus one column per attribute) and a YAML mapping from CSV
// columns and values to taxonomy attributes and nodes:
//
//   articleType:            # CSV column
//     attribute: garment_type
//     values: {Tshirts: t-shirt, Shirts: shirt, Tops: top}
//
// Nothing is dropped silently: values the mapping does not know are counted
// per (column, value), blank cells per column, and rows whose image file does
// not exist are listed with their CSV line. Parse errors are InputErrors that
// name the file and line ("labels.csv:12: unterminated quoted field").
#include <cstddef>
#include <filesystem>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace tagsmith::taxonomy {
class Taxonomy;
}

namespace tagsmith::eval {

// RFC 4180 CSV: comma separated, optional double quotes ("" inside quotes is
// one quote; commas and newlines may appear inside quotes), LF or CRLF line
// ends, the first record is the header. Empty lines are skipped. A record
// with a different number of fields than the header is an error.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  std::vector<int> lines;  // 1-based source line where each row starts

  // Index of `name` in the header, or -1.
  int column(std::string_view name) const;
};

CsvTable parse_csv(std::string_view text, const std::string& source = "labels.csv");
CsvTable read_csv(const std::filesystem::path& path);

struct ColumnMapping {
  std::string column;
  std::string attribute;
  std::map<std::string, std::string> values;  // CSV value -> node id
  int line = 0;                               // where the entry starts in the YAML
};

// Throws InputError (with file:line) for non-mapping documents, entries
// without `attribute`, or `values` that are not a map of scalars.
std::vector<ColumnMapping> parse_mapping(std::string_view yaml,
                                         const std::string& source = "map.yaml");
std::vector<ColumnMapping> read_mapping(const std::filesystem::path& path);

// Checks every mapping against the taxonomy: the attribute exists and every
// target node is one of its nodes. Multi-valued attributes are allowed: the
// one CSV value is the class expected on top. Throws InputError
// listing every problem.
void validate_mapping(const std::vector<ColumnMapping>& mapping, const taxonomy::Taxonomy& tax);

struct LabelledItem {
  std::string image;                          // as written in the CSV
  std::filesystem::path path;                 // absolute
  int line = 0;                               // CSV line
  std::map<std::string, std::string> labels;  // attribute -> node
  std::string segment;                        // value of --segment-by ("" when none)
  std::string split;                          // value of --split-column ("" when none)
};

struct MissingImage {
  int line = 0;
  std::string image;
};

// A cell whose value the mapping does not know, where it is.
struct UnmappedCell {
  int line = 0;
  std::string column, value;
};

struct LabelledSet {
  std::vector<LabelledItem> items;  // rows whose image exists, in CSV order
  std::size_t rows = 0;             // CSV data rows
  std::vector<MissingImage> missing_images;
  // column -> value -> rows with that unmapped value
  std::map<std::string, std::map<std::string, std::size_t>> unmapped;
  std::vector<UnmappedCell> unmapped_cells;   // the same, one per cell, in CSV order
  std::map<std::string, std::size_t> blank;   // column -> rows with an empty cell
  std::map<std::string, std::size_t> mapped;  // attribute -> rows labelled

  std::size_t unmapped_rows(const std::string& column) const;
};

// Joins CSV and mapping. `image_column` must exist (InputError otherwise), as
// must every mapped column and `segment_by` and `split_column` when not
// empty. Image paths are relative to `dataset_dir` (absolute ones are kept).
LabelledSet build_labelled_set(const CsvTable& csv, const std::vector<ColumnMapping>& mapping,
                               const std::filesystem::path& dataset_dir,
                               const std::string& image_column = "image",
                               const std::string& segment_by = "",
                               const std::string& split_column = "");

}  // namespace tagsmith::eval
