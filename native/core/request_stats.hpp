// What happened to the requests a scheduler answered, as Triton's ModelStatistics and Prometheus
// want it: successes and failures with their total time from arrival to answer, time queued,
// a latency histogram, and per batch size how many batches ran and their compute time. Lock-free
// relaxed counters: written at fan-out (once per batch, a few adds per row), read on scrape.
#pragma once

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>
#include <memory>

namespace infergate::sched {

class RequestStats {
 public:
  // Upper bounds of the latency buckets, in µs; a last, implicit bucket holds everything above.
  // Fine around the milliseconds where p99 objectives sit.
  static constexpr std::array<std::uint64_t, 24> kBoundsUs = {
      50,    100,   200,   300,   400,    500,    750,    1000,   1500,    2000,    3000,    4000,
      5000,  7500,  10000, 15000, 20000,  30000,  50000,  75000,  100000,  250000,  500000,  1000000};
  static constexpr std::size_t kBuckets = kBoundsUs.size() + 1;

  explicit RequestStats(std::uint32_t max_batch_size)
      : max_batch_size_(max_batch_size),
        batch_count_(std::make_unique<std::atomic<std::uint64_t>[]>(max_batch_size + 1)),
        batch_us_(std::make_unique<std::atomic<std::uint64_t>[]>(max_batch_size + 1)) {}

  // One answered request: ok or not, and its time from arrival to answer.
  void answer(bool ok, std::uint64_t latency_us) noexcept {
    (ok ? succeeded_ : failed_).fetch_add(1, std::memory_order_relaxed);
    (ok ? succeeded_us_ : failed_us_).fetch_add(latency_us, std::memory_order_relaxed);
    const auto bucket = static_cast<std::size_t>(
        std::lower_bound(kBoundsUs.begin(), kBoundsUs.end(), latency_us) - kBoundsUs.begin());
    buckets_[bucket].fetch_add(1, std::memory_order_relaxed);
  }

  void answered_at(std::uint64_t now_us) noexcept { last_answer_us_.store(now_us, std::memory_order_relaxed); }

  // One batch that ran to completion, its rows (void ones included: they ran) and compute time.
  void batch(std::uint32_t rows, std::uint64_t compute_us) noexcept {
    const std::uint32_t size = std::min(rows, max_batch_size_);
    batch_count_[size].fetch_add(1, std::memory_order_relaxed);
    batch_us_[size].fetch_add(compute_us, std::memory_order_relaxed);
  }

  std::uint64_t succeeded() const noexcept { return succeeded_.load(std::memory_order_relaxed); }
  std::uint64_t succeeded_us() const noexcept { return succeeded_us_.load(std::memory_order_relaxed); }
  std::uint64_t failed() const noexcept { return failed_.load(std::memory_order_relaxed); }
  std::uint64_t failed_us() const noexcept { return failed_us_.load(std::memory_order_relaxed); }
  std::uint64_t last_answer_us() const noexcept { return last_answer_us_.load(std::memory_order_relaxed); }
  std::uint64_t bucket(std::size_t i) const noexcept { return buckets_[i].load(std::memory_order_relaxed); }
  std::uint32_t max_batch_size() const noexcept { return max_batch_size_; }
  std::uint64_t batches_of(std::uint32_t size) const noexcept { return batch_count_[size].load(std::memory_order_relaxed); }
  std::uint64_t batch_us_of(std::uint32_t size) const noexcept { return batch_us_[size].load(std::memory_order_relaxed); }

 private:
  std::atomic<std::uint64_t> succeeded_{0}, succeeded_us_{0}, failed_{0}, failed_us_{0}, last_answer_us_{0};
  std::array<std::atomic<std::uint64_t>, kBuckets> buckets_{};
  std::uint32_t max_batch_size_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> batch_count_;
  std::unique_ptr<std::atomic<std::uint64_t>[]> batch_us_;
};

}  // namespace infergate::sched
