#include "temp_dir.h"

#include <stdlib.h>

#include <string>

namespace tagsmith::test {

TempDir::TempDir() {
  std::string tmpl = (std::filesystem::temp_directory_path() / "tagsmith-test-XXXXXX").string();
  path_ = ::mkdtemp(tmpl.data());
}

TempDir::~TempDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace tagsmith::test
