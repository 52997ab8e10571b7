// The dynamic batch scheduler of one model version: Triton's dynamic batcher, lock-free on the
// request path.
//
// Producers (any thread) submit one row at a time. Each claims a row of the open batch of its
// priority level with one fetch_add, preprocesses or copies its row straight into the batch's
// memory, and publishes it. A batch is sealed when it reaches its size, when its oldest request has
// waited max_queue_delay_microseconds (the timer thread), or sooner when a request's deadline needs
// it; sealed batches wait in a ready ring per priority level. An executor take()s the
// highest-priority sealed batch, runs the model over its input rows in place, writes the output
// rows, and complete()s it: each producer's port then receives its requests' results, one call per
// batch. Memory is a fixed set of slabs; nothing allocates per request.
//
// Sealing rules, precisely:
//   - size: the claim that brings a batch to the largest preferred_batch_size (max_batch_size when
//     there is none) seals it. Rows claimed concurrently up to max_batch_size still belong to it.
//   - preferred: once the oldest request has waited a quarter of the queue delay, a batch with at
//     least the smallest preferred size is sealed at the timer's next look. Rows are committed as
//     they arrive, so a batch is never cut back to a preferred size: it is sealed with what it has.
//   - delay: the oldest request has waited the queue delay (the adaptive delay when configured).
//   - deadline: now >= earliest deadline in the batch - estimated execution time.
// Admission: a request is refused, without claiming anything, when its level already has
// max_queue_size requests queued and not taken (counted per batch, so concurrent producers may
// overshoot by one each), when no slab is free (queue_full), when the policy
// rejects late requests and now + estimated execution time is past its deadline
// (deadline_unmeetable; the open batch's remaining wait is not added, because the deadline rule
// seals that batch early enough), or after close().
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "batch_slab.hpp"
#include "batch_types.hpp"
#include "clock.hpp"
#include "request_stats.hpp"
#include "latency_model.hpp"
#include "mpmc_ring.hpp"
#include "port_table.hpp"
#include "preprocess_plan.hpp"
#include "queue_policy.hpp"
#include "shm_region.hpp"

namespace infergate::sched {

// A configuration the scheduler cannot run with. The message names the field (Triton's name).
class ConfigError : public std::invalid_argument {
 public:
  using std::invalid_argument::invalid_argument;
};

struct SchedulerConfig {
  std::uint32_t max_batch_size = 0;                // rows per batch, >= 1
  std::uint64_t max_queue_delay_microseconds = 0;  // how long the oldest request may wait for company
  std::vector<std::uint32_t> preferred_batch_size;  // each in 1..max_batch_size; may be empty
  std::uint32_t priority_levels = 1;               // >= 1; level 1 is the highest (Triton)
  std::uint32_t default_priority_level = 1;        // 1..priority_levels
  QueuePolicy default_queue_policy;

  std::uint32_t input_width = 0;   // float32 per input row, >= 1 (must equal plan->width() with a plan)
  std::uint32_t output_width = 0;  // float32 per output row, >= 1
  std::uint32_t slab_count = 0;    // batches in memory at once (open, ready and running), >= 2

  // Place every slab's input and output block in one POSIX shared-memory region (SlabArena), so
  // that a co-located Triton can read inputs and write outputs in place (its system shared memory
  // extension). shared_memory_tag goes into the region's key (e.g. the model version's name).
  bool shared_memory = false;
  std::string shared_memory_tag;

  // With a plan, submit_raw() takes encoded records (float64 x plan->field_count()) and preprocesses
  // each into its slot; without one, submit() copies input_width floats.
  std::shared_ptr<const preprocess::Plan> plan;

  std::optional<std::uint64_t> adaptive_target_latency_microseconds;  // enables AdaptiveDelay

  // Beyond Triton, off unless > 0. A batch opened more than this long after the previous batch of its
  // priority level opened is sealed as its first request claims its row: in a stream that sparse no
  // company comes within the queue delay, and waiting for it would only add the delay and a hop
  // through the timer thread to every request. Batches opened closer together wait as configured.
  std::uint64_t sparse_seal_gap_us = 0;

  std::uint32_t max_ports = 1024;        // ports open at once
  std::shared_ptr<const Clock> clock;    // null: SteadyClock
  bool timer_thread = true;              // false: nothing seals on time unless tick() is called
  // In a dense stream (a batch opened within this many queue delays of the last one), the timer,
  // after a seal, looks again every queue delay up to this many times before it sleeps until a
  // producer wakes it. While it looks, a producer that opens a batch finds it due to look in time
  // and wakes nobody: a steady stream costs its producers no cross-thread wake-up per batch, and a
  // sparse one costs the timer no idle looks. 0: never linger (every batch's first request wakes it).
  std::uint32_t timer_linger_looks = 4;
  // Called (on whichever thread sealed it: a producer, the timer, close()) each time a batch becomes
  // ready to take. Must be cheap and must not throw; must not call close().
  std::function<void()> on_sealed;
};

// One request's admission parameters.
struct Request {
  std::uint64_t port = 0;
  std::uint32_t priority = 0;        // 0: default_priority_level; else 1..priority_levels
  std::uint64_t timeout_us = 0;      // 0: the policy's default; honoured only with allow_timeout_override
  std::uint64_t deadline_us = 0;     // absolute, on the scheduler's clock; 0: derive from the timeout
  // The caller's own value, returned in the request's Completion. Lets a producer find its waiting
  // request by an index of its choosing (a slot in a table) instead of looking the ticket up.
  std::uint64_t tag = 0;
};

// A taken batch, owned by the executor until complete() or fail().
struct BatchView {
  std::uint64_t id;
  std::uint32_t rows;  // all of them run, including any void or already-rejected rows
  float* input;        // rows x input_width, 64-byte aligned
  float* output;       // rows x output_width, 64-byte aligned; the executor writes every row
  std::uint32_t level;       // priority level index, 0 = the highest (Triton's priority 1)
  std::uint64_t deadline_us; // the earliest deadline of the rows still live at take; kNoDeadline: none
};

// Where a taken batch's blocks sit within the scheduler's shared-memory region, in bytes from its
// start (multiples of 64).
struct SharedMemoryOffsets {
  std::size_t input;
  std::size_t output;
};

struct SchedulerStats {
  std::uint64_t submitted = 0;  // accepted + every rejection
  std::uint64_t accepted = 0;
  std::uint64_t rejected_queue_full = 0;
  std::uint64_t rejected_deadline_unmeetable = 0;
  std::uint64_t rejected_closed = 0;
  std::uint64_t rejected_invalid = 0;
  std::uint64_t deadline_exceeded = 0;  // accepted, then timed out in the queue (policy reject)
  std::uint64_t failed_rows = 0;        // answered by fail() or close()
  std::uint64_t batches_executed = 0;   // complete()d
  std::uint64_t rows_executed = 0;
  std::uint64_t queue_time_us_sum = 0;  // enqueue -> take, over delivered rows
  std::uint64_t exec_time_us_sum = 0;   // take -> complete, over complete()d batches
  std::uint64_t queue_depth = 0;        // accepted, not yet taken
  std::uint64_t ready_batches = 0;      // sealed, not yet taken
  std::uint64_t completions_dropped = 0;  // addressed to a port closed meanwhile
  std::uint64_t void_rows = 0;
  double estimated_exec_us = 0;
  std::uint64_t queue_delay_us = 0;  // current (adaptive) queue delay
  std::uint64_t timer_wakeups = 0;   // times a producer had to wake the timer thread
};

class Scheduler {
 public:
  // Throws ConfigError; shm::ShmError when config.shared_memory is set and the region cannot be
  // created. Starts the timer thread unless config.timer_thread is false.
  explicit Scheduler(SchedulerConfig config);
  ~Scheduler();  // close()s
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  const SchedulerConfig& config() const noexcept { return config_; }
  // Per-request outcomes and per-batch-size compute times (ModelStatistics, metrics).
  const RequestStats& request_stats() const noexcept { return request_stats_; }
  // Now on the scheduler's clock (the one deadlines are on).
  std::uint64_t now_us() const noexcept { return clock_->now_us(); }

  // Ports. open_port() returns nullopt when max_ports are open.
  std::optional<std::uint64_t> open_port(Deliver deliver) { return ports_.open(std::move(deliver)); }
  bool close_port(std::uint64_t port) { return ports_.close(port); }

  // Producer side, any thread. submit() takes an already-preprocessed row (input_width floats: the
  // tensor API, or a scheduler without a plan); submit_raw() a raw record (plan->field_count()
  // doubles) that the plan preprocesses into the row, and needs a plan (else invalid_argument).
  // Both kinds share batches. The row is read before the call returns.
  SubmitResult submit(const float* row, const Request& request) noexcept;
  SubmitResult submit_raw(const double* raw, const Request& request) noexcept;

  // Executor side, any thread. take() returns the oldest sealed batch of the highest priority level
  // that has one. Batches whose every request timed out are answered and recycled by take() itself.
  std::optional<BatchView> take() noexcept;
  // The taken batch with this id, or nullopt when `id` is not a taken batch.
  std::optional<BatchView> batch(std::uint64_t id) noexcept;
  // The region holding every batch's input and output, or nullptr without config.shared_memory.
  // Its name is removed by close(); the mapping lives as long as the scheduler.
  const shm::ShmRegion* shared_memory() const noexcept { return arena_.region(); }
  // The byte offsets of a taken batch's input and output blocks within shared_memory(); nullopt
  // when there is no region or `id` is not a taken batch.
  std::optional<SharedMemoryOffsets> shared_memory_offsets(std::uint64_t id) const noexcept;
  // Which slab (0..slab_count-1) holds batch `id`. A slab's memory never moves, so a caller may keep
  // views of it across batches.
  std::uint32_t slab_of(std::uint64_t id) const noexcept { return static_cast<std::uint32_t>(id % config_.slab_count); }
  // Delivers the output rows, then recycles the slab. False when `id` is not a taken batch.
  bool complete(std::uint64_t id) noexcept;
  // Answers every request of the batch with `status` (internal if ok is passed) and `message`.
  bool fail(std::uint64_t id, Status status, std::string_view message) noexcept;

  // Seals the batches that are due now and returns when the next one will be (kNever: none open).
  // The timer thread's loop body; tests with a manual clock call it themselves.
  static constexpr std::uint64_t kNever = ~std::uint64_t{0};
  std::uint64_t tick() noexcept;
  // Seals every open batch now, whatever its age.
  void flush() noexcept;

  // Refuses every later submit (closed), and changes nothing else: the timer still seals, batches
  // are still taken and answered. A retiring version first stops admission, waits until everything
  // it accepted (from any thread) is answered, then closes, so that closing fails no request.
  void stop_admission() noexcept { admission_stopped_.store(true, std::memory_order_seq_cst); }

  // Stops the timer, seals what is open and answers every request not yet taken with unavailable.
  // Later submits are rejected (closed). Batches already taken can still be completed. Idempotent.
  // Also removes the shared-memory region's name, so that nothing new can open it; mappings already
  // made (this process's, Triton's) stay valid.
  void close() noexcept;
  bool closed() const noexcept { return closed_.load(std::memory_order_acquire); }

  double estimated_exec_us() const noexcept { return exec_estimate_.value(); }
  SchedulerStats stats() const noexcept;

 private:
  struct Level;
  enum class Install { retry, no_slab, closed };

  template <typename WriteRow>
  SubmitResult submit_impl(const Request& request, WriteRow&& write_row) noexcept;
  SubmitResult reject(Rejection why) noexcept;
  Install install(std::uint32_t level, std::uint32_t expected, std::uint64_t now) noexcept;
  void write_void_row(std::uint32_t slab, std::uint32_t row) noexcept;
  void publish_row(std::uint32_t slab) noexcept;
  void seal(std::uint32_t slab) noexcept;
  void seal_open(std::uint32_t level, std::uint32_t slab) noexcept;
  void push_ready(std::uint32_t slab, std::uint32_t rows) noexcept;
  void release(std::uint32_t slab) noexcept;
  void drain_ready() noexcept;
  bool win_taken(std::uint64_t id, std::uint32_t& slab) noexcept;
  void finish(std::uint32_t slab, Status status, std::string_view message) noexcept;
  void deliver(std::uint64_t port, std::span<const Completion> completions) noexcept;
  std::uint64_t queue_delay_us() const noexcept;
  std::uint64_t depth(std::uint32_t level) const noexcept;  // requests queued and not taken, about
  void wake_timer(std::uint64_t due) noexcept;
  void timer_main();
  // The timer thread's own record of the stream (SchedulerConfig::timer_linger_looks).
  struct TimerLinger {
    bool on = false;               // looking again after seals: the stream is dense enough
    std::uint32_t idle_looks = 0;  // looks in a row that found nothing open
    std::uint64_t last_open_us = 0;  // when a scan last found a batch open
  };
  // How long the timer may sleep after a scan that found `next` (kNever: nothing open) at `now`.
  std::uint64_t timer_sleep_until(std::uint64_t next, std::uint64_t now, TimerLinger& linger) const noexcept;

  const SchedulerConfig config_;
  const std::shared_ptr<const Clock> clock_;
  const std::uint32_t seal_size_;      // the size rule's trigger
  const std::uint32_t min_preferred_;  // 0 when there are no preferred sizes
  SlabArena arena_;
  MpmcRing<std::uint32_t> free_;
  std::vector<std::unique_ptr<Level>> levels_;
  PortTable ports_;
  Ewma exec_estimate_{0.2};
  std::optional<AdaptiveDelay> adaptive_;
  RequestStats request_stats_;

  alignas(kCacheLine) std::atomic<std::uint64_t> install_sequence_{0};
  alignas(kCacheLine) std::atomic<bool> closed_{false};
  std::atomic<bool> admission_stopped_{false};
  std::atomic<std::uint64_t> ready_batches_{0};

  // Counters, updated off the per-request fast path (rejections, or once per batch).
  struct Counters {
    std::atomic<std::uint64_t> rejected_queue_full{0}, rejected_deadline_unmeetable{0}, rejected_closed{0},
        rejected_invalid{0}, deadline_exceeded{0}, failed_rows{0}, batches_executed{0}, rows_executed{0},
        rows_taken{0}, queue_time_us_sum{0}, exec_time_us_sum{0}, completions_dropped{0}, void_rows{0},
        timer_wakeups{0};
  };
  alignas(kCacheLine) Counters counters_;

  // Timer. timer_next_ is when the timer will next scan at the latest (kScanning while it scans):
  // a producer that opens a batch or brings a deadline forward wakes it only when that is too late.
  static constexpr std::uint64_t kScanning = 0;
  alignas(kCacheLine) std::atomic<std::uint64_t> timer_next_{kScanning};
  std::mutex timer_mu_;
  std::condition_variable timer_cv_;
  bool timer_kick_ = false;  // guarded by timer_mu_
  bool timer_stop_ = false;  // guarded by timer_mu_
  std::thread timer_;
};

}  // namespace infergate::sched
