#include "ready_signal.hpp"

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace infergate::binding {

namespace {

struct Signal {
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<std::uint32_t> waiters{0};
  std::mutex mu;
  std::condition_variable cv;
};

// Never destroyed: worker threads may still wait on it while the process exits.
Signal& signal() {
  static Signal* s = new Signal();
  return *s;
}

}  // namespace

std::uint64_t ready_epoch() noexcept { return signal().epoch.load(std::memory_order_seq_cst); }

void signal_ready() noexcept {
  Signal& s = signal();
  s.epoch.fetch_add(1, std::memory_order_seq_cst);
  // The common case under load has nobody waiting: no lock, no syscall. Sequentially consistent on
  // both sides (epoch then waiters here, waiters then epoch in wait_ready), so a waiter either sees
  // the new epoch or is seen here: no lost wake-up.
  if (s.waiters.load(std::memory_order_seq_cst) == 0) return;
  { std::lock_guard lock(s.mu); }
  s.cv.notify_all();
}

std::uint64_t wait_ready(std::uint64_t seen, std::uint32_t timeout_ms) noexcept {
  Signal& s = signal();
  std::unique_lock lock(s.mu);
  s.waiters.fetch_add(1, std::memory_order_seq_cst);
  s.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                [&] { return s.epoch.load(std::memory_order_seq_cst) != seen; });
  s.waiters.fetch_sub(1, std::memory_order_seq_cst);
  return s.epoch.load(std::memory_order_seq_cst);
}

}  // namespace infergate::binding
