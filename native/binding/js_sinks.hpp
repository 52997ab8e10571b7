// Where native threads hand results to JS, guarded so that an environment that goes away (a worker
// thread exits or is terminated) never leaves a dangling handle behind.
//
// Results (PortSink) travel through a lock-free inbox and a libuv async handle; seal notifications
// (SealedNotifier) through a thread-safe function (TSFN). Each sink keeps what delivering threads
// touch behind a lock that the JS thread takes only to shut the sink, so a delivery that races
// teardown finds the sink shut and drops itself (counted) instead of calling into freed memory.
#pragma once

#include <node_api.h>
#include <uv.h>

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <span>

#include "core/batch_scheduler.hpp"
#include "core/ready_signal.hpp"

namespace infergate::binding {

class Delivery;

// Where each section of a delivery lies in a block of `rows` rows: tickets (float64) at 0, then tags
// (uint32), statuses (int32) and outputs (float32 x width), each section 4-byte aligned. A queued
// delivery (exactly its rows) and a port's reusable arrays (room for more) share this order.
struct SectionLayout {
  std::size_t tags_at;
  std::size_t statuses_at;
  std::size_t outputs_at;
  std::size_t bytes;

  static constexpr SectionLayout Of(std::size_t rows, std::uint32_t width) noexcept {
    const std::size_t tags_at = rows * sizeof(double);
    const std::size_t statuses_at = tags_at + rows * sizeof(std::uint32_t);
    const std::size_t outputs_at = statuses_at + rows * sizeof(std::int32_t);
    return {tags_at, statuses_at, outputs_at, outputs_at + rows * width * sizeof(float)};
  }
};

// A producer thread's delivery port: one JS callback on that thread's event loop, called once per
// (batch, port) with the batch's completions for this port, as (count, tickets, statuses, outputs,
// messages, tags, batchRows): typed arrays whose first `count` entries (rows of outputs) are this
// delivery's, messages an array only when some status is not ok.
//
// The typed arrays are the port's own, made once and refilled by every delivery (see Staging), so
// they hold a delivery only until the callback returns. A fresh ArrayBuffer and four views per
// delivery, as this did first, cost the JS thread an allocation that V8 tracks for its collector
// plus five object creations each time: about a tenth of the host thread's time at 20,000
// requests/s in batches of 24.
//
// Why not a TSFN: Node's TSFN signals the JS thread while holding the TSFN's mutex, so the woken JS
// thread found that mutex still held and blocked on it (a futex wait and two more context switches)
// on three deliveries in four at 20,000 requests/s. Here a delivering thread pushes onto a lock-free
// stack and calls uv_async_send, which takes no lock and coalesces: one wake-up drains every delivery
// queued by then.
//
// The async handle is unref'd while no ticket is outstanding, so an idle port never keeps a thread
// alive, and ref'd while some are, so a thread waiting for its answers is not let go before they
// arrive. It is closed by Close() or, when the thread goes away first, by an async cleanup hook.
class PortSink : public std::enable_shared_from_this<PortSink> {
 public:
  // Opens the port's wake-up on `env` (the calling JS thread). Throws Napi::Error.
  // `rows_hint`: the most rows one delivery is expected to carry (the scheduler's max_batch_size);
  // the port's arrays start at up to that many rows and grow if a delivery ever needs more.
  static std::shared_ptr<PortSink> Create(napi_env env, napi_value callback, std::uint32_t output_width,
                                          std::uint32_t rows_hint, std::weak_ptr<sched::Scheduler> scheduler);
  ~PortSink();

  std::uint64_t id() const noexcept { return id_; }
  void set_id(std::uint64_t id) noexcept { id_ = id; }
  const sched::Scheduler* scheduler() const noexcept { return scheduler_raw_; }

  // Any thread (the scheduler's Deliver): copies the completions and queues the JS call.
  void Deliver(std::span<const sched::Completion> completions) noexcept;

  // The owning JS thread only.
  void Submitted() noexcept;                   // one more ticket outstanding
  void Delivered(std::size_t count) noexcept;  // that many answered
  void Close() noexcept;                       // later deliveries, and any still queued, are dropped

  std::uint64_t dropped() const noexcept { return dropped_.load(std::memory_order_relaxed); }

 private:
  // The port's reusable arrays: one ArrayBuffer of `capacity` rows (SectionLayout), and a view of
  // each section.
  struct Staging {
    napi_ref buffer = nullptr;
    napi_ref tickets = nullptr;
    napi_ref statuses = nullptr;
    napi_ref outputs = nullptr;
    napi_ref tags = nullptr;
    unsigned char* bytes = nullptr;  // the buffer's memory; valid while `buffer` is held and not detached
    std::size_t capacity = 0;        // rows
    SectionLayout layout{};
  };

  PortSink(napi_env env, std::uint32_t output_width, std::uint32_t rows_hint, std::weak_ptr<sched::Scheduler> scheduler);
  static void OnWakeup(uv_async_t* handle);
  static void OnHandleClosed(uv_handle_t* handle);
  static void OnTeardown(napi_async_cleanup_hook_handle hook, void* arg);
  bool Call(napi_env env, Delivery& d) noexcept;  // JS thread: one delivery to the callback; false: dropped
  // JS thread: arrays that hold `rows` rows, made anew if they are too small or their buffer was
  // detached (transferred away by the callback); false if they cannot be made.
  bool EnsureStaging(napi_env env, std::size_t rows, napi_value* views) noexcept;
  void ReleaseStaging() noexcept;
  void Shut() noexcept;                  // JS thread: refuse deliveries and close the handle
  void DropQueued() noexcept;            // frees what the inbox still holds, counted as dropped

  const napi_env env_;
  const std::uint32_t output_width_;
  const std::uint32_t rows_hint_;
  const std::weak_ptr<sched::Scheduler> scheduler_;
  const sched::Scheduler* const scheduler_raw_;  // identity only, never dereferenced
  std::uint64_t id_ = 0;

  // JS thread only.
  napi_ref callback_ = nullptr;
  napi_ref resource_ = nullptr;  // the async resource the callbacks run under
  napi_async_context async_context_ = nullptr;
  napi_async_cleanup_hook_handle teardown_hook_ = nullptr;
  std::shared_ptr<PortSink> keep_alive_;  // until the handle is closed
  std::uint64_t outstanding_ = 0;
  bool refed_ = false;
  Staging staging_;

  // Deliver() holds gate_ shared while it queues and signals; Shut() holds it exclusively once, so
  // after it no thread touches the handle. wakeup_ is written only under the exclusive lock.
  std::shared_mutex gate_;
  uv_async_t* wakeup_ = nullptr;  // null once shut
  std::atomic<Delivery*> inbox_{nullptr};  // newest first
  std::atomic<std::uint64_t> dropped_{0};
};

// Who hears that one scheduler sealed a batch: the ready signal of the executor that serves it (one
// idle worker wakes), and, while enabled, one JS callback (onSealed) on the thread that registered
// it, called with the number of ready batches. The callback wakes that thread's event loop, so the
// executor enables it only while it has a worker with no drain task; otherwise its workers pick
// batches up through the signal alone. Callback notifications coalesce: while a call is queued and
// has not yet run, further seals add nothing. Unref'd: it never keeps a loop alive.
class SealedNotifier : public std::enable_shared_from_this<SealedNotifier> {
 public:
  void set_scheduler(std::weak_ptr<sched::Scheduler> scheduler) { scheduler_ = std::move(scheduler); }
  // sched::kNoReadySignal: none.
  void set_ready_signal(std::uint32_t signal) noexcept { ready_signal_.store(signal, std::memory_order_release); }
  // Sequentially consistent with Notify(): after enabling, a caller that reads the scheduler's ready
  // batch count sees every batch whose notification found the callback disabled.
  void set_callbacks_enabled(bool enabled) noexcept;

  // Any thread (the scheduler's on_sealed hook).
  void Notify() noexcept;
  // JS thread: replaces the callback (null `callback` removes it). Throws Napi::Error.
  void Set(napi_env env, napi_value callback);
  // Releases the TSFN, if any (scheduler closed).
  void Clear() noexcept;

 private:
  struct Handle;
  static void CallJs(napi_env env, napi_value callback, void* context, void* data);
  static void Finalize(napi_env env, void* finalize_data, void* hint);

  std::weak_ptr<sched::Scheduler> scheduler_;
  std::atomic<std::uint32_t> ready_signal_{sched::kNoReadySignal};
  std::atomic<bool> callbacks_enabled_{true};
  std::atomic<bool> pending_{false};
  std::mutex mu_;
  napi_threadsafe_function tsfn_ = nullptr;  // guarded by mu_
};

}  // namespace infergate::binding
