// The ready signal that wakes idle executor threads: a raise wakes the thread that started waiting
// last, a wake-all wakes every one, a raise before the wait is never lost, and a thread nobody woke
// says so. Threads are told apart by what they report, never by how long anything took: a test
// waits until a thread stands in the signal (ready_waiters) before it raises.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>
#include <vector>

#include "core/ready_signal.hpp"

namespace sched = infergate::sched;

namespace {

// Spins (yielding) until `id` has `count` threads waiting; false after a minute (a hang).
bool until_waiting(std::uint32_t id, std::uint32_t count) {
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::minutes(1);
  while (sched::ready_waiters(id) != count) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::yield();
  }
  return true;
}

// A thread that waits once on the signal and records whether it was woken.
class Waiter {
 public:
  Waiter(std::uint32_t id, std::uint32_t timeout_ms) {
    const std::uint64_t seen = sched::ready_epoch(id);
    thread_ = std::thread([this, id, seen, timeout_ms] {
      woken_ = sched::wait_ready(id, seen, timeout_ms);
      done_ = true;
    });
  }
  ~Waiter() { join(); }
  void join() {
    if (thread_.joinable()) thread_.join();
  }
  bool done() const { return done_.load(); }
  bool woken() const { return woken_.load(); }

 private:
  std::atomic<bool> done_{false};
  std::atomic<bool> woken_{false};
  std::thread thread_;
};

constexpr std::uint32_t kLong = 60'000;  // ms: longer than any test; a test that needs it has hung

}  // namespace

TEST(ReadySignal, ARaiseWakesTheThreadThatWaitedLast) {
  const std::uint32_t id = sched::create_ready_signal();
  ASSERT_NE(id, sched::kNoReadySignal);
  Waiter first(id, kLong);
  ASSERT_TRUE(until_waiting(id, 1));
  Waiter second(id, kLong);
  ASSERT_TRUE(until_waiting(id, 2));

  sched::signal_ready(id);
  second.join();
  EXPECT_TRUE(second.woken());
  EXPECT_FALSE(first.done());  // still waiting: one raise, one thread
  EXPECT_EQ(sched::ready_waiters(id), 1u);

  sched::signal_ready(id);
  first.join();
  EXPECT_TRUE(first.woken());
  EXPECT_EQ(sched::ready_waiters(id), 0u);
}

TEST(ReadySignal, WakeAllWakesEveryWaiter) {
  const std::uint32_t id = sched::create_ready_signal();
  std::vector<std::unique_ptr<Waiter>> waiters;
  for (std::uint32_t i = 0; i < 4; ++i) {
    waiters.push_back(std::make_unique<Waiter>(id, kLong));
    ASSERT_TRUE(until_waiting(id, i + 1));
  }
  sched::wake_all_ready(id);
  for (auto& w : waiters) {
    w->join();
    EXPECT_TRUE(w->woken());
  }
}

TEST(ReadySignal, ARaiseBeforeTheWaitIsNotLost) {
  // The executor reads the epoch, looks for a batch, then waits: a batch sealed in between must not
  // leave it asleep.
  const std::uint32_t id = sched::create_ready_signal();
  const std::uint64_t seen = sched::ready_epoch(id);
  sched::signal_ready(id);
  EXPECT_NE(sched::ready_epoch(id), seen);
  EXPECT_TRUE(sched::wait_ready(id, seen, kLong));  // returns at once
}

TEST(ReadySignal, AWaitNobodyEndsReportsATimeout) {
  const std::uint32_t id = sched::create_ready_signal();
  EXPECT_FALSE(sched::wait_ready(id, sched::ready_epoch(id), 1));
  EXPECT_EQ(sched::ready_waiters(id), 0u);  // a thread that timed out no longer stands in the signal
}

TEST(ReadySignal, UnknownIdsAreHarmless) {
  const std::uint32_t unknown = sched::kMaxReadySignals - 1;
  EXPECT_FALSE(sched::ready_signal_exists(unknown));
  EXPECT_FALSE(sched::ready_signal_exists(sched::kNoReadySignal));
  sched::signal_ready(unknown);
  sched::wake_all_ready(sched::kNoReadySignal);
  EXPECT_EQ(sched::ready_epoch(unknown), 0u);
  EXPECT_FALSE(sched::wait_ready(unknown, 0, kLong));
}
