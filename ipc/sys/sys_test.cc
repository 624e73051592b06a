#include "ipc/sys/sys.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/sys/fd.h"

namespace ipc::sys {
namespace {

using namespace std::chrono_literals;

TEST(SysError, NamesCallObjectAndErrno) {
  auto r = Call("open", "/nonexistent/ipclab", [] { return ::open("/nonexistent/ipclab", O_RDONLY); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, ENOENT);
  EXPECT_EQ(r.error().errno_name(), "ENOENT");
  EXPECT_EQ(r.error().message(), "open(/nonexistent/ipclab): No such file or directory [ENOENT]");
}

TEST(SysError, DetailIsAppended) {
  SysError e = Error("header.validate", "/ipclab.1.a.seg", EPROTO, "magic 0x0 != 0x4950434c");
  EXPECT_EQ(e.message(),
            "header.validate(/ipclab.1.a.seg): Protocol error [EPROTO]: magic 0x0 != 0x4950434c");
}

TEST(Call, ReturnsValueOnSuccess) {
  auto r = Call("getpid", "self", [] { return ::getpid(); });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, ::getpid());
}

TEST(Call, PointerFailuresAreMapFailedOrNull) {
  auto r = Call("fake", "ptr", []() -> void* {
    errno = ENOMEM;
    return reinterpret_cast<void*>(-1);
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, ENOMEM);
}

TEST(CheckCode, PthreadStyleCodes) {
  EXPECT_TRUE(CheckCode("pthread_x", "m", 0).has_value());
  auto s = CheckCode("pthread_mutex_lock", "mutex@0x10", EDEADLK);
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().errno_name(), "EDEADLK");
}

TEST(Retry, RestartsAfterEintr) {
  int calls = 0;
  auto r = Retry("read", "fd 3", [&] {
    if (++calls < 3) {
      errno = EINTR;
      return -1;
    }
    return 7;
  });
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(*r, 7);
  EXPECT_EQ(calls, 3);
}

TEST(Call, ReportsEintrToTheCaller) {
  auto r = Call("read", "fd 3", [] {
    errno = EINTR;
    return -1;
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, EINTR);
}

TEST(RetryUntil, EintrAfterDeadlineBecomesTimeout) {
  // Generous against slow sanitizer builds: at 1 ms a call, 200 ms leaves room for many retries.
  auto deadline = Deadline::After(200ms);
  int calls = 0;
  auto r = RetryUntil("sem_clockwait", "sem", deadline, [&](Deadline) {
    ++calls;
    std::this_thread::sleep_for(1ms);
    errno = EINTR;
    return -1;
  });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, ETIMEDOUT);
  EXPECT_GE(calls, 2);
}

TEST(Deadline, NeverAndExpiry) {
  EXPECT_FALSE(Deadline::Never().expired());
  EXPECT_EQ(Deadline::Never().poll_timeout_ms(), -1);
  auto d = Deadline::After(0ms);
  EXPECT_TRUE(d.expired());
  EXPECT_EQ(d.poll_timeout_ms(), 0);
  auto later = Deadline::After(2s);
  EXPECT_GT(later.poll_timeout_ms(), 1000);
  EXPECT_LE(later.poll_timeout_ms(), 2000);
  timespec rel = later.relative_timespec();
  EXPECT_LE(rel.tv_sec, 2);
}

TEST(Deadline, MonotonicTimespecMatchesClock) {
  auto d = Deadline::After(1s);
  timespec now{};
  ::clock_gettime(CLOCK_MONOTONIC, &now);
  timespec at = d.monotonic_timespec();
  EXPECT_GE(at.tv_sec, now.tv_sec);
  EXPECT_LE(at.tv_sec, now.tv_sec + 2);
}

TEST(Fd, ClosesOnceAndMoves) {
  auto p = MakePipe();
  ASSERT_TRUE(p.has_value()) << p.error().message();
  int rfd = p->read.get();
  Fd moved = std::move(p->read);
  EXPECT_FALSE(p->read.valid());
  EXPECT_EQ(moved.get(), rfd);
  EXPECT_TRUE(moved.close().has_value());
  EXPECT_EQ(::fcntl(rfd, F_GETFD), -1);  // really closed
  EXPECT_TRUE(moved.close().has_value());  // idempotent
}

TEST(Fd, PipesAreCloseOnExecAndFlagsToggle) {
  auto p = MakePipe();
  ASSERT_TRUE(p.has_value());
  EXPECT_TRUE(::fcntl(p->write.get(), F_GETFD) & FD_CLOEXEC);
  ASSERT_TRUE(SetNonBlocking(p->read.get(), true).has_value());
  char c;
  auto r = Call("read", FdName(p->read.get()), [&] { return ::read(p->read.get(), &c, 1); });
  ASSERT_FALSE(r.has_value());
  EXPECT_EQ(r.error().err, EAGAIN);
  auto bad = SetNonBlocking(-1, true);
  ASSERT_FALSE(bad.has_value());
  EXPECT_EQ(bad.error().object, "fd -1");
  EXPECT_EQ(bad.error().err, EBADF);
}

}  // namespace
}  // namespace ipc::sys
