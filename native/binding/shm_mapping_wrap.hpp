// JS class SharedMemoryMapping: a mapping of part of an existing POSIX shared-memory object that a
// client created (core/shm_mapping.hpp), for the server side of Triton's system shared memory.
//
//   const m = new SharedMemoryMapping(key, offset, byteSize)
//       key: "/name"; offset, byteSize: integers (byteSize >= 1). Throws an Error with code
//       'ERR_SHARED_MEMORY' (message naming the key: no such object, object too small, bad key) and
//       TypeError / RangeError for arguments of the wrong kind.
//   m.buffer    ArrayBuffer over the mapped bytes [offset, offset + byteSize) of the object, in
//               place: writes are seen by the client. Detached (byteLength 0) once closed.
//   m.key, m.offset, m.byteSize
//   m.close()   detaches the buffer, so no view can reach the memory any more, then unmaps.
//               Idempotent. Without close(), the mapping goes when both the object and its buffer
//               have been collected.
// Only conversion and argument checks live here; the mapping itself is core's.
#pragma once

#include <napi.h>

#include <memory>

#include "core/shm_mapping.hpp"

namespace infergate::binding {

class ShmMappingWrap : public Napi::ObjectWrap<ShmMappingWrap> {
 public:
  static void Register(Napi::Env env, Napi::Object exports);
  explicit ShmMappingWrap(const Napi::CallbackInfo& info);

 private:
  Napi::Value Buffer(const Napi::CallbackInfo& info);
  Napi::Value Key(const Napi::CallbackInfo& info);
  Napi::Value Offset(const Napi::CallbackInfo& info);
  Napi::Value ByteSize(const Napi::CallbackInfo& info);
  Napi::Value Close(const Napi::CallbackInfo& info);

  // Shared with the buffer's finalizer: the memory stays mapped while either needs it.
  std::shared_ptr<shm::ShmMapping> mapping_;
  Napi::Reference<Napi::ArrayBuffer> buffer_;
  std::size_t offset_ = 0;
  std::size_t byte_size_ = 0;
};

}  // namespace infergate::binding
