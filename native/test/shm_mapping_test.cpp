// Mapping a shared-memory object another process created (the client's side of Triton's system
// shared memory): what the mapping sees, what it writes back, which ranges it refuses, and that
// closing it leaves the client's object alone.
#include <gtest/gtest.h>

#include <cerrno>
#include <cstring>
#include <limits>
#include <stdexcept>
#include <string>
#include <utility>

#include "core/shm_mapping.hpp"
#include "core/shm_region.hpp"
#include "shm_peer.hpp"

namespace shm = infergate::shm;
using infergate::test::shm_open_errno;

namespace {

// The client's object: created here by ShmRegion, `bytes` long, byte i holding i % 251.
shm::ShmRegion client_region(std::size_t bytes) {
  shm::ShmRegion region = shm::ShmRegion::create(shm::make_region_key("client"), bytes);
  for (std::size_t i = 0; i < bytes; ++i) region.data()[i] = static_cast<std::byte>(i % 251);
  return region;
}

}  // namespace

TEST(ShmMapping, SeesTheRangeItWasAskedFor) {
  const shm::ShmRegion region = client_region(20000);
  // 5000 is not a page boundary: the mapping starts at the page before and points past it.
  const shm::ShmMapping mapping = shm::ShmMapping::open(region.key(), 5000, 7000);
  ASSERT_TRUE(mapping.is_open());
  EXPECT_EQ(mapping.size(), 7000u);
  EXPECT_EQ(mapping.offset(), 5000u);
  EXPECT_EQ(mapping.key(), region.key());
  EXPECT_EQ(std::memcmp(mapping.data(), region.data() + 5000, 7000), 0);
}

TEST(ShmMapping, WritesAreSeenByTheCreator) {
  const shm::ShmRegion region = client_region(8192);
  const shm::ShmMapping mapping = shm::ShmMapping::open(region.key(), 4096, 100);
  std::memset(mapping.data(), 0x7f, mapping.size());
  for (std::size_t i = 4096; i < 4196; ++i) EXPECT_EQ(region.data()[i], std::byte{0x7f}) << i;
  EXPECT_EQ(region.data()[4095], static_cast<std::byte>(4095 % 251));
  EXPECT_EQ(region.data()[4196], static_cast<std::byte>(4196 % 251));
}

TEST(ShmMapping, TheWholeObjectCanBeMapped) {
  const shm::ShmRegion region = client_region(4096);
  const shm::ShmMapping mapping = shm::ShmMapping::open(region.key(), 0, 4096);
  EXPECT_EQ(std::memcmp(mapping.data(), region.data(), 4096), 0);
}

TEST(ShmMapping, RefusesARangePastTheEndOfTheObject) {
  const shm::ShmRegion region = client_region(1000);
  try {
    (void)shm::ShmMapping::open(region.key(), 900, 101);
    FAIL() << "expected std::out_of_range";
  } catch (const std::out_of_range& e) {
    const std::string message = e.what();
    EXPECT_NE(message.find(region.key()), std::string::npos) << message;
    EXPECT_NE(message.find("holds 1000 bytes"), std::string::npos) << message;
    EXPECT_NE(message.find("= 1001"), std::string::npos) << message;
  }
  EXPECT_THROW((void)shm::ShmMapping::open(region.key(), 1000, 1), std::out_of_range);
}

TEST(ShmMapping, RefusesOffsetsThatOverflow) {
  const shm::ShmRegion region = client_region(1000);
  constexpr std::size_t kHuge = std::numeric_limits<std::size_t>::max();
  EXPECT_THROW((void)shm::ShmMapping::open(region.key(), kHuge, 2), std::out_of_range);
  EXPECT_THROW((void)shm::ShmMapping::open(region.key(), 1, kHuge), std::out_of_range);
}

TEST(ShmMapping, RefusesAnEmptyRangeAndMalformedKeys) {
  const shm::ShmRegion region = client_region(1000);
  EXPECT_THROW((void)shm::ShmMapping::open(region.key(), 0, 0), std::invalid_argument);
  EXPECT_THROW((void)shm::ShmMapping::open("no-slash", 0, 1), std::invalid_argument);
  EXPECT_THROW((void)shm::ShmMapping::open("/a/b", 0, 1), std::invalid_argument);
  EXPECT_THROW((void)shm::ShmMapping::open("/", 0, 1), std::invalid_argument);
  EXPECT_THROW((void)shm::ShmMapping::open("/" + std::string(300, 'x'), 0, 1), std::invalid_argument);
}

TEST(ShmMapping, AMissingObjectIsAnErrorNamingTheKey) {
  const std::string key = shm::make_region_key("never-created");
  try {
    (void)shm::ShmMapping::open(key, 0, 16);
    FAIL() << "expected ShmError";
  } catch (const shm::ShmError& e) {
    EXPECT_EQ(e.error_number(), ENOENT);
    EXPECT_NE(std::string(e.what()).find(key), std::string::npos) << e.what();
    EXPECT_NE(std::string(e.what()).find("shm_open"), std::string::npos) << e.what();
  }
}

TEST(ShmMapping, ClosingLeavesTheObjectToItsCreator) {
  const shm::ShmRegion region = client_region(4096);
  shm::ShmMapping mapping = shm::ShmMapping::open(region.key(), 0, 64);
  mapping.close();
  EXPECT_FALSE(mapping.is_open());
  EXPECT_EQ(mapping.data(), nullptr);
  EXPECT_EQ(mapping.size(), 0u);
  mapping.close();  // idempotent
  EXPECT_EQ(shm_open_errno(region.key()), 0) << "the object must still exist";
  {
    const shm::ShmMapping scoped = shm::ShmMapping::open(region.key(), 0, 64);
  }
  EXPECT_EQ(shm_open_errno(region.key()), 0);
}

TEST(ShmMapping, OutlivesTheNameOfItsObject) {
  shm::ShmRegion region = client_region(4096);
  const shm::ShmMapping mapping = shm::ShmMapping::open(region.key(), 100, 10);
  region.unlink();  // the client removed the name; the memory stays until every mapping is gone
  EXPECT_EQ(mapping.data()[0], static_cast<std::byte>(100 % 251));
  mapping.data()[0] = std::byte{1};
  EXPECT_EQ(region.data()[100], std::byte{1});
}

TEST(ShmMapping, MovesOwnership) {
  const shm::ShmRegion region = client_region(4096);
  shm::ShmMapping a = shm::ShmMapping::open(region.key(), 8, 8);
  std::byte* const data = a.data();
  shm::ShmMapping b = std::move(a);
  EXPECT_FALSE(a.is_open());  // NOLINT(bugprone-use-after-move): moved-from state is specified
  EXPECT_EQ(b.data(), data);
  shm::ShmMapping c = shm::ShmMapping::open(region.key(), 16, 8);
  c = std::move(b);  // unmaps c's own range first
  EXPECT_EQ(c.data(), data);
  EXPECT_EQ(c.offset(), 8u);
}
