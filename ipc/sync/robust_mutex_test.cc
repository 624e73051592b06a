#include "ipc/sync/robust_mutex.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/shm/segment.h"
#include "ipc/testing/process.h"

namespace ipc::sync {
namespace {

using std::chrono::milliseconds;
using testing::ExitCode;
using testing::ForkChild;
using testing::Watchdog;

// State in shared memory: `a == b` is the invariant the mutex protects.
struct Shared {
  RobustMutex mutex;
  SharedCondVar cond;
  long a IPC_GUARDED_BY(mutex) = 0;
  long b IPC_GUARDED_BY(mutex) = 0;
  bool go IPC_GUARDED_BY(mutex) = false;
  std::atomic<int> step{0};  // test choreography, outside the mutex
};

class RobustMutexTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto seg = shm::Segment::CreatePosix("mutex", sizeof(Shared));
    ASSERT_TRUE(seg.has_value()) << seg.error().message();
    seg_ = std::make_unique<shm::Segment>(std::move(*seg));
    shared_ = new (seg_->payload().data()) Shared;
    ASSERT_TRUE(shared_->mutex.Init().has_value());
    ASSERT_TRUE(shared_->cond.Init().has_value());
  }
  static void WaitStep(Shared* s, int want) {
    while (s->step.load() < want) std::this_thread::sleep_for(std::chrono::microseconds(100));
  }
  // A child that locks, breaks the invariant half-way, and dies with SIGKILL holding the mutex.
  void KillChildHoldingTheMutex() {
    auto child = ForkChild([s = shared_] {
      LockOutcome out;
      if (!s->mutex.Lock(out)) return 2;
      s->a += 1;  // ... and never s->b += 1
      ::raise(SIGKILL);
      s->mutex.Unlock();
      return 3;
    });
    ASSERT_TRUE(child.has_value());
    auto st = child->Wait();
    ASSERT_TRUE(st.has_value());
    ASSERT_EQ(ExitCode(*st), -SIGKILL);
  }
  std::unique_ptr<shm::Segment> seg_;
  Shared* shared_ = nullptr;
};

TEST_F(RobustMutexTest, OwnerKilledYieldsOwnerDiedAndTheSurvivorRepairs) {
  Watchdog dog(std::chrono::seconds(20), "robust mutex owner death");
  KillChildHoldingTheMutex();
  Shared* s = shared_;
  {
    RobustLock lock(s->mutex);
    ASSERT_TRUE(lock.held()) << lock.error()->message();
    ASSERT_TRUE(lock.owner_died());
    EXPECT_NE(s->a, s->b) << "the dead owner's half-update is visible";
    s->b = s->a;  // repair
    ASSERT_TRUE(lock.MarkConsistent().has_value());
  }
  RobustLock again(s->mutex);
  ASSERT_TRUE(again.held());
  EXPECT_FALSE(again.owner_died());
  EXPECT_EQ(s->a, s->b);
}

TEST_F(RobustMutexTest, UnlockWithoutRepairMakesItNotRecoverable) {
  Watchdog dog(std::chrono::seconds(20), "robust mutex not recoverable");
  KillChildHoldingTheMutex();
  LockOutcome out;
  if (!shared_->mutex.Lock(out)) FAIL() << out.error->message();
  EXPECT_TRUE(out.owner_died);
  shared_->mutex.Unlock();  // no MarkConsistent
  if (shared_->mutex.Lock(out)) {
    shared_->mutex.Unlock();
    FAIL() << "locked a mutex that should be unrecoverable";
  }
  ASSERT_TRUE(out.error.has_value());
  EXPECT_EQ(out.error->err, ENOTRECOVERABLE);
  EXPECT_NE(out.error->message().find("MarkConsistent"), std::string::npos);
}

TEST_F(RobustMutexTest, TimedAndTryLockFailWhileAnotherProcessHoldsIt) {
  Watchdog dog(std::chrono::seconds(20), "robust mutex timed lock");
  auto child = ForkChild([s = shared_] {
    LockOutcome out;
    if (!s->mutex.Lock(out)) return 2;
    s->step.store(1);
    WaitStep(s, 2);
    s->mutex.Unlock();
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  WaitStep(shared_, 1);
  LockOutcome out;
  if (shared_->mutex.TryLock(out)) {
    shared_->mutex.Unlock();
    FAIL() << "TryLock took a held mutex";
  }
  EXPECT_EQ(out.error->err, EBUSY);
  auto t0 = std::chrono::steady_clock::now();
  if (shared_->mutex.LockFor(milliseconds(50), out)) {
    shared_->mutex.Unlock();
    FAIL() << "LockFor took a held mutex";
  }
  EXPECT_EQ(out.error->err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(50));
  shared_->step.store(2);
  if (!shared_->mutex.LockFor(std::chrono::seconds(5), out)) FAIL() << out.error->message();
  shared_->mutex.Unlock();
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
}

TEST_F(RobustMutexTest, ExcludesAcrossProcesses) {
  Watchdog dog(std::chrono::seconds(30), "robust mutex exclusion");
  constexpr int kChildren = 3, kRounds = 3000;
  std::vector<testing::Child> kids;
  for (int c = 0; c < kChildren; ++c) {
    auto child = ForkChild([s = shared_] {
      for (int i = 0; i < kRounds; ++i) {
        RobustLock lock(s->mutex);
        if (!lock.held() || lock.owner_died()) return 2;
        long a = s->a;  // a torn read-modify-write if exclusion failed
        s->a = a + 1;
        s->b = s->b + 1;
      }
      return 0;
    });
    ASSERT_TRUE(child.has_value());
    kids.push_back(std::move(*child));
  }
  for (auto& k : kids) EXPECT_EQ(ExitCode(*k.Wait(std::chrono::seconds(25))), 0);
  RobustLock lock(shared_->mutex);
  EXPECT_EQ(shared_->a, kChildren * kRounds);
  EXPECT_EQ(shared_->b, kChildren * kRounds);
}

TEST_F(RobustMutexTest, CondVarWakesAWaiterInAnotherProcess) {
  Watchdog dog(std::chrono::seconds(20), "shared condvar wake");
  auto child = ForkChild([s = shared_] {
    RobustLock lock(s->mutex);
    if (!lock.held()) return 2;
    s->step.store(1);
    auto deadline = sys::Deadline::After(std::chrono::seconds(10));
    while (!s->go) {
      LockOutcome out;
      if (!s->cond.WaitUntil(s->mutex, deadline, out)) return 3;
    }
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  WaitStep(shared_, 1);
  {
    RobustLock lock(shared_->mutex);
    shared_->go = true;
    shared_->cond.NotifyAll();
  }
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
}

TEST_F(RobustMutexTest, CondVarWaitTimesOutWithTheMutexHeld) {
  LockOutcome out;
  if (!shared_->mutex.Lock(out)) FAIL() << out.error->message();
  auto t0 = std::chrono::steady_clock::now();
  bool woke = shared_->cond.WaitFor(shared_->mutex, milliseconds(30), out);
  EXPECT_FALSE(woke);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(30));
  EXPECT_EQ(out.error ? out.error->err : 0, ETIMEDOUT);
  shared_->a = 1;  // still ours
  shared_->b = 1;
  shared_->mutex.Unlock();
}

TEST(RobustMutex, ThreadsOfOneProcessToo) {
  auto m = std::make_unique<RobustMutex>();
  ASSERT_TRUE(m->Init().has_value());
  long counter = 0;
  auto work = [&] {
    for (int i = 0; i < 20000; ++i) {
      RobustLock lock(*m);
      ++counter;
    }
  };
  std::thread t1(work), t2(work);
  t1.join();
  t2.join();
  EXPECT_EQ(counter, 40000);
  EXPECT_TRUE(m->Destroy().has_value());
}

}  // namespace
}  // namespace ipc::sync
