#pragma once
// Text normalisation for matching labels and synonyms: Unicode NFKC
// (full-width "ＳＨＩＲＴ" == "SHIRT"), full case folding ("Straße" == "strasse"),
// whitespace trimmed and runs of whitespace collapsed to one space.
#include <string>
#include <string_view>

namespace tagsmith::taxonomy {

std::string normalise_text(std::string_view utf8);

}  // namespace tagsmith::taxonomy
