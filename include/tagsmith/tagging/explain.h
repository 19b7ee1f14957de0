#pragma once
// "Why is this asset tagged navy?" -- answered in plain words from the tag
// rows and the audit trail (the latest events and their evidence), for
// `tagsmith why`, the review queue and the HTTP API.
#include <nlohmann/json.hpp>
#include <string>

#include "tagsmith/library/library.h"

namespace tagsmith::tagging {

struct Explanation {
  // One paragraph per tag on the attribute (applied first, then suggestions,
  // then rejections), or one line saying there is none; then the history.
  std::string text;
  // {"asset", "attribute", "tags": [{node, state, confidence, actor, at,
  //  taxonomy_version, evidence, text}], "events": [...], "text"}
  nlohmann::json json;
};

// Throws NotFoundError for an unknown asset, InputError for an attribute the
// current taxonomy lacks and the asset never carried.
Explanation explain(library::Library& lib, store::AssetId asset, const std::string& attribute,
                    std::size_t history = 10);

}  // namespace tagsmith::tagging
