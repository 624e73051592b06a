#include "ipc/filelock/filelock.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gtest/gtest.h>

#include "ipc/audit/names.h"
#include "ipc/signal/signal.h"

namespace ipc::filelock {
namespace {

using namespace std::chrono_literals;
using signal::Child;
using signal::ScopedAlarm;

class FileLockTest : public testing::Test {
 protected:
  void SetUp() override {
    auto d = audit::PrivateDir::Create("lock");
    ASSERT_TRUE(d);
    dir_.emplace(std::move(*d));
    path_ = dir_->file("data");
  }
  sys::Fd Open() {
    int fd = ::open(path_.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    EXPECT_GE(fd, 0);
    return sys::Fd(fd);
  }
  // Reads the counter in the file, sleeps a little (so a missing lock shows), writes it + 1.
  static bool Increment(int fd) {
    long v = 0;
    char buf[32] = {};
    if (::pread(fd, buf, sizeof buf - 1, 0) < 0) return false;
    v = std::atol(buf);
    ::usleep(50);
    auto s = std::to_string(v + 1) + "\n";
    return ::pwrite(fd, s.data(), s.size(), 0) == ssize_t(s.size());
  }
  long Counter() {
    auto fd = Open();
    char buf[32] = {};
    (void)::pread(fd.get(), buf, sizeof buf - 1, 0);
    return std::atol(buf);
  }
  // `workers` processes each increment the counter `n` times inside `locked`.
  template <class F>
  void Hammer(int workers, int n, F locked) {
    ScopedAlarm watchdog(60s, "file lock hammer");
    std::vector<Child> kids;
    for (int w = 0; w < workers; ++w) {
      auto c = Child::Fork([&] {
        sys::Fd fd = Open();  // each worker its own open file description
        for (int i = 0; i < n; ++i) {
          if (!locked(fd.get())) return 1;
        }
        return 0;
      });
      ASSERT_TRUE(c);
      kids.push_back(std::move(*c));
    }
    for (auto& k : kids) {
      auto st = k.WaitFor(50s);
      ASSERT_TRUE(st);
      EXPECT_TRUE(st->ok()) << st->Describe();
    }
  }
  std::optional<audit::PrivateDir> dir_;
  std::string path_;
};

TEST_F(FileLockTest, OfdLocksConflictBetweenTwoOpensInOneProcess) {
  auto a = Open(), b = Open();
  auto la = OfdLock::TryLock(a.get(), LockType::kExclusive);
  ASSERT_TRUE(la) << la.error().message();
  auto lb = OfdLock::TryLock(b.get(), LockType::kExclusive);
  ASSERT_FALSE(lb) << "OFD locks of two open file descriptions must conflict";
  EXPECT_EQ(lb.error().err, EAGAIN);
  EXPECT_TRUE(*WouldConflict(b.get(), LockType::kShared));
  ASSERT_TRUE(la->Unlock());
  EXPECT_FALSE(*WouldConflict(b.get(), LockType::kExclusive));
  EXPECT_TRUE(OfdLock::TryLock(b.get(), LockType::kExclusive));
}

TEST_F(FileLockTest, SharedLocksCoexistAndRangesAreIndependent) {
  auto a = Open(), b = Open();
  auto s1 = OfdLock::TryLock(a.get(), LockType::kShared);
  auto s2 = OfdLock::TryLock(b.get(), LockType::kShared);
  EXPECT_TRUE(s1 && s2);
  s1->Unlock();
  s2->Unlock();
  auto r1 = OfdLock::TryLock(a.get(), LockType::kExclusive, 0, 10);
  auto r2 = OfdLock::TryLock(b.get(), LockType::kExclusive, 10, 10);
  EXPECT_TRUE(r1 && r2);
  auto overlap = OfdLock::TryLock(b.get(), LockType::kExclusive, 5, 10);
  EXPECT_FALSE(overlap);
}

TEST_F(FileLockTest, OfdLockWaitTimesOutThenSucceedsWhenAKilledHolderReleases) {
  ScopedAlarm watchdog(30s, "OFD lock wait");
  auto ready = sys::MakePipe();
  ASSERT_TRUE(ready);
  auto holder = Child::Fork([&] {
    sys::Fd fd = Open();
    auto l = OfdLock::Lock(fd.get(), LockType::kExclusive, sys::Deadline::Never());
    if (!l) return 1;
    (void)::write(ready->write.get(), "r", 1);
    for (;;) ::pause();
    return 0;
  });
  ASSERT_TRUE(holder);
  char c;
  ASSERT_EQ(::read(ready->read.get(), &c, 1), 1);
  auto fd = Open();
  auto t0 = std::chrono::steady_clock::now();
  auto timed = OfdLock::Lock(fd.get(), LockType::kExclusive, sys::Deadline::After(50ms));
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
  ASSERT_TRUE(holder->Kill(SIGKILL));
  (void)holder->WaitFor(10s);
  EXPECT_TRUE(OfdLock::Lock(fd.get(), LockType::kExclusive, sys::Deadline::After(10s)));
}

TEST_F(FileLockTest, BlockingOfdWaitSurvivesASignalStorm) {
  ScopedAlarm watchdog(30s, "OFD SETLKW under storm");
  auto h = signal::ScopedHandler::Noop(SIGUSR1, signal::Restart::kNo);
  ASSERT_TRUE(h);
  auto fd = Open();
  auto held = OfdLock::TryLock(fd.get(), LockType::kExclusive);
  ASSERT_TRUE(held);
  auto waiter = Child::Fork([&] {
    sys::Fd mine = Open();
    auto l = OfdLock::Lock(mine.get(), LockType::kExclusive, sys::Deadline::Never());
    return l ? 0 : 1;
  });
  ASSERT_TRUE(waiter);
  {
    auto storm = signal::SignalStorm::AtProcess(waiter->pid(), SIGUSR1, 2000);
    storm.Join();
  }
  auto still = waiter->WaitFor(10ms);
  ASSERT_FALSE(still) << "the waiter stopped waiting under signals: " << still->Describe();
  EXPECT_EQ(still.error().err, ETIMEDOUT);
  held->Unlock();
  auto st = waiter->WaitFor(10s);
  ASSERT_TRUE(st);
  EXPECT_TRUE(st->ok()) << st->Describe();
}

TEST_F(FileLockTest, OfdLockGivesMutualExclusionAcrossProcesses) {
  Hammer(4, 150, [](int fd) {
    auto l = OfdLock::Lock(fd, LockType::kExclusive, sys::Deadline::Never());
    return l && Increment(fd);
  });
  EXPECT_EQ(Counter(), 600);
}

TEST_F(FileLockTest, FlockGivesMutualExclusionAcrossProcesses) {
  Hammer(4, 150, [](int fd) {
    auto l = FlockLock::Lock(fd, LockType::kExclusive, sys::Deadline::After(20s));
    return l && Increment(fd);
  });
  EXPECT_EQ(Counter(), 600);
}

TEST_F(FileLockTest, FlockTryLockWouldBlock) {
  auto a = Open(), b = Open();
  auto la = FlockLock::TryLock(a.get(), LockType::kExclusive);
  ASSERT_TRUE(la);
  auto lb = FlockLock::TryLock(b.get(), LockType::kShared);
  ASSERT_FALSE(lb);
  EXPECT_EQ(lb.error().err, EAGAIN);
  auto timed = FlockLock::Lock(b.get(), LockType::kShared, sys::Deadline::After(30ms));
  ASSERT_FALSE(timed);
  EXPECT_EQ(timed.error().err, ETIMEDOUT);
}

TEST_F(FileLockTest, LockFileIsExclusiveAndNamesItsHolder) {
  std::string lock = dir_->file("the.lock");
  {
    auto a = LockFile::Acquire(lock);
    ASSERT_TRUE(a) << a.error().message();
    EXPECT_EQ(*LockFile::Holder(lock), ::getpid());
    struct stat st {};
    ASSERT_EQ(::stat(lock.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600);
    auto c = Child::Fork([&] {
      auto b = LockFile::Acquire(lock, sys::Deadline::After(50ms));
      if (b) return 1;
      if (b.error().err != ETIMEDOUT) return 2;
      return b.error().message().find("held by pid " + std::to_string(::getppid())) !=
                     std::string::npos
                 ? 0
                 : 3;
    });
    ASSERT_TRUE(c);
    auto st2 = c->WaitFor(10s);
    ASSERT_TRUE(st2);
    EXPECT_TRUE(st2->ok()) << st2->Describe();
  }
  EXPECT_NE(::access(lock.c_str(), F_OK), 0) << "released lock file left behind";
}

TEST_F(FileLockTest, StaleLockOfAKilledHolderIsBroken) {
  ScopedAlarm watchdog(30s, "stale lock file");
  std::string lock = dir_->file("the.lock");
  auto c = Child::Fork([&] {
    auto l = LockFile::Acquire(lock);
    if (!l) return 1;
    ::raise(SIGKILL);
    return 0;
  });
  ASSERT_TRUE(c);
  (void)c->WaitFor(10s);
  ASSERT_EQ(::access(lock.c_str(), F_OK), 0) << "the dead holder's file should still be there";
  EXPECT_EQ(*LockFile::Holder(lock), c->pid());
  auto mine = LockFile::Acquire(lock, sys::Deadline::After(5s));
  ASSERT_TRUE(mine) << mine.error().message();
  EXPECT_EQ(*LockFile::Holder(lock), ::getpid());
}

TEST_F(FileLockTest, LockFileGivesMutualExclusionAcrossProcesses) {
  std::string lock = dir_->file("counter.lock");
  Hammer(4, 60, [&](int fd) {
    auto l = LockFile::Acquire(lock, sys::Deadline::After(30s));
    return l && Increment(fd);
  });
  EXPECT_EQ(Counter(), 240);
  EXPECT_NE(::access(lock.c_str(), F_OK), 0);
}

TEST_F(FileLockTest, NoLockMeansLostUpdates) {
  // The planted twin of the hammers above: without a lock the counter loses increments, so the
  // hammers' exact totals are evidence of the locks, not of luck.
  Hammer(4, 150, [](int fd) { return Increment(fd); });
  EXPECT_LT(Counter(), 600);
}

}  // namespace
}  // namespace ipc::filelock
