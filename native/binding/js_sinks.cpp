#include "js_sinks.hpp"


#include <napi.h>

#include <algorithm>
#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace infergate::binding {

// One (batch, port) delivery, copied off the batch memory on the executor thread into one block
// (SectionLayout of exactly its rows). The JS thread copies each section into the port's arrays.
class Delivery {
 public:
  Delivery(std::size_t count, std::uint32_t width)
      : count_(count),
        layout_(SectionLayout::Of(count, width)),
        block_(new double[(layout_.bytes + sizeof(double) - 1) / sizeof(double)]) {}

  std::size_t count() const noexcept { return count_; }

  double* tickets() noexcept { return block_.get(); }
  std::uint32_t* tags() noexcept { return reinterpret_cast<std::uint32_t*>(bytes_at(layout_.tags_at)); }
  std::int32_t* statuses() noexcept { return reinterpret_cast<std::int32_t*>(bytes_at(layout_.statuses_at)); }
  float* outputs() noexcept { return reinterpret_cast<float*>(bytes_at(layout_.outputs_at)); }

  std::vector<std::string> messages;  // empty unless some status is not ok; then one per row
  std::uint32_t batch_rows = 0;       // every completion of one delivery comes from one batch
  Delivery* next = nullptr;           // the port's inbox: the one queued before this

 private:
  unsigned char* bytes_at(std::size_t offset) noexcept { return reinterpret_cast<unsigned char*>(block_.get()) + offset; }

  std::size_t count_;
  SectionLayout layout_;
  std::unique_ptr<double[]> block_;
};

namespace {

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("BatchScheduler: ") + what + " failed");
}

}  // namespace

PortSink::PortSink(napi_env env, std::uint32_t output_width, std::uint32_t rows_hint,
                   std::weak_ptr<sched::Scheduler> scheduler)
    : env_(env),
      output_width_(output_width),
      rows_hint_(rows_hint),
      scheduler_(scheduler),
      scheduler_raw_(scheduler.lock().get()) {}

PortSink::~PortSink() { DropQueued(); }

std::shared_ptr<PortSink> PortSink::Create(napi_env env, napi_value callback, std::uint32_t output_width,
                                           std::uint32_t rows_hint, std::weak_ptr<sched::Scheduler> scheduler) {
  std::shared_ptr<PortSink> sink(new PortSink(env, output_width, rows_hint, std::move(scheduler)));
  uv_loop_s* loop = nullptr;
  check(env, napi_get_uv_event_loop(env, &loop), "finding the thread's event loop");
  napi_value resource;
  napi_value name;
  check(env, napi_create_object(env, &resource), "creating the port's async resource");
  check(env, napi_create_string_utf8(env, "infergate.BatchScheduler.port", NAPI_AUTO_LENGTH, &name), "naming the port");
  check(env, napi_create_reference(env, callback, 1, &sink->callback_), "keeping the port's callback");
  check(env, napi_create_reference(env, resource, 1, &sink->resource_), "keeping the port's async resource");
  check(env, napi_async_init(env, resource, name, &sink->async_context_), "opening the port's async context");

  auto* handle = new uv_async_t{};
  if (uv_async_init(loop, handle, &PortSink::OnWakeup) != 0) {
    delete handle;
    throw Napi::Error::New(env, "BatchScheduler: opening the port's wake-up failed");
  }
  handle->data = sink.get();
  uv_unref(reinterpret_cast<uv_handle_t*>(handle));
  sink->wakeup_ = handle;
  sink->keep_alive_ = sink;  // released once the handle has closed
  if (napi_add_async_cleanup_hook(env, &PortSink::OnTeardown, sink.get(), &sink->teardown_hook_) != napi_ok) {
    sink->Shut();
    throw Napi::Error::New(env, "BatchScheduler: registering the port's teardown failed");
  }
  return sink;
}

void PortSink::Deliver(std::span<const sched::Completion> completions) noexcept {
  Delivery* d = nullptr;
  try {
    const std::size_t n = completions.size();
    d = new Delivery(n, output_width_);
    if (n != 0) d->batch_rows = completions[0].batch_rows;
    for (std::size_t i = 0; i < n; ++i) {
      const sched::Completion& c = completions[i];
      d->tickets()[i] = static_cast<double>(c.ticket);
      d->tags()[i] = static_cast<std::uint32_t>(c.tag);  // submit() only takes 32-bit tags
      d->statuses()[i] = static_cast<std::int32_t>(c.status);
      float* out = d->outputs() + i * output_width_;
      if (c.status == sched::Status::ok) {
        std::memcpy(out, c.output, output_width_ * sizeof(float));
      } else {  // no score for a failed request: NaN can never be mistaken for one
        std::fill(out, out + output_width_, std::numeric_limits<float>::quiet_NaN());
        if (d->messages.empty()) d->messages.resize(n);
        d->messages[i].assign(c.message);
      }
    }
    std::shared_lock lock(gate_);
    if (wakeup_ != nullptr) {
      Delivery* head = inbox_.load(std::memory_order_relaxed);
      do {
        d->next = head;
      } while (!inbox_.compare_exchange_weak(head, d, std::memory_order_release, std::memory_order_relaxed));
      uv_async_send(wakeup_);
      return;
    }
  } catch (...) {  // out of memory: this delivery is lost, and counted
  }
  delete d;
  dropped_.fetch_add(completions.size(), std::memory_order_relaxed);
}

// A JS callback threw: report it as Node reports any uncaught exception of a callback. An error
// without a JS value means the environment can no longer run JS (it is being torn down): nothing is
// left to report to.
static void ReportUncaught(napi_env env, const Napi::Error& error) noexcept {
  try {
    napi_value value = error.Value();
    if (value != nullptr) napi_fatal_exception(env, value);
  } catch (...) {  // reading the error's value failed too: the environment is going away
  }
}

void PortSink::OnWakeup(uv_async_t* handle) {
  auto* sink = static_cast<PortSink*>(handle->data);
  // Take everything queued so far, then answer it oldest first. A delivery queued after the
  // exchange signals again, and its own wake-up takes it.
  Delivery* newest = sink->inbox_.exchange(nullptr, std::memory_order_acquire);
  Delivery* oldest = nullptr;
  while (newest != nullptr) {
    Delivery* next = newest->next;
    newest->next = oldest;
    oldest = newest;
    newest = next;
  }
  while (oldest != nullptr) {
    std::unique_ptr<Delivery> d(oldest);
    oldest = oldest->next;
    sink->Delivered(d->count());
    // One handle scope per delivery. While the environment is torn down even this can fail.
    napi_handle_scope scope = nullptr;
    if (napi_open_handle_scope(sink->env_, &scope) != napi_ok) {
      sink->dropped_.fetch_add(d->count(), std::memory_order_relaxed);
      continue;
    }
    if (!sink->Call(sink->env_, *d)) sink->dropped_.fetch_add(d->count(), std::memory_order_relaxed);
    napi_close_handle_scope(sink->env_, scope);
  }
}

// The C API throughout, and no C++ exceptions: this runs from libuv, also while a worker thread is
// being terminated, when N-API calls fail and node-addon-api, wrapping such a failure in an Error,
// aborts the process.
bool PortSink::Call(napi_env env, Delivery& d) noexcept {
  const std::size_t n = d.count();
  napi_value args[7];  // count, tickets, statuses, outputs, messages, tags, batchRows
  napi_value views[4];  // tickets, statuses, outputs, tags
  if (!EnsureStaging(env, n, views)) return false;
  unsigned char* at = staging_.bytes;
  std::memcpy(at, d.tickets(), n * sizeof(double));
  std::memcpy(at + staging_.layout.tags_at, d.tags(), n * sizeof(std::uint32_t));
  std::memcpy(at + staging_.layout.statuses_at, d.statuses(), n * sizeof(std::int32_t));
  std::memcpy(at + staging_.layout.outputs_at, d.outputs(), n * output_width_ * sizeof(float));
  args[1] = views[0];
  args[2] = views[1];
  args[3] = views[2];
  args[5] = views[3];
  if (napi_create_uint32(env, static_cast<std::uint32_t>(n), &args[0]) != napi_ok ||
      napi_get_undefined(env, &args[4]) != napi_ok || napi_create_uint32(env, d.batch_rows, &args[6]) != napi_ok) {
    return false;
  }
  if (!d.messages.empty()) {
    if (napi_create_array_with_length(env, n, &args[4]) != napi_ok) return false;
    for (std::size_t i = 0; i < n; ++i) {
      if (d.statuses()[i] == 0) continue;
      napi_value message;
      if (napi_create_string_utf8(env, d.messages[i].data(), d.messages[i].size(), &message) != napi_ok ||
          napi_set_element(env, args[4], static_cast<std::uint32_t>(i), message) != napi_ok) {
        return false;
      }
    }
  }
  napi_value callback;
  napi_value resource;
  if (napi_get_reference_value(env, callback_, &callback) != napi_ok ||
      napi_get_reference_value(env, resource_, &resource) != napi_ok) {
    return false;
  }
  // make_callback, as Node does for its own I/O callbacks: async hooks see the call, and promise
  // reactions (the requests it settles) run when it returns.
  napi_value result;
  const napi_status status = napi_make_callback(env, async_context_, resource, callback, 7, args, &result);
  if (status != napi_pending_exception) return status == napi_ok;
  // Either the callback threw, and its exception is pending, or the environment can no longer run
  // JS and nothing ran. Report the first as Node reports any callback's uncaught exception. (The
  // callback is the batcher client's own, which throws nothing but an Error.)
  napi_value error = nullptr;
  napi_valuetype type = napi_undefined;
  if (napi_get_and_clear_last_exception(env, &error) != napi_ok || error == nullptr ||
      napi_typeof(env, error, &type) != napi_ok || type == napi_undefined) {
    return false;
  }
  napi_fatal_exception(env, error);
  return true;
}

bool PortSink::EnsureStaging(napi_env env, std::size_t rows, napi_value* views) noexcept {
  if (staging_.buffer != nullptr && rows <= staging_.capacity) {
    napi_value buffer;
    bool detached = true;
    if (napi_get_reference_value(env, staging_.buffer, &buffer) != napi_ok ||
        napi_is_detached_arraybuffer(env, buffer, &detached) != napi_ok) {
      return false;
    }
    if (!detached) {
      return napi_get_reference_value(env, staging_.tickets, &views[0]) == napi_ok &&
             napi_get_reference_value(env, staging_.statuses, &views[1]) == napi_ok &&
             napi_get_reference_value(env, staging_.outputs, &views[2]) == napi_ok &&
             napi_get_reference_value(env, staging_.tags, &views[3]) == napi_ok;
    }
  }
  ReleaseStaging();
  // Start at the expected batch size (at most 64 rows: a wide output of a large batch would make a
  // big buffer for every port), and grow in doublings to what a delivery needs.
  std::size_t capacity = std::max<std::size_t>(1, std::min<std::size_t>(rows_hint_, 64));
  while (capacity < rows) capacity *= 2;
  const SectionLayout layout = SectionLayout::Of(capacity, output_width_);
  void* bytes = nullptr;
  napi_value buffer;
  if (napi_create_arraybuffer(env, layout.bytes, &bytes, &buffer) != napi_ok) return false;
  if (napi_create_typedarray(env, napi_float64_array, capacity, buffer, 0, &views[0]) != napi_ok ||
      napi_create_typedarray(env, napi_int32_array, capacity, buffer, layout.statuses_at, &views[1]) != napi_ok ||
      napi_create_typedarray(env, napi_float32_array, capacity * output_width_, buffer, layout.outputs_at, &views[2]) != napi_ok ||
      napi_create_typedarray(env, napi_uint32_array, capacity, buffer, layout.tags_at, &views[3]) != napi_ok) {
    return false;
  }
  if (napi_create_reference(env, buffer, 1, &staging_.buffer) != napi_ok ||
      napi_create_reference(env, views[0], 1, &staging_.tickets) != napi_ok ||
      napi_create_reference(env, views[1], 1, &staging_.statuses) != napi_ok ||
      napi_create_reference(env, views[2], 1, &staging_.outputs) != napi_ok ||
      napi_create_reference(env, views[3], 1, &staging_.tags) != napi_ok) {
    ReleaseStaging();
    return false;
  }
  staging_.bytes = static_cast<unsigned char*>(bytes);
  staging_.capacity = capacity;
  staging_.layout = layout;
  return true;
}

void PortSink::ReleaseStaging() noexcept {
  for (napi_ref* ref : {&staging_.buffer, &staging_.tickets, &staging_.statuses, &staging_.outputs, &staging_.tags}) {
    if (*ref != nullptr) napi_delete_reference(env_, *ref);
    *ref = nullptr;
  }
  staging_.bytes = nullptr;
  staging_.capacity = 0;
}

void PortSink::Submitted() noexcept {
  if (outstanding_++ == 0 && !refed_ && wakeup_ != nullptr) {
    uv_ref(reinterpret_cast<uv_handle_t*>(wakeup_));
    refed_ = true;
  }
}

void PortSink::Delivered(std::size_t count) noexcept {
  outstanding_ = count >= outstanding_ ? 0 : outstanding_ - count;
  if (outstanding_ == 0 && refed_) {
    if (wakeup_ != nullptr) uv_unref(reinterpret_cast<uv_handle_t*>(wakeup_));
    refed_ = false;
  }
}

void PortSink::Close() noexcept {
  if (teardown_hook_ != nullptr) {
    napi_remove_async_cleanup_hook(teardown_hook_);
    teardown_hook_ = nullptr;
  }
  Shut();
}

void PortSink::OnTeardown(napi_async_cleanup_hook_handle, void* arg) {
  // The thread is going away before the port was closed: close it in its scheduler too, so that
  // nothing more is addressed to it. The hook's handle is removed once the uv handle has closed.
  auto* sink = static_cast<PortSink*>(arg);
  if (auto scheduler = sink->scheduler_.lock()) scheduler->close_port(sink->id_);
  sink->Shut();
}

void PortSink::Shut() noexcept {
  uv_async_t* handle = nullptr;
  {
    std::unique_lock lock(gate_);
    handle = wakeup_;
    wakeup_ = nullptr;
  }
  if (handle != nullptr) uv_close(reinterpret_cast<uv_handle_t*>(handle), &PortSink::OnHandleClosed);
}

void PortSink::OnHandleClosed(uv_handle_t* handle) {
  auto* sink = static_cast<PortSink*>(handle->data);
  delete reinterpret_cast<uv_async_t*>(handle);
  sink->DropQueued();
  napi_env env = sink->env_;
  if (sink->async_context_ != nullptr) napi_async_destroy(env, sink->async_context_);
  if (sink->callback_ != nullptr) napi_delete_reference(env, sink->callback_);
  if (sink->resource_ != nullptr) napi_delete_reference(env, sink->resource_);
  sink->ReleaseStaging();
  sink->async_context_ = nullptr;
  sink->callback_ = nullptr;
  sink->resource_ = nullptr;
  // Teardown closed us: tell Node this port's cleanup is done.
  if (sink->teardown_hook_ != nullptr) {
    napi_remove_async_cleanup_hook(sink->teardown_hook_);
    sink->teardown_hook_ = nullptr;
  }
  std::shared_ptr<PortSink> last = std::move(sink->keep_alive_);  // may free the sink: nothing after
}

void PortSink::DropQueued() noexcept {
  Delivery* d = inbox_.exchange(nullptr, std::memory_order_acquire);
  while (d != nullptr) {
    std::unique_ptr<Delivery> gone(d);
    dropped_.fetch_add(d->count(), std::memory_order_relaxed);
    d = d->next;
  }
}

struct SealedNotifier::Handle {
  SealedNotifier* notifier;
  std::shared_ptr<SealedNotifier> keep;  // never outlived by a queued call
  napi_threadsafe_function tsfn = nullptr;
};

void SealedNotifier::set_callbacks_enabled(bool enabled) noexcept {
  callbacks_enabled_.store(enabled, std::memory_order_seq_cst);
  std::atomic_thread_fence(std::memory_order_seq_cst);
}

void SealedNotifier::Notify() noexcept {
  const std::uint32_t signal = ready_signal_.load(std::memory_order_acquire);
  if (signal != sched::kNoReadySignal) sched::signal_ready(signal);
  // Pairs with set_callbacks_enabled(): either we see the callback enabled, or whoever enabled it
  // sees our batch in the ready count.
  std::atomic_thread_fence(std::memory_order_seq_cst);
  if (!callbacks_enabled_.load(std::memory_order_seq_cst)) return;
  if (pending_.exchange(true, std::memory_order_acq_rel)) return;  // a call is already on its way
  std::lock_guard lock(mu_);
  if (tsfn_ == nullptr || napi_call_threadsafe_function(tsfn_, nullptr, napi_tsfn_nonblocking) != napi_ok) {
    pending_.store(false, std::memory_order_release);
  }
}

void SealedNotifier::CallJs(napi_env env, napi_value callback, void* context, void*) {
  auto* handle = static_cast<Handle*>(context);
  // Clear first: a batch sealed from here on triggers another call.
  handle->notifier->pending_.store(false, std::memory_order_release);
  if (env == nullptr || callback == nullptr) return;
  Napi::Env e(env);
  double ready = 0;
  if (auto scheduler = handle->notifier->scheduler_.lock()) {
    ready = static_cast<double>(scheduler->stats().ready_batches);
  }
  try {
    Napi::HandleScope scope(e);  // inside the try: see PortSink::CallJs
    Napi::Function(env, callback).Call({Napi::Number::New(e, ready)});
  } catch (const Napi::Error& error) {
    ReportUncaught(env, error);
  }
}

void SealedNotifier::Finalize(napi_env, void* finalize_data, void*) {
  std::unique_ptr<Handle> handle(static_cast<Handle*>(finalize_data));
  std::lock_guard lock(handle->notifier->mu_);
  if (handle->notifier->tsfn_ == handle->tsfn) handle->notifier->tsfn_ = nullptr;
}

void SealedNotifier::Set(napi_env env, napi_value callback) {
  Clear();
  if (callback == nullptr) return;
  napi_value name;
  check(env, napi_create_string_utf8(env, "infergate.BatchScheduler.onSealed", NAPI_AUTO_LENGTH, &name), "naming onSealed");
  // The Handle keeps the notifier alive for queued calls and the finalizer, which deletes it.
  auto* handle = new Handle{this, shared_from_this(), nullptr};
  napi_threadsafe_function tsfn = nullptr;
  napi_status status = napi_create_threadsafe_function(env, callback, nullptr, name, 0, 1, handle,
                                                       &SealedNotifier::Finalize, handle, &SealedNotifier::CallJs, &tsfn);
  if (status != napi_ok) {
    delete handle;
    check(env, status, "creating onSealed's thread-safe function");
  }
  handle->tsfn = tsfn;
  napi_unref_threadsafe_function(env, tsfn);
  std::lock_guard lock(mu_);
  tsfn_ = tsfn;
  pending_.store(false, std::memory_order_release);
}

void SealedNotifier::Clear() noexcept {
  std::lock_guard lock(mu_);
  if (tsfn_ == nullptr) return;
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  tsfn_ = nullptr;
}

}  // namespace infergate::binding
