// A bounded multi-producer multi-consumer ring (Dmitry Vyukov's bounded MPMC queue).
//
// Every cell carries a sequence number saying whose turn it is: a producer may fill cell i when its
// sequence equals the position it claimed, a consumer may empty it when the sequence is one past.
// Producers and consumers each claim positions with one CAS on their own index, so the two sides
// share no cache line except the cell they hand over.
//
// Not lock-free in the strict sense: a producer preempted between claiming a position and publishing
// its cell makes consumers see "empty" at that cell until it resumes. Nothing is ever lost or
// corrupted, and the scheduler only keeps slab indices here, pushed by running threads.
//
// Capacity is a power of two fixed at construction; nothing allocates afterwards.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>

namespace infergate::sched {

inline constexpr std::size_t kCacheLine = 64;

template <typename T>
class MpmcRing {
  static_assert(std::is_trivially_copyable_v<T>, "cells are copied by value outside any lock");

 public:
  // Throws std::invalid_argument unless capacity is a power of two >= 2.
  explicit MpmcRing(std::size_t capacity) : mask_(capacity - 1) {
    if (capacity < 2 || (capacity & (capacity - 1)) != 0) {
      throw std::invalid_argument("MpmcRing: capacity must be a power of two >= 2");
    }
    cells_ = std::make_unique<Cell[]>(capacity);
    for (std::size_t i = 0; i < capacity; ++i) cells_[i].seq.store(i, std::memory_order_relaxed);
  }

  MpmcRing(const MpmcRing&) = delete;
  MpmcRing& operator=(const MpmcRing&) = delete;

  std::size_t capacity() const noexcept { return mask_ + 1; }

  // False when the ring is full.
  bool try_push(const T& value) noexcept {
    std::size_t pos = tail_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.seq.load(std::memory_order_acquire);
      // Modular difference read as signed: 0 = free for this lap, < 0 = still full from the last lap.
      const auto diff = static_cast<std::intptr_t>(seq - pos);
      if (diff == 0) {
        if (tail_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          cell.value = value;
          cell.seq.store(pos + 1, std::memory_order_release);  // hands the cell to consumers
          return true;
        }
      } else if (diff < 0) {
        return false;
      } else {
        pos = tail_.load(std::memory_order_relaxed);  // another producer took pos; catch up
      }
    }
  }

  // Empty optional when the ring is empty.
  std::optional<T> try_pop() noexcept {
    std::size_t pos = head_.load(std::memory_order_relaxed);
    for (;;) {
      Cell& cell = cells_[pos & mask_];
      const std::size_t seq = cell.seq.load(std::memory_order_acquire);
      const auto diff = static_cast<std::intptr_t>(seq - (pos + 1));
      if (diff == 0) {
        if (head_.compare_exchange_weak(pos, pos + 1, std::memory_order_relaxed)) {
          T value = cell.value;
          cell.seq.store(pos + mask_ + 1, std::memory_order_release);  // free for the next lap
          return value;
        }
      } else if (diff < 0) {
        return std::nullopt;
      } else {
        pos = head_.load(std::memory_order_relaxed);
      }
    }
  }

 private:
  struct Cell {
    std::atomic<std::size_t> seq{0};
    T value{};
  };

  const std::size_t mask_;
  std::unique_ptr<Cell[]> cells_;
  alignas(kCacheLine) std::atomic<std::size_t> head_{0};  // next position to pop
  alignas(kCacheLine) std::atomic<std::size_t> tail_{0};  // next position to push
};

}  // namespace infergate::sched
