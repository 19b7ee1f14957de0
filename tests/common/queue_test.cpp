// BoundedQueue: the back-pressure between ingest stages. A producer must wait
// while the queue is full, close() must release everyone, and with several
// producers and consumers every item must come out exactly once.
#include "tagsmith/common/queue.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

namespace tagsmith {
namespace {

using namespace std::chrono_literals;

TEST(BoundedQueue, HandsItemsOverInOrder) {
  BoundedQueue<int> q(3);
  EXPECT_TRUE(q.push(1));
  EXPECT_TRUE(q.push(2));
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.try_pop(), 2);
  EXPECT_EQ(q.try_pop(), std::nullopt);  // empty, not closed: does not block
}

TEST(BoundedQueue, PushBlocksWhileFullUntilAConsumerTakesOne) {
  BoundedQueue<int> q(2);
  ASSERT_TRUE(q.push(1));
  ASSERT_TRUE(q.push(2));
  std::atomic<bool> pushed{false};
  std::thread producer([&] {
    q.push(3);
    pushed = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(pushed) << "push returned although the queue was full";
  EXPECT_EQ(q.pop(), 1);
  producer.join();
  EXPECT_TRUE(pushed);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), 3);
}

TEST(BoundedQueue, PopBlocksWhileEmptyUntilAnItemArrives) {
  BoundedQueue<int> q(1);
  std::atomic<bool> popped{false};
  std::optional<int> got;
  std::thread consumer([&] {
    got = q.pop();
    popped = true;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_FALSE(popped);
  q.push(7);
  consumer.join();
  EXPECT_EQ(got, 7);
}

TEST(BoundedQueue, CloseDrainsWhatIsLeftThenEndsAndRefusesPushes) {
  BoundedQueue<int> q(4);
  q.push(1);
  q.push(2);
  q.close();
  EXPECT_FALSE(q.push(3));
  EXPECT_EQ(q.pop(), 1);
  EXPECT_EQ(q.pop(), 2);
  EXPECT_EQ(q.pop(), std::nullopt);  // closed and drained: does not block
}

TEST(BoundedQueue, CloseReleasesBlockedProducersAndConsumers) {
  BoundedQueue<int> full(1), empty(1);
  full.push(0);
  std::atomic<int> released{0};
  bool push_result = true;
  std::optional<int> pop_result = 42;
  std::thread producer([&] {
    push_result = full.push(1);
    ++released;
  });
  std::thread consumer([&] {
    pop_result = empty.pop();
    ++released;
  });
  std::this_thread::sleep_for(50ms);
  EXPECT_EQ(released, 0);
  full.close();
  empty.close();
  producer.join();
  consumer.join();
  EXPECT_EQ(released, 2);
  EXPECT_FALSE(push_result);
  EXPECT_EQ(pop_result, std::nullopt);
}

TEST(BoundedQueue, ManyProducersAndConsumersDeliverEveryItemExactlyOnce) {
  constexpr int kProducers = 4, kConsumers = 3, kPerProducer = 2000;
  BoundedQueue<int> q(8);  // small: producers block often
  std::vector<std::thread> producers, consumers;
  std::vector<std::vector<int>> received(kConsumers);
  for (int p = 0; p < kProducers; ++p) {
    producers.emplace_back([&q, p] {
      for (int i = 0; i < kPerProducer; ++i) ASSERT_TRUE(q.push(p * kPerProducer + i));
    });
  }
  for (int c = 0; c < kConsumers; ++c) {
    consumers.emplace_back([&q, &mine = received[c]] {
      while (auto item = q.pop()) mine.push_back(*item);
    });
  }
  for (auto& t : producers) t.join();
  q.close();
  for (auto& t : consumers) t.join();

  std::vector<int> all;
  for (const auto& r : received) {
    // Each producer's items reach any one consumer in the order pushed.
    for (int p = 0; p < kProducers; ++p) {
      std::vector<int> from_p;
      std::copy_if(r.begin(), r.end(), std::back_inserter(from_p),
                   [p](int v) { return v / kPerProducer == p; });
      EXPECT_TRUE(std::is_sorted(from_p.begin(), from_p.end()));
    }
    all.insert(all.end(), r.begin(), r.end());
  }
  std::sort(all.begin(), all.end());
  ASSERT_EQ(all.size(), static_cast<std::size_t>(kProducers * kPerProducer));
  for (int i = 0; i < kProducers * kPerProducer; ++i) ASSERT_EQ(all[i], i);
}

}  // namespace
}  // namespace tagsmith
