#include "tagsmith/taxonomy/text.h"

#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>

#include "tagsmith/common/error.h"

namespace tagsmith::taxonomy {

std::string normalise_text(std::string_view utf8) {
  UErrorCode status = U_ZERO_ERROR;
  const icu::Normalizer2* nfkc = icu::Normalizer2::getNFKCInstance(status);
  if (U_FAILURE(status)) throw Error("ICU: cannot load the NFKC normaliser");
  icu::UnicodeString text = icu::UnicodeString::fromUTF8(
      icu::StringPiece(utf8.data(), static_cast<int32_t>(utf8.size())));
  icu::UnicodeString folded = nfkc->normalize(text, status);
  folded.foldCase();
  // Case folding can undo NFKC (e.g. some ligatures); normalise once more so
  // the result is stable under repeated application.
  folded = nfkc->normalize(folded, status);
  if (U_FAILURE(status)) throw Error("ICU: cannot normalise text");

  icu::UnicodeString out;
  bool pending_space = false;
  for (int32_t i = 0; i < folded.length();) {
    UChar32 c = folded.char32At(i);
    i += U16_LENGTH(c);
    if (u_isUWhiteSpace(c)) {
      pending_space = !out.isEmpty();
      continue;
    }
    if (pending_space) out.append(static_cast<UChar>(u' '));
    pending_space = false;
    out.append(c);
  }
  std::string result;
  out.toUTF8String(result);
  return result;
}

}  // namespace tagsmith::taxonomy
