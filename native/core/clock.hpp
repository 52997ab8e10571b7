// The scheduler's notion of "now", in microseconds of a monotonic clock.
//
// Injectable so that tests of timeouts and deadlines move time by hand instead of sleeping and
// asserting on how long things took.
#pragma once

#include <chrono>
#include <cstdint>

namespace infergate::sched {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual std::uint64_t now_us() const noexcept = 0;
};

// std::chrono::steady_clock. Absolute deadlines given to the scheduler are on this clock.
class SteadyClock final : public Clock {
 public:
  std::uint64_t now_us() const noexcept override {
    auto since_epoch = std::chrono::steady_clock::now().time_since_epoch();
    return static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(since_epoch).count());
  }
};

}  // namespace infergate::sched
