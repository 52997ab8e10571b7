// Queue policy: Triton's ModelQueuePolicy, kept apart from batch formation as Triton keeps it.
//
// It decides two things about a request, both from time alone: its deadline, and whether running
// late gets it rejected. Batch formation (batch_scheduler) only asks these questions.
#pragma once

#include <cstdint>
#include <limits>

namespace infergate::sched {

inline constexpr std::uint64_t kNoDeadline = std::numeric_limits<std::uint64_t>::max();

// Triton: what happens to a request whose timeout expires while it waits in the queue.
//   reject  answered with deadline_exceeded (also: refused at admission when the deadline cannot
//           be met, status deadline_unmeetable)
//   delay   kept and run. Triton would move it behind newer requests; with fixed batches that a
//           request joins on arrival there is nothing to reorder, so here "delay" means the timeout
//           never causes a rejection. The deadline still makes its batch seal early.
enum class TimeoutAction { reject, delay };

struct QueuePolicy {
  TimeoutAction timeout_action = TimeoutAction::reject;
  std::uint64_t default_timeout_microseconds = 0;  // 0: no timeout
  bool allow_timeout_override = false;             // may a request set its own timeout?
  std::uint32_t max_queue_size = 0;                // requests queued and not yet taken, per priority level; 0: unlimited

  bool rejects_late() const noexcept { return timeout_action == TimeoutAction::reject; }

  // The absolute deadline (clock µs) of a request arriving at `now`. An explicit deadline wins;
  // otherwise the request's timeout when overriding is allowed and it set one, else the default.
  // kNoDeadline when there is none.
  std::uint64_t deadline(std::uint64_t now, std::uint64_t timeout_us, std::uint64_t explicit_deadline_us) const noexcept {
    if (explicit_deadline_us != 0) return explicit_deadline_us;
    std::uint64_t timeout = (allow_timeout_override && timeout_us != 0) ? timeout_us : default_timeout_microseconds;
    if (timeout == 0) return kNoDeadline;
    return timeout >= kNoDeadline - now ? kNoDeadline - 1 : now + timeout;
  }
};

}  // namespace infergate::sched
