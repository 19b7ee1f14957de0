// Fuzzes the evaluation harness's labelled-set readers (src/eval/labels.cpp):
// the input is a labels CSV, optionally followed by a line "%%" and a column
// mapping YAML. Each either parses or is refused with an InputError naming
// file and line. A table that parses is rectangular with ascending source
// lines; a mapping that parses is validated against the built-in taxonomy
// and joined with the table (image paths resolve under an empty directory,
// so every row is a missing image: nothing outside it is read).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <string>
#include <string_view>

#include "tagsmith/common/error.h"
#include "tagsmith/eval/labels.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace {

using namespace tagsmith;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const taxonomy::Taxonomy tax = taxonomy::Taxonomy::builtin();
  static const std::filesystem::path empty_dir = [] {
    auto dir = std::filesystem::temp_directory_path() / "tagsmith-fuzz-labels-empty";
    std::filesystem::create_directories(dir);
    return dir;
  }();
  const std::string_view input(reinterpret_cast<const char*>(data), size);
  const std::size_t split = input.find("\n%%\n");
  const std::string_view csv_text = input.substr(0, split);
  eval::CsvTable csv;
  try {
    csv = eval::parse_csv(csv_text, "fuzz.csv");
  } catch (const InputError&) {
    return 0;
  }
  check(csv.rows.size() == csv.lines.size());
  int last_line = 0;
  for (std::size_t i = 0; i < csv.rows.size(); ++i) {
    check(csv.rows[i].size() == csv.header.size());
    check(csv.lines[i] > last_line);
    last_line = csv.lines[i];
  }
  for (const auto& name : csv.header) check(csv.column(name) >= 0);
  if (split == std::string_view::npos) return 0;

  std::vector<eval::ColumnMapping> mapping;
  try {
    mapping = eval::parse_mapping(input.substr(split + 4), "fuzz-map.yaml");
    eval::validate_mapping(mapping, tax);
  } catch (const InputError&) {
    return 0;
  }
  try {
    const auto set = eval::build_labelled_set(csv, mapping, empty_dir,
                                              csv.header.empty() ? "image" : csv.header.front());
    check(set.rows == csv.rows.size());
  } catch (const InputError&) {
  }
  return 0;
}
