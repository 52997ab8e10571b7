// POSIX shared-memory regions: what another process sees through the key, what destruction and
// unlink() leave behind, and how a later process finds and removes the regions of a dead one.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <string>
#include <vector>

#include "core/shm_region.hpp"
#include "shm_peer.hpp"

namespace shm = infergate::shm;
using infergate::test::shm_open_errno;
using infergate::test::ShmPeer;

namespace {

// Whether `key` is "/infergate-<this pid>-<digits>", followed by "-<tag>" when the tag is not empty.
// (By hand: std::regex trips GCC 12's -Wmaybe-uninitialized under the sanitizers.)
bool is_key(const std::string& key, const std::string& tag) {
  const std::string head = "/infergate-" + std::to_string(::getpid()) + "-";
  if (key.rfind(head, 0) != 0) return false;
  std::size_t end = head.size();
  while (end < key.size() && key[end] >= '0' && key[end] <= '9') ++end;
  if (end == head.size()) return false;
  return key.substr(end) == (tag.empty() ? "" : "-" + tag);
}

bool contains(const std::vector<std::string>& keys, const std::string& key) {
  return std::find(keys.begin(), keys.end(), key) != keys.end();
}

// Creates a region in a child process that then exits without unlinking it (as a killed process
// would), and returns its key once the child is reaped, so its pid names no process.
std::string orphaned_region() {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    ::close(pipe_fds[0]);
    try {
      shm::ShmRegion region = shm::ShmRegion::create(shm::make_region_key("orphan"), 4096);
      const std::string& key = region.key();
      const bool written = ::write(pipe_fds[1], key.data(), key.size()) == static_cast<ssize_t>(key.size());
      ::_exit(written ? 0 : 2);  // no destructors: the region stays behind
    } catch (...) {
      ::_exit(1);
    }
  }
  ::close(pipe_fds[1]);
  std::string key;
  char buffer[256];
  ssize_t n = 0;
  while ((n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0) key.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(child, &status, 0);
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) throw std::runtime_error("the child could not create its region");
  return key;
}

}  // namespace

TEST(ShmRegion, KeysNameThisProcessAndASanitisedTag) {
  const std::string a = shm::make_region_key("fraud-x/1 v2");
  const std::string b = shm::make_region_key("fraud-x/1 v2");
  EXPECT_TRUE(is_key(a, "fraud-x_1_v2")) << a;
  EXPECT_NE(a, b);
  EXPECT_TRUE(is_key(shm::make_region_key(""), "")) << shm::make_region_key("");
  EXPECT_TRUE(is_key(shm::make_region_key(std::string(500, 'x')), std::string(64, 'x')));
}

TEST(ShmRegion, IsVisibleThroughASecondMappingOfItsKey) {
  shm::ShmRegion region = shm::ShmRegion::create(shm::make_region_key("visible"), 10000);
  ASSERT_EQ(region.size(), 10000u);
  EXPECT_TRUE(std::all_of(region.data(), region.data() + region.size(), [](std::byte b) { return b == std::byte{0}; }));
  const char hello[] = "written by the owner";
  std::memcpy(region.data() + 9000, hello, sizeof hello);

  ShmPeer peer(region.key());
  ASSERT_EQ(peer.size(), 10000u);
  EXPECT_EQ(std::memcmp(peer.data() + 9000, hello, sizeof hello), 0);
  const char reply[] = "written by the peer";
  std::memcpy(peer.data() + 17, reply, sizeof reply);
  EXPECT_EQ(std::memcmp(region.data() + 17, reply, sizeof reply), 0);
}

TEST(ShmRegion, DestructionUnlinksTheKey) {
  std::string key;
  {
    shm::ShmRegion region = shm::ShmRegion::create(shm::make_region_key("scoped"), 64);
    key = region.key();
    EXPECT_EQ(shm_open_errno(key), 0);
    shm::ShmRegion moved = std::move(region);  // the moved-from region owns nothing, unlinks nothing
    EXPECT_EQ(moved.key(), key);
  }
  EXPECT_EQ(shm_open_errno(key), ENOENT);
}

TEST(ShmRegion, UnlinkRemovesTheNameButKeepsTheMapping) {
  shm::ShmRegion region = shm::ShmRegion::create(shm::make_region_key("unlinked"), 4096);
  ShmPeer peer(region.key());
  region.unlink();
  EXPECT_FALSE(region.linked());
  EXPECT_EQ(shm_open_errno(region.key()), ENOENT);
  region.data()[100] = std::byte{42};  // both mappings still share the memory
  EXPECT_EQ(peer.data()[100], std::byte{42});
  region.unlink();  // idempotent
}

TEST(ShmRegion, CreateOnAnExistingKeyFailsNamingTheKey) {
  shm::ShmRegion first = shm::ShmRegion::create(shm::make_region_key("taken"), 128);
  first.data()[0] = std::byte{7};
  try {
    shm::ShmRegion::create(first.key(), 128);
    FAIL() << "expected a ShmError";
  } catch (const shm::ShmError& e) {
    EXPECT_EQ(e.error_number(), EEXIST);
    EXPECT_NE(std::string(e.what()).find(first.key()), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shm_open failed: File exists"), std::string::npos) << e.what();
  }
  // The failed create left the existing region alone.
  ShmPeer peer(first.key());
  EXPECT_EQ(peer.data()[0], std::byte{7});
}

TEST(ShmRegion, RefusesBadKeysAndSizes) {
  auto message_of = [](const std::string& key, std::size_t bytes) -> std::string {
    try {
      shm::ShmRegion::create(key, bytes);
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "created";
  };
  const std::string key = shm::make_region_key("bad");
  EXPECT_NE(message_of(key, 0).find("size 0 must be from 1"), std::string::npos);
  EXPECT_NE(message_of("no-slash", 64).find("\"no-slash\" must be \"/name\""), std::string::npos);
  EXPECT_NE(message_of("/a/b", 64).find("\"/a/b\" must be \"/name\""), std::string::npos);
  EXPECT_NE(message_of("/", 64).find("must be \"/name\""), std::string::npos);
  EXPECT_EQ(shm_open_errno(key), ENOENT);  // nothing was created on the way
}

TEST(ShmRegion, SweepRemovesTheRegionsOfDeadProcessesAndKeepsLiveOnes) {
  const std::string orphan = orphaned_region();
  ASSERT_EQ(shm_open_errno(orphan), 0) << "the dead child's region should still exist before the sweep";
  shm::ShmRegion live = shm::ShmRegion::create(shm::make_region_key("live"), 64);

  const std::vector<std::string> removed = shm::sweep_stale_regions();

  EXPECT_TRUE(contains(removed, orphan)) << orphan;
  EXPECT_EQ(shm_open_errno(orphan), ENOENT);
  EXPECT_FALSE(contains(removed, live.key()));
  EXPECT_EQ(shm_open_errno(live.key()), 0);
  for (const std::string& key : removed) {
    EXPECT_EQ(key.rfind("/infergate-", 0), 0u) << "the sweep removed a region that is not ours: " << key;
  }
}

TEST(ShmRegion, SweepKeepsNamesWithoutAPid) {
  // An infergate- name whose pid part does not parse is never taken for stale.
  const std::string key = "/infergate-notapid-" + std::to_string(::getpid());
  shm::ShmRegion odd = shm::ShmRegion::create(key, 64);
  const std::vector<std::string> removed = shm::sweep_stale_regions();
  EXPECT_FALSE(contains(removed, key));
  EXPECT_EQ(shm_open_errno(key), 0);
}
