// Module entry point of infergate_native.node. Exports:
//   version          the package version the addon was built from
//   PreprocessPlan   see preprocess_plan_wrap.hpp
//   BatchScheduler   see batch_scheduler_wrap.hpp
//   addressOf(view)  BigInt: where a typed array's data starts (zero-copy checks in tests)
//   createReadySignal()  number: a new ready signal (see ready_signal.hpp), one per executor
//   readyEpoch(signal)   number: changes whenever the signal is raised (a scheduler that signals
//                    it sealed a batch, or wakeReadyWaiters)
//   waitReady(signal, seen, timeoutMs)  unless the epoch already differs from `seen`, blocks this
//                    thread until the signal wakes it (a seal wakes the thread that waited last) or
//                    the timeout passes; false on a timeout. For executor workers only: it blocks.
//   wakeReadyWaiters(signal)  raises the signal and wakes every waiter, not just one
//   sweepSharedMemory()  string[]: removes the shared-memory regions of dead processes and returns
//                    their keys (core/shm_region.hpp), for unregistering them from Triton too
//   SharedMemoryMapping  see shm_mapping_wrap.hpp
#include <napi.h>

#include <cstdint>
#include <string>
#include <vector>

#include "batch_scheduler_wrap.hpp"
#include "core/shm_region.hpp"
#include "preprocess_plan_wrap.hpp"
#include "core/ready_signal.hpp"
#include "shm_mapping_wrap.hpp"

namespace {

Napi::Value AddressOf(const Napi::CallbackInfo& info) {
  if (!info[0].IsTypedArray()) throw Napi::TypeError::New(info.Env(), "addressOf: expected a typed array");
  napi_typedarray_type type;
  std::size_t length = 0;
  void* data = nullptr;
  NAPI_THROW_IF_FAILED(info.Env(), napi_get_typedarray_info(info.Env(), info[0], &type, &length, &data, nullptr, nullptr),
                       Napi::Value());
  return Napi::BigInt::New(info.Env(), static_cast<std::uint64_t>(reinterpret_cast<std::uintptr_t>(data)));
}

Napi::Value CreateReadySignal(const Napi::CallbackInfo& info) {
  const std::uint32_t id = infergate::sched::create_ready_signal();
  if (id == infergate::sched::kNoReadySignal) {
    throw Napi::RangeError::New(info.Env(), "createReadySignal: no more ready signals can be created in this process");
  }
  return Napi::Number::New(info.Env(), id);
}

// The signal id argument of `method`, checked to name a signal that exists.
std::uint32_t SignalArgument(const Napi::CallbackInfo& info, const char* method) {
  const double id = info[0].IsNumber() ? info[0].As<Napi::Number>().DoubleValue() : -1;
  if (!(id >= 0 && id < infergate::sched::kMaxReadySignals && id == static_cast<double>(static_cast<std::uint32_t>(id))) ||
      !infergate::sched::ready_signal_exists(static_cast<std::uint32_t>(id))) {
    throw Napi::RangeError::New(info.Env(), std::string(method) + ": signal must be an id returned by createReadySignal()");
  }
  return static_cast<std::uint32_t>(id);
}

Napi::Value ReadyEpoch(const Napi::CallbackInfo& info) {
  const std::uint32_t signal = SignalArgument(info, "readyEpoch");
  return Napi::Number::New(info.Env(), static_cast<double>(infergate::sched::ready_epoch(signal)));
}

Napi::Value WaitReady(const Napi::CallbackInfo& info) {
  const std::uint32_t signal = SignalArgument(info, "waitReady");
  if (!info[1].IsNumber() || !info[2].IsNumber()) {
    throw Napi::TypeError::New(info.Env(), "waitReady(signal, seen, timeoutMs): seen and timeoutMs must be numbers");
  }
  const double seen = info[1].As<Napi::Number>().DoubleValue();
  const double timeout = info[2].As<Napi::Number>().DoubleValue();
  if (!(seen >= 0) || !(timeout >= 0 && timeout <= 60000)) {
    throw Napi::RangeError::New(info.Env(), "waitReady: seen must be >= 0 and timeoutMs in [0, 60000]");
  }
  const bool woken =
      infergate::sched::wait_ready(signal, static_cast<std::uint64_t>(seen), static_cast<std::uint32_t>(timeout));
  return Napi::Boolean::New(info.Env(), woken);
}

Napi::Value WakeReadyWaiters(const Napi::CallbackInfo& info) {
  infergate::sched::wake_all_ready(SignalArgument(info, "wakeReadyWaiters"));
  return info.Env().Undefined();
}

Napi::Value SweepSharedMemory(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  std::vector<std::string> removed;
  try {
    removed = infergate::shm::sweep_stale_regions();
  } catch (const infergate::shm::ShmError& e) {
    Napi::Error error = Napi::Error::New(env, std::string("sweepSharedMemory: ") + e.what());
    error.Set("code", Napi::String::New(env, "ERR_SHARED_MEMORY"));
    throw error;
  }
  Napi::Array keys = Napi::Array::New(env, removed.size());
  for (std::uint32_t i = 0; i < removed.size(); ++i) keys.Set(i, Napi::String::New(env, removed[i]));
  return keys;
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, INFERGATE_VERSION));
  infergate::binding::PreprocessPlanWrap::Register(env, exports);
  infergate::binding::BatchSchedulerWrap::Register(env, exports);
  infergate::binding::ShmMappingWrap::Register(env, exports);
  exports.Set("addressOf", Napi::Function::New<AddressOf>(env, "addressOf"));
  exports.Set("createReadySignal", Napi::Function::New<CreateReadySignal>(env, "createReadySignal"));
  exports.Set("readyEpoch", Napi::Function::New<ReadyEpoch>(env, "readyEpoch"));
  exports.Set("waitReady", Napi::Function::New<WaitReady>(env, "waitReady"));
  exports.Set("sweepSharedMemory", Napi::Function::New<SweepSharedMemory>(env, "sweepSharedMemory"));
  exports.Set("wakeReadyWaiters", Napi::Function::New<WakeReadyWaiters>(env, "wakeReadyWaiters"));
  return exports;
}

}  // namespace

NODE_API_MODULE(infergate_native, Init)
