#pragma once
// What the tagging commands (tag, retag, why) and ingest share.
#include <memory>
#include <nlohmann/json.hpp>
#include <string>

#include "model_support.h"  // make_tag_service
#include "tagsmith/cli/command.h"
#include "tagsmith/library/library.h"
#include "tagsmith/tagging/service.h"

namespace tagsmith::cli {

nlohmann::json tag_report_json(const tagging::TagReport& r, std::int64_t taxonomy_version);
// "12 assets tagged under taxonomy v3 in 0.2 s: 40 tags added, ..."
std::string tag_report_text(const std::string& verb, const tagging::TagReport& r,
                            std::int64_t taxonomy_version);

}  // namespace tagsmith::cli
