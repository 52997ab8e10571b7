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

  // The plan behind a PreprocessPlan instance, or null when `value` is anything else. Instances are
  // type-tagged, so another wrapped object can never be mistaken for one.
  static std::shared_ptr<const preprocess::Plan> PlanOf(const Napi::Value& value);

 private:
  Napi::Value Width(const Napi::CallbackInfo& info);
  Napi::Value OutputName(const Napi::CallbackInfo& info);
  Napi::Value Fields(const Napi::CallbackInfo& info);
  Napi::Value Run(const Napi::CallbackInfo& info);

  // Shared so that work queued off the JS thread can keep a plan alive past its JS object.
  std::shared_ptr<const preprocess::Plan> plan_;
  Napi::Reference<Napi::Array> fields_;  // built once, frozen
};

// plan.fields as PreprocessPlan exposes it: a frozen array of frozen field descriptions.
Napi::Array BuildPlanFields(Napi::Env env, const preprocess::Plan& plan);

}  // namespace infergate::binding
