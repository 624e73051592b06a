// The Mailbox contract, run against every back-end (TYPED_TEST_SUITE), within one process and
// across forked processes.
#include "ipc/mailbox/mailbox.h"

#include <unistd.h>

#include <algorithm>
#include <cstring>
#include <map>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/mailbox/posix_mq.h"
#include "ipc/mailbox/sysv_msg.h"
#include "ipc/pipe/io.h"
#include "ipc/signal/signal.h"

namespace ipc::mailbox {
namespace {

using namespace std::chrono_literals;
using signal::Child;
using signal::ScopedAlarm;

struct PosixMqBackend {
  static sys::Result<std::unique_ptr<Mailbox>> Create(Options o) {
    auto b = PosixMqMailbox::Create("mbox", o);
    if (!b) return std::unexpected(b.error());
    return std::unique_ptr<Mailbox>(std::move(*b));
  }
  static sys::Result<std::unique_ptr<Mailbox>> Reopen(Mailbox& m, Access a) {
    auto b = PosixMqMailbox::Open(static_cast<PosixMqMailbox&>(m).name(), a);
    if (!b) return std::unexpected(b.error());
    return std::unique_ptr<Mailbox>(std::move(*b));
  }
};

struct SysvMsgBackend {
  static sys::Result<std::unique_ptr<Mailbox>> Create(Options o) {
    auto b = SysvMsgMailbox::Create("mbox", o);
    if (!b) return std::unexpected(b.error());
    return std::unique_ptr<Mailbox>(std::move(*b));
  }
  static sys::Result<std::unique_ptr<Mailbox>> Reopen(Mailbox& m, Access a) {
    auto& s = static_cast<SysvMsgMailbox&>(m);
    auto b = SysvMsgMailbox::Attach(s.id(), Options{m.capacity(), m.max_message_size()}, a);
    if (!b) return std::unexpected(b.error());
    return std::unique_ptr<Mailbox>(std::move(*b));
  }
};

template <class Backend>
class MailboxContract : public testing::Test {
 protected:
  std::unique_ptr<Mailbox> Make(Options o = {}) {
    auto b = Backend::Create(o);
    EXPECT_TRUE(b) << b.error().message();
    return b ? std::move(*b) : nullptr;
  }
};

using Backends = testing::Types<PosixMqBackend, SysvMsgBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return std::is_same_v<T, PosixMqBackend> ? "PosixMq" : "SysvMsg";
  }
};
TYPED_TEST_SUITE(MailboxContract, Backends, BackendNames);

std::span<const std::byte> Bytes(const std::string& s) { return std::as_bytes(std::span(s)); }
std::string Text(const Message& m) {
  return std::string(reinterpret_cast<const char*>(m.data.data()), m.data.size());
}
// A message naming its sender and number: "<sender>:<seq>", padded with a pattern.
std::vector<std::byte> Tagged(int sender, int seq) {
  std::vector<std::byte> m(24);
  std::memcpy(m.data(), &sender, 4);
  std::memcpy(m.data() + 4, &seq, 4);
  for (size_t i = 8; i < m.size(); ++i) m[i] = std::byte((sender + seq + i) & 0xff);
  return m;
}
std::pair<int, int> Untag(const Message& m) {
  EXPECT_EQ(m.data.size(), 24u);
  int sender, seq;
  std::memcpy(&sender, m.data.data(), 4);
  std::memcpy(&seq, m.data.data() + 4, 4);
  for (size_t i = 8; i < m.data.size(); ++i) {
    EXPECT_EQ(m.data[i], std::byte((sender + seq + i) & 0xff)) << "corrupt message";
  }
  return {sender, seq};
}

TYPED_TEST(MailboxContract, PreservesOrderAndContent) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  for (int i = 0; i < 5; ++i) ASSERT_TRUE(box->Send(Bytes("m" + std::to_string(i))));
  EXPECT_EQ(*box->size(), 5u);
  for (int i = 0; i < 5; ++i) {
    auto m = box->Receive();
    ASSERT_TRUE(m) << m.error().message();
    EXPECT_EQ(Text(*m), "m" + std::to_string(i));
  }
}

TYPED_TEST(MailboxContract, HonoursPrioritiesFifoWithinOne) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  ASSERT_TRUE(box->Send(Bytes("low"), 0));
  ASSERT_TRUE(box->Send(Bytes("high-a"), 5));
  ASSERT_TRUE(box->Send(Bytes("mid"), 1));
  ASSERT_TRUE(box->Send(Bytes("high-b"), 5));
  ASSERT_TRUE(box->Send(Bytes("top"), kMaxPriority));
  std::vector<std::pair<std::string, unsigned>> got;
  for (int i = 0; i < 5; ++i) {
    auto m = box->Receive();
    ASSERT_TRUE(m);
    got.emplace_back(Text(*m), m->priority);
  }
  EXPECT_EQ(got, (std::vector<std::pair<std::string, unsigned>>{
                     {"top", kMaxPriority}, {"high-a", 5}, {"high-b", 5}, {"mid", 1}, {"low", 0}}));
}

TYPED_TEST(MailboxContract, TrySendOnAFullMailboxWouldBlock) {
  auto box = this->Make({.capacity = 3, .max_message_size = 64});
  ASSERT_TRUE(box);
  for (int i = 0; i < 3; ++i) ASSERT_TRUE(box->TrySend(Bytes("x")));
  auto r = box->TrySend(Bytes("y"));
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, EAGAIN);
  EXPECT_NE(r.error().message().find("would block"), std::string::npos) << r.error().message();
  EXPECT_EQ(*box->size(), 3u);
  auto t0 = std::chrono::steady_clock::now();
  auto timed = box->SendFor(Bytes("z"), 0, 50ms);
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
}

TYPED_TEST(MailboxContract, ReceiveOnAnEmptyMailboxTimesOutOrWouldBlock) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  auto t = box->TryReceive();
  ASSERT_FALSE(t);
  EXPECT_EQ(t.error().err, EAGAIN);
  auto t0 = std::chrono::steady_clock::now();
  auto r = box->ReceiveFor(60ms);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  EXPECT_GE(took, 55ms);
  EXPECT_LT(took, 5s);
}

TYPED_TEST(MailboxContract, SendBlocksWhileFullUntilAReceiverMakesRoom) {
  ScopedAlarm watchdog(30s, "blocked Send");
  auto box = this->Make({.capacity = 2, .max_message_size = 64});
  ASSERT_TRUE(box);
  ASSERT_TRUE(box->Send(Bytes("1")));
  ASSERT_TRUE(box->Send(Bytes("2")));
  auto when = sys::MakePipe();
  ASSERT_TRUE(when);
  auto c = Child::Fork([&] {
    ::usleep(80'000);
    // The time just before this receive makes room: a blocking Send cannot return before it.
    int64_t t = std::chrono::steady_clock::now().time_since_epoch().count();
    if (!pipe::WriteAll(when->write.get(), std::as_bytes(std::span(&t, 1)))) return 2;
    auto m = box->Receive();
    return m && Text(*m) == "1" ? 0 : 1;
  });
  ASSERT_TRUE(c);
  ASSERT_TRUE(box->Send(Bytes("3")));
  int64_t returned = std::chrono::steady_clock::now().time_since_epoch().count();
  int64_t room = 0;
  auto got = pipe::ReadExact(when->read.get(), std::as_writable_bytes(std::span(&room, 1)),
                             sys::Deadline::After(10s));
  ASSERT_TRUE(got && *got);
  // steady_clock is CLOCK_MONOTONIC, one clock for every process.
  EXPECT_GE(returned, room) << "Send returned before the receiver made room: it did not block";
  EXPECT_TRUE(c->WaitFor(10s)->ok());
  EXPECT_EQ(Text(*box->Receive()), "2");
  EXPECT_EQ(Text(*box->Receive()), "3");
}

TYPED_TEST(MailboxContract, PeekShowsTheNextMessageWithoutRemovingIt) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  auto none = box->Peek();
  ASSERT_TRUE(none);
  EXPECT_FALSE(*none);
  ASSERT_TRUE(box->Send(Bytes("first"), 2));
  ASSERT_TRUE(box->Send(Bytes("second"), 1));
  auto p = box->Peek();
  ASSERT_TRUE(p && *p);
  EXPECT_EQ(Text(**p), "first");
  EXPECT_EQ((*p)->priority, 2u);
  EXPECT_EQ(Text(**box->Peek()), "first");  // still there
  EXPECT_EQ(*box->size(), 2u);
  EXPECT_EQ(Text(*box->Receive()), "first");
  EXPECT_EQ(Text(*box->TryReceive()), "second");
}

TYPED_TEST(MailboxContract, RefusesOversizedMessagesAndBadPriorities) {
  auto box = this->Make({.capacity = 2, .max_message_size = 32});
  ASSERT_TRUE(box);
  auto big = box->Send(std::vector<std::byte>(33));
  ASSERT_FALSE(big);
  EXPECT_EQ(big.error().err, EMSGSIZE);
  EXPECT_NE(big.error().message().find("33 bytes"), std::string::npos);
  EXPECT_TRUE(box->Send(std::vector<std::byte>(32)));
  auto prio = box->Send(Bytes("x"), kMaxPriority + 1);
  ASSERT_FALSE(prio);
  EXPECT_EQ(prio.error().err, EINVAL);
}

TYPED_TEST(MailboxContract, HandlesEnforceTheirAccess) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  auto sender = TypeParam::Reopen(*box, Access::kSend);
  ASSERT_TRUE(sender) << sender.error().message();
  auto receiver = TypeParam::Reopen(*box, Access::kReceive);
  ASSERT_TRUE(receiver) << receiver.error().message();
  ASSERT_TRUE((*sender)->Send(Bytes("via sender")));
  auto no_recv = (*sender)->TryReceive();
  ASSERT_FALSE(no_recv);
  EXPECT_EQ(no_recv.error().err, EPERM);
  auto no_send = (*receiver)->Send(Bytes("x"));
  ASSERT_FALSE(no_send);
  EXPECT_EQ(no_send.error().err, EPERM);
  EXPECT_EQ(Text(*(*receiver)->Receive()), "via sender");
}

struct Ping {
  static constexpr uint16_t kWireType = 21;
  uint64_t seq;
  uint64_t from;
};

TYPED_TEST(MailboxContract, CarriesTypedMessagesAndRefusesMalformedOnes) {
  auto box = this->Make();
  ASSERT_TRUE(box);
  ASSERT_TRUE(SendTyped(*box, Ping{.seq = 7, .from = 3}, 4));
  auto p = ReceiveTyped<Ping>(*box);
  ASSERT_TRUE(p) << p.error().message();
  EXPECT_EQ(p->seq, 7u);
  EXPECT_EQ(p->from, 3u);
  ASSERT_TRUE(box->Send(Bytes("definitely not a frame, but long enough")));
  auto bad = ReceiveTyped<Ping>(*box);
  ASSERT_FALSE(bad);
  EXPECT_EQ(bad.error().err, EPROTO);
  EXPECT_NE(bad.error().message().find("magic"), std::string::npos) << bad.error().message();
  auto frame = wire::Encode(99, Bytes("payload"));
  ASSERT_TRUE(box->Send(*frame));
  auto wrong = ReceiveTyped<Ping>(*box);
  ASSERT_FALSE(wrong);
  EXPECT_NE(wrong.error().message().find("type 99"), std::string::npos);
  auto too_big = SendFrame(*box, 5, std::vector<std::byte>(box->max_message_size()));
  ASSERT_FALSE(too_big);
  EXPECT_EQ(too_big.error().err, EMSGSIZE);
}

// Producers and consumers in separate processes: every message is received exactly once, each
// producer's messages in order. Consumers report what they got through a pipe.
template <class Backend>
void ManyToMany(int producers, int consumers, int per_producer) {
  ScopedAlarm watchdog(60s, "many-to-many mailbox");
  auto made = Backend::Create({.capacity = 8, .max_message_size = 64});
  ASSERT_TRUE(made) << made.error().message();
  Mailbox& box = **made;
  auto report = sys::MakePipe();
  ASSERT_TRUE(report);
  const int total = producers * per_producer;
  std::vector<Child> kids;
  for (int c = 0; c < consumers; ++c) {
    auto k = Child::Fork([&, c] {
      report->read.reset();
      std::map<int, int> last;
      for (;;) {
        auto m = box.ReceiveFor(20s);
        if (!m) return 2;
        if (m->priority == kMaxPriority) return 0;  // stop message
        auto [sender, seq] = Untag(*m);
        // Within one consumer, each producer's messages come in increasing order.
        if (last.count(sender) && seq <= last[sender]) return 3;
        last[sender] = seq;
        int rec[2] = {sender, seq};
        if (!pipe::WriteAll(report->write.get(), std::as_bytes(std::span(rec)))) return 4;
      }
      (void)c;
    });
    ASSERT_TRUE(k);
    kids.push_back(std::move(*k));
  }
  std::vector<Child> makers;
  for (int p = 0; p < producers; ++p) {
    auto k = Child::Fork([&, p] {
      report->read.reset();
      for (int i = 0; i < per_producer; ++i) {
        if (!box.Send(Tagged(p, i))) return 1;
      }
      return 0;
    });
    ASSERT_TRUE(k);
    makers.push_back(std::move(*k));
  }
  report->write.reset();
  std::map<std::pair<int, int>, int> seen;
  for (int i = 0; i < total; ++i) {
    int rec[2];
    auto ok = pipe::ReadExact(report->read.get(), std::as_writable_bytes(std::span(rec)),
                              sys::Deadline::After(30s));
    ASSERT_TRUE(ok && *ok) << "only " << i << " of " << total << " messages reported";
    ++seen[{rec[0], rec[1]}];
  }
  for (auto& m : makers) EXPECT_TRUE(m.WaitFor(20s)->ok());
  for (int c = 0; c < consumers; ++c) ASSERT_TRUE(box.Send({}, kMaxPriority));
  for (auto& k : kids) {
    auto st = k.WaitFor(20s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->ok()) << st->Describe();
  }
  EXPECT_EQ(seen.size(), size_t(total));
  for (auto& [key, n] : seen) EXPECT_EQ(n, 1) << key.first << ":" << key.second << " duplicated";
}

TYPED_TEST(MailboxContract, ManyToOneServer) { ManyToMany<TypeParam>(4, 1, 200); }
TYPED_TEST(MailboxContract, OneToMany) { ManyToMany<TypeParam>(1, 3, 300); }
TYPED_TEST(MailboxContract, ManyToMany) { ManyToMany<TypeParam>(3, 3, 200); }

TYPED_TEST(MailboxContract, SignalStormLosesAndDuplicatesNothing) {
  ScopedAlarm watchdog(60s, "mailbox signal storm");
  auto h = signal::ScopedHandler::Noop(SIGUSR1, signal::Restart::kNo);
  ASSERT_TRUE(h);
  auto box = this->Make({.capacity = 4, .max_message_size = 64});
  ASSERT_TRUE(box);
  constexpr int kMessages = 1500;
  auto producer = Child::Fork([&] {
    for (int i = 0; i < kMessages; ++i) {
      if (!box->Send(Tagged(1, i), i % 3)) return 1;
    }
    return 0;
  });
  ASSERT_TRUE(producer);
  auto at_producer = signal::SignalStorm::AtProcess(producer->pid(), SIGUSR1, 4000);
  auto at_me = signal::SignalStorm::AtThread(pthread_self(), SIGUSR1, 4000);
  std::vector<int> count(kMessages);
  for (int i = 0; i < kMessages; ++i) {
    auto m = i % 2 ? box->Receive() : box->ReceiveFor(20s);
    ASSERT_TRUE(m) << m.error().message();
    auto [sender, seq] = Untag(*m);
    ASSERT_GE(seq, 0);
    ASSERT_LT(seq, kMessages);
    ++count[seq];
  }
  at_me.Stop();
  at_producer.Stop();
  EXPECT_TRUE(producer->WaitFor(20s)->ok());
  for (int i = 0; i < kMessages; ++i) EXPECT_EQ(count[i], 1) << "message " << i;
  auto extra = box->TryReceive();
  EXPECT_FALSE(extra) << "a message was duplicated";
}

}  // namespace
}  // namespace ipc::mailbox
