#include "js_sinks.hpp"


#include <napi.h>

#include <cstring>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace infergate::binding {

namespace {

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("BatchScheduler: ") + what + " failed");
}

// One (batch, port) delivery, copied off the batch memory on the executor thread, already laid out
// as the JS callback's arrays will be: one block holding tickets (float64 x n), tags (uint32 x n),
// statuses (int32 x n) and outputs (float32 x n x width), so that the JS thread makes one
// ArrayBuffer with one copy and four views over it. Every section starts 4-byte aligned, tickets at 0.
class Delivery {
 public:
  Delivery(std::size_t count, std::uint32_t width)
      : count_(count), width_(width), block_(new double[(bytes() + sizeof(double) - 1) / sizeof(double)]) {}

  std::size_t count() const noexcept { return count_; }
  std::size_t bytes() const noexcept { return outputs_offset() + count_ * width_ * sizeof(float); }
  const void* data() const noexcept { return block_.get(); }

  static constexpr std::size_t tickets_offset() noexcept { return 0; }
  std::size_t tags_offset() const noexcept { return count_ * sizeof(double); }
  std::size_t statuses_offset() const noexcept { return tags_offset() + count_ * sizeof(std::uint32_t); }
  std::size_t outputs_offset() const noexcept { return statuses_offset() + count_ * sizeof(std::int32_t); }

  double* tickets() noexcept { return block_.get(); }
  std::uint32_t* tags() noexcept { return reinterpret_cast<std::uint32_t*>(bytes_at(tags_offset())); }
  std::int32_t* statuses() noexcept { return reinterpret_cast<std::int32_t*>(bytes_at(statuses_offset())); }
  float* outputs() noexcept { return reinterpret_cast<float*>(bytes_at(outputs_offset())); }

  std::vector<std::string> messages;  // empty unless some status is not ok; then one per row
  std::uint32_t batch_rows = 0;       // every completion of one delivery comes from one batch

 private:
  unsigned char* bytes_at(std::size_t offset) noexcept { return reinterpret_cast<unsigned char*>(block_.get()) + offset; }

  std::size_t count_;
  std::uint32_t width_;
  std::unique_ptr<double[]> block_;
};

// A typed array of `count` elements over `buffer` at `offset`.
napi_value view(napi_env env, napi_typedarray_type type, std::size_t count, napi_value buffer, std::size_t offset) {
  napi_value out;
  check(env, napi_create_typedarray(env, type, count, buffer, offset, &out), "creating a delivery view");
  return out;
}

}  // namespace

PortSink::PortSink(napi_env env, std::uint32_t output_width, std::weak_ptr<sched::Scheduler> scheduler)
    : env_(env), output_width_(output_width), scheduler_(scheduler), scheduler_raw_(scheduler.lock().get()) {}

std::shared_ptr<PortSink> PortSink::Create(napi_env env, napi_value callback, std::uint32_t output_width,
                                           std::weak_ptr<sched::Scheduler> scheduler) {
  std::shared_ptr<PortSink> sink(new PortSink(env, output_width, std::move(scheduler)));
  napi_value name;
  check(env, napi_create_string_utf8(env, "infergate.BatchScheduler.port", NAPI_AUTO_LENGTH, &name), "naming the port");
  // The finalizer owns one reference, so the sink outlives every queued CallJs.
  auto* keep = new std::shared_ptr<PortSink>(sink);
  napi_threadsafe_function tsfn = nullptr;
  napi_status status = napi_create_threadsafe_function(env, callback, nullptr, name, 0, 1, keep, &PortSink::Finalize,
                                                       sink.get(), &PortSink::CallJs, &tsfn);
  if (status != napi_ok) {
    delete keep;
    check(env, status, "creating the port's thread-safe function");
  }
  napi_unref_threadsafe_function(env, tsfn);
  std::lock_guard lock(sink->mu_);
  sink->tsfn_ = tsfn;
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
  } catch (...) {  // out of memory: this delivery is lost, and counted
    delete d;
    dropped_.fetch_add(completions.size(), std::memory_order_relaxed);
    return;
  }
  std::lock_guard lock(mu_);
  if (tsfn_ == nullptr || napi_call_threadsafe_function(tsfn_, d, napi_tsfn_nonblocking) != napi_ok) {
    delete d;
    dropped_.fetch_add(completions.size(), std::memory_order_relaxed);
  }
}

// A JS callback of a thread-safe function threw: report it as Node reports any uncaught exception
// of a callback. An error without a JS value means the environment can no longer run JS (it is
// being torn down): nothing is left to report to.
static void ReportUncaught(napi_env env, const Napi::Error& error) noexcept {
  try {
    napi_value value = error.Value();
    if (value != nullptr) napi_fatal_exception(env, value);
  } catch (...) {  // reading the error's value failed too: the environment is going away
  }
}

void PortSink::CallJs(napi_env env, napi_value callback, void* context, void* data) {
  std::unique_ptr<Delivery> d(static_cast<Delivery*>(data));
  if (env == nullptr || callback == nullptr) return;  // the environment is going away
  auto* sink = static_cast<PortSink*>(context);
  const std::size_t n = d->count();
  sink->Delivered(n);
  Napi::Env e(env);
  // Everything that touches JS is inside the try: with C++ exceptions on, a failing N-API call
  // throws, and an exception escaping a thread-safe function's callback terminates the process.
  // While the environment is being torn down even opening a handle scope can fail.
  try {
    Napi::HandleScope scope(e);
    void* bytes = nullptr;
    napi_value buffer;
    check(env, napi_create_arraybuffer(env, d->bytes(), &bytes, &buffer), "creating a delivery buffer");
    std::memcpy(bytes, d->data(), d->bytes());
    napi_value tickets = view(env, napi_float64_array, n, buffer, Delivery::tickets_offset());
    napi_value tags = view(env, napi_uint32_array, n, buffer, d->tags_offset());
    napi_value statuses = view(env, napi_int32_array, n, buffer, d->statuses_offset());
    napi_value outputs = view(env, napi_float32_array, n * sink->output_width_, buffer, d->outputs_offset());
    napi_value messages = e.Undefined();
    if (!d->messages.empty()) {
      Napi::Array list = Napi::Array::New(e, n);
      for (std::size_t i = 0; i < n; ++i) {
        list.Set(static_cast<std::uint32_t>(i),
                 d->statuses()[i] == 0 ? e.Undefined() : Napi::String::New(e, d->messages[i]).As<Napi::Value>());
      }
      messages = list;
    }
    Napi::Function(env, callback).Call({tickets, statuses, outputs, messages, tags, Napi::Number::New(e, d->batch_rows)});
  } catch (const Napi::Error& error) {
    ReportUncaught(env, error);
  }
}

void PortSink::Finalize(napi_env, void* finalize_data, void*) {
  // Runs on the port's thread after Close() or when its environment is torn down.
  std::unique_ptr<std::shared_ptr<PortSink>> keep(static_cast<std::shared_ptr<PortSink>*>(finalize_data));
  PortSink& sink = **keep;
  {
    std::lock_guard lock(sink.mu_);
    sink.tsfn_ = nullptr;
  }
  if (auto scheduler = sink.scheduler_.lock()) scheduler->close_port(sink.id_);
}

void PortSink::Submitted() noexcept {
  if (outstanding_++ == 0 && !refed_) {
    std::lock_guard lock(mu_);
    if (tsfn_ != nullptr && napi_ref_threadsafe_function(env_, tsfn_) == napi_ok) refed_ = true;
  }
}

void PortSink::Delivered(std::size_t count) noexcept {
  outstanding_ = count >= outstanding_ ? 0 : outstanding_ - count;
  if (outstanding_ == 0 && refed_) {
    std::lock_guard lock(mu_);
    if (tsfn_ != nullptr) napi_unref_threadsafe_function(env_, tsfn_);
    refed_ = false;
  }
}

void PortSink::Close() noexcept {
  std::lock_guard lock(mu_);
  if (tsfn_ == nullptr) return;
  napi_release_threadsafe_function(tsfn_, napi_tsfn_release);
  tsfn_ = nullptr;  // Finalize follows once queued calls have run
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
