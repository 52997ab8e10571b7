#include "ready_signal.hpp"

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <new>
#include <vector>

namespace infergate::sched {

namespace {

// Waiters stand in a stack, each on its own condition variable, and a seal wakes the one that
// started waiting last: the worker that ran most recently, whose caches still hold the model. With
// one condition variable the wake-ups rotated through the pool, so every batch ran on a cold core
// (a batch of 12 rows: ~60 us back to back, ~180 us after a millisecond idle).
struct Waiter {
  std::condition_variable cv;
  bool woken = false;  // guarded by Signal::mu
};

struct Signal {
  std::atomic<std::uint64_t> epoch{0};
  std::atomic<std::uint32_t> waiters{0};
  std::mutex mu;
  std::vector<Waiter*> stack;  // guarded by mu; the last one waited last
};

// Never destroyed: worker threads may still wait on a signal while the process exits. Slots are
// filled in order and never emptied, so a published pointer stays valid for good.
struct Table {
  std::atomic<std::uint32_t> created{0};
  std::array<std::atomic<Signal*>, kMaxReadySignals> slots{};
};

Table& table() {
  static Table* t = new Table();
  return *t;
}

Signal* find(std::uint32_t id) noexcept {
  if (id >= kMaxReadySignals) return nullptr;
  return table().slots[id].load(std::memory_order_acquire);
}

}  // namespace

std::uint32_t create_ready_signal() noexcept {
  Table& t = table();
  const std::uint32_t id = t.created.fetch_add(1, std::memory_order_relaxed);
  if (id >= kMaxReadySignals) return kNoReadySignal;
  Signal* s = new (std::nothrow) Signal();
  if (s == nullptr) return kNoReadySignal;
  t.slots[id].store(s, std::memory_order_release);
  return id;
}

bool ready_signal_exists(std::uint32_t id) noexcept { return find(id) != nullptr; }

std::uint64_t ready_epoch(std::uint32_t id) noexcept {
  Signal* s = find(id);
  return s ? s->epoch.load(std::memory_order_seq_cst) : 0;
}

std::uint32_t ready_waiters(std::uint32_t id) noexcept {
  Signal* s = find(id);
  if (s == nullptr) return 0;
  std::lock_guard lock(s->mu);
  return static_cast<std::uint32_t>(s->stack.size());
}

namespace {

// Sequentially consistent on both sides (epoch then waiters here, waiters then epoch in
// wait_ready), so a waiter either sees the new epoch or is seen here: no lost wake-up. The common
// case under load has nobody waiting: no lock, no syscall.
template <bool kAll>
void raise(std::uint32_t id) noexcept {
  Signal* s = find(id);
  if (s == nullptr) return;
  s->epoch.fetch_add(1, std::memory_order_seq_cst);
  if (s->waiters.load(std::memory_order_seq_cst) == 0) return;
  std::lock_guard lock(s->mu);
  do {
    if (s->stack.empty()) return;  // counted, not yet standing: it will see the new epoch
    Waiter* w = s->stack.back();
    s->stack.pop_back();
    w->woken = true;
    w->cv.notify_one();
  } while (kAll);
}

}  // namespace

void signal_ready(std::uint32_t id) noexcept { raise<false>(id); }
void wake_all_ready(std::uint32_t id) noexcept { raise<true>(id); }

bool wait_ready(std::uint32_t id, std::uint64_t seen, std::uint32_t timeout_ms) noexcept {
  Signal* s = find(id);
  if (s == nullptr) return false;
  thread_local Waiter self;
  bool woken = true;
  try {
    std::unique_lock lock(s->mu);
    s->waiters.fetch_add(1, std::memory_order_seq_cst);
    if (s->epoch.load(std::memory_order_seq_cst) == seen) {
      try {
        self.woken = false;
        s->stack.push_back(&self);
        self.cv.wait_for(lock, std::chrono::milliseconds(timeout_ms), [&] { return self.woken; });
      } catch (...) {  // no memory for the stack: return at once, as after a timeout
      }
      // Timed out: step out of the stack, so that no seal is spent on a thread no longer waiting.
      woken = self.woken;
      if (!woken) std::erase(s->stack, &self);
    }
    s->waiters.fetch_sub(1, std::memory_order_seq_cst);
  } catch (...) {  // the mutex failed: return at once, as after a timeout
    woken = false;
  }
  return woken;
}

}  // namespace infergate::sched
