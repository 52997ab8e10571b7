// Batch formation and hand-off. The reasoning behind the lock-free protocol (who may seal, who
// pushes, why a stale index is harmless) sits next to the code that relies on it.
#include "batch_scheduler.hpp"

#include <algorithm>
#include <cstring>
#include <limits>
#include <string>

namespace infergate::sched {

namespace {

constexpr std::uint32_t kNoSlab = std::numeric_limits<std::uint32_t>::max();
constexpr std::string_view kTimedOut = "request timed out in the queue";
constexpr std::string_view kClosedMessage = "the batch scheduler was closed";

// Rings of slab indices never hold more than slab_count entries, yet a push can still find its cell
// busy: in a Vyukov ring a consumer that has claimed a cell but not yet released it keeps that cell
// from the next lap. Twice the room makes that rare; push_index() waits it out when it happens.
std::uint32_t ring_capacity(std::uint32_t slab_count) {
  std::uint32_t capacity = 2;
  while (capacity < 2 * slab_count) capacity *= 2;
  return capacity;
}

void push_index(MpmcRing<std::uint32_t>& ring, std::uint32_t index) noexcept {
  while (!ring.try_push(index)) std::this_thread::yield();
}

const SchedulerConfig& validated(const SchedulerConfig& c) {
  auto fail = [](const std::string& what) { throw ConfigError(what); };
  // Upper bounds keep every product below 2^64 and every id below 2^53 (JS numbers).
  if (c.max_batch_size < 1 || c.max_batch_size > (1u << 20)) fail("max_batch_size must be an integer from 1 to 1048576");
  if (c.slab_count < 2 || c.slab_count > (1u << 16)) fail("slab_count must be an integer from 2 to 65536");
  if (c.input_width < 1 || c.input_width > (1u << 24)) fail("input_width must be an integer from 1 to 16777216");
  if (c.output_width < 1 || c.output_width > (1u << 24)) fail("output_width must be an integer from 1 to 16777216");
  if (c.priority_levels < 1 || c.priority_levels > 64) fail("priority_levels must be an integer from 1 to 64");
  if (c.default_priority_level < 1 || c.default_priority_level > c.priority_levels) {
    fail("default_priority_level must be from 1 to priority_levels (" + std::to_string(c.priority_levels) + ")");
  }
  for (std::uint32_t size : c.preferred_batch_size) {
    if (size < 1 || size > c.max_batch_size) {
      fail("preferred_batch_size " + std::to_string(size) + " must be from 1 to max_batch_size (" +
           std::to_string(c.max_batch_size) + ")");
    }
  }
  if (c.max_ports < 1 || c.max_ports > (1u << 20)) fail("max_ports must be an integer from 1 to 1048576");
  if (c.plan && c.plan->width() != c.input_width) {
    fail("input_width (" + std::to_string(c.input_width) + ") must equal the preprocessing plan's width (" +
         std::to_string(c.plan->width()) + ")");
  }
  if (c.adaptive_target_latency_microseconds && *c.adaptive_target_latency_microseconds == 0) {
    fail("the adaptive delay's target latency must be positive");
  }
  return c;
}

std::uint32_t seal_size_of(const SchedulerConfig& c) {
  if (c.preferred_batch_size.empty()) return c.max_batch_size;
  return *std::max_element(c.preferred_batch_size.begin(), c.preferred_batch_size.end());
}

std::uint32_t min_preferred_of(const SchedulerConfig& c) {
  if (c.preferred_batch_size.empty()) return 0;
  return *std::min_element(c.preferred_batch_size.begin(), c.preferred_batch_size.end());
}

}  // namespace

const char* to_string(Status status) noexcept {
  switch (status) {
    case Status::ok: return "ok";
    case Status::invalid_argument: return "invalid_argument";
    case Status::deadline_exceeded: return "deadline_exceeded";
    case Status::resource_exhausted: return "resource_exhausted";
    case Status::unavailable: return "unavailable";
    case Status::internal: return "internal";
  }
  return "unknown";
}

const char* to_string(Rejection rejection) noexcept {
  switch (rejection) {
    case Rejection::none: return "none";
    case Rejection::queue_full: return "queue_full";
    case Rejection::deadline_unmeetable: return "deadline_unmeetable";
    case Rejection::closed: return "closed";
    case Rejection::invalid_argument: return "invalid_argument";
  }
  return "unknown";
}

constexpr std::uint64_t kNoInstallYet = ~std::uint64_t{0};

// One priority level: its open batch and its sealed batches.
//
// Queue depth is kept per batch, not per request (a shared counter bumped by every submit costs two
// producers ~30% of their throughput): `sealed_rows` counts the rows of batches sealed and not yet
// taken, and the open batch's claim count supplies the rest. Admission against max_queue_size reads
// both without a lock, so concurrent producers can overshoot it by at most one row each.
struct Scheduler::Level {
  explicit Level(std::uint32_t ring_size) : ready(ring_size) {}
  alignas(kCacheLine) std::atomic<std::uint32_t> open{kNoSlab};
  alignas(kCacheLine) std::atomic<std::uint64_t> sealed_rows{0};
  std::atomic<std::uint64_t> last_install_us{kNoInstallYet};  // when the last batch of this level opened
  MpmcRing<std::uint32_t> ready;
};

Scheduler::Scheduler(SchedulerConfig config)
    : config_(validated(config)),
      clock_(config_.clock ? config_.clock : std::make_shared<SteadyClock>()),
      seal_size_(seal_size_of(config_)),
      min_preferred_(min_preferred_of(config_)),
      arena_(config_.slab_count, config_.max_batch_size, config_.input_width, config_.output_width,
             config_.shared_memory, config_.shared_memory_tag),
      free_(ring_capacity(config_.slab_count)),
      ports_(config_.max_ports),
      request_stats_(config_.max_batch_size) {
  for (std::uint32_t i = 0; i < config_.slab_count; ++i) push_index(free_, i);
  for (std::uint32_t i = 0; i < config_.priority_levels; ++i) {
    levels_.push_back(std::make_unique<Level>(ring_capacity(config_.slab_count)));
  }
  if (config_.adaptive_target_latency_microseconds) {
    adaptive_.emplace(config_.max_queue_delay_microseconds, *config_.adaptive_target_latency_microseconds);
  }
  if (config_.timer_thread) timer_ = std::thread([this] { timer_main(); });
}

Scheduler::~Scheduler() { close(); }

std::uint64_t Scheduler::depth(std::uint32_t level_index) const noexcept {
  const Level& level = *levels_[level_index];
  // seq_cst: pairs with the claim in submit_impl() (see there).
  std::uint64_t rows = level.sealed_rows.load(std::memory_order_seq_cst);
  const std::uint32_t index = level.open.load(std::memory_order_seq_cst);
  if (index != kNoSlab) {
    const std::uint64_t state = arena_.slab(index).state.load(std::memory_order_seq_cst);
    if (!is_sealed(state)) rows += std::min(claims_of(state), config_.max_batch_size);  // sealed: counted above
  }
  return rows;
}

std::uint64_t Scheduler::queue_delay_us() const noexcept {
  return adaptive_ ? adaptive_->delay_us() : config_.max_queue_delay_microseconds;
}

SubmitResult Scheduler::reject(Rejection why) noexcept {
  switch (why) {
    case Rejection::queue_full: counters_.rejected_queue_full.fetch_add(1, std::memory_order_relaxed); break;
    case Rejection::deadline_unmeetable:
      counters_.rejected_deadline_unmeetable.fetch_add(1, std::memory_order_relaxed);
      break;
    case Rejection::closed: counters_.rejected_closed.fetch_add(1, std::memory_order_relaxed); break;
    case Rejection::invalid_argument: counters_.rejected_invalid.fetch_add(1, std::memory_order_relaxed); break;
    case Rejection::none: break;
  }
  return {0, why};
}

SubmitResult Scheduler::submit(const float* row, const Request& request) noexcept {
  const std::size_t width = config_.input_width;
  return submit_impl(request, [row, width](float* slot) { std::memcpy(slot, row, width * sizeof(float)); });
}

SubmitResult Scheduler::submit_raw(const double* raw, const Request& request) noexcept {
  if (!config_.plan) return reject(Rejection::invalid_argument);
  const preprocess::Plan* plan = config_.plan.get();
  return submit_impl(request, [raw, plan](float* slot) { plan->run(raw, 1, slot); });
}

template <typename WriteRow>
SubmitResult Scheduler::submit_impl(const Request& request, WriteRow&& write_row) noexcept {
  if (closed_.load(std::memory_order_relaxed) || admission_stopped_.load(std::memory_order_relaxed)) {
    return reject(Rejection::closed);
  }
  const std::uint32_t priority = request.priority == 0 ? config_.default_priority_level : request.priority;
  if (priority > config_.priority_levels || !ports_.is_open(request.port)) return reject(Rejection::invalid_argument);
  const std::uint32_t level_index = priority - 1;
  Level& level = *levels_[level_index];

  const QueuePolicy& policy = config_.default_queue_policy;
  const std::uint64_t now = clock_->now_us();
  const std::uint64_t deadline = policy.deadline(now, request.timeout_us, request.deadline_us);
  if (deadline != kNoDeadline && policy.rejects_late() &&
      static_cast<double>(now) + exec_estimate_.value() > static_cast<double>(deadline)) {
    return reject(Rejection::deadline_unmeetable);
  }

  if (policy.max_queue_size != 0 && depth(level_index) >= policy.max_queue_size) return reject(Rejection::queue_full);

  const std::uint32_t max_rows = config_.max_batch_size;
  for (;;) {
    const std::uint32_t index = level.open.load(std::memory_order_acquire);
    if (index != kNoSlab) {
      Slab& slab = arena_.slab(index);
      // The claim. acquire: pairs with the installer's release store of state 0, so the slab's
      // fields (level, sequence) are this incarnation's. seq_cst: see the admission check below.
      const std::uint64_t state = slab.state.fetch_add(1, std::memory_order_seq_cst);
      const std::uint32_t row = claims_of(state);
      if (!is_sealed(state) && row < max_rows) {
        // The claim that reaches the seal size seals at once, before writing, so later producers
        // stop claiming and move on. Because this row is not yet written, the batch cannot be
        // pushed, run and recycled under us: `slab` stays this incarnation until publish_row().
        // A batch opened in a sparse stream is sealed by its first claim, the same way.
        if (row + 1 >= seal_size_ || (row == 0 && slab.opened_sparse.load(std::memory_order_relaxed))) {
          seal_open(slab.level.load(std::memory_order_relaxed), index);
        }

        if (slab.level.load(std::memory_order_relaxed) != level_index) {
          // `index` was read before the slab was recycled and reopened for another level. The row is
          // ours but in the wrong queue: void it, then replace the stale open index if it is still
          // there, and try again.
          write_void_row(index, row);
          publish_row(index);
          if (install(level_index, index, now) == Install::closed) return reject(Rejection::closed);
          continue;
        }

        // Admission stopped between the check at the top and this claim. A retiring version may
        // already have counted what it must answer before it closes, without this row: void it and
        // refuse the request as closed (never admitted, so the caller can send it elsewhere). The
        // claim and this load are seq_cst, as are stop_admission()'s store and depth()'s loads:
        // either the count sees the claim, or the claim sees the flag.
        if (admission_stopped_.load(std::memory_order_seq_cst)) {
          write_void_row(index, row);
          publish_row(index);
          return reject(Rejection::closed);
        }

        const std::uint64_t ticket = slab.sequence.load(std::memory_order_relaxed) * max_rows + row;
        write_row(arena_.input(index) + std::size_t{row} * config_.input_width);
        RowMeta& meta = arena_.meta(index)[row];
        meta.ticket = ticket;
        meta.port = request.port;
        meta.enqueue_us = now;
        meta.deadline_us = deadline;
        meta.tag = request.tag;
        meta.status = static_cast<std::int32_t>(Status::ok);
        if (deadline != kNoDeadline) {
          slab.has_deadline.store(true, std::memory_order_relaxed);
          std::uint64_t earliest = slab.earliest_deadline_us.load(std::memory_order_relaxed);
          bool lowered = false;
          while (deadline < earliest &&
                 !(lowered = slab.earliest_deadline_us.compare_exchange_weak(earliest, deadline, std::memory_order_seq_cst))) {
          }
          if (lowered) {
            const auto estimate = static_cast<std::uint64_t>(exec_estimate_.value());
            wake_timer(deadline > estimate ? deadline - estimate : 0);
          }
        }
        publish_row(index);
        return {ticket, Rejection::none};
      }
    }
    // No open batch, or it is sealed or full: help install a fresh one, then claim again.
    const Install result = install(level_index, index, now);
    if (result != Install::retry) return reject(result == Install::closed ? Rejection::closed : Rejection::queue_full);
  }
}

Scheduler::Install Scheduler::install(std::uint32_t level_index, std::uint32_t expected, std::uint64_t now) noexcept {
  Level& level = *levels_[level_index];
  if (closed_.load(std::memory_order_acquire)) return Install::closed;
  if (level.open.load(std::memory_order_acquire) != expected) return Install::retry;  // someone else did
  const std::optional<std::uint32_t> fresh = free_.try_pop();
  if (!fresh) return level.open.load(std::memory_order_acquire) != expected ? Install::retry : Install::no_slab;

  const std::uint32_t index = *fresh;
  Slab& slab = arena_.slab(index);
  slab.level.store(level_index, std::memory_order_relaxed);
  slab.sequence.store(install_sequence_.fetch_add(1, std::memory_order_relaxed), std::memory_order_relaxed);
  slab.opened_us.store(now, std::memory_order_relaxed);
  // Sparse: the previous batch of this level opened more than the gap ago (the first one ever is not:
  // there is no stream to judge yet). Racing installers may both read the same previous time; either
  // way each batch is judged against one that opened before it.
  const std::uint64_t previous = level.last_install_us.exchange(now, std::memory_order_relaxed);
  slab.opened_sparse.store(config_.sparse_seal_gap_us != 0 && previous != kNoInstallYet && now > previous &&
                               now - previous > config_.sparse_seal_gap_us,
                           std::memory_order_relaxed);
  slab.earliest_deadline_us.store(kNoDeadline, std::memory_order_relaxed);
  slab.has_deadline.store(false, std::memory_order_relaxed);
  slab.void_rows.store(0, std::memory_order_relaxed);
  slab.pending.store(kUnsealedBias, std::memory_order_relaxed);
  slab.phase.store(SlabPhase::open, std::memory_order_relaxed);
  // From here the slab is claimable, even before it is installed: a producer holding a stale index
  // to it may claim a row now. That is why a slab that loses the race below is sealed and sent on
  // its way rather than quietly put back.
  slab.state.store(0, std::memory_order_release);

  std::uint32_t want = expected;
  if (level.open.compare_exchange_strong(want, index, std::memory_order_seq_cst)) {
    // We replaced `expected`. Normally it is sealed or full already, but the slab behind that index
    // may have been recycled and reopened since our caller read it (ABA): whoever takes a slab out
    // of the open slot seals it, so that no batch is ever left unsealed where no one looks.
    if (expected != kNoSlab) seal(expected);
    // close() sets closed_ and then seals what is open; this load, after our seq_cst install, makes
    // sure one of us sees the other.
    if (closed_.load(std::memory_order_seq_cst)) {
      seal_open(level_index, index);
    } else if (!slab.opened_sparse.load(std::memory_order_relaxed)) {
      // A batch opened sparse needs no timer: its first claim seals it, and the installer itself
      // claims next (the loop in submit_impl), unless someone else claims or seals it first.
      wake_timer(now + queue_delay_us());
    }
  } else {
    seal(index);
  }
  return Install::retry;
}

void Scheduler::write_void_row(std::uint32_t index, std::uint32_t row) noexcept {
  std::fill_n(arena_.input(index) + std::size_t{row} * config_.input_width, config_.input_width, 0.0f);
  RowMeta& meta = arena_.meta(index)[row];
  meta = RowMeta{0, 0, 0, kNoDeadline, 0, kVoidRow};
  arena_.slab(index).void_rows.fetch_add(1, std::memory_order_relaxed);
  counters_.void_rows.fetch_add(1, std::memory_order_relaxed);
}

void Scheduler::publish_row(std::uint32_t index) noexcept {
  // acq_rel: releases this row to whoever pushes; the pusher's operation acquires every row's.
  if (arena_.slab(index).pending.fetch_sub(1, std::memory_order_acq_rel) == 1) {
    push_ready(index, arena_.slab(index).rows);
  }
}

void Scheduler::seal(std::uint32_t index) noexcept {
  Slab& slab = arena_.slab(index);
  std::uint64_t state = slab.state.load(std::memory_order_acquire);
  while (!is_sealed(state)) {
    const std::uint32_t rows = std::min(claims_of(state), config_.max_batch_size);
    const std::uint64_t sealed = state | kSealedBit | (std::uint64_t{rows} << 32);
    if (slab.state.compare_exchange_weak(state, sealed, std::memory_order_acq_rel)) {
      // Only the sealer writes `rows`, before its pending update; whoever pushes reads it after
      // its own pending update, which acquires ours.
      slab.rows = rows;
      levels_[slab.level.load(std::memory_order_relaxed)]->sealed_rows.fetch_add(rows, std::memory_order_relaxed);
      const std::uint64_t delta = std::uint64_t{rows} - kUnsealedBias;  // modular
      if (slab.pending.fetch_add(delta, std::memory_order_acq_rel) + delta == 0) push_ready(index, rows);
      return;
    }
  }
}

void Scheduler::seal_open(std::uint32_t level_index, std::uint32_t index) noexcept {
  // Take the batch out of the open slot first, then seal, so new producers stop finding a sealed
  // batch open. The invariant that keeps every batch moving: whoever takes an index out of an open
  // slot (here, or by replacing it in install()) seals that slab afterwards, even when the index
  // turned out to name a newer batch than the one they meant.
  std::uint32_t expected = index;
  levels_[level_index]->open.compare_exchange_strong(expected, kNoSlab, std::memory_order_seq_cst);
  seal(index);
}

void Scheduler::push_ready(std::uint32_t index, std::uint32_t rows) noexcept {
  Slab& slab = arena_.slab(index);
  if (rows == 0) {  // sealed before anyone claimed a row
    release(index);
    return;
  }
  slab.phase.store(SlabPhase::ready, std::memory_order_relaxed);
  push_index(levels_[slab.level.load(std::memory_order_relaxed)]->ready, index);
  ready_batches_.fetch_add(1, std::memory_order_relaxed);
  // close() sets closed_ and then drains; a batch pushed after its drain must be drained here. A
  // plain load could be satisfied before our push is visible, so read closed_ with an RMW that
  // writes back `false`: if it succeeds, close()'s exchange reads our write and so sees our push;
  // if it fails, we see the close.
  bool still_open = false;
  if (!closed_.compare_exchange_strong(still_open, false, std::memory_order_acq_rel)) {
    drain_ready();
  } else if (config_.on_sealed) {
    config_.on_sealed();
  }
}

void Scheduler::release(std::uint32_t index) noexcept {
  Slab& slab = arena_.slab(index);
  slab.phase.store(SlabPhase::free, std::memory_order_relaxed);
  slab.taken_id.store(kNotTaken, std::memory_order_relaxed);
  push_index(free_, index);
}

std::optional<BatchView> Scheduler::take() noexcept {
  for (;;) {
    std::optional<std::uint32_t> popped;
    for (const auto& level : levels_) {
      if ((popped = level->ready.try_pop())) break;
    }
    if (!popped) return std::nullopt;
    const std::uint32_t index = *popped;
    ready_batches_.fetch_sub(1, std::memory_order_relaxed);

    Slab& slab = arena_.slab(index);
    const std::uint64_t now = clock_->now_us();
    const std::uint32_t rows = slab.rows;
    std::uint32_t live = rows - slab.void_rows.load(std::memory_order_relaxed);
    levels_[slab.level.load(std::memory_order_relaxed)]->sealed_rows.fetch_sub(rows, std::memory_order_relaxed);
    counters_.rows_taken.fetch_add(live, std::memory_order_relaxed);

    // Queue timeouts: with policy reject, a request whose deadline passed while it waited is
    // answered deadline_exceeded. Its row stays in the batch (rows are fixed) and runs for nothing.
    // The earliest deadline among the rows that remain is the batch's: a backend that forwards the
    // batch passes it on (a gRPC deadline, Triton's timeout).
    std::uint64_t live_deadline = kNoDeadline;
    if (slab.has_deadline.load(std::memory_order_relaxed)) {
      const bool reject_late = config_.default_queue_policy.rejects_late();
      RowMeta* meta = arena_.meta(index);
      for (std::uint32_t r = 0; r < rows; ++r) {
        if (meta[r].status != static_cast<std::int32_t>(Status::ok)) continue;
        if (reject_late && now >= meta[r].deadline_us) {
          meta[r].status = static_cast<std::int32_t>(Status::deadline_exceeded);
          --live;
          counters_.deadline_exceeded.fetch_add(1, std::memory_order_relaxed);
        } else if (meta[r].deadline_us < live_deadline) {
          live_deadline = meta[r].deadline_us;
        }
      }
    }
    slab.live_deadline_us = live_deadline;
    slab.live = live;
    slab.taken_us = now;
    slab.phase.store(SlabPhase::taken, std::memory_order_relaxed);
    const std::uint64_t id = slab.sequence.load(std::memory_order_relaxed) * config_.slab_count + index;
    if (live == 0) {  // nothing left worth running: answer now and look for another
      finish(index, Status::ok, {});
      continue;
    }
    slab.taken_id.store(id, std::memory_order_release);
    return BatchView{id, rows, arena_.input(index), arena_.output(index), slab.level.load(std::memory_order_relaxed),
                     live_deadline};
  }
}

std::optional<BatchView> Scheduler::batch(std::uint64_t id) noexcept {
  const auto index = static_cast<std::uint32_t>(id % config_.slab_count);
  Slab& slab = arena_.slab(index);
  if (slab.taken_id.load(std::memory_order_acquire) != id) return std::nullopt;
  return BatchView{id, slab.rows, arena_.input(index), arena_.output(index), slab.level.load(std::memory_order_relaxed),
                   slab.live_deadline_us};
}

std::optional<SharedMemoryOffsets> Scheduler::shared_memory_offsets(std::uint64_t id) const noexcept {
  if (arena_.region() == nullptr || id == kNotTaken) return std::nullopt;
  const auto index = static_cast<std::uint32_t>(id % config_.slab_count);
  if (arena_.slab(index).taken_id.load(std::memory_order_acquire) != id) return std::nullopt;
  return SharedMemoryOffsets{arena_.input_offset(index), arena_.output_offset(index)};
}

bool Scheduler::win_taken(std::uint64_t id, std::uint32_t& index) noexcept {
  if (id == kNotTaken) return false;
  index = static_cast<std::uint32_t>(id % config_.slab_count);
  std::uint64_t expected = id;
  return arena_.slab(index).taken_id.compare_exchange_strong(expected, kNotTaken, std::memory_order_acq_rel);
}

bool Scheduler::complete(std::uint64_t id) noexcept {
  std::uint32_t index = 0;
  if (!win_taken(id, index)) return false;
  Slab& slab = arena_.slab(index);
  const std::uint64_t now = clock_->now_us();
  const std::uint64_t exec_us = now > slab.taken_us ? now - slab.taken_us : 0;
  exec_estimate_.add(static_cast<double>(exec_us));
  counters_.batches_executed.fetch_add(1, std::memory_order_relaxed);
  counters_.rows_executed.fetch_add(slab.live, std::memory_order_relaxed);
  counters_.exec_time_us_sum.fetch_add(exec_us, std::memory_order_relaxed);
  request_stats_.batch(slab.rows, exec_us);
  finish(index, Status::ok, {});
  return true;
}

bool Scheduler::fail(std::uint64_t id, Status status, std::string_view message) noexcept {
  std::uint32_t index = 0;
  if (!win_taken(id, index)) return false;
  Slab& slab = arena_.slab(index);
  try {
    slab.message.assign(message);
  } catch (...) {  // out of memory: answer without the message rather than not at all
    slab.message.clear();
  }
  finish(index, status == Status::ok ? Status::internal : status, slab.message);
  return true;
}

void Scheduler::finish(std::uint32_t index, Status status, std::string_view message) noexcept {
  Slab& slab = arena_.slab(index);
  const RowMeta* meta = arena_.meta(index);
  Completion* out = arena_.scratch(index);
  const float* outputs = arena_.output(index);
  const std::uint64_t now = clock_->now_us();

  std::uint32_t n = 0;
  std::uint64_t queue_time = 0, latency = 0, failed = 0;
  for (std::uint32_t r = 0; r < slab.rows; ++r) {
    const RowMeta& m = meta[r];
    if (m.status == kVoidRow) continue;
    Completion& c = out[n++];
    c.ticket = m.ticket;
    c.port = m.port;
    c.tag = m.tag;
    c.output = outputs + std::size_t{r} * config_.output_width;
    if (m.status != static_cast<std::int32_t>(Status::ok)) {  // rejected at take
      c.status = static_cast<Status>(m.status);
      c.message = kTimedOut;
    } else {
      c.status = status;
      c.message = message;
      if (status != Status::ok) ++failed;
    }
    queue_time += slab.taken_us > m.enqueue_us ? slab.taken_us - m.enqueue_us : 0;
    const std::uint64_t row_latency = now > m.enqueue_us ? now - m.enqueue_us : 0;
    latency += row_latency;
    request_stats_.answer(c.status == Status::ok, row_latency);
  }
  if (n != 0) request_stats_.answered_at(now);
  for (std::uint32_t i = 0; i < n; ++i) out[i].batch_rows = n;
  counters_.queue_time_us_sum.fetch_add(queue_time, std::memory_order_relaxed);
  if (failed != 0) counters_.failed_rows.fetch_add(failed, std::memory_order_relaxed);
  if (adaptive_ && status == Status::ok && n != 0) adaptive_->observe(static_cast<double>(latency) / n);

  // Group by port in place: each pass gathers one port's completions at the front of what is left.
  // O(rows x ports in the batch), and the ports in one batch are the few producer threads.
  for (std::uint32_t begin = 0; begin < n;) {
    const std::uint64_t port = out[begin].port;
    std::uint32_t end = begin + 1;
    for (std::uint32_t i = end; i < n; ++i) {
      if (out[i].port == port) std::swap(out[i], out[end++]);
    }
    deliver(port, std::span<const Completion>(out + begin, end - begin));
    begin = end;
  }
  release(index);
}

void Scheduler::deliver(std::uint64_t port, std::span<const Completion> completions) noexcept {
  std::shared_ptr<const Deliver> fn;
  try {
    fn = ports_.find(port);
  } catch (...) {  // std::mutex::lock failing: treat as a closed port
  }
  if (!fn) {
    counters_.completions_dropped.fetch_add(completions.size(), std::memory_order_relaxed);
    return;
  }
  (*fn)(completions);
}

void Scheduler::drain_ready() noexcept {
  for (const auto& level : levels_) {
    while (std::optional<std::uint32_t> index = level->ready.try_pop()) {
      ready_batches_.fetch_sub(1, std::memory_order_relaxed);
      Slab& slab = arena_.slab(*index);
      const std::uint32_t live = slab.rows - slab.void_rows.load(std::memory_order_relaxed);
      level->sealed_rows.fetch_sub(slab.rows, std::memory_order_relaxed);
      counters_.rows_taken.fetch_add(live, std::memory_order_relaxed);
      slab.taken_us = clock_->now_us();
      finish(*index, Status::unavailable, kClosedMessage);
    }
  }
}

std::uint64_t Scheduler::tick() noexcept {
  const std::uint64_t now = clock_->now_us();
  const std::uint64_t delay = queue_delay_us();
  const auto estimate = static_cast<std::uint64_t>(exec_estimate_.value());
  std::uint64_t next = kNever;
  for (std::uint32_t li = 0; li < levels_.size(); ++li) {
    Level& level = *levels_[li];
    const std::uint32_t index = level.open.load(std::memory_order_seq_cst);
    if (index == kNoSlab) continue;
    Slab& slab = arena_.slab(index);
    const std::uint64_t state = slab.state.load(std::memory_order_acquire);
    if (slab.level.load(std::memory_order_relaxed) != li || is_sealed(state)) {
      // A stale index (sealed by someone who could not clear it, or recycled): clear it. By the time
      // we clear, the index may name a batch reopened here (ABA), so seal what we clear, as every
      // party that clears does. Sealing a batch early is always safe.
      seal_open(li, index);
      continue;
    }
    const std::uint64_t opened = slab.opened_us.load(std::memory_order_relaxed);
    std::uint64_t due = opened + delay;
    if (min_preferred_ != 0 && std::min(claims_of(state), config_.max_batch_size) >= min_preferred_) {
      due = std::min(due, opened + delay / 4);
    }
    const std::uint64_t earliest = slab.earliest_deadline_us.load(std::memory_order_seq_cst);
    if (earliest != kNoDeadline) due = std::min(due, earliest > estimate ? earliest - estimate : 0);
    if (now >= due) {
      seal_open(li, index);
    } else {
      next = std::min(next, due);
    }
  }
  return next;
}

void Scheduler::flush() noexcept {
  for (std::uint32_t li = 0; li < levels_.size(); ++li) {
    const std::uint32_t index = levels_[li]->open.load(std::memory_order_seq_cst);
    if (index != kNoSlab) seal_open(li, index);
  }
}

void Scheduler::wake_timer(std::uint64_t due) noexcept {
  if (!config_.timer_thread) return;
  // seq_cst, pairing with the timer's store of kScanning before it scans: either its scan sees our
  // change, or we see kScanning (or a later target) here.
  const std::uint64_t next = timer_next_.load(std::memory_order_seq_cst);
  if (next != kScanning && next <= due) return;  // it will look in time anyway
  try {
    std::lock_guard lock(timer_mu_);
    timer_kick_ = true;
  } catch (...) {  // std::mutex::lock failing: the timer still wakes at its own target
    return;
  }
  counters_.timer_wakeups.fetch_add(1, std::memory_order_relaxed);
  timer_cv_.notify_one();
}

// Below this queue delay the timer does not linger: looking again that often would keep a core busy.
constexpr std::uint64_t kMinLingerStepUs = 100;

std::uint64_t Scheduler::timer_sleep_until(std::uint64_t next, std::uint64_t now, TimerLinger& linger) const noexcept {
  const std::uint64_t step = queue_delay_us();
  if (next != kNever) {  // a batch is open: the stream is alive
    linger.idle_looks = 0;
    linger.last_open_us = now;
    return next;
  }
  if (!linger.on || linger.idle_looks >= config_.timer_linger_looks || step < kMinLingerStepUs) {
    // A stream sparser than the window, or none: looking again would cost this thread a wake-up per
    // look (tens of µs on a VM) to save a producer one wake-up per batch. Sleep until woken.
    linger.on = false;
    return kNever;
  }
  ++linger.idle_looks;
  // A producer opening a batch from now on wants a look by its own now + queue delay, which is no
  // earlier than this: it finds timer_next_ in time and wakes nobody (wake_timer()).
  return now + step;
}

void Scheduler::timer_main() {
  std::unique_lock lock(timer_mu_);
  TimerLinger linger;
  while (!timer_stop_) {
    timer_kick_ = false;
    timer_next_.store(kScanning, std::memory_order_seq_cst);
    lock.unlock();
    const std::uint64_t found = tick();
    lock.lock();
    if (timer_stop_) break;
    if (timer_kick_) continue;  // something changed while we scanned
    const std::uint64_t now = clock_->now_us();
    const std::uint64_t next = timer_sleep_until(found, now, linger);
    timer_next_.store(next, std::memory_order_seq_cst);
    auto woken = [this] { return timer_kick_ || timer_stop_; };
    if (next == kNever) {
      timer_cv_.wait(lock, woken);
      // Woken by a producer that opened a batch. Linger after it only if it came within the window
      // of the last batch seen: a stream dense enough that lingering finds the next batch.
      const std::uint64_t woke = clock_->now_us();
      const std::uint64_t window = queue_delay_us() * config_.timer_linger_looks;
      linger.on = linger.last_open_us != 0 && woke - linger.last_open_us <= window;
      linger.idle_looks = 0;
    } else if (next > now) {
      timer_cv_.wait_for(lock, std::chrono::microseconds(next - now), woken);
    }
  }
}

void Scheduler::close() noexcept {
  if (closed_.exchange(true, std::memory_order_seq_cst)) return;  // see push_ready()
  if (timer_.joinable()) {
    {
      std::lock_guard lock(timer_mu_);
      timer_stop_ = true;
    }
    timer_cv_.notify_all();
    timer_.join();
  }
  flush();  // every sealed batch is then drained by drain_ready(), here or by its pusher
  drain_ready();
  if (shm::ShmRegion* region = arena_.region()) region->unlink();
}

SchedulerStats Scheduler::stats() const noexcept {
  SchedulerStats s;
  auto get = [](const std::atomic<std::uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  s.rejected_queue_full = get(counters_.rejected_queue_full);
  s.rejected_deadline_unmeetable = get(counters_.rejected_deadline_unmeetable);
  s.rejected_closed = get(counters_.rejected_closed);
  s.rejected_invalid = get(counters_.rejected_invalid);
  s.deadline_exceeded = get(counters_.deadline_exceeded);
  s.failed_rows = get(counters_.failed_rows);
  s.batches_executed = get(counters_.batches_executed);
  s.rows_executed = get(counters_.rows_executed);
  s.queue_time_us_sum = get(counters_.queue_time_us_sum);
  s.exec_time_us_sum = get(counters_.exec_time_us_sum);
  s.completions_dropped = get(counters_.completions_dropped);
  s.void_rows = get(counters_.void_rows);
  for (std::uint32_t li = 0; li < levels_.size(); ++li) s.queue_depth += depth(li);
  s.ready_batches = get(ready_batches_);
  // Accepted requests are not counted on the way in (one more shared atomic per submit): they are
  // those taken plus those still queued, exact whenever no submit is in flight.
  s.accepted = get(counters_.rows_taken) + s.queue_depth;
  s.submitted = s.accepted + s.rejected_queue_full + s.rejected_deadline_unmeetable + s.rejected_closed +
                s.rejected_invalid;
  s.estimated_exec_us = exec_estimate_.value();
  s.queue_delay_us = queue_delay_us();
  s.timer_wakeups = get(counters_.timer_wakeups);
  return s;
}

}  // namespace infergate::sched
