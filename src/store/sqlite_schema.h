#pragma once
#include <string>
#include <vector>

namespace tagsmith::store {

struct Migration {
  int number;
  std::string sql;
};

// In order; numbers start at 1 and have no gaps.
const std::vector<Migration>& sqlite_migrations();

}  // namespace tagsmith::store
