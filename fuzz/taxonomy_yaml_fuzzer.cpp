// Fuzzes the taxonomy YAML reader and its validation: any text either parses
// into a Taxonomy or is refused with an InputError (ValidationError listing
// positions). A taxonomy that parses must parse again from its own verbatim
// text, answer lookups for all of its nodes, and diff against the built-in
// taxonomy (what `taxonomy import` does).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <string_view>

#include "tagsmith/common/error.h"
#include "tagsmith/taxonomy/diff.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/taxonomy/validation.h"

namespace {

using namespace tagsmith;

void check(bool ok) {
  if (!ok) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const taxonomy::Taxonomy builtin = taxonomy::Taxonomy::builtin();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<taxonomy::Taxonomy> tax;
  try {
    tax.emplace(taxonomy::Taxonomy::parse(text, "fuzz.yaml"));
  } catch (const taxonomy::ValidationError& e) {
    check(!e.errors().empty());
    return 0;
  } catch (const InputError&) {
    return 0;
  }
  for (const auto& attribute : tax->attributes()) {
    for (const auto& node : attribute.nodes) {
      check(tax->node(attribute.id, node.id) != nullptr);
      (void)tax->lookup_label(node.id);
      check(tax->resolve(attribute.id + "/" + node.id, "").has_value());
      (void)attribute.ancestors(node.id);
      (void)attribute.thresholds_for(node.id);
      (void)node.label("fr");
    }
  }
  for (const auto& rule : tax->rules()) (void)rule.describe();
  const auto again = taxonomy::Taxonomy::parse(tax->yaml_text(), "again.yaml");
  check(again.attributes().size() == tax->attributes().size());
  const auto d = taxonomy::diff(builtin, *tax);
  (void)taxonomy::render_text(d);
  (void)taxonomy::to_json(d).dump();
  return 0;
}
