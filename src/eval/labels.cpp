#include "tagsmith/eval/labels.h"

#include <fmt/format.h>
#include <fmt/ranges.h>
#include <yaml-cpp/yaml.h>

#include <fstream>
#include <sstream>

#include "tagsmith/common/error.h"
#include "tagsmith/common/utf8.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace tagsmith::eval {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& path, const char* what) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("cannot read the {} file {}", what, path.string()));
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

std::string trim(std::string_view s) {
  const auto b = s.find_first_not_of(" \t");
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(" \t");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

int CsvTable::column(std::string_view name) const {
  for (std::size_t i = 0; i < header.size(); ++i)
    if (header[i] == name) return static_cast<int>(i);
  return -1;
}

CsvTable parse_csv(std::string_view text, const std::string& source) {
  // A small state machine rather than a library: the only dialect we accept
  // is RFC 4180, and errors must carry line numbers.
  CsvTable table;
  std::vector<std::string> record;
  std::string field;
  bool in_quotes = false, field_quoted = false, any = false;
  int line = 1, record_line = 1, quote_line = 0;
  std::size_t i = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") i = 3;  // spreadsheet exports often start with a BOM
  auto end_record = [&] {
    record.push_back(field);
    field.clear();
    field_quoted = false;
    const bool empty = record.size() == 1 && record[0].empty() && !any;
    if (!empty) {
      if (table.header.empty()) {
        table.header = std::move(record);
        for (auto& h : table.header) h = trim(h);
      } else if (record.size() != table.header.size()) {
        throw InputError(fmt::format("{}:{}: {} fields, but the header has {}", source, record_line,
                                     record.size(), table.header.size()));
      } else {
        table.rows.push_back(std::move(record));
        table.lines.push_back(record_line);
      }
    }
    record.clear();
    any = false;
  };
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    switch (c) {
      case '"':
        if (!field.empty() || field_quoted)
          throw InputError(fmt::format(
              "{}:{}: a quote inside an unquoted field (quote the whole field)", source, line));
        in_quotes = field_quoted = any = true;
        quote_line = line;
        break;
      case ',':
        record.push_back(field);
        field.clear();
        field_quoted = false;
        any = true;
        break;
      case '\r':
        break;
      case '\n':
        end_record();
        ++line;
        record_line = line;
        break;
      default:
        if (field_quoted)
          throw InputError(fmt::format("{}:{}: text after a closing quote", source, line));
        field += c;
        any = true;
    }
  }
  if (in_quotes)
    throw InputError(fmt::format("{}:{}: unterminated quoted field", source, quote_line));
  end_record();
  if (table.header.empty())
    throw InputError(fmt::format("{}: empty file (a header row is required)", source));
  return table;
}

CsvTable read_csv(const fs::path& path) {
  return parse_csv(read_text(path, "labels"), path.filename().string());
}

namespace {

// "a list", "a mapping", "nothing": for messages about a node of the wrong kind.
const char* yaml_kind(const YAML::Node& n) {
  if (n.IsSequence()) return "a list";
  if (n.IsMap()) return "a mapping";
  if (n.IsScalar()) return "text";
  return "nothing";
}

}  // namespace

std::vector<ColumnMapping> parse_mapping(std::string_view yaml, const std::string& source) {
  if (const auto bad = find_invalid_utf8(yaml)) {
    throw InputError(fmt::format("{}:{}:{}: byte 0x{:02X} is not UTF-8; save the file as UTF-8",
                                 source, bad->line, bad->column, bad->byte));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    throw InputError(fmt::format("{}:{}: {}", source, e.mark.line + 1, e.msg));
  }
  if (!root.IsMap())
    throw InputError(
        fmt::format("{}: expected a map of CSV column -> {{attribute, values}}", source));
  std::vector<ColumnMapping> out;
  for (const auto& entry : root) {
    ColumnMapping m;
    // A key can be any node in YAML ("? [a, b]: ..."); a CSV column is text.
    if (!entry.first.IsScalar())
      throw InputError(fmt::format("{}:{}: a column name must be plain text, not {}", source,
                                   entry.first.Mark().line + 1, yaml_kind(entry.first)));
    m.column = entry.first.as<std::string>();
    m.line = entry.first.Mark().line + 1;
    const YAML::Node& body = entry.second;
    if (!body.IsMap() || !body["attribute"] || !body["attribute"].IsScalar())
      throw InputError(fmt::format("{}:{}: column '{}' needs `attribute: <taxonomy attribute>`",
                                   source, m.line, m.column));
    m.attribute = body["attribute"].as<std::string>();
    if (const YAML::Node values = body["values"]) {
      if (!values.IsMap())
        throw InputError(
            fmt::format("{}:{}: `values` of column '{}' must be a map {{csv value: node}}", source,
                        values.Mark().line + 1, m.column));
      for (const auto& v : values) {
        if (!v.first.IsScalar())
          throw InputError(fmt::format("{}:{}: a value of column '{}' must be plain text, not {}",
                                       source, v.first.Mark().line + 1, m.column,
                                       yaml_kind(v.first)));
        if (!v.second.IsScalar())
          throw InputError(fmt::format("{}:{}: value '{}' of column '{}' must map to one node id",
                                       source, v.second.Mark().line + 1, v.first.as<std::string>(),
                                       m.column));
        m.values[v.first.as<std::string>()] = v.second.as<std::string>();
      }
    } else {
      throw InputError(
          fmt::format("{}:{}: column '{}' has no `values` map", source, m.line, m.column));
    }
    out.push_back(std::move(m));
  }
  return out;
}

std::vector<ColumnMapping> read_mapping(const fs::path& path) {
  return parse_mapping(read_text(path, "mapping"), path.filename().string());
}

void validate_mapping(const std::vector<ColumnMapping>& mapping, const taxonomy::Taxonomy& tax) {
  std::vector<std::string> problems;
  for (const auto& m : mapping) {
    const auto* attribute = tax.attribute(m.attribute);
    if (!attribute) {
      problems.push_back(fmt::format("line {}: column '{}': unknown attribute '{}'", m.line,
                                     m.column, m.attribute));
      continue;
    }
    // Multi-valued attributes (colour_family) are accepted: a CSV gives one
    // value per image, which is scored as the expected top class.
    for (const auto& [value, node] : m.values) {
      if (!attribute->node(node))
        problems.push_back(fmt::format(
            "line {}: column '{}': value '{}' maps to '{}', which is not a node of '{}'", m.line,
            m.column, value, node, m.attribute));
    }
  }
  if (!problems.empty()) {
    std::string msg = "the mapping does not fit the taxonomy:";
    for (const auto& p : problems) msg += "\n  " + p;
    throw InputError(msg);
  }
}

std::size_t LabelledSet::unmapped_rows(const std::string& column) const {
  std::size_t n = 0;
  if (auto it = unmapped.find(column); it != unmapped.end())
    for (const auto& [value, count] : it->second) n += count;
  return n;
}

LabelledSet build_labelled_set(const CsvTable& csv, const std::vector<ColumnMapping>& mapping,
                               const fs::path& dataset_dir, const std::string& image_column,
                               const std::string& segment_by, const std::string& split_column) {
  const int image_col = csv.column(image_column);
  if (image_col < 0)
    throw InputError(
        fmt::format("the labels have no image column '{}' (use --image-column; columns: {})",
                    image_column, fmt::join(csv.header, ", ")));
  int segment_col = -1;
  if (!segment_by.empty()) {
    segment_col = csv.column(segment_by);
    if (segment_col < 0)
      throw InputError(fmt::format("--segment-by: the labels have no column '{}'", segment_by));
  }
  int split_col = -1;
  if (!split_column.empty()) {
    split_col = csv.column(split_column);
    if (split_col < 0)
      throw InputError(fmt::format("--split-column: the labels have no column '{}' (columns: {})",
                                   split_column, fmt::join(csv.header, ", ")));
  }
  std::vector<int> cols;
  for (const auto& m : mapping) {
    const int c = csv.column(m.column);
    if (c < 0)
      throw InputError(
          fmt::format("the mapping names column '{}', which the labels do not have", m.column));
    cols.push_back(c);
  }
  LabelledSet set;
  set.rows = csv.rows.size();
  const fs::path base = fs::absolute(dataset_dir);
  for (std::size_t r = 0; r < csv.rows.size(); ++r) {
    const auto& row = csv.rows[r];
    const std::string image = trim(row[image_col]);
    fs::path path = image;
    if (path.is_relative()) path = base / path;
    path = path.lexically_normal();
    std::error_code ec;
    if (image.empty() || !fs::is_regular_file(path, ec)) {
      set.missing_images.push_back({csv.lines[r], image});
      continue;
    }
    LabelledItem item{image,
                      path,
                      csv.lines[r],
                      {},
                      segment_col >= 0 ? trim(row[segment_col]) : "",
                      split_col >= 0 ? trim(row[split_col]) : ""};
    for (std::size_t m = 0; m < mapping.size(); ++m) {
      const std::string value = trim(row[cols[m]]);
      if (value.empty()) {
        ++set.blank[mapping[m].column];
        continue;
      }
      const auto it = mapping[m].values.find(value);
      if (it == mapping[m].values.end()) {
        ++set.unmapped[mapping[m].column][value];
        set.unmapped_cells.push_back({csv.lines[r], mapping[m].column, value});
        continue;
      }
      item.labels[mapping[m].attribute] = it->second;
      ++set.mapped[mapping[m].attribute];
    }
    set.items.push_back(std::move(item));
  }
  return set;
}

}  // namespace tagsmith::eval
