#pragma once
// Naming assets on the command line: a numeric id, or a path it was ingested from.
#include <string>

#include "tagsmith/store/store.h"

namespace tagsmith::cli {

// Throws NotFoundError (exit status 2) when no asset matches.
store::AssetRecord resolve_asset(store::Store& db, const std::string& ref);

}  // namespace tagsmith::cli
