#include "tagsmith/search/search.h"

#include <fmt/format.h>

#include <algorithm>
#include <map>

#include "tagsmith/common/error.h"
#include "tagsmith/taxonomy/text.h"

namespace tagsmith::search {

namespace {

std::string describe(const ClauseMatch& m) {
  if (!m.state) return fmt::format("{}={}", m.attribute, m.node);
  if (*m.state == store::TagState::kConfirmed || *m.state == store::TagState::kHumanSet)
    return fmt::format("{}={} ({})", m.attribute, m.node, store::to_string(*m.state));
  return fmt::format("{}={} ({} {:.2f})", m.attribute, m.node, store::to_string(*m.state),
                     m.confidence);
}

std::vector<AssetId> ids_of(const FacetIndex& fx, const std::vector<Doc>& docs) {
  std::vector<AssetId> out;
  out.reserve(docs.size());
  for (Doc d : docs) out.push_back(fx.id_of(d));
  return out;
}

// Why a filter matched nothing, clause by clause. The most useful reason
// wins: an attribute nothing is tagged with yet (the library lacks its
// recogniser), then tags waiting for review, then a value nobody carries,
// then clauses that each match but not together.
std::string explain_empty(const FacetIndex& fx, const FacetFilter& filter, Visibility vis) {
  const Visibility everything{true, true};
  std::vector<std::string> alone_ok;
  std::string unused, waiting, absent;
  for (const auto& c : filter.all_of) {
    std::vector<std::string> values;
    for (const auto& v : c.any_of) values.push_back(fmt::format("{}={}", v.attribute, v.node));
    const std::string what = fmt::format("{}", fmt::join(values, " or "));
    FacetFilter one;
    one.all_of.push_back(c);
    if (!fx.match(one, vis).empty()) {
      alone_ok.push_back(what);
      continue;
    }
    bool used = false;
    for (const auto& v : c.any_of) used = used || fx.attribute_used(v.attribute, everything);
    if (!used && !c.any_of.empty() && !is_metadata_facet(c.any_of.front().attribute)) {
      if (unused.empty())
        unused = fmt::format(
            "nothing in the library is tagged {} yet: its values come from a recogniser (a "
            "vision model for that attribute) or from people, and neither has set one",
            c.any_of.front().attribute);
      continue;
    }
    if (const auto n = fx.match(one, everything).size(); n > 0) {
      if (waiting.empty())
        waiting = fmt::format(
            "no photo has {} as a searchable tag; {} have it as a flagged or suggested tag "
            "waiting for review: include flagged and suggested tags to see them",
            what, n);
      continue;
    }
    if (absent.empty()) absent = fmt::format("no photo is tagged {}", what);
  }
  for (const auto* reason : {&unused, &waiting, &absent})
    if (!reason->empty()) return *reason;
  if (alone_ok.size() > 1)
    return fmt::format("each of {} matches photos, but no photo matches all of them: remove one",
                       fmt::join(alone_ok, "; "));
  return {};
}

}  // namespace

SortOrder sort_order_from_string(const std::string& s) {
  if (s.empty() || s == "relevance") return SortOrder::kRelevance;
  if (s == "newest") return SortOrder::kNewest;
  if (s == "oldest") return SortOrder::kOldest;
  if (s == "name") return SortOrder::kName;
  if (s == "confidence") return SortOrder::kConfidence;
  if (s == "least_confident") return SortOrder::kLeastConfident;
  throw InputError(fmt::format(
      "unknown sort '{}' (known: relevance, newest, oldest, name, confidence, least_confident)",
      s));
}

std::string to_string(SortOrder s) {
  switch (s) {
    case SortOrder::kRelevance:
      return "relevance";
    case SortOrder::kNewest:
      return "newest";
    case SortOrder::kOldest:
      return "oldest";
    case SortOrder::kName:
      return "name";
    case SortOrder::kConfidence:
      return "confidence";
    case SortOrder::kLeastConfident:
      return "least_confident";
  }
  return "relevance";
}

SearchEngine::SearchEngine(const taxonomy::Taxonomy& tax, std::shared_ptr<const FacetIndex> facets,
                           const VectorIndex* vectors, std::string vector_model, TextEncoder* text,
                           ImageEncoder* image)
    : tax_(tax),
      parser_(tax),
      facets_(std::move(facets)),
      vectors_(vectors),
      vector_model_(std::move(vector_model)),
      text_(text),
      image_(image) {}

SearchResult SearchEngine::search(const SearchRequest& req) const {
  const FacetIndex& fx = *facets_;
  SearchResult res;
  res.query = parser_.parse(req.text);
  res.filter.all_of = req.facets;
  for (auto& c : res.query.filter().all_of) res.filter.all_of.push_back(std::move(c));

  const std::vector<Doc> docs = fx.match(res.filter, req.visibility);
  res.total = docs.size();
  if (req.with_counts) res.counts = fx.count(res.filter, docs, req.visibility);

  // --- the query vector, if this request ranks by similarity ---------------
  std::optional<std::vector<float>> qvec;
  std::string similar_to;  // for explanations
  std::optional<AssetId> exclude;
  if (req.similar_to_asset || req.similar_to_file) {
    res.ranking = "similar";
    if (!vectors_)
      throw InputError(
          "similar-image search needs embeddings, and this library has none for the model in use");
    if (req.similar_to_asset) {
      qvec = vectors_->vector(*req.similar_to_asset);
      if (!qvec)
        throw NotFoundError(fmt::format("asset {} has no embedding under model {}",
                                        *req.similar_to_asset, vector_model_));
      similar_to = fmt::format("asset {}", *req.similar_to_asset);
      exclude = req.similar_to_asset;
    } else {
      if (!image_)
        throw InputError("similar-image search by file needs an image model; none is available");
      if (image_->version() != vector_model_)
        throw InputError(
            fmt::format("the image model ({}) differs from the library's embeddings ({})",
                        image_->version(), vector_model_));
      qvec = image_->encode_image_file(*req.similar_to_file);
      similar_to = "'" + req.similar_to_file->filename().string() + "'";
    }
  } else if (!res.query.remainder.empty()) {
    if (!text_) {
      res.notes.push_back(
          fmt::format("natural-language ranking is off (no text model): '{}' was not used",
                      res.query.remainder));
    } else if (!vectors_) {
      res.notes.push_back(fmt::format(
          "natural-language ranking is off (no embeddings in this library): '{}' was not used",
          res.query.remainder));
    } else if (text_->version() != vector_model_) {
      res.notes.push_back(fmt::format(
          "natural-language ranking is off: the text model {} differs from the library's "
          "embeddings {}",
          text_->version(), vector_model_));
    } else {
      qvec = text_->encode_text(res.query.remainder);
      similar_to = "'" + res.query.remainder + "'";
    }
    if (qvec) res.ranking = res.query.terms.empty() && req.facets.empty() ? "semantic" : "hybrid";
  }
  if (res.ranking.empty()) res.ranking = "facets";

  // Text that matched nothing and can't be ranked: answering with every asset
  // would pretend to understand it.
  if (!qvec && !res.query.remainder.empty() && res.filter.empty()) {
    res.total = 0;
    res.counts.clear();
    res.hint = fmt::format("'{}' matches no value of the taxonomy{}", res.query.remainder,
                           text_ ? std::string()
                                 : "; words outside it need a text model (natural-language "
                                   "search), and this server has none");
    return res;
  }
  if (res.total == 0 && !res.filter.empty())
    res.hint = explain_empty(fx, res.filter, req.visibility);
  if (qvec && req.sort != SortOrder::kRelevance)
    res.notes.push_back(fmt::format("sorted by similarity ({} applies to facet searches only)",
                                    to_string(req.sort)));

  std::vector<std::vector<std::uint32_t>> resolved;
  for (const auto& c : res.filter.all_of) resolved.push_back(fx.resolve(c));
  auto matches_of = [&](Doc d) {
    std::vector<ClauseMatch> out;
    for (const auto& r : resolved)
      if (auto m = fx.explain(d, r, req.visibility)) out.push_back(std::move(*m));
    return out;
  };
  auto facet_confidence = [](const std::vector<ClauseMatch>& ms) {
    if (ms.empty()) return 0.0;
    double s = 0;
    for (const auto& m : ms) s += m.confidence;
    return s / static_cast<double>(ms.size());
  };
  const std::size_t want = req.offset + req.limit;

  std::vector<Hit> ranked;
  if (qvec) {
    // Similarity within the result set; the filter travels into the index.
    std::optional<Selection> allowed;
    if (!res.filter.empty()) allowed.emplace(ids_of(fx, docs));
    const std::size_t k = want + (exclude ? 1 : 0);
    auto neighbours = vectors_->search(*qvec, k, allowed ? &*allowed : nullptr);
    for (const auto& nb : neighbours) {
      if (exclude && nb.id == *exclude) continue;
      auto d = fx.doc_of(nb.id);
      if (!d) continue;  // embedded but not (yet) in the facet index
      Hit h;
      h.id = nb.id;
      h.similarity = nb.score;
      h.matched = matches_of(*d);
      h.score = nb.score + kFacetWeight * facet_confidence(h.matched);
      ranked.push_back(std::move(h));
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const Hit& a, const Hit& b) { return a.score > b.score; });
    if (ranked.size() > want) ranked.resize(want);
    // Results without an embedding come after the ranked ones, never dropped.
    if (ranked.size() < want && ranked.size() < docs.size()) {
      for (Doc d : docs) {
        if (ranked.size() >= want) break;
        AssetId id = fx.id_of(d);
        if ((exclude && id == *exclude) || vectors_->contains(id)) continue;
        Hit h;
        h.id = id;
        h.matched = matches_of(d);
        h.score = kFacetWeight * facet_confidence(h.matched);
        ranked.push_back(std::move(h));
      }
    }
  } else if (req.sort != SortOrder::kRelevance &&
             !(req.sort == SortOrder::kConfidence && !resolved.empty())) {
    // An explicit order over the whole result set; the first `want` of it.
    std::vector<std::pair<double, Doc>> keyed(docs.size());
    std::vector<std::vector<char>> masks;
    if (req.sort == SortOrder::kConfidence || req.sort == SortOrder::kLeastConfident)
      for (const auto& r : resolved) masks.push_back(fx.mask_of(r));
    for (std::size_t i = 0; i < docs.size(); ++i) {
      const Doc d = docs[i];
      double key = 0;
      switch (req.sort) {
        case SortOrder::kNewest:
          key = -static_cast<double>(d);
          break;
        case SortOrder::kOldest:
          key = static_cast<double>(d);
          break;
        case SortOrder::kName:
          key = static_cast<double>(fx.name_rank(d));
          break;
        default: {
          // Mean confidence of the matched clauses (or of every tag without
          // a filter); docs with none sort last either way.
          double sum = 0;
          int n = 0;
          if (masks.empty()) {
            const double m = fx.mean_confidence(d, req.visibility);
            if (m >= 0) sum = m, n = 1;
          } else {
            for (const auto& m : masks)
              if (const double c = fx.clause_confidence(d, m, req.visibility); c >= 0)
                sum += c, ++n;
          }
          const double mean = n ? sum / n : 2.0;
          key = req.sort == SortOrder::kConfidence ? (n ? -mean : 2.0) : mean;
        }
      }
      keyed[i] = {key, d};
    }
    const std::size_t top = std::min(want, keyed.size());
    std::partial_sort(keyed.begin(), keyed.begin() + static_cast<std::ptrdiff_t>(top), keyed.end(),
                      [](const auto& a, const auto& b) {
                        return a.first != b.first ? a.first < b.first : a.second > b.second;
                      });
    for (std::size_t i = 0; i < top; ++i) {
      Hit h;
      h.id = fx.id_of(keyed[i].second);
      h.matched = matches_of(keyed[i].second);
      h.score = facet_confidence(h.matched);
      ranked.push_back(std::move(h));
    }
  } else {
    // Facets only: surest tags first, newest first on ties.
    const auto scored = fx.rank_by_confidence(docs, resolved, req.visibility, want);
    const std::size_t top = scored.size();
    for (std::size_t i = 0; i < top; ++i) {
      Hit h;
      h.id = fx.id_of(scored[i].second);
      h.matched = matches_of(scored[i].second);
      h.score = scored[i].first;
      ranked.push_back(std::move(h));
    }
  }

  for (std::size_t i = req.offset; i < ranked.size(); ++i) {
    Hit& h = ranked[i];
    std::vector<std::string> parts;
    if (!h.matched.empty()) {
      std::vector<std::string> ms;
      for (const auto& m : h.matched) ms.push_back(describe(m));
      parts.push_back("matched " + fmt::format("{}", fmt::join(ms, ", ")));
    }
    if (h.similarity)
      parts.push_back(fmt::format("similarity {:.2f} to {}", *h.similarity, similar_to));
    else if (qvec)
      parts.push_back("no embedding: not ranked by similarity");
    h.why = parts.empty() ? "in the library" : fmt::format("{}", fmt::join(parts, "; "));
    if (auto d = fx.doc_of(h.id)) h.weakest = fx.weakest_tag(*d, req.visibility);
    res.hits.push_back(std::move(h));
  }
  return res;
}

FacetClause parse_facet_option(const taxonomy::Taxonomy& tax, const std::string& option) {
  auto eq = option.find('=');
  if (eq == std::string::npos || eq == 0 || eq + 1 == option.size())
    throw InputError("--facet expects ATTRIBUTE=VALUE[,VALUE...], got '" + option + "'");
  const std::string attribute = option.substr(0, eq);
  FacetClause clause;
  clause.source = "--facet " + option;
  std::vector<std::string> values;
  for (std::size_t b = eq + 1; b <= option.size();) {
    auto e = option.find(',', b);
    if (e == std::string::npos) e = option.size();
    if (e > b) values.push_back(option.substr(b, e - b));
    b = e + 1;
  }
  if (is_metadata_facet(attribute)) {
    for (auto& v : values) clause.any_of.push_back({attribute, v});
    return clause;
  }
  const auto* attr = tax.attribute(attribute);
  if (!attr) {
    std::vector<std::string> known;
    for (const auto& a : tax.attributes()) known.push_back(a.id);
    for (auto m : {kFormatFacet, kMonthFacet, kFolderFacet, kSizeFacet}) known.emplace_back(m);
    throw InputError(
        fmt::format("unknown facet '{}' (known: {})", attribute, fmt::join(known, ", ")));
  }
  for (const auto& v : values) {
    if (attr->node(v)) {
      clause.any_of.push_back({attribute, v});
      continue;
    }
    bool found = false;
    for (const auto& ref : tax.lookup_label(v)) {
      if (ref.attribute != attribute) continue;
      clause.any_of.push_back({ref.attribute, ref.node});
      found = true;
    }
    if (!found) {
      std::vector<std::string> known;
      for (const auto& n : attr->nodes) known.push_back(n.id);
      throw InputError(fmt::format("facet '{}' has no value '{}' (known: {})", attribute, v,
                                   fmt::join(known, ", ")));
    }
  }
  return clause;
}

std::vector<FacetClause> merge_facet_clauses(std::vector<FacetClause> clauses) {
  std::vector<FacetClause> out;
  std::map<std::string, std::size_t> by_attribute;
  for (auto& c : clauses) {
    std::string single;
    bool one_attribute = !c.any_of.empty();
    for (const auto& v : c.any_of) {
      if (single.empty()) single = v.attribute;
      one_attribute = one_attribute && v.attribute == single;
    }
    if (one_attribute) {
      if (auto it = by_attribute.find(single); it != by_attribute.end()) {
        auto& into = out[it->second];
        for (auto& v : c.any_of)
          if (std::find(into.any_of.begin(), into.any_of.end(), v) == into.any_of.end())
            into.any_of.push_back(v);
        into.source += ", " + c.source;
        continue;
      }
      by_attribute.emplace(single, out.size());
    }
    out.push_back(std::move(c));
  }
  return out;
}

}  // namespace tagsmith::search
