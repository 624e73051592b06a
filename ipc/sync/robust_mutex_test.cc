#include "ipc/sync/robust_mutex.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/shm/segment.h"
#include "ipc/testing/process.h"

namespace ipc::sync {
namespace {

using std::chrono::milliseconds;
using testing::Child;
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

// glibc's pthread_mutex_trylock reports ENOTRECOVERABLE but keeps the lock word: another
// process's lock would then time out (or block for ever) instead of failing at once.
TEST_F(RobustMutexTest, TryLockOnANotRecoverableMutexLeavesItFailingForEveryone) {
  Watchdog dog(std::chrono::seconds(20), "robust mutex trylock not recoverable");
  KillChildHoldingTheMutex();
  LockOutcome out;
  if (!shared_->mutex.Lock(out)) FAIL() << out.error->message();
  shared_->mutex.Unlock();  // no MarkConsistent
  for (int i = 0; i < 2; ++i) {
    if (shared_->mutex.TryLock(out)) {
      shared_->mutex.Unlock();
      FAIL() << "TryLock took a mutex that should be unrecoverable";
    }
    EXPECT_EQ(out.error->err, ENOTRECOVERABLE);  // not EDEADLK: this thread holds nothing
  }
  auto child = ForkChild([s = shared_] {
    LockOutcome o;
    if (s->mutex.LockFor(std::chrono::seconds(5), o)) {
      s->mutex.Unlock();
      return 2;
    }
    return o.error->err == ENOTRECOVERABLE ? 0 : 3;
  });
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
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

// Survivor's check: a fresh process waits on the condvar; we notify; it must wake (not just
// time out). Repairs an owner-died mutex left by a killed child on the way.
void ExpectWaitAndNotifyStillWork(Shared* s, int round) IPC_NO_THREAD_SAFETY_ANALYSIS {
  {
    LockOutcome out;
    if (!s->mutex.Lock(out)) FAIL() << out.error->message();
    if (out.owner_died) ASSERT_TRUE(s->mutex.MarkConsistent().has_value());
    s->go = false;
    s->step.store(0);
    s->mutex.Unlock();
  }
  auto waiter = ForkChild([s] {
    RobustLock lock(s->mutex);
    if (!lock.held()) return 2;
    s->step.store(1);
    auto deadline = sys::Deadline::After(std::chrono::seconds(5));
    while (!s->go) {
      LockOutcome out;
      if (!s->cond.WaitUntil(s->mutex, deadline, out)) return 3;  // timed out: wakeup lost
    }
    return 0;
  });
  ASSERT_TRUE(waiter.has_value());
  while (s->step.load() < 1) std::this_thread::sleep_for(std::chrono::microseconds(50));
  {
    RobustLock lock(s->mutex);
    ASSERT_TRUE(lock.held());
    s->go = true;
    s->cond.NotifyOne();
  }
  auto st = waiter->Wait(std::chrono::seconds(10));
  ASSERT_TRUE(st.has_value()) << "round " << round;
  EXPECT_EQ(ExitCode(*st), 0) << "round " << round << ": waiter did not wake";
}

// The bug this replaces: glibc's pthread_cond_t has an internal lock, and a process SIGKILLed
// inside pthread_cond_* left it held, so the next pthread_cond_broadcast blocked forever. Here
// children are killed at random instants while blocked in Wait, while looping through
// wait/timeout/relock, and while notifying; after each kill the survivor's NotifyAll must return
// and a new waiter must be woken by a notify.
TEST_F(RobustMutexTest, CondVarSurvivesProcessesKilledInsideWaitAndNotify) {
  const int rounds = std::getenv("IPC_CONDVAR_KILL_ROUNDS") ? std::atoi(std::getenv("IPC_CONDVAR_KILL_ROUNDS")) : 40;
  std::uint64_t rng = 0x9e3779b97f4a7c15ull;
  auto next = [&rng] {
    rng ^= rng << 13, rng ^= rng >> 7, rng ^= rng << 17;
    return rng;
  };
  for (int round = 0; round < rounds; ++round) {
    // Per round (re-armed each time): a wedged condvar blocks NotifyAll or the check below.
    Watchdog dog(std::chrono::seconds(15),
                 "condvar after SIGKILLed waiters/notifiers, round " + std::to_string(round));
    // Blocked in Wait with no deadline (never notified while alive).
    // (Every process here repairs an owner-died mutex: unlocking without would make it
    // unrecoverable for all.)
    auto sleeper = ForkChild([s = shared_] {
      RobustLock lock(s->mutex);
      if (!lock.held()) return 2;
      if (lock.owner_died()) (void)lock.MarkConsistent();
      for (;;) {
        LockOutcome out;
        if (!s->cond.Wait(s->mutex, out)) return 3;
        if (out.owner_died) (void)s->mutex.MarkConsistent();
      }
    });
    // Churning through short timed waits (unlock, futex, relock).
    // (The analysis cannot follow a relock that may fail with the mutex not held.)
    auto churner = ForkChild([s = shared_]() IPC_NO_THREAD_SAFETY_ANALYSIS {
      for (;;) {
        LockOutcome out;
        if (!s->mutex.Lock(out)) return 2;
        if (out.owner_died) (void)s->mutex.MarkConsistent();
        (void)s->cond.WaitFor(s->mutex, std::chrono::microseconds(200), out);
        if (out.owner_died) (void)s->mutex.MarkConsistent();
        if (!out.error || out.error->err == ETIMEDOUT) s->mutex.Unlock();
      }
    });
    // Notifying in a tight loop, with and without the mutex.
    auto notifier = ForkChild([s = shared_] {
      for (long i = 0;; ++i) {
        if (i % 2 == 0) {
          s->cond.NotifyAll();
        } else {
          RobustLock lock(s->mutex);
          if (lock.owner_died()) (void)lock.MarkConsistent();
          s->cond.NotifyOne();
        }
      }
      return 0;
    });
    ASSERT_TRUE(sleeper.has_value() && churner.has_value() && notifier.has_value());
    std::this_thread::sleep_for(std::chrono::microseconds(200 + next() % 3000));
    // Kill in a random order so each is sometimes killed alone with the others still running.
    Child* order[3] = {&*sleeper, &*churner, &*notifier};
    for (int i = 2; i > 0; --i) std::swap(order[i], order[next() % (i + 1)]);
    for (Child* c : order) {
      auto st = c->Kill(SIGKILL);
      ASSERT_TRUE(st.has_value());
      ASSERT_EQ(ExitCode(*st), -SIGKILL) << "round " << round << ": a child ended on its own";
      shared_->cond.NotifyAll();  // the call that used to block forever
    }
    ExpectWaitAndNotifyStillWork(shared_, round);
    if (::testing::Test::HasFatalFailure()) return;
  }
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
