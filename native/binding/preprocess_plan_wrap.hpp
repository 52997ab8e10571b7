// JS class PreprocessPlan: a compiled preprocess.json (native/core/preprocess_plan.hpp).
//
//   const plan = new PreprocessPlan(spec)   spec: string or Uint8Array (UTF-8 JSON text). Throws an
//                                           Error with code 'ERR_PREPROCESS_SPEC' for a bad spec,
//                                           TypeError for a wrong argument.
//   plan.width        number   float32 values per output row
//   plan.outputName   string
//   plan.fields       frozen [{ name, type: 'number'|'string'|'boolean', missing: 'impute'|'reject',
//                              min?, max?, vocabulary?: string[] (string fields only) }]
//   plan.run(raw, rows, out)   raw: Float64Array of >= rows * fields.length values (the encoded
//                              records), out: Float32Array of >= rows * width values, written in
//                              place through the view. Returns undefined. TypeError / RangeError on
//                              wrong arguments.
// Only conversion and argument checks live here; all behaviour is in core.
#pragma once

#include <napi.h>

#include <memory>

#include "core/preprocess_plan.hpp"

namespace infergate::binding {

class PreprocessPlanWrap : public Napi::ObjectWrap<PreprocessPlanWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit PreprocessPlanWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Width(const Napi::CallbackInfo& info);
  Napi::Value OutputName(const Napi::CallbackInfo& info);
  Napi::Value Fields(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);

  // Shared so that work queued off the JS thread can keep a plan alive past its JS object.
  std::shared_ptr<const preprocess::Plan> plan_;
  Napi::Reference<Napi::Array> fields_;  // built once, frozen
};

}  // namespace infergate::binding
