// Search: text (English/Chinese) through the taxonomy, facets with counts,
// and similar-by-upload.
//
// Several servers may share one library, each writing to it: every server
// follows the store instead of trusting its own writes alone. snapshot()
// polls the store's change marker (a few indexed max() lookups) at most
// every 200 ms, and
//  * rebuilds the facet index (an immutable snapshot, search/facet_index.h)
//    only when assets, tags or the taxonomy moved, or after a write through
//    this server's API;
//  * keeps one vector index for the server's lifetime and applies the
//    embedding change sequence to it in place (search/library_index.h): new
//    vectors are added, replaced ones replaced, nothing is reopened.
// Searches share the current snapshot through a shared_ptr; the vector index
// is the one part that changes under them, so they search it under its read
// lock.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <shared_mutex>

#include "internal.h"
#include "tagsmith/common/files.h"
#include "tagsmith/image/analysis.h"
#include "tagsmith/image/decode.h"
#include "tagsmith/search/duplicates.h"
#include "tagsmith/search/encoders.h"
#include "tagsmith/search/library_index.h"
#include "tagsmith/search/search.h"

namespace tagsmith::server::detail {

class Search {
 public:
  explicit Search(Context& c) : c_(c) {}

  // How often the store is asked whether it changed; also the longest a
  // change made through another server (or the CLI) stays unseen.
  static constexpr std::chrono::milliseconds kPollInterval{200};
  // The vector index files are only a warm start for the next server
  // start, so a busy library's index is written at most this often.
  static constexpr std::chrono::seconds kSaveInterval{60};

  struct Snapshot {
    tagging::LibraryTaxonomy tax;
    std::shared_ptr<const search::FacetIndex> facets;
    // The index the engine points at, kept alive for this snapshot's
    // readers even after a sync that rebuilds swaps in a new one. Null
    // without a model or before the library has vectors for it.
    std::shared_ptr<const search::VectorIndex> vectors;
    const search::LibraryVectorIndex* follower = nullptr;  // owns `vectors`' lock
    std::unique_ptr<search::SearchEngine>
        engine;  // refers to tax.taxonomy, facets and vectors: same lifetime

    // Search (engine->search) only while holding this: the follower may be
    // adding vectors to `vectors` on another thread.
    std::shared_lock<std::shared_mutex> read_lock() const {
      return follower ? follower->read_lock() : std::shared_lock<std::shared_mutex>{};
    }
  };

  std::shared_ptr<const Snapshot> snapshot() {
    std::lock_guard lock(mu_);
    const auto now = std::chrono::steady_clock::now();
    const bool written_here = c_.tags_changed.exchange(false);
    if (current_ && !written_here && now - last_poll_ < kPollInterval) return current_;
    last_poll_ = now;
    // Read before anything is loaded: a change racing with the loads below
    // shows up as a difference at the next poll, never gets lost.
    const store::ChangeMarker marker = c_.lib.store().change_marker();
    if (current_ && !written_here && marker == seen_) return current_;

    const bool facets_moved = !current_ || written_here || marker.last_asset != seen_.last_asset ||
                              marker.last_tag_event != seen_.last_tag_event ||
                              marker.last_taxonomy_version != seen_.last_taxonomy_version;
    std::string model;
    std::shared_ptr<const search::VectorIndex> vectors;
    if (c_.image_encoder) {
      model = c_.image_encoder->version();
      if (!follower_) {
        follower_ = search::LibraryVectorIndex::open(c_.lib, model);
        last_save_ = now;
      } else if (marker.last_embedding_seq != seen_.last_embedding_seq) {
        follower_->sync(search::LibraryVectorIndex::Persist::kLater);
      }
      if (now - last_save_ >= kSaveInterval) {
        follower_->save_if_changed();
        last_save_ = now;
      }
      vectors = follower_->shared_index();  // this thread is the only one that syncs
    }
    // Vectors added or replaced in place need no new snapshot; a new index
    // object (the first vectors, or a rebuild) does, as do new facets.
    if (!facets_moved && vectors == current_->vectors) {
      seen_ = marker;
      return current_;
    }

    auto s = std::make_shared<Snapshot>();
    if (facets_moved) {
      s->tax = tagging::current_taxonomy(c_.lib);
      s->facets = search::FacetIndex::load(c_.lib.store(), s->tax.taxonomy);
    } else {
      s->tax = current_->tax;
      s->facets = current_->facets;
    }
    s->vectors = std::move(vectors);
    s->follower = follower_.get();
    s->engine =
        std::make_unique<search::SearchEngine>(s->tax.taxonomy, s->facets, s->vectors.get(), model,
                                               c_.text_encoder.get(), c_.image_encoder.get());
    current_ = std::move(s);
    seen_ = marker;  // only now: a load that throws is retried at the next poll
    return current_;
  }

  ~Search() {
    // What the index gained while serving, for a quick next start.
    try {
      std::lock_guard lock(mu_);
      if (follower_) follower_->save_if_changed();
    } catch (...) {
    }
  }

 private:
  std::mutex mu_;  // one refresh at a time; guards everything below
  std::shared_ptr<const Snapshot> current_;
  std::unique_ptr<search::LibraryVectorIndex> follower_;  // outlives every snapshot
  store::ChangeMarker seen_;
  std::chrono::steady_clock::time_point last_poll_{}, last_save_{};
  Context& c_;
};

// Here, where Search is complete (Context holds it by unique_ptr).
Context::Context(app::LibraryContext& a, const ServerOptions& o)
    : app(a),
      lib(a.library()),
      options(o),
      login_throttle(o.login_window, o.login_failures_per_account, o.login_failures_per_address) {
  tags = app.tag_service();
  text_encoder = app.text_encoder();
  image_encoder = app.image_encoder();
  embedder = app.embedder();
  person_masker = app.person_masker();
  review_queue = std::make_unique<review::ReviewQueue>(lib, *tags);
}
Context::~Context() = default;

namespace {

std::string label_of(const taxonomy::Taxonomy& tax, const std::string& attribute,
                     const std::string& node, const std::string& lang) {
  if (const auto* n = tax.node(attribute, node)) return n->label(lang);
  return node;
}

json hit_asset(Context& c, store::AssetId id) {
  json j = {{"id", id}, {"thumbnail", fmt::format("/api/v1/assets/{}/thumbnail", id)}};
  if (auto a = c.lib.store().find_asset(id)) {
    j["name"] = std::filesystem::path(a->source_path).filename().string();
    j["width"] = a->width;
    j["height"] = a->height;
    j["ingested_at"] = a->ingested_at;
  }
  return j;
}

std::string attribute_label(const taxonomy::Taxonomy& tax, const std::string& attribute,
                            const std::string& lang) {
  if (const auto* a = tax.attribute(attribute)) {
    if (auto it = a->labels.find(lang); it != a->labels.end()) return it->second;
    if (auto it = a->labels.find("en"); it != a->labels.end()) return it->second;
  }
  return attribute;
}

// Nearest assets by perceptual hash: works without any vision model, and
// finds the same product photo resized, recompressed or lightly edited.
// Only photos within `max_distance` bits are close enough to list: beyond
// that a hash says nothing about likeness, and the answer says "no close
// match" (with the nearest distance) instead of listing unrelated photos.
json similar_by_hash(Context& c, std::uint64_t phash, std::optional<store::AssetId> exclude,
                     std::size_t limit, int max_distance) {
  std::vector<std::pair<int, store::AssetId>> ranked;
  for (const auto& f : c.lib.store().fingerprints()) {
    if (exclude && f.id == *exclude) continue;
    ranked.emplace_back(image::hamming_distance(phash, f.phash), f.id);
  }
  std::sort(ranked.begin(), ranked.end());
  const std::size_t close =
      static_cast<std::size_t>(std::find_if(ranked.begin(), ranked.end(),
                                            [&](const auto& r) { return r.first > max_distance; }) -
                               ranked.begin());
  json hits = json::array();
  for (std::size_t i = 0; i < close && i < limit; ++i) {
    json h = hit_asset(c, ranked[i].second);
    h["distance"] = ranked[i].first;
    h["similarity"] = 1.0 - ranked[i].first / 64.0;
    h["why"] = fmt::format("perceptual hash differs in {} of 64 bits", ranked[i].first);
    hits.push_back(h);
  }
  json out = {{"ranking", "similar"},
              {"method", "perceptual-hash"},
              {"hits", hits},
              {"total", close},
              {"threshold", {{"max_distance", max_distance}}}};
  if (close == 0) {
    out["hint"] = ranked.empty() ? std::string("the library has no photos to compare with")
                                 : fmt::format(
                                       "no close match: the nearest photo differs in {} of 64 "
                                       "bits of its perceptual hash; close means at most {}",
                                       ranked.front().first, max_distance);
  }
  return out;
}

// The perceptual-hash distance (bits of 64) under which two photos count
// as the same picture resized, recompressed or lightly edited.
constexpr int kCloseHashDistance = 12;
// The embedding similarity above which two photos count as alike.
constexpr double kCloseSimilarity = 0.75;

// A ranked search hit: the asset, its score and why it matched.
json ranked_hit(Context& c, const search::Hit& h) {
  json j = hit_asset(c, h.id);
  j["score"] = h.score;
  if (h.similarity) j["similarity"] = *h.similarity;
  j["why"] = h.why;
  return j;
}

// Nearest assets by image embedding, when the library has vectors for the
// server's model (nullopt otherwise: the caller falls back to the hash).
// With `min_similarity`, hits below it are left out and an empty answer
// says "no close match".
std::optional<json> similar_by_vector(Context& c, search::SearchRequest req,
                                      std::optional<double> min_similarity = std::nullopt) {
  const auto snap = c.search->snapshot();
  if (!snap->vectors) return std::nullopt;
  const auto res = [&] {
    const auto reading = snap->read_lock();
    return snap->engine->search(req);
  }();
  json hits = json::array();
  double best = -1;
  for (const auto& h : res.hits) {
    if (h.similarity) best = std::max(best, static_cast<double>(*h.similarity));
    if (min_similarity && (!h.similarity || *h.similarity < *min_similarity)) continue;
    hits.push_back(ranked_hit(c, h));
  }
  json out = {{"ranking", "similar"},
              {"method", "embedding"},
              {"hits", hits},
              {"total", min_similarity ? hits.size() : res.total}};
  if (min_similarity) {
    out["threshold"] = {{"min_similarity", *min_similarity}};
    if (hits.empty())
      out["hint"] = fmt::format(
          "no close match: the most similar photo scores {:.2f}; close means "
          "at least {:.2f}",
          best, *min_similarity);
  }
  return out;
}

}  // namespace

namespace {
std::string display_path(const library::Library& lib, const std::string& root,
                         const std::string& path) {
  // Uploads through the API live in the library's content-addressed store:
  // its directory layout means nothing to a person.
  const auto originals = (lib.dir() / "originals").lexically_normal();
  const auto rel = std::filesystem::path(path).lexically_normal().lexically_relative(originals);
  if (!rel.empty() && *rel.begin() != "..") {
    // A file: "uploads/<its name>"; a folder of the store: "uploads".
    return std::filesystem::path(path).has_extension()
               ? "uploads/" + std::filesystem::path(path).filename().string()
               : std::string("uploads");
  }
  return search::relative_to_root(path, root);
}
}  // namespace

std::string display_path(Context& c, const std::string& path) {
  return display_path(c.lib, c.search->snapshot()->facets->folder_root(), path);
}

json duplicate_groups_json(Context& c, std::size_t limit, std::size_t members) {
  const auto snap = c.search->snapshot();
  const auto groups = [&] {
    const auto reading = snap->read_lock();
    return search::near_duplicate_view(c.lib.store(), snap->vectors.get());
  }();
  json out = json::array();
  for (const auto& g : groups) {
    if (out.size() >= limit) break;
    json shown = json::array();
    for (const auto id : g.ids) {
      if (shown.size() >= members) break;
      shown.push_back(hit_asset(c, id));
    }
    out.push_back({{"assets", shown},
                   {"size", g.ids.size()},
                   {"basis", g.basis},
                   {"min_similarity", g.min_similarity ? json(*g.min_similarity) : json(nullptr)}});
  }
  return {{"total", groups.size()}, {"groups", out}};
}

namespace {

// A hit's badge: its least certain visible tag.
json badge_json(const search::Hit& h) {
  if (!h.weakest) return nullptr;
  return {{"attribute", h.weakest->attribute},
          {"node", h.weakest->node},
          {"tier", h.weakest->state ? json(store::to_string(*h.weakest->state)) : json(nullptr)},
          {"confidence", h.weakest->confidence}};
}

}  // namespace

void register_search_routes(Router& r, Context& c) {
  c.search = std::make_unique<Search>(c);

  r.add("GET", "/api/v1/search", "viewer", "search",
        "Search: q (English/Chinese text), facet=ATTR=VALUE (repeatable), limit, offset or page "
        "(1-based), sort (relevance|newest|oldest|name|confidence|least_confident), flagged, "
        "suggested, lang",
        [&c](Call& call) {
          const auto snap = c.search->snapshot();
          const auto& tax = snap->tax.taxonomy;
          search::SearchRequest req;
          req.text = call.query("q");
          if (req.text.size() > 1000) throw HttpError(400, "the query is too long");
          for (std::size_t i = 0; i < call.req.get_param_value_count("facet"); ++i) {
            req.facets.push_back(
                search::parse_facet_option(tax, call.req.get_param_value("facet", i)));
          }
          req.facets = search::merge_facet_clauses(std::move(req.facets));
          req.limit = static_cast<std::size_t>(call.query_int("limit", 48, 1, 500));
          req.offset = static_cast<std::size_t>(call.query_int("offset", 0, 0, 1'000'000'000));
          if (call.req.has_param("page"))
            req.offset =
                static_cast<std::size_t>(call.query_int("page", 1, 1, 10'000'000) - 1) * req.limit;
          try {
            req.sort = search::sort_order_from_string(call.query("sort"));
          } catch (const InputError& e) {
            throw HttpError(400, e.what());
          }
          req.visibility.include_flagged = call.query_bool("flagged");
          req.visibility.include_suggested = call.query_bool("suggested");
          const std::string lang = call.query("lang", "en");
          const auto res = [&] {
            const auto reading = snap->read_lock();
            return snap->engine->search(req);
          }();
          json hits = json::array();
          for (const auto& h : res.hits) {
            json j = ranked_hit(c, h);
            json matched = json::array();
            for (const auto& m : h.matched) {
              matched.push_back(
                  {{"attribute", m.attribute},
                   {"node", m.node},
                   {"state", m.state ? json(store::to_string(*m.state)) : json(nullptr)},
                   {"confidence", m.confidence}});
            }
            j["matched"] = matched;
            j["badge"] = badge_json(h);
            hits.push_back(j);
          }
          json counts = json::array();
          const std::string& root = snap->facets->folder_root();
          for (const auto& fc : res.counts) {
            // Folders are shown relative to the library's root, never as
            // server paths; the value (node) stays what a filter names.
            const bool folder = fc.attribute == search::kFolderFacet;
            counts.push_back({{"attribute", fc.attribute},
                              {"attribute_label", attribute_label(tax, fc.attribute, lang)},
                              {"node", fc.node},
                              {"label", folder ? search::relative_to_root(fc.node, root)
                                               : label_of(tax, fc.attribute, fc.node, lang)},
                              {"count", fc.count}});
          }
          json filter = json::array();
          for (const auto& cl : res.filter.all_of) {
            json any = json::array();
            for (const auto& v : cl.any_of)
              any.push_back({{"attribute", v.attribute}, {"node", v.node}});
            filter.push_back({{"any_of", any}, {"source", cl.source}});
          }
          send_json(call.res, 200,
                    {{"query",
                      {{"text", req.text},
                       {"normalised", res.query.normalised},
                       {"remainder", res.query.remainder}}},
                     {"filter", filter},
                     {"ranking", res.ranking},
                     {"sort", search::to_string(req.sort)},
                     {"total", res.total},
                     {"offset", req.offset},
                     {"limit", req.limit},
                     {"hits", hits},
                     {"counts", counts},
                     {"notes", res.notes},
                     {"hint", res.hint}});
        });

  r.add(
      "POST", "/api/v1/search/similar", "viewer", "search",
      "Find assets similar to an uploaded image (multipart field 'file'; nothing is stored); only "
      "close ones (min_similarity for embeddings, default 0.75; max_distance of the perceptual "
      "hash, default 12 of 64 bits): none gives an empty list with a 'no close match' hint",
      [&c](Call& call) {
        if (!call.req.has_file("file"))
          throw HttpError(400, "send the image as multipart/form-data field 'file'");
        const auto f = call.req.get_file_value("file");
        if (f.content.size() > c.options.max_file_bytes) {
          throw HttpError(413, fmt::format("the image is {} bytes, over the limit of {} bytes",
                                           f.content.size(), c.options.max_file_bytes));
        }
        image::DecodeLimits limits;
        limits.max_file_bytes = c.options.max_file_bytes;
        limits.max_pixels = c.options.max_pixels;  // checked on the header, before decoding
        const auto* bytes = reinterpret_cast<const std::uint8_t*>(f.content.data());
        image::DecodedImage img;
        try {
          img = image::decode({bytes, f.content.size()}, limits);
        } catch (const image::DecodeError& e) {
          throw HttpError(422, e.what());
        }
        const auto limit = static_cast<std::size_t>(call.query_int("limit", 24, 1, 200));
        // Closeness thresholds (query: min_similarity 0..1, max_distance 0..64).
        double min_similarity = kCloseSimilarity;
        if (call.req.has_param("min_similarity")) {
          try {
            min_similarity = std::stod(call.query("min_similarity"));
          } catch (const std::exception&) {
            throw HttpError(400, "min_similarity must be a number from 0 to 1");
          }
          if (!(min_similarity >= 0 && min_similarity <= 1))
            throw HttpError(400, "min_similarity must be a number from 0 to 1");
        }
        const int max_distance =
            static_cast<int>(call.query_int("max_distance", kCloseHashDistance, 0, 64));
        if (c.image_encoder) {
          // The encoder reads a file: a private temporary one inside the
          // library, removed on every path out of this handler.
          const auto tmp = c.lib.dir() / "tmp" /
                           fmt::format("similar-{}.img", std::hash<std::string>{}(f.content));
          std::filesystem::create_directories(tmp.parent_path());
          write_file_atomic(tmp, f.content);
          struct Remove {
            std::filesystem::path p;
            ~Remove() {
              std::error_code ec;
              std::filesystem::remove(p, ec);
            }
          } remove{tmp};
          search::SearchRequest req;
          req.similar_to_file = tmp;
          req.limit = limit;
          if (auto j = similar_by_vector(c, req, min_similarity)) {
            send_json(call.res, 200, *j);
            return;
          }
        }
        send_json(
            call.res, 200,
            similar_by_hash(c, image::perceptual_hash(img.rgb), std::nullopt, limit, max_distance));
      },
      "multipart");

  r.add("GET", "/api/v1/assets/{id}/similar", "viewer", "search",
        "Assets similar to this one (limit)", [&c](Call& call) {
          const auto a = c.lib.store().find_asset(call.id_param());
          if (!a) throw HttpError(404, "no such asset");
          const auto limit = static_cast<std::size_t>(call.query_int("limit", 12, 1, 200));
          search::SearchRequest req;
          req.similar_to_asset = a->id;
          req.limit = limit;
          if (auto j = similar_by_vector(c, req)) {
            send_json(call.res, 200, *j);
            return;
          }
          send_json(call.res, 200, similar_by_hash(c, a->phash, a->id, limit, 64));
        });
}

SearchView search_view(Context& c) {
  auto snap = c.search->snapshot();
  SearchView v;
  v.taxonomy = &snap->tax.taxonomy;
  v.facets = snap->facets.get();
  v.keep_alive = std::move(snap);
  return v;
}

}  // namespace tagsmith::server::detail
