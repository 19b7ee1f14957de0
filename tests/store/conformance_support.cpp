#include "conformance.h"

namespace tagsmith::store::conformance {

AssetRecord sample_asset(const std::string& sha) {
  AssetRecord a;
  a.sha256 = sha;
  a.source_path = "/photos/" + sha + ".jpg";
  a.file_size = 1234;
  a.width = 640;
  a.height = 480;
  a.format = "jpeg";
  a.phash = 0xF0F0F0F0F0F0F0F0ull;  // top bit set: must survive a signed column
  a.ingested_at = "2026-11-25T08:00:00.000Z";
  a.thumbnail_sha256 = "ab" + sha;
  a.thumbnail_width = 256;
  a.thumbnail_height = 192;
  DominantColour c;
  c.lab = {30, 50, 20};
  c.rgb = {128, 0, 32};
  c.share = 0.8;
  c.family = "red";
  c.shade = "burgundy";
  c.delta_e = 1.5;
  a.colours.colours.push_back(c);
  a.colours.background_removed = true;
  a.colours.product_fraction = 0.4;
  return a;
}

PathRecord first_path_of(const AssetRecord& a) {
  return {a.source_path, 0, 1234, 42, false};
}

TagChange tag_change(AssetId asset, const std::string& attribute, const std::string& node,
                     TagState state, TagAction action, double confidence, const std::string& at) {
  TagChange c;
  c.tag = {asset, attribute, node, state, confidence, "model:m@1", "m@1", 1, at, "{}"};
  c.event.asset_id = asset;
  c.event.attribute = attribute;
  c.event.node = node;
  c.event.action = action;
  c.event.actor = "model:m@1";
  c.event.confidence = confidence;
  c.event.model_version = "m@1";
  c.event.taxonomy_version = 1;
  c.event.at = at;
  return c;
}

AssetId TagStoreConformance::add_asset(const std::string& sha) {
  const AssetRecord a = sample_asset(sha);
  return store_->add_asset(a, first_path_of(a));
}

}  // namespace tagsmith::store::conformance
