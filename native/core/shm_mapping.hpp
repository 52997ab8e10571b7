// A mapping of part of an EXISTING POSIX shared-memory object that some other process created: the
// server side of Triton's system shared memory extension. A client creates "/its_key", registers
// (name, key, offset, byte size) with the server, and then names tensors by (region, offset, size)
// instead of sending their bytes; the server maps [offset, offset + byte size) of the object once,
// reads inputs from it and writes outputs into it.
//
// The creating side, and the cleanup of objects whose creator died, is shm_region.hpp. A mapping
// never creates, resizes or unlinks the object: the client owns it.
#pragma once

#include <cstddef>
#include <string>

#include "shm_region.hpp"  // ShmError

namespace infergate::shm {

class ShmMapping {
 public:
  // Opens `key` (shm_open O_RDWR: the server writes outputs into it), checks with fstat that the
  // object holds at least offset + byte_size bytes, and maps exactly that range read-write.
  // Throws std::invalid_argument when the key is not "/name" or byte_size is 0, std::out_of_range
  // when offset + byte_size overflows or exceeds the object's size (the message names the key and
  // both sizes), ShmError when a system call fails (e.g. ENOENT: no such object).
  static ShmMapping open(const std::string& key, std::size_t offset, std::size_t byte_size);

  ShmMapping(ShmMapping&& other) noexcept;
  ShmMapping& operator=(ShmMapping&& other) noexcept;
  ShmMapping(const ShmMapping&) = delete;
  ShmMapping& operator=(const ShmMapping&) = delete;
  ~ShmMapping();  // close()

  // The first byte of the requested range (offset within the object), and its length. Null and 0
  // once closed.
  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  std::size_t offset() const noexcept { return offset_; }
  const std::string& key() const noexcept { return key_; }
  bool is_open() const noexcept { return base_ != nullptr; }

  // Unmaps the range. Idempotent. The object itself stays: it belongs to its creator.
  void close() noexcept;

 private:
  ShmMapping(std::string key, std::byte* base, std::size_t mapped, std::size_t lead, std::size_t offset, std::size_t size) noexcept;

  std::string key_;
  // mmap wants a page-aligned file offset: the mapping (base_, mapped_ bytes) starts at the page
  // holding `offset_`, a little before data_, the range the caller asked for.
  std::byte* base_ = nullptr;
  std::size_t mapped_ = 0;
  std::byte* data_ = nullptr;
  std::size_t offset_ = 0;
  std::size_t size_ = 0;
};

}  // namespace infergate::shm
