#include "shm_mapping.hpp"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <climits>
#include <limits>
#include <stdexcept>
#include <system_error>
#include <utility>

namespace infergate::shm {

namespace {

ShmError failure(const std::string& key, const char* call, int error_number) {
  return ShmError("shared memory key \"" + key + "\": " + call + " failed: " + std::generic_category().message(error_number),
                  error_number);
}

// The same rule ShmRegion::create applies: glibc keeps "/name" as /dev/shm/name.
void check_key(const std::string& key) {
  if (key.size() < 2 || key.size() - 1 > NAME_MAX || key.front() != '/' || key.find('/', 1) != std::string::npos) {
    throw std::invalid_argument("shared memory key \"" + key + "\" must be \"/name\": one leading '/', no other, 1 to " +
                                std::to_string(NAME_MAX) + " characters after it");
  }
}

// Closes a descriptor on every path out of open().
class Descriptor {
 public:
  explicit Descriptor(int fd) noexcept : fd_(fd) {}
  ~Descriptor() {
    if (fd_ >= 0) ::close(fd_);
  }
  Descriptor(const Descriptor&) = delete;
  Descriptor& operator=(const Descriptor&) = delete;
  int get() const noexcept { return fd_; }

 private:
  int fd_;
};

}  // namespace

ShmMapping ShmMapping::open(const std::string& key, std::size_t offset, std::size_t byte_size) {
  check_key(key);
  if (byte_size == 0) throw std::invalid_argument("shared memory key \"" + key + "\": byte size must be at least 1");
  constexpr auto kMaxOffset = static_cast<std::size_t>(std::numeric_limits<off_t>::max());
  if (offset > kMaxOffset || byte_size > kMaxOffset - offset) {
    throw std::out_of_range("shared memory key \"" + key + "\": offset " + std::to_string(offset) + " + byte size " +
                            std::to_string(byte_size) + " is past the largest file offset");
  }
  const std::size_t end = offset + byte_size;
  const Descriptor fd(::shm_open(key.c_str(), O_RDWR, 0));
  if (fd.get() < 0) throw failure(key, "shm_open", errno);
  struct stat st {};
  if (::fstat(fd.get(), &st) != 0) throw failure(key, "fstat", errno);
  const auto object_size = static_cast<std::size_t>(st.st_size);
  if (st.st_size < 0 || object_size < end) {
    // Mapping past the end would "work" and then SIGBUS on first touch: refuse here instead.
    throw std::out_of_range("shared memory key \"" + key + "\" holds " + std::to_string(st.st_size) +
                            " bytes, fewer than offset " + std::to_string(offset) + " + byte size " +
                            std::to_string(byte_size) + " = " + std::to_string(end));
  }
  const long page = ::sysconf(_SC_PAGESIZE);
  const std::size_t page_size = page > 0 ? static_cast<std::size_t>(page) : 4096;
  const std::size_t lead = offset % page_size;
  const std::size_t mapped = lead + byte_size;
  void* p = ::mmap(nullptr, mapped, PROT_READ | PROT_WRITE, MAP_SHARED, fd.get(), static_cast<off_t>(offset - lead));
  if (p == MAP_FAILED) throw failure(key, "mmap", errno);
  return ShmMapping(key, static_cast<std::byte*>(p), mapped, lead, offset, byte_size);
}

ShmMapping::ShmMapping(std::string key, std::byte* base, std::size_t mapped, std::size_t lead, std::size_t offset,
                       std::size_t size) noexcept
    : key_(std::move(key)), base_(base), mapped_(mapped), data_(base + lead), offset_(offset), size_(size) {}

ShmMapping::ShmMapping(ShmMapping&& other) noexcept
    : key_(std::move(other.key_)),
      base_(std::exchange(other.base_, nullptr)),
      mapped_(std::exchange(other.mapped_, 0)),
      data_(std::exchange(other.data_, nullptr)),
      offset_(std::exchange(other.offset_, 0)),
      size_(std::exchange(other.size_, 0)) {}

ShmMapping& ShmMapping::operator=(ShmMapping&& other) noexcept {
  if (this != &other) {
    close();
    key_ = std::move(other.key_);
    base_ = std::exchange(other.base_, nullptr);
    mapped_ = std::exchange(other.mapped_, 0);
    data_ = std::exchange(other.data_, nullptr);
    offset_ = std::exchange(other.offset_, 0);
    size_ = std::exchange(other.size_, 0);
  }
  return *this;
}

ShmMapping::~ShmMapping() { close(); }

void ShmMapping::close() noexcept {
  if (base_ != nullptr) ::munmap(base_, mapped_);
  base_ = nullptr;
  data_ = nullptr;
  mapped_ = 0;
  size_ = 0;
}

}  // namespace infergate::shm
