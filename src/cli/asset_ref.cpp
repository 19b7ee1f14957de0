#include "asset_ref.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <filesystem>

#include "tagsmith/common/error.h"

namespace tagsmith::cli {

store::AssetRecord resolve_asset(store::Store& db, const std::string& ref) {
  if (!ref.empty() && std::all_of(ref.begin(), ref.end(), ::isdigit)) {
    if (auto a = db.find_asset(std::stoll(ref))) return *a;
  }
  std::error_code ec;
  const std::string path = std::filesystem::absolute(ref, ec).lexically_normal().string();
  if (auto a = db.find_asset_by_path(path)) return *a;
  throw NotFoundError(fmt::format(
      "no asset '{}' in the library (give an asset id or a path that was ingested)", ref));
}

}  // namespace tagsmith::cli
