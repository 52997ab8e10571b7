#include "shm_mapping_wrap.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace infergate::binding {

namespace {

constexpr double kMaxSafe = 9007199254740991.0;  // 2^53 - 1

std::size_t size_argument(Napi::Env env, const Napi::Value& v, const char* what) {
  if (!v.IsNumber()) throw Napi::TypeError::New(env, std::string("SharedMemoryMapping: ") + what + " must be a number");
  const double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= kMaxSafe && d == std::floor(d))) {
    throw Napi::RangeError::New(env, std::string("SharedMemoryMapping: ") + what + " must be a non-negative integer");
  }
  return static_cast<std::size_t>(d);
}

[[noreturn]] void throw_shared_memory_error(Napi::Env env, const std::string& message) {
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, "ERR_SHARED_MEMORY"));
  throw error;
}

}  // namespace

void ShmMappingWrap::Register(Napi::Env env, Napi::Object exports) {
  Napi::Function ctor = DefineClass(env, "SharedMemoryMapping",
                                    {
                                        InstanceAccessor<&ShmMappingWrap::Buffer>("buffer"),
                                        InstanceAccessor<&ShmMappingWrap::Key>("key"),
                                        InstanceAccessor<&ShmMappingWrap::Offset>("offset"),
                                        InstanceAccessor<&ShmMappingWrap::ByteSize>("byteSize"),
                                        InstanceMethod<&ShmMappingWrap::Close>("close"),
                                    });
  exports.Set("SharedMemoryMapping", ctor);
}

ShmMappingWrap::ShmMappingWrap(const Napi::CallbackInfo& info) : Napi::ObjectWrap<ShmMappingWrap>(info) {
  Napi::Env env = info.Env();
  if (!info[0].IsString()) throw Napi::TypeError::New(env, "SharedMemoryMapping: key must be a string");
  const std::string key = info[0].As<Napi::String>().Utf8Value();
  offset_ = size_argument(env, info[1], "offset");
  byte_size_ = size_argument(env, info[2], "byteSize");
  try {
    mapping_ = std::make_shared<shm::ShmMapping>(shm::ShmMapping::open(key, offset_, byte_size_));
  } catch (const shm::ShmError& e) {
    throw_shared_memory_error(env, e.what());
  } catch (const std::invalid_argument& e) {
    throw_shared_memory_error(env, e.what());
  } catch (const std::out_of_range& e) {
    throw_shared_memory_error(env, e.what());
  }
  // External memory, no copy. The finalizer's reference keeps the mapping alive for as long as the
  // buffer can be reached, even if this object goes first.
  auto* keep = new std::shared_ptr<shm::ShmMapping>(mapping_);
  Napi::ArrayBuffer buffer;
  try {
    buffer = Napi::ArrayBuffer::New(
        env, mapping_->data(), mapping_->size(),
        [](Napi::Env, void*, std::shared_ptr<shm::ShmMapping>* k) { delete k; }, keep);
  } catch (...) {
    delete keep;
    throw;
  }
  buffer_ = Napi::Persistent(buffer);
}

Napi::Value ShmMappingWrap::Buffer(const Napi::CallbackInfo&) { return buffer_.Value(); }

Napi::Value ShmMappingWrap::Key(const Napi::CallbackInfo& info) { return Napi::String::New(info.Env(), mapping_->key()); }

Napi::Value ShmMappingWrap::Offset(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(offset_));
}

Napi::Value ShmMappingWrap::ByteSize(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), static_cast<double>(byte_size_));
}

Napi::Value ShmMappingWrap::Close(const Napi::CallbackInfo& info) {
  // Detach first: every typed array or Buffer over the memory reads as empty from now on, so the
  // unmap below can never be reached from JS.
  Napi::ArrayBuffer buffer = buffer_.Value();
  if (!buffer.IsDetached()) buffer.Detach();
  mapping_->close();
  return info.Env().Undefined();
}

}  // namespace infergate::binding
