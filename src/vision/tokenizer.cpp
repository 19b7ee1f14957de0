#include "tagsmith/vision/tokenizer.h"

#include <fmt/format.h>
#include <unicode/locid.h>
#include <unicode/normalizer2.h>
#include <unicode/uchar.h>
#include <unicode/unistr.h>
#include <zlib.h>

#include <limits>
#include <mutex>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "tagsmith/common/files.h"
#include "tagsmith/vision/safetensors.h"  // ModelError

namespace tagsmith::vision {

namespace {

constexpr std::string_view kStart = "<|startoftext|>";
constexpr std::string_view kEnd = "<|endoftext|>";
constexpr std::string_view kEow = "</w>";

// GPT-2/CLIP byte-to-unicode table: printable Latin-1 bytes map to
// themselves, the rest to U+0100 onwards, so every byte is one visible
// character and no token contains white space.
std::vector<std::string> byte_to_unicode_table() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<int> cs(256, -1);
  for (int b : bs) cs[b] = b;
  int n = 0;
  for (int b = 0; b < 256; ++b)
    if (cs[b] < 0) cs[b] = 256 + n++;
  std::vector<std::string> out(256);
  for (int b = 0; b < 256; ++b) {
    std::string s;
    icu::UnicodeString(static_cast<UChar32>(cs[b])).toUTF8String(s);
    out[b] = s;
  }
  return out;
}

// OpenAI's vocabulary order: the 256 symbols in the order of bs above.
std::vector<int> openai_byte_order() {
  std::vector<int> bs;
  for (int b = '!'; b <= '~'; ++b) bs.push_back(b);
  for (int b = 0xA1; b <= 0xAC; ++b) bs.push_back(b);
  for (int b = 0xAE; b <= 0xFF; ++b) bs.push_back(b);
  std::vector<bool> in(256, false);
  for (int b : bs) in[b] = true;
  for (int b = 0; b < 256; ++b)
    if (!in[b]) bs.push_back(b);
  return bs;
}

bool is_letter(UChar32 c) {
  return (U_GET_GC_MASK(c) & U_GC_L_MASK) != 0;
}
bool is_number(UChar32 c) {
  return (U_GET_GC_MASK(c) & U_GC_N_MASK) != 0;
}
bool is_space(UChar32 c) {
  return u_isUWhiteSpace(c);
}
// Python's str.strip() also removes the information separators U+001C..1F.
bool is_strip_space(UChar32 c) {
  return is_space(c) || (c >= 0x1C && c <= 0x1F);
}

std::string gunzip_file(const std::filesystem::path& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  if (!f) throw ModelError(fmt::format("cannot open {}", path.string()));
  std::string out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof buf)) > 0) out.append(buf, static_cast<std::size_t>(n));
  const bool failed = n < 0;
  gzclose(f);
  if (failed) throw ModelError(fmt::format("{} is not a valid gzip file", path.string()));
  return out;
}

std::vector<std::string_view> split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t pos = 0;
  while (pos <= text.size()) {
    auto nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    auto line = text.substr(pos, nl - pos);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    lines.push_back(line);
    pos = nl + 1;
  }
  return lines;
}

}  // namespace

struct ClipTokenizer::Impl {
  std::vector<std::string> byte_encoder = byte_to_unicode_table();
  std::unordered_map<std::string, int> encoder;
  std::unordered_map<int, std::string> decoder;
  std::unordered_map<std::string, int> ranks;  // "first second" -> rank
  std::vector<std::pair<std::string, std::string>> merges;
  int start = -1, end = -1;
  mutable std::mutex cache_mutex;
  mutable std::unordered_map<std::string, std::vector<int>> cache;

  void add_merges(const std::vector<std::string_view>& lines, const std::string& where) {
    for (auto line : lines) {
      if (line.empty()) continue;
      auto sp = line.find(' ');
      if (sp == std::string_view::npos || line.find(' ', sp + 1) != std::string_view::npos)
        throw ModelError(fmt::format("{}: merge line \"{}\" is not two symbols", where, line));
      std::string a(line.substr(0, sp)), b(line.substr(sp + 1));
      ranks.emplace(a + " " + b, static_cast<int>(merges.size()));
      merges.emplace_back(std::move(a), std::move(b));
    }
  }

  void finish(const std::string& where) {
    for (const auto& [tok, id] : encoder) decoder[id] = tok;
    auto s = encoder.find(std::string(kStart)), e = encoder.find(std::string(kEnd));
    if (s == encoder.end() || e == encoder.end())
      throw ModelError(fmt::format("{}: the vocabulary lacks {} or {}", where, kStart, kEnd));
    start = s->second;
    end = e->second;
    // Every merge result must be a token, or encode() would have no id.
    for (const auto& [a, b] : merges)
      if (!encoder.count(a + b))
        throw ModelError(fmt::format(
            "{}: merge \"{} {}\" gives a token missing from the vocabulary", where, a, b));
  }

  // BPE of one pre-token already in byte-to-unicode form, as ids.
  std::vector<int> bpe(const std::string& token) const {
    if (token == kStart) return {start};
    if (token == kEnd) return {end};
    {
      std::lock_guard lock(cache_mutex);
      if (auto it = cache.find(token); it != cache.end()) return it->second;
    }
    // Split into symbols (one per UTF-8 character); "</w>" joins the last.
    std::vector<std::string> word;
    for (std::size_t i = 0; i < token.size();) {
      std::size_t len = 1;
      const auto c = static_cast<unsigned char>(token[i]);
      if (c >= 0xF0)
        len = 4;
      else if (c >= 0xE0)
        len = 3;
      else if (c >= 0xC0)
        len = 2;
      word.push_back(token.substr(i, len));
      i += len;
    }
    if (word.empty()) return {};
    word.back() += kEow;
    std::string key;
    while (word.size() > 1) {
      int best = std::numeric_limits<int>::max();
      std::size_t best_i = 0;
      for (std::size_t i = 0; i + 1 < word.size(); ++i) {
        key.assign(word[i]).append(" ").append(word[i + 1]);
        if (auto it = ranks.find(key); it != ranks.end() && it->second < best) {
          best = it->second;
          best_i = i;
        }
      }
      if (best == std::numeric_limits<int>::max()) break;
      // Merge every occurrence of the best pair, left to right.
      const std::string first = word[best_i], second = word[best_i + 1];
      std::vector<std::string> merged;
      merged.reserve(word.size());
      for (std::size_t i = 0; i < word.size();) {
        if (i + 1 < word.size() && word[i] == first && word[i + 1] == second) {
          merged.push_back(first + second);
          i += 2;
        } else {
          merged.push_back(std::move(word[i]));
          ++i;
        }
      }
      word = std::move(merged);
    }
    std::vector<int> ids;
    ids.reserve(word.size());
    for (const auto& sym : word) {
      auto it = encoder.find(sym);
      // Hugging Face maps unknown symbols to its unk token, <|endoftext|>.
      ids.push_back(it == encoder.end() ? end : it->second);
    }
    std::lock_guard lock(cache_mutex);
    if (cache.size() > 200'000) cache.clear();  // bound memory on huge inputs
    cache.emplace(token, ids);
    return ids;
  }
};

ClipTokenizer::ClipTokenizer(std::shared_ptr<Impl> impl) : impl_(std::move(impl)) {}

ClipTokenizer ClipTokenizer::from_hf_files(const std::filesystem::path& vocab_json,
                                           const std::filesystem::path& merges_txt) {
  auto impl = std::make_shared<Impl>();
  for (const auto& p : {vocab_json, merges_txt})
    if (!std::filesystem::exists(p))
      throw ModelError(fmt::format("tokenizer file {} does not exist", p.string()));
  try {
    auto j = nlohmann::json::parse(read_file_text(vocab_json));
    for (auto& [tok, id] : j.items()) impl->encoder.emplace(tok, id.get<int>());
  } catch (const nlohmann::json::exception& e) {
    throw ModelError(
        fmt::format("{} is not a token -> id JSON object ({})", vocab_json.string(), e.what()));
  }
  const std::string text = read_file_text(merges_txt);  // lines view into it
  auto lines = split_lines(text);
  if (!lines.empty() && lines.front().starts_with("#version")) lines.erase(lines.begin());
  impl->add_merges(lines, merges_txt.string());
  impl->finish(vocab_json.string());
  return ClipTokenizer(std::move(impl));
}

ClipTokenizer ClipTokenizer::from_openai_bpe(const std::filesystem::path& txt_gz, int num_merges) {
  auto impl = std::make_shared<Impl>();
  const std::string text = gunzip_file(txt_gz);
  auto lines = split_lines(text);
  // OpenAI: merges = lines[1 : num_merges + 1] (line 0 is a version tag).
  if (lines.size() < static_cast<std::size_t>(num_merges) + 1)
    throw ModelError(fmt::format("{} holds {} merges, expected at least {}", txt_gz.string(),
                                 lines.size() - 1, num_merges));
  lines = std::vector<std::string_view>(lines.begin() + 1, lines.begin() + 1 + num_merges);
  impl->add_merges(lines, txt_gz.string());
  int id = 0;
  for (int b : openai_byte_order()) impl->encoder.emplace(impl->byte_encoder[b], id++);
  for (int b : openai_byte_order())
    impl->encoder.emplace(impl->byte_encoder[b] + std::string(kEow), id++);
  for (const auto& [a, b] : impl->merges) impl->encoder.emplace(a + b, id++);
  impl->encoder.emplace(std::string(kStart), id++);
  impl->encoder.emplace(std::string(kEnd), id++);
  impl->finish(txt_gz.string());
  return ClipTokenizer(std::move(impl));
}

ClipTokenizer ClipTokenizer::from_directory(const std::filesystem::path& dir) {
  if (std::filesystem::exists(dir / "vocab.json") && std::filesystem::exists(dir / "merges.txt"))
    return from_hf_files(dir / "vocab.json", dir / "merges.txt");
  if (std::filesystem::exists(dir / "bpe_simple_vocab_16e6.txt.gz"))
    return from_openai_bpe(dir / "bpe_simple_vocab_16e6.txt.gz");
  throw ModelError(
      fmt::format("no tokenizer in {}: expected vocab.json and merges.txt (or "
                  "bpe_simple_vocab_16e6.txt.gz)",
                  dir.string()));
}

std::string ClipTokenizer::clean(std::string_view text) {
  UErrorCode status = U_ZERO_ERROR;
  icu::UnicodeString s = icu::UnicodeString::fromUTF8(
      icu::StringPiece(text.data(), static_cast<int32_t>(text.size())));
  const icu::Normalizer2* nfc = icu::Normalizer2::getNFCInstance(status);
  if (U_SUCCESS(status)) {
    icu::UnicodeString n = nfc->normalize(s, status);
    if (U_SUCCESS(status)) s = n;
  }
  // Collapse white-space runs to one space, then strip.
  icu::UnicodeString collapsed;
  bool in_space = false;
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) {
    const UChar32 c = s.char32At(i);
    if (is_space(c)) {
      in_space = true;
      continue;
    }
    if (in_space) collapsed.append(static_cast<UChar32>(' '));
    in_space = false;
    collapsed.append(c);
  }
  if (in_space) collapsed.append(static_cast<UChar32>(' '));
  int32_t b = 0, e = collapsed.length();
  while (b < e && is_strip_space(collapsed.char32At(b))) b = collapsed.moveIndex32(b, 1);
  while (e > b && is_strip_space(collapsed.char32At(collapsed.moveIndex32(e, -1))))
    e = collapsed.moveIndex32(e, -1);
  icu::UnicodeString stripped(collapsed, b, e - b);
  // Full (not simple) lower-casing, like Python's str.lower(): "İ" -> "i̇".
  stripped.toLower(icu::Locale::getRoot());
  std::string out;
  stripped.toUTF8String(out);
  return out;
}

std::vector<int> ClipTokenizer::encode(std::string_view text) const {
  const std::string cleaned = clean(text);
  const icu::UnicodeString s = icu::UnicodeString::fromUTF8(cleaned);
  std::vector<UChar32> cps;
  for (int32_t i = 0; i < s.length(); i = s.moveIndex32(i, 1)) cps.push_back(s.char32At(i));
  const auto n = cps.size();
  auto starts_with = [&](std::size_t i, std::string_view lit) {
    if (i + lit.size() > n) return false;
    for (std::size_t k = 0; k < lit.size(); ++k)
      if (cps[i + k] != static_cast<UChar32>(lit[k])) return false;
    return true;
  };
  // The pattern is compiled with IGNORECASE, so "'ſ" matches 's.
  auto folds_to = [&](std::size_t i, char ch) {
    return i < n && u_foldCase(cps[i], U_FOLD_CASE_DEFAULT) == static_cast<UChar32>(ch);
  };
  std::vector<int> ids;
  std::string utf8, mapped;
  auto emit = [&](std::size_t b, std::size_t e) {
    utf8.clear();
    icu::UnicodeString piece;
    for (std::size_t k = b; k < e; ++k) piece.append(cps[k]);
    piece.toUTF8String(utf8);
    mapped.clear();
    for (unsigned char c : utf8) mapped += impl_->byte_encoder[c];
    auto part = impl_->bpe(mapped);
    ids.insert(ids.end(), part.begin(), part.end());
  };
  std::size_t i = 0;
  while (i < n) {
    const UChar32 c = cps[i];
    // Alternatives in the pattern's order; the first that matches wins.
    if (starts_with(i, kStart)) {
      emit(i, i + kStart.size());
      i += kStart.size();
    } else if (starts_with(i, kEnd)) {
      emit(i, i + kEnd.size());
      i += kEnd.size();
    } else if (c == '\'' && (folds_to(i + 1, 's') || folds_to(i + 1, 't'))) {
      emit(i, i + 2);
      i += 2;
    } else if (c == '\'' && ((folds_to(i + 1, 'r') && folds_to(i + 2, 'e')) ||
                             (folds_to(i + 1, 'v') && folds_to(i + 2, 'e')))) {
      emit(i, i + 3);
      i += 3;
    } else if (c == '\'' && folds_to(i + 1, 'm')) {
      emit(i, i + 2);
      i += 2;
    } else if (c == '\'' && folds_to(i + 1, 'l') && folds_to(i + 2, 'l')) {
      emit(i, i + 3);
      i += 3;
    } else if (c == '\'' && folds_to(i + 1, 'd')) {
      emit(i, i + 2);
      i += 2;
    } else if (is_letter(c)) {
      std::size_t j = i + 1;
      while (j < n && is_letter(cps[j])) ++j;
      emit(i, j);
      i = j;
    } else if (is_number(c)) {
      emit(i, i + 1);
      i += 1;
    } else if (!is_space(c)) {
      std::size_t j = i + 1;
      while (j < n && !is_space(cps[j]) && !is_letter(cps[j]) && !is_number(cps[j])) ++j;
      emit(i, j);
      i = j;
    } else {
      ++i;
    }
  }
  return ids;
}

std::vector<int> ClipTokenizer::tokenize(std::string_view text, int context_length) const {
  std::vector<int> ids{impl_->start};
  auto body = encode(text);
  ids.insert(ids.end(), body.begin(), body.end());
  ids.push_back(impl_->end);
  if (context_length >= 2 && ids.size() > static_cast<std::size_t>(context_length)) {
    ids.resize(static_cast<std::size_t>(context_length));
    ids.back() = impl_->end;
  }
  return ids;
}

std::vector<std::int64_t> ClipTokenizer::tokenize_padded(std::string_view text, int context_length,
                                                         int pad_id) const {
  auto ids = tokenize(text, context_length);
  std::vector<std::int64_t> out(ids.begin(), ids.end());
  out.resize(static_cast<std::size_t>(context_length), pad_id);
  return out;
}

int ClipTokenizer::start_id() const {
  return impl_->start;
}
int ClipTokenizer::end_id() const {
  return impl_->end;
}
std::size_t ClipTokenizer::vocab_size() const {
  return impl_->encoder.size();
}
std::size_t ClipTokenizer::num_merges() const {
  return impl_->merges.size();
}
std::string ClipTokenizer::token_text(int id) const {
  auto it = impl_->decoder.find(id);
  return it == impl_->decoder.end() ? std::string() : it->second;
}

}  // namespace tagsmith::vision
