#include "ipc/shm/header.h"

#include <cstring>
#include <random>
#include <vector>

#include <gtest/gtest.h>

namespace ipc::shm {
namespace {

std::vector<std::byte> Fresh(std::size_t size, std::uint32_t layout = LayoutTag("TEST")) {
  std::vector<std::byte> v(size);
  EXPECT_TRUE(WriteHeader(v, layout, 3).has_value());
  return v;
}

TEST(Header, WrittenHeaderValidates) {
  auto v = Fresh(4096);
  auto h = ValidateHeader(v, {LayoutTag("TEST"), 3});
  ASSERT_TRUE(h.has_value()) << h.error().message();
  EXPECT_EQ(h->size, 4096u);
  EXPECT_EQ(h->creator_pid, ::getpid());
  EXPECT_GT(h->created_ns, 0);
}

TEST(Header, TruncatedSegmentIsRejected) {
  auto v = Fresh(4096);
  for (std::size_t n : {0ul, 1ul, 63ul}) {
    auto h = ValidateHeader(std::span(v).first(n), {}, "/ipclab.1.000000000000.t");
    ASSERT_FALSE(h.has_value());
    EXPECT_EQ(h.error().err, EBADMSG);
    EXPECT_NE(h.error().message().find("smaller than the 64-byte header"), std::string::npos);
    EXPECT_NE(h.error().message().find("/ipclab.1.000000000000.t"), std::string::npos);
  }
  auto h = ValidateHeader(std::span(v).first(1000));
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().detail.find("truncated"), std::string::npos) << h.error().message();
}

TEST(Header, EachKindOfDefectHasItsOwnMessage) {
  struct Case {
    std::size_t offset;
    std::byte value;
    int err;
    const char* says;
  };
  for (Case c : {Case{0, std::byte{0x00}, EBADMSG, "magic"}, Case{4, std::byte{0x09}, EPROTO, "version"},
                 Case{9, std::byte{0x77}, EBADMSG, "checksum"}, Case{30, std::byte{1}, EBADMSG, "checksum"},
                 Case{60, std::byte{0x5a}, EBADMSG, "checksum"}}) {
    auto v = Fresh(256);
    v[c.offset] = c.value;
    auto h = ValidateHeader(v);
    ASSERT_FALSE(h.has_value()) << c.offset;
    EXPECT_EQ(h.error().err, c.err) << h.error().message();
    EXPECT_NE(h.error().message().find(c.says), std::string::npos) << h.error().message();
  }
  auto zero = std::vector<std::byte>(256);
  EXPECT_NE(ValidateHeader(zero).error().detail.find("not initialised"), std::string::npos);
}

TEST(Header, LayoutMismatchIsNamed) {
  auto v = Fresh(128, LayoutTag("SPSC"));
  auto h = ValidateHeader(v, {LayoutTag("MPMC"), 0});
  ASSERT_FALSE(h.has_value());
  EXPECT_EQ(h.error().err, EPROTO);
  EXPECT_NE(h.error().detail.find("'SPSC'"), std::string::npos) << h.error().message();
  EXPECT_NE(h.error().detail.find("'MPMC'"), std::string::npos);
  EXPECT_EQ(ValidateHeader(v, {LayoutTag("SPSC"), 9}).error().err, EPROTO);
}

TEST(Header, SizeMustMatchTheMapping) {
  auto v = Fresh(256);
  v.resize(512);  // the segment grew behind the header's back (or the header lies)
  auto h = ValidateHeader(v);
  ASSERT_FALSE(h.has_value());
  EXPECT_NE(h.error().detail.find("header says 256 bytes"), std::string::npos);
}

TEST(Header, HostileBytesNeverCrashAndRarelyPass) {
  // Random and mutated headers, unaligned too: every one is either rejected cleanly or is a
  // header whose checksum happens to hold (only the unmutated original here).
  std::mt19937_64 rng(42);
  auto good = Fresh(200);
  int accepted = 0;
  for (int i = 0; i < 20000; ++i) {
    std::vector<std::byte> buf(1 + rng() % 260);
    if (i % 2 == 0) {
      for (auto& b : buf) b = std::byte(rng());
    } else {
      std::memcpy(buf.data(), good.data(), std::min(buf.size(), good.size()));
      buf[rng() % std::min<std::size_t>(kHeaderSize, buf.size())] ^= std::byte(1 + rng() % 255);
    }
    std::size_t skew = rng() % 4;  // unaligned views
    std::span<const std::byte> view(buf);
    view = view.subspan(std::min(skew, view.size()));
    auto h = ValidateHeader(view);
    if (h) ++accepted;
  }
  EXPECT_EQ(accepted, 0);
}

TEST(Header, RejectsBadBuffersForWriting) {
  std::vector<std::byte> small(10);
  EXPECT_EQ(WriteHeader(small, kRawLayout, 1).error().err, EINVAL);
}

}  // namespace
}  // namespace ipc::shm
