// Ready signals: how a sealed batch wakes an executor thread that has nothing to run. Each executor
// (a pool of worker threads) creates one; the schedulers it serves signal it when they seal a
// batch; an idle worker blocks on it (off any event loop: executor workers only run batches)
// instead of returning to the main thread and waiting for a new task. A busy pool thus moves from
// batch to batch without a message round trip per batch.
//
// A seal wakes one waiter, not all: every worker of an executor serves the same schedulers, so one
// is enough to take the batch, and waking the others would only cost them a wake-up each (on two
// cores, the herd competed with the very threads it was meant to serve).
#pragma once

#include <cstdint>

namespace infergate::sched {

inline constexpr std::uint32_t kNoReadySignal = ~std::uint32_t{0};

// A new signal's id, or kNoReadySignal when kMaxReadySignals have been created. Signals are never
// destroyed (worker threads may still wait on one while the process exits); they are small.
inline constexpr std::uint32_t kMaxReadySignals = 1u << 16;
std::uint32_t create_ready_signal() noexcept;
bool ready_signal_exists(std::uint32_t id) noexcept;

// The signal's epoch; it changes every time the signal is raised. 0 for an unknown id.
std::uint64_t ready_epoch(std::uint32_t id) noexcept;
// A batch is ready: advances the epoch and wakes one waiter, if any.
void signal_ready(std::uint32_t id) noexcept;
// Advances the epoch and wakes every waiter (to make them look at their flags: sources changed,
// another kind of task waits, shutdown).
void wake_all_ready(std::uint32_t id) noexcept;
// How many threads wait on the signal right now (for tests, which wait for a thread to stand).
std::uint32_t ready_waiters(std::uint32_t id) noexcept;
// Unless the epoch already differs from `seen`, blocks until a raise wakes this thread or
// `timeout_ms` passes. True when woken (or the epoch had moved), false on a timeout: while other
// waiters were woken, this one can sit at the bottom of the stack, idle, whatever the epoch does.
bool wait_ready(std::uint32_t id, std::uint64_t seen, std::uint32_t timeout_ms) noexcept;

}  // namespace infergate::sched
