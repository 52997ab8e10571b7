#include "shm_region.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <charconv>
#include <climits>
#include <cstdint>
#include <limits>
#include <memory>
#include <system_error>

namespace infergate::shm {

namespace {

constexpr const char* kShmDirectory = "/dev/shm";
constexpr std::size_t kMaxTag = 64;

ShmError failure(const std::string& key, const char* call, int error_number) {
  return ShmError("shared memory region \"" + key + "\": " + call + " failed: " +
                      std::generic_category().message(error_number),
                  error_number);
}

void check_key(const std::string& key) {
  // POSIX leaves names with a second '/' implementation-defined; glibc maps the name to a file in
  // /dev/shm, which must fit in NAME_MAX.
  if (key.size() < 2 || key.size() - 1 > NAME_MAX || key.front() != '/' ||
      key.find('/', 1) != std::string::npos) {
    throw std::invalid_argument("shared memory key \"" + key + "\" must be \"/name\": one leading '/', no other, 1 to " +
                                std::to_string(NAME_MAX) + " characters after it");
  }
}

// The pid in "infergate-<pid>-...", or 0 when `name` is not such a name (pid 0 never names a
// process here: kill(0, sig) would address our own process group).
pid_t owner_of(std::string_view name) {
  if (!name.starts_with(kRegionPrefix)) return 0;
  const std::string_view rest = name.substr(kRegionPrefix.size());
  long long pid = 0;
  const auto [end, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), pid);
  if (ec != std::errc{} || end == rest.data() || end == rest.data() + rest.size() || *end != '-') return 0;
  if (pid < 1 || pid > std::numeric_limits<pid_t>::max()) return 0;
  return static_cast<pid_t>(pid);
}

bool process_gone(pid_t pid) { return ::kill(pid, 0) != 0 && errno == ESRCH; }

}  // namespace

std::string make_region_key(std::string_view tag) {
  static std::atomic<std::uint64_t> sequence{0};
  // Appended piece by piece: GCC 12 reports a false -Wrestrict on a chain of operator+ here.
  std::string key(1, '/');
  key.append(kRegionPrefix);
  key.append(std::to_string(::getpid()));
  key.push_back('-');
  key.append(std::to_string(sequence.fetch_add(1, std::memory_order_relaxed)));
  if (!tag.empty()) {
    key.push_back('-');
    for (char c : tag.substr(0, kMaxTag)) {
      const bool letter_or_digit = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
      key.push_back(letter_or_digit || c == '-' || c == '_' || c == '.' ? c : '_');
    }
  }
  return key;
}

ShmRegion ShmRegion::create(std::string key, std::size_t bytes) {
  check_key(key);
  if (bytes == 0 || bytes > static_cast<std::size_t>(std::numeric_limits<off_t>::max())) {
    throw std::invalid_argument("shared memory region \"" + key + "\": size " + std::to_string(bytes) +
                                " must be from 1 to " + std::to_string(std::numeric_limits<off_t>::max()) + " bytes");
  }
  const int fd = ::shm_open(key.c_str(), O_CREAT | O_EXCL | O_RDWR, 0600);
  if (fd < 0) throw failure(key, "shm_open", errno);
  // Past this point the name exists: a failure removes it again before reporting.
  auto undo = [&](const char* call, int error_number) {
    ::close(fd);
    ::shm_unlink(key.c_str());
    return failure(key, call, error_number);
  };
  if (::ftruncate(fd, static_cast<off_t>(bytes)) != 0) throw undo("ftruncate", errno);
  // Reserve the pages now. On a tmpfs too small for the region (Docker's default /dev/shm is 64 MiB)
  // ftruncate alone succeeds, and the first write to a page that cannot be had kills the process
  // with SIGBUS, possibly on the hot path; posix_fallocate fails here instead, with ENOSPC.
  int reserved = 0;
  do {
    reserved = ::posix_fallocate(fd, 0, static_cast<off_t>(bytes));
  } while (reserved == EINTR);
  if (reserved != 0) throw undo("posix_fallocate", reserved);
  void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  if (mapped == MAP_FAILED) throw undo("mmap", errno);
  ::close(fd);  // the mapping keeps the object open
  return ShmRegion(std::move(key), static_cast<std::byte*>(mapped), bytes);
}

ShmRegion::ShmRegion(ShmRegion&& other) noexcept
    : key_(std::move(other.key_)), data_(other.data_), size_(other.size_), linked_(other.linked_) {
  other.data_ = nullptr;
  other.size_ = 0;
  other.linked_ = false;
}

ShmRegion& ShmRegion::operator=(ShmRegion&& other) noexcept {
  if (this != &other) {
    release();
    key_ = std::move(other.key_);
    data_ = other.data_;
    size_ = other.size_;
    linked_ = other.linked_;
    other.data_ = nullptr;
    other.size_ = 0;
    other.linked_ = false;
  }
  return *this;
}

ShmRegion::~ShmRegion() { release(); }

void ShmRegion::unlink() noexcept {
  if (!linked_) return;
  linked_ = false;
  ::shm_unlink(key_.c_str());
}

void ShmRegion::release() noexcept {
  if (data_ != nullptr) ::munmap(data_, size_);
  unlink();
  data_ = nullptr;
  size_ = 0;
}

std::vector<std::string> sweep_stale_regions() {
  std::vector<std::string> removed;
  std::unique_ptr<DIR, int (*)(DIR*)> dir(::opendir(kShmDirectory), &::closedir);
  if (!dir) {
    if (errno == ENOENT) return removed;  // no POSIX shm here, so nothing can be stale
    throw ShmError(std::string("listing ") + kShmDirectory + " for stale shared memory regions failed: " +
                       std::generic_category().message(errno),
                   errno);
  }
  // Collect first, then remove: unlinking while readdir() walks the directory may skip entries.
  std::vector<std::string> stale;
  while (const dirent* entry = ::readdir(dir.get())) {
    const pid_t owner = owner_of(entry->d_name);
    if (owner != 0 && process_gone(owner)) stale.emplace_back(entry->d_name);
  }
  for (const std::string& name : stale) {
    std::string key = "/" + name;
    if (::shm_unlink(key.c_str()) == 0) removed.push_back(std::move(key));
  }
  return removed;
}

}  // namespace infergate::shm
