#include "tagsmith/server/review_queue.h"

#include <algorithm>
#include <map>
#include <tuple>

#if TAGSMITH_HAVE_REVIEW
#include "tagsmith/review/queue.h"
#endif

namespace tagsmith::server {

std::vector<ReviewItem> StoreReviewQueue::next(const ReviewFilter& filter) {
  // One scan of the tags; alternatives are the other live proposals on the
  // same (asset, attribute). A full scan is fine at review-queue sizes until
  // the review library provides an indexed queue.
  std::vector<store::Tag> pending;
  std::map<std::pair<store::AssetId, std::string>, std::vector<store::Tag>> by_attribute;
  db_.for_each_tag([&](const store::Tag& t) {
    if (!filter.attribute.empty() && t.attribute != filter.attribute) return;
    if (t.state == store::TagState::kRejected) return;
    by_attribute[{t.asset_id, t.attribute}].push_back(t);
    if (t.state == store::TagState::kFlagged || t.state == store::TagState::kSuggested)
      pending.push_back(t);
  });
  std::sort(pending.begin(), pending.end(), [](const store::Tag& a, const store::Tag& b) {
    const bool fa = a.state == store::TagState::kFlagged, fb = b.state == store::TagState::kFlagged;
    return std::make_tuple(!fa, -a.confidence, a.asset_id, a.attribute, a.node) <
           std::make_tuple(!fb, -b.confidence, b.asset_id, b.attribute, b.node);
  });
  std::vector<ReviewItem> out;
  for (std::size_t i = filter.offset; i < pending.size() && out.size() < filter.limit; ++i) {
    const store::Tag& t = pending[i];
    ReviewItem item;
    item.asset_id = t.asset_id;
    item.attribute = t.attribute;
    item.node = t.node;
    item.state = store::to_string(t.state);
    item.confidence = t.confidence;
    item.actor = t.actor;
    item.model_version = t.model_version;
    item.evidence_json = t.evidence_json;
    for (const store::Tag& o : by_attribute[{t.asset_id, t.attribute}]) {
      if (o.node == t.node) continue;
      item.alternatives.push_back({o.node, store::to_string(o.state), o.confidence});
    }
    std::sort(item.alternatives.begin(), item.alternatives.end(),
              [](const ReviewAlternative& a, const ReviewAlternative& b) {
                return a.confidence > b.confidence;
              });
    out.push_back(std::move(item));
  }
  return out;
}

ReviewCounts StoreReviewQueue::counts() {
  const auto s = db_.stats();
  return {s.tags_flagged, s.tags_suggested};
}

#if TAGSMITH_HAVE_REVIEW
namespace {

class LibraryReviewQueue final : public ReviewQueue {
 public:
  LibraryReviewQueue(library::Library& lib, tagging::TagService& tagger, std::mutex& mu)
      : queue_(lib, tagger), mu_(mu) {}

  std::vector<ReviewItem> next(const ReviewFilter& filter) override {
    review::ReviewFilter f;
    if (!filter.attribute.empty()) f.attributes = {filter.attribute};
    std::vector<review::ReviewItem> items;
    {
      std::lock_guard lock(mu_);
      items = queue_.items(f, review::Order::kLowestConfidence, filter.limit, filter.offset);
    }
    std::vector<ReviewItem> out;
    for (const auto& i : items) {
      ReviewItem r;
      r.asset_id = i.tag.asset_id;
      r.attribute = i.tag.attribute;
      r.node = i.tag.node;
      r.state = i.audit ? "audit" : store::to_string(i.tag.state);
      r.confidence = i.tag.confidence;
      r.actor = i.tag.actor;
      r.model_version = i.tag.model_version;
      r.evidence_json = i.tag.evidence_json;
      r.reason = i.reason;
      for (const auto& a : i.alternatives) r.alternatives.push_back({a.node, "candidate", a.score});
      out.push_back(std::move(r));
    }
    return out;
  }

  ReviewCounts counts() override {
    review::ReviewFilter flagged, suggested;
    flagged.include_suggested = false;
    suggested.include_flagged = false;
    flagged.include_audit = suggested.include_audit = false;
    std::lock_guard lock(mu_);
    return {static_cast<std::int64_t>(queue_.count(flagged)),
            static_cast<std::int64_t>(queue_.count(suggested))};
  }

 private:
  review::ReviewQueue queue_;
  std::mutex& mu_;
};

}  // namespace

std::unique_ptr<ReviewQueue> make_library_review_queue(library::Library& lib,
                                                       tagging::TagService& tagger,
                                                       std::mutex& tagger_mutex) {
  return std::make_unique<LibraryReviewQueue>(lib, tagger, tagger_mutex);
}
#else
std::unique_ptr<ReviewQueue> make_library_review_queue(library::Library&, tagging::TagService&,
                                                       std::mutex&) {
  return nullptr;
}
#endif

}  // namespace tagsmith::server
