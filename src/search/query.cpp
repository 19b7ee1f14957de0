#include "tagsmith/search/query.h"

#include <algorithm>
#include <unordered_set>

#include "tagsmith/taxonomy/text.h"

namespace tagsmith::search {

namespace {

// Decodes one UTF-8 code point at s[i], advancing i (invalid bytes read as themselves).
char32_t next_cp(std::string_view s, std::size_t& i) {
  auto b = static_cast<unsigned char>(s[i]);
  int len = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 1;
  if (i + len > s.size()) len = 1;
  char32_t c = len == 1 ? b : len == 2 ? (b & 0x1F) : len == 3 ? (b & 0x0F) : (b & 0x07);
  for (int k = 1; k < len; ++k) c = (c << 6) | (static_cast<unsigned char>(s[i + k]) & 0x3F);
  i += len;
  return c;
}

// Scripts written without spaces between words: each character is a unit.
bool is_cjk(char32_t c) {
  return (c >= 0x3040 && c <= 0x30FF) ||  // kana
         (c >= 0x3400 && c <= 0x4DBF) ||  // CJK extension A
         (c >= 0x4E00 && c <= 0x9FFF) ||  // CJK unified ideographs
         (c >= 0xF900 && c <= 0xFAFF) ||  // compatibility ideographs
         (c >= 0x20000 && c <= 0x2FFFF);  // extensions B..
}

// CJK punctuation (、。「」…) and ASCII punctuation around words separate units.
bool is_separator(char32_t c) {
  if (c == ' ' || c == '\t' || c == '\n' || c == '\r') return true;
  if (c >= 0x3000 && c <= 0x303F) return true;
  if (c >= 0xFF00 && c <= 0xFF0F) return true;  // what NFKC leaves of full-width punctuation
  return false;
}

bool is_edge_punct(char c) {
  return std::string_view(",.;:!?\"'()[]{}<>").find(c) != std::string_view::npos;
}

void push_word(std::vector<std::string>& out, std::string word) {
  std::size_t b = 0, e = word.size();
  while (b < e && is_edge_punct(word[b])) ++b;
  while (e > b && is_edge_punct(word[e - 1])) --e;
  if (e > b) out.push_back(word.substr(b, e - b));
}

// Words that carry no meaning alone; a remainder made only of these is dropped.
const std::unordered_set<std::string>& stop_words() {
  static const std::unordered_set<std::string> words{
      "a",   "an",   "the", "and",  "or",     "with",  "without",  "in",
      "on",  "for",  "of",  "to",   "by",     "at",    "from",     "some",
      "any", "show", "me",  "find", "photos", "photo", "pictures", "images",
      "的",  "和",   "与",  "或",   "在",     "有",    "带",       "款"};
  return words;
}

}  // namespace

std::vector<std::string> query_units(std::string_view s) {
  std::vector<std::string> out;
  std::string word;
  for (std::size_t i = 0; i < s.size();) {
    const std::size_t start = i;
    char32_t c = next_cp(s, i);
    if (is_separator(c)) {
      push_word(out, std::move(word));
      word.clear();
    } else if (is_cjk(c)) {
      push_word(out, std::move(word));
      word.clear();
      out.emplace_back(s.substr(start, i - start));
    } else {
      word.append(s.substr(start, i - start));
    }
  }
  push_word(out, std::move(word));
  return out;
}

std::string join_units(const std::vector<std::string>& units, std::size_t begin, std::size_t end) {
  auto cjk_unit = [](const std::string& u) {
    std::size_t i = 0;
    return !u.empty() && is_cjk(next_cp(u, i));
  };
  std::string out;
  for (std::size_t i = begin; i < end; ++i) {
    if (i > begin && !cjk_unit(units[i - 1]) && !cjk_unit(units[i])) out += ' ';
    out += units[i];
  }
  return out;
}

QueryParser::QueryParser(const taxonomy::Taxonomy& tax) : tax_(tax) {
  auto add = [&](const std::string& text, const taxonomy::NodeRef& ref) {
    auto units = query_units(taxonomy::normalise_text(text));
    if (units.empty()) return;
    max_units_ = std::max(max_units_, units.size());
    auto& refs = phrases_[join_units(units, 0, units.size())];
    if (std::find(refs.begin(), refs.end(), ref) == refs.end()) refs.push_back(ref);
  };
  for (const auto& attr : tax.attributes()) {
    for (const auto& node : attr.nodes) {
      taxonomy::NodeRef ref{attr.id, node.id};
      add(node.id, ref);
      std::string spaced = node.id;  // "t_shirt" typed as "t shirt"
      std::replace(spaced.begin(), spaced.end(), '_', ' ');
      add(spaced, ref);
      for (const auto& [lang, label] : node.labels) add(label, ref);
      for (const auto& syn : node.synonyms) add(syn, ref);
    }
  }
}

ParsedQuery QueryParser::parse(std::string_view query) const {
  ParsedQuery out;
  out.normalised = taxonomy::normalise_text(query);
  const auto units = query_units(out.normalised);
  std::vector<std::string> rest;
  for (std::size_t i = 0; i < units.size();) {
    bool matched = false;
    for (std::size_t n = std::min(max_units_, units.size() - i); n >= 1; --n) {
      auto phrase = join_units(units, i, i + n);
      auto it = phrases_.find(phrase);
      if (it == phrases_.end()) continue;
      QueryTerm term{phrase, it->second};
      // A shade that shares its name with its own family ("white") reads as
      // the family, which already covers every shade below it.
      std::erase_if(term.refs, [&](const taxonomy::NodeRef& r) {
        const auto* node = tax_.node(r);
        if (!node || node->family.empty()) return false;
        return std::any_of(term.refs.begin(), term.refs.end(), [&](const taxonomy::NodeRef& o) {
          const auto* a = tax_.attribute(o.attribute);
          return a && a->palette_level == "families" && o.node == node->family;
        });
      });
      std::sort(term.refs.begin(), term.refs.end(), [&](const auto& x, const auto& y) {
        auto ax = tax_.attribute_index(x.attribute).value_or(0),
             ay = tax_.attribute_index(y.attribute).value_or(0);
        if (ax != ay) return ax < ay;
        const auto* attr = tax_.attribute(x.attribute);
        return attr->index_of(x.node).value_or(0) < attr->index_of(y.node).value_or(0);
      });
      // The same phrase twice ("white ... white") adds nothing.
      if (std::none_of(out.terms.begin(), out.terms.end(),
                       [&](const QueryTerm& t) { return t.refs == term.refs; }))
        out.terms.push_back(std::move(term));
      i += n;
      matched = true;
      break;
    }
    if (!matched) rest.push_back(units[i++]);
  }
  const bool meaningful = std::any_of(
      rest.begin(), rest.end(), [](const std::string& w) { return !stop_words().contains(w); });
  if (meaningful) out.remainder = join_units(rest, 0, rest.size());
  return out;
}

FacetFilter ParsedQuery::filter() const {
  FacetFilter f;
  for (const auto& t : terms) {
    FacetClause c;
    c.source = t.text;
    for (const auto& r : t.refs) c.any_of.push_back({r.attribute, r.node});
    f.all_of.push_back(std::move(c));
  }
  return f;
}

}  // namespace tagsmith::search
