#include "js_sinks.hpp"

#include <napi.h>

#include <cstring>
#include <limits>
#include <string>
#include <vector>

namespace infergate::binding {

namespace {

void check(napi_env env, napi_status status, const char* what) {
  if (status != napi_ok) throw Napi::Error::New(env, std::string("BatchScheduler: ") + what + " failed");
}

// One (batch, port) delivery, copied off the batch memory on the executor thread.
struct Delivery {
  std::vector<double> tickets;
  std::vector<std::int32_t> statuses;
  std::vector<float> outputs;
  std::vector<std::string> messages;
  bool any_message = false;
};

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
    d = new Delivery;
    const std::size_t n = completions.size();
    d->tickets.resize(n);
    d->statuses.resize(n);
    d->outputs.resize(n * output_width_);
    d->messages.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const sched::Completion& c = completions[i];
      d->tickets[i] = static_cast<double>(c.ticket);
      d->statuses[i] = static_cast<std::int32_t>(c.status);
      float* out = d->outputs.data() + i * output_width_;
      if (c.status == sched::Status::ok) {
        std::memcpy(out, c.output, output_width_ * sizeof(float));
      } else {  // no score for a failed request: NaN can never be mistaken for one
        std::fill(out, out + output_width_, std::numeric_limits<float>::quiet_NaN());
        d->messages[i].assign(c.message);
        d->any_message = true;
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

void PortSink::CallJs(napi_env env, napi_value callback, void* context, void* data) {
  std::unique_ptr<Delivery> d(static_cast<Delivery*>(data));
  if (env == nullptr || callback == nullptr) return;  // the environment is going away
  auto* sink = static_cast<PortSink*>(context);
  const std::size_t n = d->tickets.size();
  sink->Delivered(n);
  Napi::Env e(env);
  Napi::HandleScope scope(e);
  try {
    auto tickets = Napi::Float64Array::New(e, n);
    std::memcpy(tickets.Data(), d->tickets.data(), n * sizeof(double));
    auto statuses = Napi::Int32Array::New(e, n);
    std::memcpy(statuses.Data(), d->statuses.data(), n * sizeof(std::int32_t));
    auto outputs = Napi::Float32Array::New(e, d->outputs.size());
    std::memcpy(outputs.Data(), d->outputs.data(), d->outputs.size() * sizeof(float));
    Napi::Value messages = e.Undefined();
    if (d->any_message) {
      Napi::Array list = Napi::Array::New(e, n);
      for (std::size_t i = 0; i < n; ++i) {
        list.Set(static_cast<std::uint32_t>(i),
                 d->statuses[i] == 0 ? e.Undefined() : Napi::String::New(e, d->messages[i]).As<Napi::Value>());
      }
      messages = list;
    }
    Napi::Function(env, callback).Call({tickets, statuses, outputs, messages});
  } catch (const Napi::Error& error) {
    // The callback threw: report it as Node reports any uncaught exception of a callback.
    napi_fatal_exception(env, error.Value());
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

void SealedNotifier::Notify() noexcept {
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
  Napi::HandleScope scope(e);
  double ready = 0;
  if (auto scheduler = handle->notifier->scheduler_.lock()) {
    ready = static_cast<double>(scheduler->stats().ready_batches);
  }
  try {
    Napi::Function(env, callback).Call({Napi::Number::New(e, ready)});
  } catch (const Napi::Error& error) {
    napi_fatal_exception(env, error.Value());
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
