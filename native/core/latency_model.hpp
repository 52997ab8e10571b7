// What the scheduler learns from finished batches: an estimate of batch execution time, and the
// optional adaptive queue delay.
//
// Updated by whichever executor thread completes a batch, read on every submit. Plain atomic loads
// and stores: two executors finishing at once may lose one sample, which an average can afford; a
// lock or CAS loop here would cost every submit a shared cache line for nothing.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstdint>

namespace infergate::sched {

// Exponentially weighted moving average; the first sample primes it.
class Ewma {
 public:
  explicit Ewma(double alpha) : alpha_(alpha) {}

  void add(double sample) noexcept {
    double current = value_.load(std::memory_order_relaxed);
    value_.store(current < 0 ? sample : current + alpha_ * (sample - current), std::memory_order_relaxed);
  }
  bool primed() const noexcept { return value_.load(std::memory_order_relaxed) >= 0; }
  double value() const noexcept { return std::max(0.0, value_.load(std::memory_order_relaxed)); }

 private:
  const double alpha_;
  std::atomic<double> value_{-1.0};  // negative: no sample yet
};

// Adaptive queue delay, AIMD as Clipper adapts its batch size: after each batch, if the smoothed
// request latency (enqueue to completion) is above the target, the delay is cut multiplicatively
// (x0.9, Clipper's 10% back-off); otherwise it grows additively (by 1/64 of the configured maximum,
// at least 1 µs) back toward that maximum. Waiting less seals smaller batches sooner, trading
// throughput for latency exactly when latency is what is missing. Off unless configured.
class AdaptiveDelay {
 public:
  AdaptiveDelay(std::uint64_t max_delay_us, std::uint64_t target_latency_us)
      : max_delay_us_(max_delay_us),
        target_latency_us_(target_latency_us),
        step_us_(std::max<std::uint64_t>(1, max_delay_us / 64)),
        delay_us_(max_delay_us) {}

  std::uint64_t delay_us() const noexcept { return delay_us_.load(std::memory_order_relaxed); }

  void observe(double mean_latency_us) noexcept {
    latency_.add(mean_latency_us);
    std::uint64_t delay = delay_us_.load(std::memory_order_relaxed);
    if (latency_.value() > static_cast<double>(target_latency_us_)) {
      delay = delay * 9 / 10;
    } else {
      delay = std::min(max_delay_us_, delay + step_us_);
    }
    delay_us_.store(delay, std::memory_order_relaxed);
  }

 private:
  const std::uint64_t max_delay_us_;
  const std::uint64_t target_latency_us_;
  const std::uint64_t step_us_;
  std::atomic<std::uint64_t> delay_us_;
  Ewma latency_{0.2};
};

}  // namespace infergate::sched
