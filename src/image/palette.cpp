// Palette loading and nearest-shade lookup. The palette is user-editable
// YAML, so every error names the file, line and column and says what to fix.
#include <fmt/format.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <array>
#include <cstdint>
#include <limits>
#include <map>
#include <string>
#include <string_view>
#include <utility>

#include "tagsmith/common/error.h"
#include "tagsmith/common/files.h"
#include "tagsmith/common/utf8.h"
#include "tagsmith/image/colour.h"

namespace tagsmith::embedded {
std::string_view palette_yaml();  // generated from data/palette.yaml by tagsmith_embed_file
}

namespace tagsmith::image {
namespace {

class Parser {
 public:
  explicit Parser(std::string_view source) : source_(source) {}

  // yaml-cpp marks are 0-based; editors count from 1. A node without a
  // position (e.g. an empty document) is reported at 1:1.
  [[noreturn]] void fail(const YAML::Mark& mark, const std::string& what) const {
    const int line = mark.is_null() ? 1 : mark.line + 1;
    const int column = mark.is_null() ? 1 : mark.column + 1;
    throw InputError(std::string(source_) + ":" + std::to_string(line) + ":" +
                     std::to_string(column) + ": " + what);
  }

  std::string position(const YAML::Mark& mark) const {
    return std::to_string(mark.line + 1) + ":" + std::to_string(mark.column + 1);
  }

  // Checks that `node` is a mapping whose keys are all in `allowed`.
  template <std::size_t N>
  void expect_map(const YAML::Node& node, std::string_view what,
                  const std::array<std::string_view, N>& allowed) const {
    if (!node.IsMap()) fail(node.Mark(), std::string(what) + " must be a mapping");
    for (auto it = node.begin(); it != node.end(); ++it) {
      const std::string key = it->first.IsScalar() ? it->first.Scalar() : std::string();
      if (std::find(allowed.begin(), allowed.end(), key) == allowed.end()) {
        std::string list;
        for (std::size_t i = 0; i < N; ++i)
          list += (i == 0 ? "" : i + 1 == N ? " or " : ", ") + std::string(allowed[i]);
        fail(it->first.Mark(),
             "unknown key '" + key + "' in " + std::string(what) + " (expected " + list + ")");
      }
    }
  }

  // Position of `key` itself in `map`. Used for null values, whose own mark
  // yaml-cpp places at the following token (often the next line).
  YAML::Mark key_mark(const YAML::Node& map, std::string_view key) const {
    for (auto it = map.begin(); it != map.end(); ++it)
      if (it->first.IsScalar() && it->first.Scalar() == key) return it->first.Mark();
    return map.Mark();
  }

  std::string string_field(const YAML::Node& map, const char* key, std::string_view what) const {
    const YAML::Node value = map[key];
    if (!value) fail(map.Mark(), std::string(what) + " is missing '" + key + "'");
    if (!value.IsScalar() || value.Scalar().empty())
      fail(value.IsNull() ? key_mark(map, key) : value.Mark(),
           std::string("'") + key + "' of " + std::string(what) + " must be a non-empty string");
    return value.Scalar();
  }

  void check_id(const YAML::Node& map, const std::string& id, std::string_view what) const {
    const bool ok = !id.empty() && id.front() >= 'a' && id.front() <= 'z' &&
                    std::all_of(id.begin(), id.end(), [](char c) {
                      return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_';
                    });
    if (!ok)
      fail(map["id"].Mark(), "invalid " + std::string(what) + " id '" + id +
                                 "': use snake_case (a-z, 0-9, _), starting with a letter");
  }

  Lab parse_hex(const YAML::Node& shade, const std::string& id) const {
    const YAML::Node value = shade["hex"];
    if (!value) fail(shade.Mark(), "shade '" + id + "' is missing 'hex'");
    if (value.IsNull())
      fail(key_mark(shade, "hex"),
           "'hex' of shade '" + id +
               "' is empty; quote it, e.g. hex: \"#800020\" (an unquoted # starts a comment)");
    const std::string text = value.IsScalar() ? value.Scalar() : std::string();
    auto is_hex = [](char c) {
      return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
    };
    if (text.size() != 7 || text[0] != '#' || !std::all_of(text.begin() + 1, text.end(), is_hex))
      fail(value.Mark(), "bad hex '" + text + "' for shade '" + id + "': expected \"#RRGGBB\"");
    std::array<std::uint8_t, 3> rgb{};
    for (int c = 0; c < 3; ++c)
      rgb[c] = static_cast<std::uint8_t>(std::stoi(text.substr(1 + 2 * c, 2), nullptr, 16));
    return srgb_to_lab(rgb);
  }

 private:
  std::string_view source_;
};

}  // namespace

Palette Palette::parse(std::string_view yaml_text, std::string_view source_name) {
  const Parser p(source_name);
  if (const auto bad = find_invalid_utf8(yaml_text)) {
    throw InputError(fmt::format("{}:{}:{}: byte 0x{:02X} is not UTF-8; save the file as UTF-8",
                                 source_name, bad->line, bad->column, bad->byte));
  }
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml_text));
  } catch (const YAML::Exception& e) {
    p.fail(e.mark, e.msg);
  }

  p.expect_map(root, "palette", std::array<std::string_view, 3>{"version", "families", "shades"});
  if (const YAML::Node version = root["version"]) {
    int v = 0;
    if (!YAML::convert<int>::decode(version, v) || v != 1)
      p.fail(version.Mark(), "unsupported palette version '" +
                                 (version.IsScalar() ? version.Scalar() : std::string()) +
                                 "' (this tagsmith reads version 1)");
  }

  Palette palette;
  std::map<std::string, YAML::Mark, std::less<>> family_at;
  const YAML::Node families = root["families"];
  if (!families || !families.IsSequence() || families.size() == 0)
    p.fail(families ? families.Mark() : root.Mark(), "'families' must be a non-empty list");
  for (const YAML::Node& node : families) {
    p.expect_map(node, "family", std::array<std::string_view, 3>{"id", "name", "name_zh"});
    ColourFamily family;
    family.id = p.string_field(node, "id", "family");
    p.check_id(node, family.id, "family");
    family.name = p.string_field(node, "name", "family '" + family.id + "'");
    // The Chinese label is optional for user-added entries; fall back to English.
    family.name_zh = node["name_zh"] ? p.string_field(node, "name_zh", "family '" + family.id + "'")
                                     : family.name;
    if (auto [it, inserted] = family_at.emplace(family.id, node["id"].Mark()); !inserted)
      p.fail(node["id"].Mark(), "duplicate family id '" + family.id + "' (first defined at " +
                                    p.position(it->second) + ")");
    palette.families_.push_back(std::move(family));
  }

  std::map<std::string, YAML::Mark, std::less<>> shade_at;
  const YAML::Node shades = root["shades"];
  if (!shades || !shades.IsSequence() || shades.size() == 0)
    p.fail(shades ? shades.Mark() : root.Mark(), "'shades' must be a non-empty list");
  for (const YAML::Node& node : shades) {
    p.expect_map(node, "shade",
                 std::array<std::string_view, 5>{"id", "name", "name_zh", "family", "hex"});
    Shade shade;
    shade.id = p.string_field(node, "id", "shade");
    p.check_id(node, shade.id, "shade");
    const std::string what = "shade '" + shade.id + "'";
    if (auto [it, inserted] = shade_at.emplace(shade.id, node["id"].Mark()); !inserted)
      p.fail(node["id"].Mark(), "duplicate shade id '" + shade.id + "' (first defined at " +
                                    p.position(it->second) + ")");
    shade.name = p.string_field(node, "name", what);
    shade.name_zh = node["name_zh"] ? p.string_field(node, "name_zh", what) : shade.name;
    shade.family = p.string_field(node, "family", what);
    if (!family_at.contains(shade.family))
      p.fail(node["family"].Mark(), what + " names unknown family '" + shade.family + "'");
    shade.lab = p.parse_hex(node, shade.id);
    palette.shades_.push_back(std::move(shade));
  }
  return palette;
}

Palette Palette::load(const std::filesystem::path& path) {
  std::string text;
  try {
    text = read_file_text(path);
  } catch (const Error& e) {
    // A missing or unreadable palette is the user's to fix, not an internal fault.
    throw InputError(e.what());
  }
  return parse(text, path.string());
}

Palette Palette::builtin() {
  // Parsed once; the embedded text is fixed at build time.
  static const Palette palette = parse(embedded::palette_yaml(), "palette.yaml (built-in)");
  return palette;
}

const ColourFamily* Palette::family(std::string_view id) const {
  auto it = std::find_if(families_.begin(), families_.end(),
                         [&](const ColourFamily& f) { return f.id == id; });
  return it == families_.end() ? nullptr : &*it;
}

const Shade& Palette::nearest(const Lab& lab, double* delta_e) const {
  if (shades_.empty()) throw Error("Palette::nearest: the palette has no shades");
  const Shade* best = nullptr;
  double best_d = std::numeric_limits<double>::infinity();
  for (const Shade& s : shades_) {
    const double d = ciede2000(lab, s.lab);
    if (d < best_d) best_d = d, best = &s;
  }
  if (delta_e) *delta_e = best_d;
  return *best;
}

const Shade* Palette::nearest_outside(const Lab& lab, std::string_view family,
                                      double* delta_e) const {
  const Shade* best = nullptr;
  double best_d = std::numeric_limits<double>::infinity();
  for (const Shade& s : shades_) {
    if (s.family == family) continue;
    const double d = ciede2000(lab, s.lab);
    if (d < best_d) best_d = d, best = &s;
  }
  if (delta_e) *delta_e = best ? best_d : 0;
  return best;
}

}  // namespace tagsmith::image
