#include "port_table.hpp"

namespace infergate::sched {

PortTable::PortTable(std::uint32_t capacity) : capacity_(capacity), slots_(std::make_unique<Slot[]>(capacity)) {}

std::optional<std::uint64_t> PortTable::open(Deliver deliver) {
  auto fn = std::make_shared<const Deliver>(std::move(deliver));
  std::lock_guard lock(mu_);
  for (std::uint32_t i = 0; i < capacity_; ++i) {
    Slot& slot = slots_[i];
    if (slot.id.load(std::memory_order_relaxed) != kClosed) continue;
    // Ids stay below 2^53 for any realistic number of opens, so JS numbers carry them exactly.
    const std::uint64_t id = slot.generation++ * capacity_ + i;
    slot.deliver = std::move(fn);
    slot.id.store(id, std::memory_order_release);
    return id;
  }
  return std::nullopt;
}

bool PortTable::close(std::uint64_t id) {
  std::shared_ptr<const Deliver> dropped;  // destroyed outside the lock
  std::lock_guard lock(mu_);
  Slot& slot = slots_[id % capacity_];
  if (slot.id.load(std::memory_order_relaxed) != id) return false;
  slot.id.store(kClosed, std::memory_order_release);
  dropped = std::move(slot.deliver);
  return true;
}

bool PortTable::is_open(std::uint64_t id) const noexcept {
  return id != kClosed && slots_[id % capacity_].id.load(std::memory_order_acquire) == id;
}

std::shared_ptr<const Deliver> PortTable::find(std::uint64_t id) const {
  std::lock_guard lock(mu_);
  const Slot& slot = slots_[id % capacity_];
  if (slot.id.load(std::memory_order_relaxed) != id) return nullptr;
  return slot.deliver;
}

}  // namespace infergate::sched
