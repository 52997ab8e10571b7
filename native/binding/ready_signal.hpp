// A process-wide "a batch became ready" signal. Every scheduler bumps it when it seals a batch; an
// executor thread with nothing to run blocks on it (off any event loop: executor workers only run
// batches) instead of returning to the main thread and waiting for a new task. This keeps a busy
// pool moving from batch to batch without a message round trip per batch.
#pragma once

#include <cstdint>

namespace infergate::binding {

// The current epoch; it changes every time any scheduler seals a batch.
std::uint64_t ready_epoch() noexcept;
// Called from schedulers' on_sealed hooks.
void signal_ready() noexcept;
// Blocks until the epoch differs from `seen` or `timeout_ms` passes; returns the epoch then.
std::uint64_t wait_ready(std::uint64_t seen, std::uint32_t timeout_ms) noexcept;

}  // namespace infergate::binding
