#include "tagsmith/taxonomy/validation.h"

#include <fmt/format.h>

namespace tagsmith::taxonomy {

ValidationError::ValidationError(std::string source_name, std::vector<Diagnostic> errors)
    : InputError(format_diagnostics(source_name, errors)),
      source_name_(std::move(source_name)),
      errors_(std::move(errors)) {}

std::string format_diagnostics(const std::string& source_name,
                               const std::vector<Diagnostic>& errors) {
  std::string out;
  for (const auto& e : errors) {
    if (!out.empty()) out += '\n';
    if (e.line > 0)
      out += fmt::format("{}:{}:{}: {}", source_name, e.line, e.column, e.message);
    else
      out += fmt::format("{}: {}", source_name, e.message);
  }
  return out;
}

}  // namespace tagsmith::taxonomy
