#include "ipc/ring/spsc_ring.h"

#include <signal.h>

#include <atomic>
#include <memory>
#include <random>
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

// Message i: (i * 37) % 301 bytes, each byte derived from i and its position.
std::vector<std::byte> Message(std::uint32_t i) {
  std::vector<std::byte> m((i * 37) % 301);
  for (std::size_t k = 0; k < m.size(); ++k) m[k] = std::byte((i * 131 + k * 7) & 0xff);
  if (m.size() >= 4) std::memcpy(m.data(), &i, 4);
  return m;
}

bool IsMessage(std::uint32_t i, std::span<const std::byte> got) {
  auto want = Message(i);
  return got.size() == want.size() && std::equal(got.begin(), got.end(), want.begin());
}

// Ring memory on the heap, 64-byte aligned (for the in-process tests).
struct HeapRing {
  explicit HeapRing(std::uint32_t capacity)
      : bytes(SpscRing<>::BytesFor(capacity)),
        mem(static_cast<std::byte*>(::operator new(bytes, std::align_val_t(64)))) {
    EXPECT_TRUE(SpscRing<>::Init(span(), capacity).has_value());
  }
  ~HeapRing() { ::operator delete(mem, std::align_val_t(64)); }
  std::span<std::byte> span() { return {mem, bytes}; }
  std::size_t bytes;
  std::byte* mem;
};

class SpscThreads : public ::testing::TestWithParam<std::uint32_t> {};

TEST_P(SpscThreads, DeliversEveryMessageInOrderAcrossWraps) {
  Watchdog dog(std::chrono::seconds(60), "spsc ring between threads");
  HeapRing ring(1024);  // small: frames wrap and both sides block
  SpscOptions opt{.spin = GetParam(), .check_peer = true};
  // Pure spinning on a shared 2-core machine is slow when the other side is descheduled.
  const std::uint32_t kCount = GetParam() == kSpinForever ? 4000 : 20000;
  auto tx = SpscProducer<>::Attach(ring.span(), opt);
  auto rx = SpscConsumer<>::Attach(ring.span(), opt);
  ASSERT_TRUE(tx.has_value()) << tx.error().message();
  ASSERT_TRUE(rx.has_value()) << rx.error().message();
  std::thread producer([&] {
    for (std::uint32_t i = 0; i < kCount; ++i) {
      auto m = Message(i);
      ASSERT_TRUE(tx->Send(m).has_value());
    }
  });
  std::vector<std::byte> buf(1024);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    auto n = rx->ReceiveFor(buf, std::chrono::seconds(20));
    ASSERT_TRUE(n.has_value()) << i << ": " << n.error().message();
    ASSERT_TRUE(IsMessage(i, std::span(buf).first(*n))) << "message " << i << " corrupt";
  }
  producer.join();
}

INSTANTIATE_TEST_SUITE_P(SpinThenBlock, SpscThreads, ::testing::Values(0u, 200u, kSpinForever),
                         [](const auto& info) {
                           return info.param == 0u ? std::string("block")
                                  : info.param == kSpinForever ? std::string("spin")
                                                               : std::string("spin_then_block");
                         });

TEST(SpscRing, TryOperationsAndSizes) {
  HeapRing ring(64);
  auto tx = SpscProducer<>::Attach(ring.span());
  auto rx = SpscConsumer<>::Attach(ring.span());
  ASSERT_TRUE(tx && rx);
  std::byte buf[64];
  EXPECT_FALSE(rx->TryReceive(buf)->has_value());
  EXPECT_EQ(tx->max_message(), 56u);
  std::vector<std::byte> big(57);
  EXPECT_EQ(tx->TrySend(big).error().err, EMSGSIZE);
  std::vector<std::byte> m(20, std::byte{7});  // a 24-byte frame: two fit in 64, not three
  EXPECT_TRUE(*tx->TrySend(m));
  EXPECT_TRUE(*tx->TrySend(m));
  EXPECT_FALSE(*tx->TrySend(m));
  std::byte small[8];
  auto r = rx->TryReceive(small);
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, EMSGSIZE);
  EXPECT_EQ(**rx->TryReceive(buf), 20u);  // still there after the EMSGSIZE
  EXPECT_TRUE(*tx->TrySend(std::span<const std::byte>()));  // empty messages are messages
  EXPECT_EQ(**rx->TryReceive(buf), 20u);
  EXPECT_EQ(**rx->TryReceive(buf), 0u);
  EXPECT_FALSE(rx->TryReceive(buf)->has_value());
}

TEST(SpscRing, TimedOperationsTimeOut) {
  HeapRing ring(64);
  auto tx = SpscProducer<>::Attach(ring.span(), {.spin = 10, .check_peer = true});
  auto rx = SpscConsumer<>::Attach(ring.span(), {.spin = 10, .check_peer = true});
  ASSERT_TRUE(tx && rx);
  std::byte buf[64];
  auto t0 = std::chrono::steady_clock::now();
  auto r = rx->ReceiveFor(buf, milliseconds(30));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(30));
  std::vector<std::byte> m(56);
  ASSERT_TRUE(*tx->TrySend(m));
  t0 = std::chrono::steady_clock::now();
  auto s = tx->SendFor(m, milliseconds(30));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(30));
}

TEST(SpscRing, OneProducerAndOneConsumerAtATime) {
  HeapRing ring(64);
  auto a = SpscProducer<>::Attach(ring.span());
  ASSERT_TRUE(a.has_value());
  // The same process may re-attach (e.g. after moving the handle), but another live one may not:
  // a forked child is another process.
  auto child = ForkChild([&] {
    auto b = SpscProducer<>::Attach(ring.span());
    return !b && b.error().err == EBUSY ? 0 : 1;
  });
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
}

// A segment for the multi-process tests.
struct SharedRing {
  explicit SharedRing(std::uint32_t capacity) {
    auto s = shm::Segment::CreatePosix("spsc", SpscRing<>::BytesFor(capacity),
                                       {.layout = kSpscLayout});
    EXPECT_TRUE(s.has_value());
    seg = std::make_unique<shm::Segment>(std::move(*s));
    EXPECT_TRUE(SpscRing<>::Init(seg->payload(), capacity).has_value());
  }
  std::unique_ptr<shm::Segment> seg;
};

TEST(SpscRing, ChildProducerParentConsumer) {
  Watchdog dog(std::chrono::seconds(60), "spsc ring between processes");
  SharedRing ring(4096);
  constexpr std::uint32_t kCount = 20000;
  std::string name = ring.seg->name();
  auto child = ForkChild([&] {
    auto seg = shm::Segment::AttachPosix(name, {.expect = {kSpscLayout, 0}});
    if (!seg) return 2;
    auto tx = SpscProducer<>::Attach(seg->payload());
    if (!tx) return 3;
    for (std::uint32_t i = 0; i < kCount; ++i) {
      if (!tx->Send(Message(i))) return 4;
    }
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  auto rx = SpscConsumer<>::Attach(ring.seg->payload());
  ASSERT_TRUE(rx.has_value());
  std::vector<std::byte> buf(4096);
  for (std::uint32_t i = 0; i < kCount; ++i) {
    auto n = rx->ReceiveFor(buf, std::chrono::seconds(20));
    ASSERT_TRUE(n.has_value()) << i << ": " << n.error().message();
    ASSERT_TRUE(IsMessage(i, std::span(buf).first(*n))) << "message " << i << " corrupt";
  }
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
  // The producer is gone and nothing is left: a blocking receive says so instead of hanging.
  auto r = rx->ReceiveFor(buf, std::chrono::seconds(5));
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, EPIPE) << r.error().message();
}

TEST(SpscRing, ProducerKilledAnywhereLosesNothingItSent) {
  Watchdog dog(std::chrono::seconds(60), "spsc ring producer crash");
  for (int round = 0; round < 5; ++round) {
    SharedRing ring(2048);
    auto child = ForkChild([&] {
      auto tx = SpscProducer<>::Attach(ring.seg->payload());
      if (!tx) return 3;
      for (std::uint32_t i = 0;; ++i) {
        if (!tx->Send(Message(i))) return 4;
      }
    });
    ASSERT_TRUE(child.has_value());
    auto rx = SpscConsumer<>::Attach(ring.seg->payload());
    ASSERT_TRUE(rx.has_value());
    std::vector<std::byte> buf(4096);
    std::uint32_t i = 0;
    // Take some, then kill the producer wherever it is (often mid-frame).
    for (; i < 500u + 300u * round; ++i) {
      auto n = rx->ReceiveFor(buf, std::chrono::seconds(20));
      ASSERT_TRUE(n.has_value()) << n.error().message();
      ASSERT_TRUE(IsMessage(i, std::span(buf).first(*n)));
    }
    ASSERT_EQ(ExitCode(*child->Kill()), -SIGKILL);
    for (;; ++i) {
      auto n = rx->ReceiveFor(buf, std::chrono::seconds(5));
      if (!n) {
        EXPECT_EQ(n.error().err, EPIPE) << n.error().message();
        break;
      }
      ASSERT_TRUE(IsMessage(i, std::span(buf).first(*n))) << "after the crash, message " << i;
    }
  }
}

TEST(SpscRing, HostileMemoryIsRejectedNotReadOutOfBounds) {
  // Not a ring at all.
  alignas(64) std::byte junk[256] = {};
  EXPECT_EQ(SpscConsumer<>::Attach(junk).error().err, EBADMSG);
  EXPECT_EQ(SpscConsumer<>::Attach(std::span(junk).first(10)).error().err, EBADMSG);
  EXPECT_EQ(SpscConsumer<>::Attach(std::span(junk).subspan(1)).error().err, EINVAL);

  // A valid ring whose shared bytes are then scribbled on: every outcome is a message, "empty"
  // or EBADMSG/EMSGSIZE; ASan proves nothing is read outside the ring.
  std::mt19937 rng(7);
  for (int trial = 0; trial < 3000; ++trial) {
    HeapRing ring(256);
    {
      auto tx = SpscProducer<>::Attach(ring.span());
      ASSERT_TRUE(tx.has_value());
      for (std::uint32_t i = 0; i < rng() % 6; ++i) (void)tx->TrySend(Message(i * 5 % 40));
    }
    auto span = ring.span();
    for (int k = 0; k < 1 + static_cast<int>(rng() % 4); ++k) {
      std::size_t at = rng() % span.size();
      span[at] = std::byte(rng());
    }
    auto rx = SpscConsumer<>::Attach(span, {.spin = 0, .check_peer = false});
    if (!rx) {
      EXPECT_TRUE(rx.error().err == EBADMSG || rx.error().err == EBUSY) << rx.error().message();
      continue;
    }
    std::vector<std::byte> buf(64);
    for (int n = 0; n < 20; ++n) {
      auto r = rx->TryReceive(buf);
      if (!r) {
        EXPECT_TRUE(r.error().err == EBADMSG || r.error().err == EMSGSIZE) << r.error().message();
        break;
      }
      if (!*r) break;
      EXPECT_LE(**r, buf.size());
    }
  }
}

// The algorithm is generic over the atomic type: here one that counts the operations it sees,
// as the lab's instrumented atomics would.
std::atomic<long> g_atomic_ops{0};
template <class T>
struct CountingAtomic : std::atomic<T> {
  using std::atomic<T>::atomic;
  T load(std::memory_order o = std::memory_order_seq_cst) const {
    g_atomic_ops.fetch_add(1, std::memory_order_relaxed);
    return std::atomic<T>::load(o);
  }
  void store(T v, std::memory_order o = std::memory_order_seq_cst) {
    g_atomic_ops.fetch_add(1, std::memory_order_relaxed);
    std::atomic<T>::store(v, o);
  }
};

TEST(SpscRing, RunsOnAnotherAtomicType) {
  using Ring = SpscRing<CountingAtomic>;
  std::size_t bytes = Ring::BytesFor(128);
  auto* mem = static_cast<std::byte*>(::operator new(bytes, std::align_val_t(64)));
  ASSERT_TRUE(Ring::Init({mem, bytes}, 128).has_value());
  long before = g_atomic_ops.load();
  {
    auto tx = SpscProducer<CountingAtomic>::Attach({mem, bytes});
    auto rx = SpscConsumer<CountingAtomic>::Attach({mem, bytes});
    ASSERT_TRUE(tx && rx);
    std::byte buf[128];
    for (std::uint32_t i = 0; i < 50; ++i) {
      ASSERT_TRUE(*tx->TrySend(Message(i % 3)));
      ASSERT_TRUE(IsMessage(i % 3, std::span(buf).first(**rx->TryReceive(buf))));
    }
  }
  EXPECT_GT(g_atomic_ops.load() - before, 100);
  ::operator delete(mem, std::align_val_t(64));
}

}  // namespace
}  // namespace ipc::ring
