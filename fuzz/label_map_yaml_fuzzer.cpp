// Fuzzes the classifier label map reader (tagging::LabelMap, the YAML that
// says which ImageNet class is evidence for which taxonomy node): any text
// either loads against the built-in taxonomy and a fixed label list or is
// refused with an InputError (ValidationError with positions). A map that
// loads must turn a probability vector into scores in [0, 1].
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <regex>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "tagsmith/common/error.h"
#include "tagsmith/tagging/label_map.h"
#include "tagsmith/taxonomy/taxonomy.h"
#include "tagsmith/taxonomy/validation.h"

namespace {

using namespace tagsmith;

void check(bool ok) {
  if (!ok) std::abort();
}

// The classes the built-in ImageNet map names (its quoted keys), in file
// order after "background", plus "crane" twice: a label that names two
// classes and so cannot be referenced.
std::vector<std::string> classifier_labels() {
  std::vector<std::string> labels{"background", "crane", "crane"};
  const std::string yaml(tagging::LabelMap::builtin_imagenet_yaml());
  const std::regex key(R"(^  \"([^\"]+)\":)", std::regex::multiline);
  std::set<std::string> seen;
  for (auto it = std::sregex_iterator(yaml.begin(), yaml.end(), key); it != std::sregex_iterator();
       ++it) {
    if (seen.insert((*it)[1]).second) labels.push_back((*it)[1]);
  }
  return labels;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const taxonomy::Taxonomy tax = taxonomy::Taxonomy::builtin();
  static const std::vector<std::string> labels = classifier_labels();
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  std::optional<tagging::LabelMap> map;
  try {
    map.emplace(tagging::LabelMap::load(text, "fuzz-map.yaml", labels, tax));
  } catch (const taxonomy::ValidationError& e) {
    check(!e.errors().empty());
    return 0;
  } catch (const InputError&) {
    return 0;
  }
  check(map->classes() == labels.size());
  // A peaked distribution over a few classes, the rest spread thinly.
  std::vector<float> p(labels.size(), 0.0f);
  for (std::size_t i = 0; i < p.size(); ++i) p[i] = (i % 7 == 0) ? 0.3f : 0.001f;
  float sum = 0;
  for (float v : p) sum += v;
  for (float& v : p) v /= sum;
  for (const auto& set : map->scores(p)) {
    check(!set.attribute.empty());
    for (const auto& s : set.scores)
      check(std::isfinite(s.score) && s.score >= 0 && s.score <= 1 + 1e-6);
  }
  (void)tagging::LabelMap::parse_label_list(text);
  return 0;
}
