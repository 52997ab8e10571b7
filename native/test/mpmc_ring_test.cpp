// MpmcRing: capacity rules, FIFO order, full/empty, and many producers and consumers handing over
// every item exactly once.
#include <gtest/gtest.h>

#include <atomic>
#include <cstdint>
#include <thread>
#include <vector>

#include "core/mpmc_ring.hpp"

using infergate::sched::MpmcRing;

TEST(MpmcRing, CapacityMustBeAPowerOfTwo) {
  EXPECT_THROW(MpmcRing<int>(0), std::invalid_argument);
  EXPECT_THROW(MpmcRing<int>(1), std::invalid_argument);
  EXPECT_THROW(MpmcRing<int>(6), std::invalid_argument);
  EXPECT_EQ(MpmcRing<int>(8).capacity(), 8u);
}

TEST(MpmcRing, FifoUntilFullThenEmpty) {
  MpmcRing<int> ring(4);
  EXPECT_FALSE(ring.try_pop().has_value());
  for (int lap = 0; lap < 3; ++lap) {  // wrap around several times
    for (int i = 0; i < 4; ++i) EXPECT_TRUE(ring.try_push(lap * 10 + i));
    EXPECT_FALSE(ring.try_push(99)) << "a full ring refuses";
    for (int i = 0; i < 4; ++i) EXPECT_EQ(ring.try_pop(), lap * 10 + i);
    EXPECT_FALSE(ring.try_pop().has_value());
  }
}

TEST(MpmcRing, ManyProducersManyConsumersEachItemExactlyOnce) {
  constexpr int kProducers = 4, kConsumers = 3;
  constexpr std::uint32_t kPerProducer = 50000;
  MpmcRing<std::uint64_t> ring(64);  // small, so it is often full and often empty
  std::vector<std::atomic<std::uint32_t>> seen(kProducers * std::size_t{kPerProducer});
  std::atomic<std::uint64_t> consumed{0};
  constexpr std::uint64_t kTotal = std::uint64_t{kProducers} * kPerProducer;

  std::vector<std::thread> threads;
  for (int p = 0; p < kProducers; ++p) {
    threads.emplace_back([&ring, p] {
      for (std::uint32_t i = 0; i < kPerProducer; ++i) {
        const std::uint64_t item = std::uint64_t(p) << 32 | i;
        while (!ring.try_push(item)) std::this_thread::yield();
      }
    });
  }
  std::atomic<bool> order_ok{true};
  for (int c = 0; c < kConsumers; ++c) {
    threads.emplace_back([&, c] {
      std::vector<std::int64_t> previous(kProducers, -1);
      while (consumed.load() < kTotal) {
        if (auto item = ring.try_pop()) {
          const auto p = static_cast<std::size_t>(*item >> 32);
          const auto i = static_cast<std::uint32_t>(*item & 0xffffffffu);
          seen[p * kPerProducer + i].fetch_add(1);
          // One producer's items reach any one consumer in the order they were pushed.
          if (static_cast<std::int64_t>(i) <= previous[p]) order_ok = false;
          previous[p] = static_cast<std::int64_t>(i);
          consumed.fetch_add(1);
        } else {
          std::this_thread::yield();
        }
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_TRUE(order_ok.load());
  EXPECT_FALSE(ring.try_pop().has_value());
  std::size_t wrong = 0;
  for (auto& count : seen) wrong += count.load() != 1;
  EXPECT_EQ(wrong, 0u) << "items not seen exactly once";
}
