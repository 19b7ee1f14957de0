#include <string>
#include <vector>

#include "tagsmith/cli/app.h"

int main(int argc, char** argv) {
  std::vector<std::string> args(argv + 1, argv + argc);
  return tagsmith::cli::run(args);
}
