// Module entry point of infergate_native.node. Exports:
//   version          the package version the addon was built from
//   PreprocessPlan   see preprocess_plan_wrap.hpp
//   BatchScheduler   see batch_scheduler_wrap.hpp
//   addressOf(view)  BigInt: where a typed array's data starts (zero-copy checks in tests)
#include <napi.h>

#include <cstdint>

#include "batch_scheduler_wrap.hpp"
#include "preprocess_plan_wrap.hpp"

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

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, INFERGATE_VERSION));
  infergate::binding::PreprocessPlanWrap::Register(env, exports);
  infergate::binding::BatchSchedulerWrap::Register(env, exports);
  exports.Set("addressOf", Napi::Function::New<AddressOf>(env, "addressOf"));
  return exports;
}

}  // namespace

NODE_API_MODULE(infergate_native, Init)
