#pragma once
// Seeding OpenCV's per-thread RNG for one call (private to src/image).
// cv::kmeans and cv::grabCut draw from cv::theRNG(), whose state depends on
// whatever ran on the thread before: without a fixed seed, the same photo
// could get a different answer on another ingest worker.
#include <cstdint>
#include <opencv2/core.hpp>

namespace tagsmith::image {

// Seeds the calling thread's OpenCV RNG and restores it on exit.
class RngScope {
 public:
  explicit RngScope(unsigned seed) : saved_(cv::theRNG().state) {
    cv::theRNG() = cv::RNG(seed);  // cv::RNG maps 0 to a valid non-zero state
  }
  ~RngScope() { cv::theRNG().state = saved_; }
  RngScope(const RngScope&) = delete;
  RngScope& operator=(const RngScope&) = delete;

 private:
  std::uint64_t saved_;
};

}  // namespace tagsmith::image
