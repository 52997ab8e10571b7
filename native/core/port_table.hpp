// Delivery ports: where a batch's completions go.
//
// A producer thread opens a port with a callback; each request names its port; when a batch
// finishes, the scheduler hands each port the completions of its own requests in one call. Ids are
// never reused (slot + generation), so a completion addressed to a closed port is dropped, never
// delivered to whoever opened the next port in that slot.
//
// open/close/find take a mutex: they happen once per thread and once per (batch, port). The check on
// the submit path, is_open(), is one atomic load.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <span>

#include "batch_types.hpp"

namespace infergate::sched {

// Called on the thread that completes or fails a batch. Must not throw; must copy whatever it keeps
// (the spans and outputs die when it returns).
using Deliver = std::function<void(std::span<const Completion>)>;

class PortTable {
 public:
  explicit PortTable(std::uint32_t capacity);

  // A new port id, or nullopt when all `capacity` ports are open.
  std::optional<std::uint64_t> open(Deliver deliver);
  // False when the id is not open. A delivery already running may still finish.
  bool close(std::uint64_t id);
  bool is_open(std::uint64_t id) const noexcept;
  // The callback of an open port, kept alive for the caller; null when the port is closed.
  std::shared_ptr<const Deliver> find(std::uint64_t id) const;

 private:
  static constexpr std::uint64_t kClosed = ~std::uint64_t{0};

  struct Slot {
    std::atomic<std::uint64_t> id{kClosed};
    std::shared_ptr<const Deliver> deliver;  // guarded by mu_
    std::uint64_t generation = 0;            // guarded by mu_
  };

  const std::uint32_t capacity_;
  std::unique_ptr<Slot[]> slots_;
  mutable std::mutex mu_;
};

}  // namespace infergate::sched
