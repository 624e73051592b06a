#include "ipc/ring/mpmc_buffer.h"

#include <signal.h>

#include <atomic>
#include <cstring>
#include <memory>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipc/shm/segment.h"
#include "ipc/testing/process.h"

namespace ipc::ring {
namespace {

using std::chrono::milliseconds;
using testing::ExitCode;
using testing::ForkChild;
using testing::Watchdog;

struct Msg {
  std::uint32_t producer;
  std::uint32_t seq;
  std::uint32_t len;  // bytes of payload pattern after this header
};

std::vector<std::byte> Make(std::uint32_t producer, std::uint32_t seq) {
  Msg m{producer, seq, (seq * 13) % 100};
  std::vector<std::byte> v(sizeof m + m.len);
  std::memcpy(v.data(), &m, sizeof m);
  for (std::uint32_t k = 0; k < m.len; ++k) v[sizeof m + k] = std::byte((producer + seq + k) & 0xff);
  return v;
}

// The message's identity if intact, else std::nullopt.
std::optional<Msg> Check(std::span<const std::byte> got) {
  Msg m;
  if (got.size() < sizeof m) return std::nullopt;
  std::memcpy(&m, got.data(), sizeof m);
  auto want = Make(m.producer, m.seq);
  if (got.size() != want.size() || !std::equal(got.begin(), got.end(), want.begin())) return std::nullopt;
  return m;
}

// The buffer in a POSIX segment, plus a table of "seen" counters after it.
struct Fixture {
  Fixture(std::uint32_t slots, std::uint32_t slot_bytes, std::size_t extra = 0) {
    std::size_t buf = (MpmcBuffer::BytesFor(slots, slot_bytes) + 63) / 64 * 64;
    auto s = shm::Segment::CreatePosix("mpmc", buf + extra, {.layout = kMpmcLayout});
    EXPECT_TRUE(s.has_value());
    seg = std::make_unique<shm::Segment>(std::move(*s));
    memory = seg->payload().first(buf);
    tail = seg->payload().subspan(buf);
    EXPECT_TRUE(MpmcBuffer::Init(memory, slots, slot_bytes).has_value());
  }
  std::unique_ptr<shm::Segment> seg;
  std::span<std::byte> memory;
  std::span<std::byte> tail;
};

TEST(MpmcBuffer, TryTimedAndSizes) {
  Fixture f(2, 32);
  auto b = MpmcBuffer::Attach(f.memory);
  ASSERT_TRUE(b.has_value()) << b.error().message();
  std::byte buf[32];
  EXPECT_FALSE(b->TryReceive(buf)->has_value());
  auto t0 = std::chrono::steady_clock::now();
  EXPECT_EQ(b->ReceiveFor(buf, milliseconds(30)).error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(30));
  std::vector<std::byte> m(32, std::byte{1});
  EXPECT_EQ(b->TrySend(std::vector<std::byte>(33)).error().err, EMSGSIZE);
  EXPECT_TRUE(*b->TrySend(m));
  EXPECT_TRUE(*b->TrySend(std::span(m).first(3)));
  EXPECT_FALSE(*b->TrySend(m));
  EXPECT_EQ(b->SendFor(m, milliseconds(20)).error().err, ETIMEDOUT);
  EXPECT_EQ(*b->Size(), 2u);
  std::byte small[4];
  EXPECT_EQ(b->TryReceive(small).error().err, EMSGSIZE);
  EXPECT_EQ(**b->TryReceive(buf), 32u);
  EXPECT_EQ(*b->Receive(small), 3u);
  EXPECT_EQ(*b->Size(), 0u);
}

TEST(MpmcBuffer, ManyProducersManyConsumersExactlyOnce) {
  Watchdog dog(std::chrono::seconds(60), "mpmc producers and consumers");
  constexpr std::uint32_t kProducers = 3, kConsumers = 2, kEach = 1500;
  Fixture f(16, 128, kProducers * kEach * sizeof(std::atomic<std::uint32_t>));
  auto* seen = reinterpret_cast<std::atomic<std::uint32_t>*>(f.tail.data());
  std::vector<testing::Child> kids;
  for (std::uint32_t p = 0; p < kProducers; ++p) {
    auto c = ForkChild([&, p] {
      auto b = MpmcBuffer::Attach(f.memory);
      if (!b) return 2;
      for (std::uint32_t s = 0; s < kEach; ++s) {
        if (!b->SendFor(Make(p, s), std::chrono::seconds(20))) return 3;
      }
      return 0;
    });
    ASSERT_TRUE(c.has_value());
    kids.push_back(std::move(*c));
  }
  for (std::uint32_t k = 0; k < kConsumers; ++k) {
    auto c = ForkChild([&] {
      auto b = MpmcBuffer::Attach(f.memory);
      if (!b) return 2;
      std::byte buf[128];
      for (;;) {
        auto n = b->ReceiveFor(buf, std::chrono::seconds(20));
        if (!n) return 3;
        if (*n == 0) return 0;  // the stop message
        auto m = Check(std::span(buf).first(*n));
        if (!m || m->producer >= kProducers || m->seq >= kEach) return 4;
        seen[m->producer * kEach + m->seq].fetch_add(1);
      }
    });
    ASSERT_TRUE(c.has_value());
    kids.push_back(std::move(*c));
  }
  for (std::uint32_t p = 0; p < kProducers; ++p) EXPECT_EQ(ExitCode(*kids[p].Wait(std::chrono::seconds(50))), 0);
  auto b = MpmcBuffer::Attach(f.memory);
  ASSERT_TRUE(b.has_value());
  for (std::uint32_t k = 0; k < kConsumers; ++k) ASSERT_TRUE(b->Send({}).has_value());
  for (std::uint32_t k = 0; k < kConsumers; ++k) {
    EXPECT_EQ(ExitCode(*kids[kProducers + k].Wait(std::chrono::seconds(50))), 0);
  }
  for (std::uint32_t i = 0; i < kProducers * kEach; ++i) {
    ASSERT_EQ(seen[i].load(), 1u) << "message " << i / kEach << "." << i % kEach;
  }
}

TEST(MpmcBuffer, ProducerKilledMidWriteCorruptsNothing) {
  Watchdog dog(std::chrono::seconds(30), "mpmc producer killed mid-write");
  Fixture f(4, 256);
  auto child = ForkChild([&] {
    auto b = MpmcBuffer::Attach(f.memory);
    if (!b) return 2;
    if (!b->Send(Make(7, 0)) || !b->Send(Make(7, 1))) return 3;
    b->testing().kill_after_bytes = 9;  // dies holding the mutex, 9 bytes into message 2
    (void)b->Send(Make(7, 2));
    return 4;
  });
  ASSERT_TRUE(child.has_value());
  ASSERT_EQ(ExitCode(*child->Wait()), -SIGKILL);

  auto b = MpmcBuffer::Attach(f.memory);
  ASSERT_TRUE(b.has_value());
  std::byte buf[256];
  for (std::uint32_t s = 0; s < 2; ++s) {
    auto n = b->ReceiveFor(buf, std::chrono::seconds(5));
    ASSERT_TRUE(n.has_value()) << n.error().message();
    auto m = Check(std::span(buf).first(*n));
    ASSERT_TRUE(m.has_value());
    EXPECT_EQ(m->seq, s);
  }
  // The message in flight when it died is lost, never half-seen.
  EXPECT_EQ(b->ReceiveFor(buf, milliseconds(50)).error().err, ETIMEDOUT);
  EXPECT_EQ(*b->Recoveries(), 1u);
  // And the buffer works on.
  ASSERT_TRUE(b->Send(Make(1, 1)).has_value());
  auto n = b->Receive(buf);
  ASSERT_TRUE(n.has_value());
  EXPECT_TRUE(Check(std::span(buf).first(*n)).has_value());
}

TEST(MpmcBuffer, ConsumerKilledWhileWaitingDoesNotWedgeOthers) {
  Watchdog dog(std::chrono::seconds(30), "mpmc consumer killed in a wait");
  Fixture f(4, 64);
  auto child = ForkChild([&] {
    auto b = MpmcBuffer::Attach(f.memory);
    std::byte buf[64];
    (void)b->Receive(buf);  // blocks in the condvar wait until killed
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  std::this_thread::sleep_for(milliseconds(50));
  ASSERT_EQ(ExitCode(*child->Kill()), -SIGKILL);
  auto b = MpmcBuffer::Attach(f.memory);
  ASSERT_TRUE(b.has_value());
  auto waiter = ForkChild([&] {
    auto mine = MpmcBuffer::Attach(f.memory);
    std::byte buf[64];
    auto n = mine->ReceiveFor(buf, std::chrono::seconds(10));
    return n && *n == 5 ? 0 : 1;
  });
  ASSERT_TRUE(waiter.has_value());
  std::this_thread::sleep_for(milliseconds(20));
  ASSERT_TRUE(b->Send(std::vector<std::byte>(5)).has_value());
  EXPECT_EQ(ExitCode(*waiter->Wait(std::chrono::seconds(15))), 0);
}

TEST(MpmcBuffer, CorruptSlotIsReportedAndSkipped) {
  Fixture f(4, 64);
  auto b = MpmcBuffer::Attach(f.memory);
  ASSERT_TRUE(b.has_value());
  ASSERT_TRUE(b->Send(Make(1, 0)).has_value());
  ASSERT_TRUE(b->Send(Make(1, 1)).has_value());
  // Scribble on the first slot's bytes (the slots follow the 64-byte-aligned control block).
  std::size_t control = MpmcBuffer::BytesFor(4, 64) - 4 * 128;
  f.memory[control + 24 + 5] ^= std::byte{0x40};
  std::byte buf[64];
  auto bad = b->Receive(buf);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().err, EBADMSG);
  auto good = b->Receive(buf);
  ASSERT_TRUE(good.has_value());
  EXPECT_EQ(Check(std::span(buf).first(*good))->seq, 1u);
}

TEST(MpmcBuffer, AttachRejectsGarbage) {
  alignas(64) std::byte junk[4096] = {};
  EXPECT_EQ(MpmcBuffer::Attach(junk).error().err, EBADMSG);
  EXPECT_EQ(MpmcBuffer::Attach(std::span(junk).first(8)).error().err, EBADMSG);
  Fixture f(4, 64);
  // A valid buffer seen through too short a window.
  EXPECT_EQ(MpmcBuffer::Attach(f.memory.first(f.memory.size() - 64)).error().err, EBADMSG);
  EXPECT_EQ(MpmcBuffer::Init(junk, 0, 8).error().err, EINVAL);
}

TEST(MpmcBuffer, ThreadsOfOneProcess) {
  Watchdog dog(std::chrono::seconds(60), "mpmc threads");
  Fixture f(8, 128);
  constexpr std::uint32_t kEach = 3000;
  std::atomic<std::uint32_t> got{0};
  std::vector<std::thread> threads;
  for (std::uint32_t p = 0; p < 2; ++p) {
    threads.emplace_back([&, p] {
      auto b = MpmcBuffer::Attach(f.memory);
      for (std::uint32_t s = 0; s < kEach; ++s) ASSERT_TRUE(b->Send(Make(p, s)).has_value());
    });
  }
  for (int c = 0; c < 2; ++c) {
    threads.emplace_back([&] {
      auto b = MpmcBuffer::Attach(f.memory);
      std::byte buf[128];
      for (std::uint32_t i = 0; i < kEach; ++i) {
        auto n = b->ReceiveFor(buf, std::chrono::seconds(20));
        ASSERT_TRUE(n.has_value());
        ASSERT_TRUE(Check(std::span(buf).first(*n)).has_value());
        got.fetch_add(1);
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(got.load(), 2 * kEach);
}

}  // namespace
}  // namespace ipc::ring
