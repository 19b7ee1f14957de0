#pragma once
// CLIP's byte-level BPE tokenizer, reproducing OpenAI's simple_tokenizer.py /
// Hugging Face's CLIPTokenizerFast id for id:
//   clean: NFC, runs of Unicode white space -> one space, strip, full Unicode
//          lower-case (ICU). ftfy's mojibake repair and html.unescape of the
//          OpenAI original are not applied (CLIPTokenizerFast doesn't either);
//   split: <|startoftext|>|<|endoftext|>|'s|'t|'re|'ve|'m|'ll|'d|\p{L}+|\p{N}|[^\s\p{L}\p{N}]+
//   each piece: UTF-8 bytes -> the byte-to-unicode alphabet, "</w>" on the
//          last symbol, then merges applied lowest rank first;
//   sequence: <|startoftext|> ids <|endoftext|>, cut to the context length
//          keeping <|endoftext|> last.
// Thread-safe: encode() may be called concurrently.
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace tagsmith::vision {

class ClipTokenizer {
 public:
  // Hugging Face checkpoint form: vocab.json (token -> id) + merges.txt.
  static ClipTokenizer from_hf_files(const std::filesystem::path& vocab_json,
                                     const std::filesystem::path& merges_txt);
  // OpenAI form: bpe_simple_vocab_16e6.txt.gz; ids are assigned as OpenAI
  // does (256 byte symbols, the same with "</w>", merges, then the two
  // special tokens). OpenAI uses the first 48894 merges of the file.
  static ClipTokenizer from_openai_bpe(const std::filesystem::path& txt_gz,
                                       int num_merges = 49152 - 256 - 2);
  // vocab.json + merges.txt in `dir`, else bpe_simple_vocab_16e6.txt.gz.
  static ClipTokenizer from_directory(const std::filesystem::path& dir);

  // The cleaning step alone (UTF-8 in, UTF-8 out).
  static std::string clean(std::string_view text);

  // BPE ids of `text`, without start/end tokens or truncation.
  std::vector<int> encode(std::string_view text) const;
  // <|startoftext|> + encode(text) + <|endoftext|>, cut to `context_length`
  // (the end token kept last); not padded.
  std::vector<int> tokenize(std::string_view text, int context_length = 77) const;
  // tokenize() padded with `pad_id` to exactly `context_length` ids.
  std::vector<std::int64_t> tokenize_padded(std::string_view text, int context_length = 77,
                                            int pad_id = 0) const;

  int start_id() const;
  int end_id() const;
  std::size_t vocab_size() const;
  std::size_t num_merges() const;
  // The token text of `id` in byte-to-unicode form ("hello</w>"), "" if unknown.
  std::string token_text(int id) const;

 private:
  struct Impl;
  explicit ClipTokenizer(std::shared_ptr<Impl> impl);
  std::shared_ptr<Impl> impl_;  // immutable after construction, so copies share it
};

}  // namespace tagsmith::vision
