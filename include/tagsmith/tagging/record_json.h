#pragma once
// One JSON schema for stored records: what `tagsmith ... --json`, `why
// --json` and the HTTP API print for tags, audit events, model versions and
// assets. Every writer of record JSON calls these, so a field means the same
// thing everywhere (tests/tagging/golden/records.json pins the schema).
//
// Stored JSON text (a tag's or event's evidence, a model's metrics) is
// printed parsed, under "evidence" / "metrics". Text that does not parse --
// written by an older version or by hand -- is never dropped and never changes
// the field's type: the field is an empty object and the text is kept as a
// string under "evidence_raw" / "metrics_raw".
//
// Views: kPublic is what any signed-in viewer may see; kAdmin adds where
// things live on the server (full paths, artifact paths, row ids). The CLI
// runs as the library's owner and prints the admin view. Callers add their
// own context (links, paths on disk, the tags of an asset) to these objects.
#include <nlohmann/json.hpp>
#include <string>

#include "tagsmith/image/colour.h"
#include "tagsmith/store/records.h"

namespace tagsmith::tagging {

enum class View { kPublic, kAdmin };

// out[key] = the parsed text; when it does not parse, out[key] = {} and
// out[key + "_raw"] = the text. Empty text is an empty object.
void put_stored_json(nlohmann::json& out, const std::string& key, const std::string& text);

// {asset, attribute, node, state, applied, confidence, actor, model_version,
//  taxonomy_version, updated_at, evidence[, evidence_raw]}
nlohmann::json to_json(const store::Tag& tag);
// {id, asset, attribute, node, action, actor, confidence, model_version,
//  taxonomy_version, at, previous_node, evidence[, evidence_raw]}
nlohmann::json to_json(const store::TagEvent& event);
// {version, kind, parent, status, created_at, metrics[, metrics_raw]};
// admin adds {id, artifact_path}.
nlohmann::json to_json(const store::ModelVersion& model, View view);
// {family, shade, share, delta_e, hex, rgb (the same "#rrggbb"), lab [L, a, b]}
nlohmann::json to_json(const image::DominantColour& colour);
// {id, sha256, name, width, height, format, file_size, ingested_at, phash
//  (16 hex digits), background_removed, product_fraction, colour_mask, colours}; `name` is
// the file name in the public view and the full source path in the admin
// view, which also adds {source_path}.
nlohmann::json to_json(const store::AssetRecord& asset, View view);

}  // namespace tagsmith::tagging
