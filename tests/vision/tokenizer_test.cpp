#include "tagsmith/vision/tokenizer.h"

#include <gtest/gtest.h>

#include "tagsmith/vision/safetensors.h"
#include "vision_fixtures.h"

namespace tagsmith::vision {
namespace {

using test::read_json;
using test::vision_fixtures;

// Trimmed vocabulary with the real CLIP ids, made by make_fixtures.py: it
// keeps every merge that was a candidate for the test strings, in rank
// order, so BPE takes the same steps as with the full vocabulary.
ClipTokenizer trimmed() {
  auto dir = vision_fixtures() / "tokenizer";
  return ClipTokenizer::from_hf_files(dir / "vocab.json", dir / "merges.txt");
}

TEST(ClipTokenizer, MatchesReferenceIdsOnTrickyStrings) {
  auto tok = trimmed();
  auto cases = read_json(vision_fixtures() / "tokenizer" / "cases.json");
  const int ctx = cases["context_length"];
  ASSERT_GE(cases["cases"].size(), 50u);
  for (const auto& c : cases["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.tokenize(text, ctx), c["ids"].get<std::vector<int>>()) << "text: " << text;
  }
}

TEST(ClipTokenizer, StartEndTruncationAndPadding) {
  auto tok = trimmed();
  EXPECT_EQ(tok.start_id(), 49406);
  EXPECT_EQ(tok.end_id(), 49407);
  EXPECT_EQ(tok.tokenize(""), (std::vector<int>{49406, 49407}));
  std::string long_text;
  for (int i = 0; i < 200; ++i) long_text += "a ";
  auto ids = tok.tokenize(long_text, 77);
  ASSERT_EQ(ids.size(), 77u);
  EXPECT_EQ(ids.front(), 49406);
  EXPECT_EQ(ids.back(), 49407);
  auto padded = tok.tokenize_padded("x", 10, 0);
  ASSERT_EQ(padded.size(), 10u);
  EXPECT_EQ(padded[2], 49407);
  EXPECT_EQ(padded[9], 0);
}

TEST(ClipTokenizer, CleaningCollapsesSpaceNormalisesAndLowerCases) {
  EXPECT_EQ(ClipTokenizer::clean("  A\t\tB \n C  "), "a b c");
  EXPECT_EQ(ClipTokenizer::clean("CAFE\xCC\x81"), "caf\xC3\xA9");           // NFC: e + U+0301 -> é
  EXPECT_EQ(ClipTokenizer::clean("\xC3\x84\xC3\x96"), "\xC3\xA4\xC3\xB6");  // ÄÖ -> äö
  EXPECT_EQ(ClipTokenizer::clean("a\xC2\xA0"
                                 "b"),
            "a b");  // no-break space is white space
}

TEST(ClipTokenizer, SameWordSameIdsWhereverItAppears) {
  auto tok = trimmed();
  auto one = tok.encode("dress");
  auto many = tok.encode("dress dress DRESS");
  ASSERT_EQ(many.size(), 3 * one.size());
  for (std::size_t i = 0; i < many.size(); ++i) EXPECT_EQ(many[i], one[i % one.size()]);
}

TEST(ClipTokenizer, MissingFilesGiveAClearError) {
  try {
    ClipTokenizer::from_directory("/nonexistent-dir");
    FAIL();
  } catch (const ModelError& e) {
    EXPECT_NE(std::string(e.what()).find("vocab.json"), std::string::npos) << e.what();
  }
}

// The full vocabulary from ../shared (OpenAI .txt.gz form): every id of the
// fixture, which the script cross-checked against tokenizer.json.
TEST(ClipTokenizerIntegration, RealVocabularyMatchesReference) {
  const auto gz = test::shared_dir() / "models" / "clip-tokenizer" / "bpe_simple_vocab_16e6.txt.gz";
  if (!std::filesystem::exists(gz))
    GTEST_SKIP() << "real CLIP vocabulary not present at " << gz.string();
  auto tok = ClipTokenizer::from_openai_bpe(gz);
  EXPECT_EQ(tok.vocab_size(), 49408u);
  EXPECT_EQ(tok.num_merges(), 48894u);
  auto cases = read_json(vision_fixtures() / "tokenizer" / "cases.json");
  for (const auto& c : cases["cases"]) {
    const std::string text = c["text"];
    EXPECT_EQ(tok.tokenize(text), c["ids"].get<std::vector<int>>()) << "text: " << text;
  }
  // A few ids known from the published vocabulary.
  EXPECT_EQ(tok.encode("a photo of a cat"), (std::vector<int>{320, 1125, 539, 320, 2368}));
}

}  // namespace
}  // namespace tagsmith::vision
