// A second mapping of a shared-memory region, opened by key the way another process (a co-located
// Triton server) opens it: shm_open + mmap, independent of the ShmRegion that created it.
#pragma once

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <stdexcept>
#include <string>
#include <system_error>

namespace infergate::test {

// errno of shm_open(key, O_RDONLY), or 0 when the key opens (the object exists).
inline int shm_open_errno(const std::string& key) {
  const int fd = ::shm_open(key.c_str(), O_RDONLY, 0);
  if (fd < 0) return errno;
  ::close(fd);
  return 0;
}

class ShmPeer {
 public:
  explicit ShmPeer(const std::string& key) {
    const int fd = ::shm_open(key.c_str(), O_RDWR, 0);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "peer shm_open " + key);
    struct stat st {};
    if (::fstat(fd, &st) != 0) {
      const int error = errno;
      ::close(fd);
      throw std::system_error(error, std::generic_category(), "peer fstat " + key);
    }
    size_ = static_cast<std::size_t>(st.st_size);
    void* p = ::mmap(nullptr, size_, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    const int error = errno;
    ::close(fd);
    if (p == MAP_FAILED) throw std::system_error(error, std::generic_category(), "peer mmap " + key);
    data_ = static_cast<std::byte*>(p);
  }
  ~ShmPeer() { ::munmap(data_, size_); }
  ShmPeer(const ShmPeer&) = delete;
  ShmPeer& operator=(const ShmPeer&) = delete;

  std::byte* data() const noexcept { return data_; }
  std::size_t size() const noexcept { return size_; }

 private:
  std::byte* data_ = nullptr;
  std::size_t size_ = 0;
};

}  // namespace infergate::test
