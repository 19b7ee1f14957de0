#pragma once
// What the HTTP review routes need of a review queue, and nothing more.
//
// The review queue library (include/tagsmith/review/) will own prioritising
// and assigning work; until it lands, StoreReviewQueue derives the queue from
// the tags themselves: every tag a model applied with doubt (flagged) or only
// suggested is waiting for a person. Decisions go through the TagService, so
// a confirmed/rejected/corrected tag leaves the queue by itself.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "tagsmith/library/library.h"

namespace tagsmith::tagging {
class TagService;
}

namespace tagsmith::server {

struct ReviewAlternative {
  std::string node;
  std::string state;
  double confidence = 0;
};

struct ReviewItem {
  store::AssetId asset_id = 0;
  std::string attribute;
  std::string node;   // the proposed value
  std::string state;  // "flagged" | "suggested"
  double confidence = 0;
  std::string actor;
  std::string model_version;
  std::string evidence_json = "{}";
  std::vector<ReviewAlternative> alternatives;  // other proposals on the same attribute
  std::string reason;  // one line from the queue; "" lets the server explain it
};

struct ReviewFilter {
  std::string attribute;  // "" = any
  std::size_t limit = 20;
  std::size_t offset = 0;
};

struct ReviewCounts {
  std::int64_t flagged = 0;
  std::int64_t suggested = 0;
  std::int64_t pending() const { return flagged + suggested; }
};

class ReviewQueue {
 public:
  virtual ~ReviewQueue() = default;
  // Items in review order. Safe to call from several threads.
  virtual std::vector<ReviewItem> next(const ReviewFilter& filter) = 0;
  virtual ReviewCounts counts() = 0;
};

// Queue order: flagged before suggested (flagged tags are already applied,
// so a wrong one is visible in search), then most confident first (quick
// confirmations clear the queue fastest), then asset id.
// The review library's queue (include/tagsmith/review/queue.h) behind this
// interface, when it is built: lowest confidence first, audit samples
// included. `tagger_mutex` guards the TagService it shares with the server.
// Null when tagsmith was built without the review module.
std::unique_ptr<ReviewQueue> make_library_review_queue(library::Library& lib,
                                                       tagging::TagService& tagger,
                                                       std::mutex& tagger_mutex);

class StoreReviewQueue final : public ReviewQueue {
 public:
  explicit StoreReviewQueue(store::Store& db) : db_(db) {}
  std::vector<ReviewItem> next(const ReviewFilter& filter) override;
  ReviewCounts counts() override;

 private:
  store::Store& db_;
};

}  // namespace tagsmith::server
