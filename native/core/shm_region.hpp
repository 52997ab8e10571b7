// A POSIX shared-memory region owned by this process: the memory a co-located Triton server reads
// inputs from and writes outputs to when a request names (region key, offset, byte size) instead of
// carrying tensor bytes (Triton's system shared memory extension).
//
// Keys are "/infergate-<pid>-<seq>[-<tag>]". The pid lets a later process recognise a region whose
// owner died without unlinking it (SIGKILL, a crash, exit without destructors) and remove it:
// sweep_stale_regions(). Linux only: the sweep lists /dev/shm, where glibc keeps POSIX shm objects.
#pragma once

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace infergate::shm {

// A system call on a region failed. The message names the key, the call and the errno text.
class ShmError : public std::runtime_error {
 public:
  ShmError(const std::string& message, int error_number)
      : std::runtime_error(message), error_number_(error_number) {}
  int error_number() const noexcept { return error_number_; }

 private:
  int error_number_;
};

// "infergate-", the prefix of every region name this project creates (without the leading slash,
// as the names appear in /dev/shm).
inline constexpr std::string_view kRegionPrefix = "infergate-";

// A fresh key for this process: "/infergate-<pid>-<seq>" plus "-<tag>" when the tag is not empty.
// The tag (e.g. the model version's name) is for people reading /dev/shm: characters other than
// letters, digits, '-', '_' and '.' become '_', and it is cut to 64 characters.
std::string make_region_key(std::string_view tag);

class ShmRegion {
 public:
  // Creates the shared-memory object `key` (shm_open with O_CREAT | O_EXCL, mode 0600: another
  // process of the same user, such as a co-located Triton, may open it), sizes it to `bytes` and
  // maps it read-write. The memory reads as zeros. Throws ShmError when `key` already exists, when
  // the memory cannot be reserved (e.g. /dev/shm is full) or on any other failure, leaving nothing
  // behind; std::invalid_argument when `bytes` is 0 or `key` is not "/name" without another '/'.
  static ShmRegion create(std::string key, std::size_t bytes);

  ShmRegion(ShmRegion&& other) noexcept;
  ShmRegion& operator=(ShmRegion&& other) noexcept;
  ShmRegion(const ShmRegion&) = delete;
  ShmRegion& operator=(const ShmRegion&) = delete;
  ~ShmRegion();  // munmap, and shm_unlink unless unlink() already ran

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }
  const std::string& key() const noexcept { return key_; }

  // Removes the name now; the mapping stays valid until destruction, as do mappings other processes
  // already made. Later shm_open()s of the key fail. Idempotent; errors are ignored (the name may
  // have been removed by someone else, e.g. a sweep that misjudged a reused pid).
  void unlink() noexcept;
  bool linked() const noexcept { return linked_; }

 private:
  ShmRegion(std::string key, std::byte* data, std::size_t size) noexcept
      : key_(std::move(key)), data_(data), size_(size), linked_(true) {}
  void release() noexcept;

  std::string key_;
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
  bool linked_ = false;
};

// Removes the regions left behind by dead processes: every /dev/shm entry named
// "infergate-<pid>-..." whose process no longer exists (kill(pid, 0) fails with ESRCH). Returns the
// keys it removed ("/infergate-..."), so that the caller can also unregister them from a Triton
// server. Regions of live processes, of processes of other users (EPERM) and names that do not parse
// are kept; an entry that vanishes or cannot be removed meanwhile is skipped. A recycled pid makes a
// stale region look alive: it is kept, never the other way round. Throws ShmError when /dev/shm
// exists but cannot be read.
std::vector<std::string> sweep_stale_regions();

}  // namespace infergate::shm
