#include "tagsmith/tagging/record_json.h"

#include <fmt/format.h>

#include <filesystem>

namespace tagsmith::tagging {

using nlohmann::json;

void put_stored_json(json& out, const std::string& key, const std::string& text) {
  if (text.empty()) {
    out[key] = json::object();
    return;
  }
  json parsed = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (parsed.is_discarded()) {
    out[key] = json::object();
    out[key + "_raw"] = text;
    return;
  }
  out[key] = std::move(parsed);
}

json to_json(const store::Tag& t) {
  json j = {{"asset", t.asset_id},
            {"attribute", t.attribute},
            {"node", t.node},
            {"state", store::to_string(t.state)},
            {"applied", store::is_applied(t.state)},
            {"confidence", t.confidence},
            {"actor", t.actor},
            {"model_version", t.model_version},
            {"taxonomy_version", t.taxonomy_version},
            {"updated_at", t.updated_at}};
  put_stored_json(j, "evidence", t.evidence_json);
  return j;
}

json to_json(const store::TagEvent& e) {
  json j = {{"id", e.id},
            {"asset", e.asset_id},
            {"attribute", e.attribute},
            {"node", e.node},
            {"action", store::to_string(e.action)},
            {"actor", e.actor},
            {"confidence", e.confidence},
            {"model_version", e.model_version},
            {"taxonomy_version", e.taxonomy_version},
            {"at", e.at},
            {"previous_node", e.previous_node}};
  put_stored_json(j, "evidence", e.evidence_json);
  return j;
}

json to_json(const store::ModelVersion& m, View view) {
  json j = {{"version", m.version},
            {"kind", store::to_string(m.kind)},
            {"parent", m.parent},
            {"status", store::to_string(m.status)},
            {"created_at", m.created_at}};
  put_stored_json(j, "metrics", m.metrics_json);
  if (view == View::kAdmin) {
    j["id"] = m.id;
    j["artifact_path"] = m.artifact_path;
  }
  return j;
}

json to_json(const image::DominantColour& d) {
  const std::string hex = fmt::format("#{:02x}{:02x}{:02x}", d.rgb[0], d.rgb[1], d.rgb[2]);
  return {{"family", d.family},
          {"shade", d.shade},
          {"share", d.share},
          {"delta_e", d.delta_e},
          {"runner_up", {{"family", d.alt_family}, {"delta_e", d.alt_delta_e}}},
          {"hex", hex},
          {"rgb", hex},
          {"lab", {d.lab.L, d.lab.a, d.lab.b}}};
}

json to_json(const store::AssetRecord& a, View view) {
  json colours = json::array();
  for (const auto& d : a.colours.colours) colours.push_back(to_json(d));
  // Viewers see the file name; the server's directory layout is for admins.
  const bool admin = view == View::kAdmin;
  json j = {
      {"id", a.id},
      {"sha256", a.sha256},
      {"name", admin ? a.source_path : std::filesystem::path(a.source_path).filename().string()},
      {"width", a.width},
      {"height", a.height},
      {"format", a.format},
      {"file_size", a.file_size},
      {"ingested_at", a.ingested_at},
      {"phash", fmt::format("{:016x}", a.phash)},
      {"background_removed", a.colours.background_removed},
      {"product_fraction", a.colours.product_fraction},
      {"colour_mask", a.colours.mask},
      {"colours", colours}};
  if (admin) j["source_path"] = a.source_path;
  return j;
}

}  // namespace tagsmith::tagging
