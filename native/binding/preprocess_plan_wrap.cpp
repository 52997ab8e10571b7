#include "preprocess_plan_wrap.hpp"

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace infergate::binding {

namespace {

constexpr const char* kSpecErrorCode = "ERR_PREPROCESS_SPEC";

[[noreturn]] void throw_spec_error(Napi::Env env, const char* message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, kSpecErrorCode));
  throw error;
}

// Marks PreprocessPlan instances (napi_type_tag_object); any fixed random UUID.
constexpr napi_type_tag kPlanTag = {0x8d2c6e4f1a3b4c55ULL, 0x9e7f0a1b2c3d4e5fULL};

}  // namespace

Napi::Array BuildPlanFields(Napi::Env env, const preprocess::Plan& plan) {
  const auto& fields = plan.fields();
  Napi::Array list = Napi::Array::New(env, fields.size());
  for (std::size_t i = 0; i < fields.size(); ++i) {
    const preprocess::FieldInfo& f = fields[i];
    Napi::Object o = Napi::Object::New(env);
    o.Set("name", Napi::String::New(env, f.name));
    o.Set("type", Napi::String::New(env, preprocess::to_string(f.type)));
    o.Set("missing", Napi::String::New(env, preprocess::to_string(f.missing)));
    if (f.min) o.Set("min", Napi::Number::New(env, *f.min));
    if (f.max) o.Set("max", Napi::Number::New(env, *f.max));
    if (f.type == preprocess::FieldType::string) {
      Napi::Array vocabulary = Napi::Array::New(env, f.vocabulary.size());
      for (std::size_t k = 0; k < f.vocabulary.size(); ++k) {
        vocabulary.Set(static_cast<std::uint32_t>(k), Napi::String::New(env, f.vocabulary[k]));
      }
      vocabulary.Freeze();
      o.Set("vocabulary", vocabulary);
    }
    o.Freeze();
    list.Set(static_cast<std::uint32_t>(i), o);
  }
  list.Freeze();
  return list;
}

namespace {

bool is_typed_array(const Napi::Value& v, napi_typedarray_type type) {
  return v.IsTypedArray() && v.As<Napi::TypedArray>().TypedArrayType() == type;
}

}  // namespace

void PreprocessPlanWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "PreprocessPlan",
                                    {
                                        InstanceAccessor<&PreprocessPlanWrap::Width>("width"),
                                        InstanceAccessor<&PreprocessPlanWrap::OutputName>("outputName"),
                                        InstanceAccessor<&PreprocessPlanWrap::Fields>("fields"),
                                        InstanceMethod<&PreprocessPlanWrap::Run>("run"),
                                    });
  exports.Set("PreprocessPlan", ctor);
}

PreprocessPlanWrap::PreprocessPlanWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<PreprocessPlanWrap>(info) {
  Napi::Env env = info.Env();
  std::string text;
  if (info.Length() >= 1 && info[0].IsString()) {
    text = info[0].As<Napi::String>().Utf8Value();
  } else if (is_typed_array(info[0], napi_uint8_array)) {
    // Bytes as read from preprocess.json; the parser validates the UTF-8 itself.
    auto bytes = info[0].As<Napi::Uint8Array>();
    text.assign(reinterpret_cast<const char*>(bytes.Data()), bytes.ElementLength());
  } else {
    throw Napi::TypeError::New(env, "PreprocessPlan: the spec must be a string or a Uint8Array of JSON text");
  }
  try {
    plan_ = std::make_shared<const preprocess::Plan>(preprocess::compile(std::string_view(text)));
  } catch (const json::JsonError& e) {
    throw_spec_error(env, e.what());
  } catch (const preprocess::PlanError& e) {
    throw_spec_error(env, e.what());
  }
  fields_ = Napi::Persistent(BuildPlanFields(env, *plan_));
  info.This().As<Napi::Object>().TypeTag(&kPlanTag);
}

std::shared_ptr<const preprocess::Plan> PreprocessPlanWrap::PlanOf(const Napi::Value& value) {
  if (!value.IsObject() || !value.As<Napi::Object>().CheckTypeTag(&kPlanTag)) return nullptr;
  return Unwrap(value.As<Napi::Object>())->plan_;
}

Napi::Value PreprocessPlanWrap::Width(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(plan_->width()));
}

Napi::Value PreprocessPlanWrap::OutputName(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), plan_->output_name());
}

Napi::Value PreprocessPlanWrap::Fields(const Napi::CallbackInfo&) { return fields_.Value(); }

Napi::Value PreprocessPlanWrap::Run(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (!is_typed_array(info[0], napi_float64_array)) {
    throw Napi::TypeError::New(env, "PreprocessPlan.run: raw must be a Float64Array");
  }
  if (!info[1].IsNumber()) throw Napi::TypeError::New(env, "PreprocessPlan.run: rows must be a number");
  if (!is_typed_array(info[2], napi_float32_array)) {
    throw Napi::TypeError::New(env, "PreprocessPlan.run: out must be a Float32Array");
  }
  double rows_value = info[1].As<Napi::Number>().DoubleValue();
  if (!(rows_value >= 0 && rows_value <= 4294967295.0 && rows_value == std::floor(rows_value))) {
    throw Napi::RangeError::New(env, "PreprocessPlan.run: rows must be an integer from 0 to 4294967295");
  }
  auto rows = static_cast<std::uint64_t>(rows_value);
  auto raw = info[0].As<Napi::Float64Array>();
  auto out = info[2].As<Napi::Float32Array>();

  // At most 2^32 rows times fewer than 2^31 fields or columns: no overflow in 64 bits.
  std::uint64_t raw_needed = rows * plan_->field_count();
  std::uint64_t out_needed = rows * plan_->width();
  if (raw.ElementLength() < raw_needed) {
    throw Napi::RangeError::New(env, "PreprocessPlan.run: raw has " + std::to_string(raw.ElementLength()) +
                                         " values, but " + std::to_string(rows) + " rows of " +
                                         std::to_string(plan_->field_count()) + " fields need " +
                                         std::to_string(raw_needed));
  }
  if (out.ElementLength() < out_needed) {
    throw Napi::RangeError::New(env, "PreprocessPlan.run: out has " + std::to_string(out.ElementLength()) +
                                         " values, but " + std::to_string(rows) + " rows of width " +
                                         std::to_string(plan_->width()) + " need " + std::to_string(out_needed));
  }
  if (rows == 0) return env.Undefined();

  // The views may share one ArrayBuffer. Overlap would let run() overwrite inputs it has yet to read
  // (and double and float pointers to the same bytes are undefined behaviour), so refuse it.
  auto raw_begin = reinterpret_cast<std::uintptr_t>(raw.Data());
  auto out_begin = reinterpret_cast<std::uintptr_t>(out.Data());
  if (raw_begin < out_begin + out_needed * sizeof(float) && out_begin < raw_begin + raw_needed * sizeof(double)) {
    throw Napi::RangeError::New(env, "PreprocessPlan.run: raw and out must not overlap in memory");
  }

  // Data() is the view's own start (buffer + byteOffset): results land in the caller's memory.
  plan_->run(raw.Data(), static_cast<std::size_t>(rows), out.Data());
  return env.Undefined();
}

}  // namespace infergate::binding
