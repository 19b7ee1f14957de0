#pragma once
// Numbered schema migrations for the PostgreSQL store (pg_schema.cpp). The
// tables, columns and their meaning are those of the SQLite store
// (sqlite_schema.cpp), so a library copies from one to the other table by
// table (store/migrate.h); only the types are PostgreSQL's own.
#include <vector>

#include "sqlite_schema.h"  // Migration

namespace tagsmith::store {

// In order; numbers start at 1 and have no gaps.
const std::vector<Migration>& pg_migrations();

}  // namespace tagsmith::store
