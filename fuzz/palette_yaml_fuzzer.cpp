// Fuzzes the colour palette YAML reader: any text either parses into a
// Palette or is refused with an InputError (file:line:column). A palette that
// parses must answer nearest-shade queries and feed the built-in taxonomy's
// palette-sourced attributes (where a mismatch is a ValidationError, not a
// crash).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "tagsmith/common/error.h"
#include "tagsmith/image/colour.h"
#include "tagsmith/taxonomy/taxonomy.h"

namespace {

using namespace tagsmith;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<image::Palette> palette;
  try {
    palette.emplace(image::Palette::parse(text, "fuzz-palette.yaml"));
  } catch (const InputError&) {
    return 0;
  }
  for (const auto& family : palette->families()) check(palette->family(family.id) != nullptr);
  if (!palette->shades().empty()) {
    for (const image::Lab& lab :
         {image::Lab{50, 0, 0}, image::Lab{0, 0, 0}, image::Lab{100, 80, -80}}) {
      double delta_e = -1;
      (void)palette->nearest(lab, &delta_e);
      check(delta_e >= 0);
      (void)palette->nearest_outside(lab, palette->shades().front().family, &delta_e);
    }
  }
  try {
    (void)taxonomy::Taxonomy::builtin(&*palette);
  } catch (const InputError&) {
  }
  return 0;
}
