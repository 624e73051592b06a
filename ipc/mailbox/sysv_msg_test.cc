#include "ipc/mailbox/sysv_msg.h"

#include <sys/msg.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipc/audit/registry.h"
#include "ipc/signal/signal.h"

namespace ipc::mailbox {
namespace {

using namespace std::chrono_literals;

bool Registered(int id) {
  for (const auto& r : audit::ListSysvRecords()) {
    if (r.entry.kind == audit::SysvKind::kMsg && r.entry.id == id) return true;
  }
  return false;
}

TEST(SysvMsg, RegisteredWhileAliveRemovedAndUnregisteredAfter) {
  int id;
  {
    auto box = SysvMsgMailbox::Create("mbox", {});
    ASSERT_TRUE(box) << box.error().message();
    id = (*box)->id();
    EXPECT_TRUE(Registered(id));
    msqid_ds ds{};
    ASSERT_EQ(::msgctl(id, IPC_STAT, &ds), 0);
    EXPECT_EQ(ds.msg_perm.mode & 0777, 0600);
    EXPECT_EQ(ds.msg_qbytes, 8u * (4 + 512));
  }
  msqid_ds ds{};
  EXPECT_EQ(::msgctl(id, IPC_STAT, &ds), -1);
  EXPECT_FALSE(Registered(id));
}

TEST(SysvMsg, AddressedMessagesGoOnlyToTheirAddress) {
  auto box = SysvMsgMailbox::Create("mbox", {});
  ASSERT_TRUE(box);
  std::string a = "for 7", b = "for 9", c = "plain";
  ASSERT_TRUE((*box)->SendTo(7, std::as_bytes(std::span(a))));
  ASSERT_TRUE((*box)->SendTo(9, std::as_bytes(std::span(b))));
  ASSERT_TRUE((*box)->Send(std::as_bytes(std::span(c))));
  auto nine = (*box)->ReceiveAt(9, sys::Deadline::After(1s));
  ASSERT_TRUE(nine);
  EXPECT_EQ(nine->data.size(), b.size());
  auto plain = (*box)->Receive();
  ASSERT_TRUE(plain);
  EXPECT_EQ(plain->data.size(), c.size());
  auto none = (*box)->TryReceive();  // the message for 7 is not in the priority band
  EXPECT_FALSE(none);
  EXPECT_TRUE((*box)->ReceiveAt(7, sys::Deadline::After(1s)));
  EXPECT_FALSE((*box)->ReceiveAt(0));
}

// A server answers each client at the client's pid: many-to-one requests, one-to-one replies.
TEST(SysvMsg, RequestReplyServerAnswersEachClientAtItsAddress) {
  signal::ScopedAlarm watchdog(60s, "sysv request/reply");
  auto made = SysvMsgMailbox::Create("mbox", {.capacity = 8, .max_message_size = 64});
  ASSERT_TRUE(made);
  SysvMsgMailbox& box = **made;
  constexpr int kClients = 4, kRequests = 50;
  std::vector<signal::Child> clients;
  for (int c = 0; c < kClients; ++c) {
    auto k = signal::Child::Fork([&] {
      long me = ::getpid();
      for (int i = 0; i < kRequests; ++i) {
        long req[2] = {me, i};
        if (!box.Send(std::as_bytes(std::span(req)))) return 1;
        auto reply = box.ReceiveAt(me, sys::Deadline::After(20s));
        if (!reply || reply->data.size() != sizeof(long) * 2) return 2;
        long rep[2];
        std::memcpy(rep, reply->data.data(), sizeof rep);
        if (rep[0] != me || rep[1] != i * 10) return 3;
      }
      return 0;
    });
    ASSERT_TRUE(k);
    clients.push_back(std::move(*k));
  }
  for (int n = 0; n < kClients * kRequests; ++n) {
    auto m = box.ReceiveFor(20s);
    ASSERT_TRUE(m) << m.error().message();
    long req[2];
    std::memcpy(req, m->data.data(), sizeof req);
    long rep[2] = {req[0], req[1] * 10};
    ASSERT_TRUE(box.SendTo(req[0], std::as_bytes(std::span(rep))));
  }
  for (auto& c : clients) {
    auto st = c.WaitFor(20s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->ok()) << st->Describe();
  }
}

TEST(SysvMsg, AMalformedSlotIsRefused) {
  auto box = SysvMsgMailbox::Create("mbox", {.capacity = 4, .max_message_size = 64});
  ASSERT_TRUE(box);
  struct {
    long mtype;
    char text[8];
  } raw{1, {'\xff', '\xff', 0, 0, 'j', 'u', 'n', 'k'}};
  ASSERT_EQ(::msgsnd((*box)->id(), &raw, sizeof raw.text, 0), 0);
  auto m = (*box)->Receive();
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, EBADMSG);
}

TEST(SysvMsg, AttachRefusesAMissingQueue) {
  auto box = SysvMsgMailbox::Attach(0x7ffffff0, {}, Access::kSend);
  ASSERT_FALSE(box);
}

}  // namespace
}  // namespace ipc::mailbox
