#pragma once
// Reading hand-written YAML so that every problem is reported at once, as
// file:line:column: what the taxonomy reader and the label-map reader share.
// A reader derives from YamlDiagnostics, calls error() for each problem it
// finds, and throws ValidationError with `errors` at the end when any.
#include <yaml-cpp/yaml.h>

#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/taxonomy/taxonomy.h"  // SourceLocation
#include "tagsmith/taxonomy/validation.h"

namespace tagsmith::taxonomy {

// 1-based line and column of `n` (yaml-cpp marks are 0-based); {} if none.
SourceLocation location_of(const YAML::Node& n);
// "a mapping", "a list", "a scalar", "nothing": for "found …" in messages.
std::string kind_name(const YAML::Node& n);

class YamlDiagnostics {
 public:
  void error(SourceLocation at, std::string message);
  void error(const YAML::Node& at, std::string message);
  // Reports unknown and repeated keys; false when `n` is not a mapping.
  bool check_map(const YAML::Node& n, std::string_view what,
                 std::initializer_list<std::string_view> allowed);
  // Reports the first byte of `text` that is not UTF-8 (see common/utf8.h);
  // false when there is one, and the text should not be read further.
  bool check_utf8(std::string_view text);

  std::vector<Diagnostic> errors;
};

}  // namespace tagsmith::taxonomy
