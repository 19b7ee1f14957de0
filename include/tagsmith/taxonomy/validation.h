#pragma once
// Validation errors for taxonomy files. Every problem found is collected (not
// just the first), each with a 1-based line and column, so a merchandiser can
// fix a whole file in one pass.
#include <string>
#include <vector>

#include "tagsmith/common/error.h"

namespace tagsmith::taxonomy {

struct Diagnostic {
  int line = 0;    // 1-based; 0 when the problem has no position
  int column = 0;  // 1-based
  std::string message;
};

class ValidationError : public InputError {
 public:
  ValidationError(std::string source_name, std::vector<Diagnostic> errors);
  const std::string& source_name() const { return source_name_; }
  const std::vector<Diagnostic>& errors() const { return errors_; }

 private:
  std::string source_name_;
  std::vector<Diagnostic> errors_;
};

// "file:line:column: message", one per line.
std::string format_diagnostics(const std::string& source_name,
                               const std::vector<Diagnostic>& errors);

}  // namespace tagsmith::taxonomy
