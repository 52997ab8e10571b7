// A slab: the preallocated memory of one batch, and the atomics that let many producers fill it at
// once without a lock.
//
// Claim word (`state`), one 64-bit atomic so that claiming a row and sealing are totally ordered:
//   bits  0..31  claims: every claim attempt adds 1 (fetch_add), so attempts that arrive after the
//                batch is full or sealed push it past the row count; they fail and count for nothing
//   bits 32..62  rows:   the number of rows, fixed by whoever seals (CAS), min(claims, max_batch_size)
//   bit  63      sealed
// `pending` decides who hands the sealed batch on, without a flag and without reading `state` again
// (by then the slab may already be recycled): it starts at kUnsealedBias; every row's writer
// subtracts 1 when its row is written, the sealer adds rows - kUnsealedBias. It reaches 0 exactly once,
// when the batch is sealed and every claimed row written, and the party whose operation took it to
// 0 pushes the batch to the ready ring.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "batch_types.hpp"
#include "mpmc_ring.hpp"
#include "shm_region.hpp"

namespace infergate::sched {

inline constexpr std::uint64_t kSealedBit = std::uint64_t{1} << 63;
inline constexpr std::uint64_t kClaimMask = 0xffffffffu;
inline constexpr std::uint64_t kUnsealedBias = std::uint64_t{1} << 40;

inline std::uint32_t claims_of(std::uint64_t state) noexcept { return static_cast<std::uint32_t>(state & kClaimMask); }
inline std::uint32_t rows_of(std::uint64_t state) noexcept {
  return static_cast<std::uint32_t>((state >> 32) & 0x7fffffffu);
}
inline bool is_sealed(std::uint64_t state) noexcept { return (state & kSealedBit) != 0; }

// Per-row metadata, written by the row's producer before it publishes the row. A cache line each:
// neighbouring rows are written by different producer threads at the same moment.
struct alignas(kCacheLine) RowMeta {
  std::uint64_t ticket;
  std::uint64_t port;
  std::uint64_t enqueue_us;
  std::uint64_t deadline_us;  // kNoDeadline when none
  std::uint64_t tag;          // Request::tag
  std::int32_t status;        // a Status, or kVoidRow
};

// A row claimed by a producer that had read a stale open-batch index and found the slab reopened for
// another priority level: it cannot give the row back, so it fills it with zeros and marks it void.
// Void rows are run (the executor sees a fixed batch) but answered to nobody.
inline constexpr std::int32_t kVoidRow = -1;

enum class SlabPhase : std::uint32_t { free, open, ready, taken };

struct alignas(kCacheLine) Slab {
  // Producer side: claimed and published concurrently.
  std::atomic<std::uint64_t> state{kSealedBit};  // free slabs read as sealed, so a stray claim fails
  std::atomic<std::uint64_t> pending{0};
  std::atomic<std::uint64_t> earliest_deadline_us{0};
  std::atomic<std::uint32_t> void_rows{0};
  std::atomic<bool> has_deadline{false};

  // Set by the installer before the slab becomes claimable; read by the timer and by claimers that
  // might hold a stale index, hence atomic.
  std::atomic<std::uint32_t> level{0};     // priority level index, 0 = highest
  std::atomic<std::uint64_t> sequence{0};  // install sequence: tickets and batch ids derive from it
  std::atomic<std::uint64_t> opened_us{0};
  std::atomic<bool> opened_sparse{false};  // see SchedulerConfig::sparse_seal_gap_us
  std::atomic<SlabPhase> phase{SlabPhase::free};

  // Executor side: the batch id while taken, else kNotTaken. complete()/fail() win it with a CAS, so
  // a batch is finished once, and a stale id never touches the slab's next batch.
  std::atomic<std::uint64_t> taken_id{~std::uint64_t{0}};

  // Written by the party that pushes the batch (rows) or takes it (taken_us, live); read by whoever
  // holds the batch afterwards. Ordered by the ready ring and taken_id.
  std::uint32_t rows = 0;
  std::uint32_t live = 0;  // rows that are neither void nor rejected at take
  std::uint64_t taken_us = 0;
  std::uint64_t live_deadline_us = 0;  // earliest deadline of the live rows at take (kNoDeadline: none)
  std::string message;  // fail()'s message during fan-out
};

inline constexpr std::uint64_t kNotTaken = ~std::uint64_t{0};

// The memory of all slabs, allocated once: per slab, max_batch_size input rows and output rows
// (each slab's block 64-byte aligned), row metadata and a scratch array for fan-out.
//
// The input and output blocks live on the process heap, or, with `shared_memory`, in one POSIX
// shared-memory region (shm_region.hpp) that another process on the host (Triton) can map: every
// input block first, slab by slab, then every output block, each at a 64-byte multiple offset.
// Row metadata and scratch stay on the heap either way: only tensors cross the process boundary.
class SlabArena {
 public:
  // Throws shm::ShmError when the shared-memory region cannot be created. `shared_memory_tag` goes
  // into the region's key (shm::make_region_key).
  SlabArena(std::uint32_t slab_count, std::uint32_t max_batch_size, std::uint32_t input_width,
            std::uint32_t output_width, bool shared_memory = false, std::string_view shared_memory_tag = {});

  std::uint32_t size() const noexcept { return slab_count_; }
  Slab& slab(std::uint32_t i) noexcept { return slabs_[i]; }
  const Slab& slab(std::uint32_t i) const noexcept { return slabs_[i]; }
  float* input(std::uint32_t i) noexcept { return input_base_ + std::size_t{i} * input_stride_; }
  float* output(std::uint32_t i) noexcept { return output_base_ + std::size_t{i} * output_stride_; }
  RowMeta* meta(std::uint32_t i) noexcept { return meta_.get() + std::size_t{i} * max_batch_size_; }
  Completion* scratch(std::uint32_t i) noexcept { return scratch_.get() + std::size_t{i} * max_batch_size_; }

  // The region holding the blocks, or nullptr when they are on the heap.
  shm::ShmRegion* region() noexcept { return region_ ? &*region_ : nullptr; }
  const shm::ShmRegion* region() const noexcept { return region_ ? &*region_ : nullptr; }
  // Byte offsets of slab i's input and output blocks within region(); meaningful only with one.
  std::size_t input_offset(std::uint32_t i) const noexcept { return std::size_t{i} * input_stride_ * sizeof(float); }
  std::size_t output_offset(std::uint32_t i) const noexcept {
    return (std::size_t{slab_count_} * input_stride_ + std::size_t{i} * output_stride_) * sizeof(float);
  }

 private:
  struct AlignedDelete {
    void operator()(float* p) const noexcept;
  };

  std::uint32_t slab_count_;
  std::uint32_t max_batch_size_;
  std::size_t input_stride_;   // floats per slab, rounded up to whole cache lines
  std::size_t output_stride_;
  std::unique_ptr<Slab[]> slabs_;
  // Exactly one of the heap blocks or the region owns the tensor memory; the bases point into it.
  std::unique_ptr<float[], AlignedDelete> inputs_;
  std::unique_ptr<float[], AlignedDelete> outputs_;
  std::optional<shm::ShmRegion> region_;
  float* input_base_ = nullptr;
  float* output_base_ = nullptr;
  std::unique_ptr<RowMeta[]> meta_;
  std::unique_ptr<Completion[]> scratch_;
};

}  // namespace infergate::sched
