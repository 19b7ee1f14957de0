#include "tagsmith/taxonomy/yaml_diagnostics.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>

#include "tagsmith/common/utf8.h"

namespace tagsmith::taxonomy {

SourceLocation location_of(const YAML::Node& n) {
  const YAML::Mark m = n.Mark();
  if (m.line < 0) return {};
  return {m.line + 1, m.column + 1};
}

std::string kind_name(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map:
      return "a mapping";
    case YAML::NodeType::Sequence:
      return "a list";
    case YAML::NodeType::Scalar:
      return "a scalar";
    case YAML::NodeType::Null:
      return "nothing";
    default:
      return "undefined";
  }
}

void YamlDiagnostics::error(SourceLocation at, std::string message) {
  errors.push_back({at.line, at.column, std::move(message)});
}

bool YamlDiagnostics::check_utf8(std::string_view text) {
  const auto bad = find_invalid_utf8(text);
  if (!bad) return true;
  error(SourceLocation{bad->line, bad->column},
        fmt::format("byte 0x{:02X} is not UTF-8; save the file as UTF-8", bad->byte));
  return false;
}

void YamlDiagnostics::error(const YAML::Node& at, std::string message) {
  error(location_of(at), std::move(message));
}

bool YamlDiagnostics::check_map(const YAML::Node& n, std::string_view what,
                                std::initializer_list<std::string_view> allowed) {
  if (!n.IsMap()) {
    error(n, fmt::format("{} must be a mapping, found {}", what, kind_name(n)));
    return false;
  }
  std::set<std::string> seen;
  for (const auto& kv : n) {
    const std::string key = kv.first.IsScalar() ? kv.first.Scalar() : "";
    if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
      std::string list;
      for (auto a : allowed) list += (list.empty() ? "" : ", ") + std::string(a);
      error(kv.first, fmt::format("unknown key '{}' in {} (allowed: {})", key, what, list));
    } else if (!seen.insert(key).second) {
      error(kv.first, fmt::format("key '{}' repeated in {}", key, what));
    }
  }
  return true;
}

}  // namespace tagsmith::taxonomy
