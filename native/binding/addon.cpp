// Module entry point of infergate_native.node. Exports:
//   version          the package version the addon was built from
//   PreprocessPlan   see preprocess_plan_wrap.hpp
#include <napi.h>

#include "preprocess_plan_wrap.hpp"

namespace {

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::String::New(env, INFERGATE_VERSION));
  infergate::binding::PreprocessPlanWrap::Register(env, exports);
  return exports;
}

}  // namespace

NODE_API_MODULE(infergate_native, Init)
