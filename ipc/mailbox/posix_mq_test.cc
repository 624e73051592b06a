#include "ipc/mailbox/posix_mq.h"

#include <mqueue.h>
#include <poll.h>

#include <gtest/gtest.h>

#include "ipc/audit/names.h"

namespace ipc::mailbox {
namespace {

using namespace std::chrono_literals;

TEST(PosixMq, NamedByTheSchemeAndUnlinkedByItsCreator) {
  std::string name;
  {
    auto box = PosixMqMailbox::Create("mbox", {});
    ASSERT_TRUE(box) << box.error().message();
    name = (*box)->name();
    auto parsed = audit::ParseName(name);
    ASSERT_TRUE(parsed);
    EXPECT_EQ(parsed->purpose, "mbox");
    EXPECT_EQ(parsed->pid, audit::SessionPid());
    auto other = PosixMqMailbox::Open(name, Access::kReceive);
    ASSERT_TRUE(other) << other.error().message();
    EXPECT_EQ((*other)->capacity(), 8u);
    EXPECT_EQ((*other)->max_message_size(), 512u);
  }
  mqd_t mq = ::mq_open(name.c_str(), O_RDONLY);
  EXPECT_EQ(mq, mqd_t(-1));
  EXPECT_EQ(errno, ENOENT);
}

TEST(PosixMq, PollFdBecomesReadableWhenAMessageArrives) {
  auto box = PosixMqMailbox::Create("mbox", {});
  ASSERT_TRUE(box);
  auto fd = (*box)->poll_fd();
  ASSERT_TRUE(fd);
  pollfd p{.fd = *fd, .events = POLLIN, .revents = 0};
  EXPECT_EQ(::poll(&p, 1, 0), 0);
  std::string s = "wake";
  ASSERT_TRUE((*box)->Send(std::as_bytes(std::span(s))));
  EXPECT_EQ(::poll(&p, 1, 1000), 1);
  EXPECT_TRUE(p.revents & POLLIN);
}

TEST(PosixMq, ACapacityOverTheSystemLimitIsExplained) {
  auto box = PosixMqMailbox::Create("mbox", {.capacity = 1'000'000, .max_message_size = 64});
  if (box) GTEST_SKIP() << "this system allows a million-message queue";
  EXPECT_EQ(box.error().err, EINVAL);
  EXPECT_NE(box.error().message().find("msg_max"), std::string::npos) << box.error().message();
}

TEST(PosixMq, OpenOfAMissingQueueIsENOENT) {
  auto box = PosixMqMailbox::Open("/ipclab.1.000000000000.none", Access::kSend);
  ASSERT_FALSE(box);
  EXPECT_EQ(box.error().err, ENOENT);
}

}  // namespace
}  // namespace ipc::mailbox
