// find_invalid_utf8: RFC 3629 well-formedness, with the position of the
// first offending byte.
#include "tagsmith/common/utf8.h"

#include <gtest/gtest.h>

#include <string>

namespace tagsmith {
namespace {

TEST(Utf8, WellFormedTextHasNoInvalidByte) {
  EXPECT_FALSE(find_invalid_utf8(""));
  EXPECT_FALSE(find_invalid_utf8("plain ASCII\nline two\r\n"));
  EXPECT_FALSE(find_invalid_utf8("上衣 café 😀 \xf4\x8f\xbf\xbf"));  // U+10FFFF is the last
}

TEST(Utf8, ReportsTheFirstBadByteWithLineAndColumn) {
  const auto bad = find_invalid_utf8("ok\nab\xe9z\n\xff");
  ASSERT_TRUE(bad);
  EXPECT_EQ(bad->offset, 5u);
  EXPECT_EQ(bad->line, 2);
  EXPECT_EQ(bad->column, 3);
  EXPECT_EQ(bad->byte, 0xE9);
}

TEST(Utf8, RefusesOverlongSurrogateOutOfRangeAndTruncatedSequences) {
  for (const std::string s : {"\xc0\xaf", "\xe0\x80\xaf", "\xf0\x80\x80\xaf",  // overlong '/'
                              "\xed\xa0\x80",                                  // U+D800
                              "\xf4\x90\x80\x80", "\xf5\x80\x80\x80",          // > U+10FFFF
                              "\xe4\xb8", "\x80", "a\xc3"}) {
    EXPECT_TRUE(find_invalid_utf8(s)) << testing::PrintToString(s);
  }
}

}  // namespace
}  // namespace tagsmith
