// Model-based (rc::state) property of the robust process-shared mutex and the shared condition
// variable of ipc/sync/robust_mutex.h, both in a POSIX shared-memory segment, against a model of
// who holds the mutex (nobody, this process, a forked child), whether its last owner died holding
// it (the next locker gets EOWNERDEAD and must MarkConsistent before unlocking) and whether it is
// unrecoverable (an owner-died lock was unlocked unrepaired: ENOTRECOVERABLE for good).
//
// Commands of this process: Lock, TryLock (EBUSY while a child holds it), TimedLock (5 ms:
// ETIMEDOUT while a child holds it, not before the deadline), Unlock, MarkConsistent (EINVAL
// unless the mutex is inconsistent). Forked children: ChildHolds (locks, reports what it got and
// holds until told), ChildReleases (marks consistent or not, unlocks, exits), ChildKilledHolding
// (SIGKILL while holding: the next locker gets EOWNERDEAD), ChildBlockedUntilUnlock (a child blocks
// in a timed lock while this process holds it and gets it when this process unlocks, or
// ENOTRECOVERABLE if that unlock was unrepaired). Condition variable: WaitTimesOut (nobody
// notifies: ETIMEDOUT after the deadline, predicate unchanged, mutex held again),
// ChildWaitersNotified (1-3 forked waiters register under the mutex; the predicate changes and a
// broadcast, or one signal per waiter, sent with or without the mutex wakes every one of them: no
// lost wakeup), WaitNotifiedByChild (this process waits, a forked child changes the predicate and
// signals).
//
// The planted twin (properties/planted/planted_robust_mutex.h: EOWNERDEAD reported as a plain
// acquisition, so the owner's death is never repaired) must be caught and shrunk to a short
// sequence. On failure rapidcheck prints the shrunk commands and an RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <memory>
#include <new>
#include <optional>
#include <stdexcept>
#include <thread>

#include "ipc/shm/segment.h"
#include "ipc/sync/robust_mutex.h"
#include "ipc/sys/deadline.h"
#include "ipc/testing/process.h"
#include "properties/planted/planted_robust_mutex.h"
#include "properties/stateful.h"

namespace {

using namespace std::chrono_literals;
using ipc::sync::LockOutcome;
using ipc::sync::RobustMutex;
using ipc::testing::ExitCode;
using ipc::testing::ForkChild;

enum class Holder { kNone, kParent, kChild };

struct MutexModel {
  Holder holder = Holder::kNone;
  bool owner_died = false;     // the last owner died holding it; not yet marked consistent
  bool unrecoverable = false;  // an owner-died lock was unlocked unrepaired
};

// A lock attempt's result as one number: 0 held, EOWNERDEAD held after a death, else the error.
int Code(bool held, const LockOutcome& out) {
  if (held) return out.owner_died ? EOWNERDEAD : 0;
  return out.error ? out.error->err : -1;
}
// What locking a mutex nobody holds gives.
int FreeLockCode(const MutexModel& m) {
  return m.unrecoverable ? ENOTRECOVERABLE : m.owner_died ? EOWNERDEAD : 0;
}
void Acquire(MutexModel& m, Holder h) {
  if (!m.unrecoverable) m.holder = h;  // owner_died stays until MarkConsistent
}
void Release(MutexModel& m) {
  if (m.owner_died) m.unrecoverable = true;
  m.owner_died = false;
  m.holder = Holder::kNone;
}
bool Clean(const MutexModel& m) { return m.holder == Holder::kNone && !m.owner_died && !m.unrecoverable; }

constexpr int kPending = -1000;  // child_code before the child reported

// What the processes share (in the segment).
struct Shared {
  RobustMutex mutex;
  ipc::sync::SharedCondVar cond;
  int ready IPC_GUARDED_BY(mutex) = 0;    // the condition: bumped by every notifier
  int waiters IPC_GUARDED_BY(mutex) = 0;  // forked waiters registered
  std::atomic<int> child_code{kPending};  // what the child's lock gave (Code)
  std::atomic<int> order{0};              // to a holding child: 1 unlock, 2 mark consistent + unlock
};

// The locking calls of RobustMutex itself; the planted twin swaps in a wrapper with the same calls.
class DirectMutex {
 public:
  explicit DirectMutex(RobustMutex& m) : m_(m) {}
  RobustMutex& raw() { return m_; }
  bool Lock(LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS { return m_.Lock(out); }
  bool TryLock(LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS { return m_.TryLock(out); }
  bool LockUntil(ipc::sys::Deadline d, LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS {
    return m_.LockUntil(d, out);
  }
  ipc::sys::Status MarkConsistent() IPC_NO_THREAD_SAFETY_ANALYSIS { return m_.MarkConsistent(); }
  void Unlock() IPC_NO_THREAD_SAFETY_ANALYSIS { m_.Unlock(); }

 private:
  RobustMutex& m_;
};

// The system: the segment, the locking calls (through M) and the child that may hold the mutex.
// The state machine (who holds what) is the model's; the SUT only performs. Lock state crosses
// commands, which the thread-safety analysis cannot follow.
class MutexSutBase {
 public:
  MutexSutBase() {
    auto s = ipc::shm::Segment::CreatePosix("mutexprop", sizeof(Shared));
    if (!s) throw std::runtime_error(s.error().message());
    seg_ = std::make_unique<ipc::shm::Segment>(std::move(*s));
    shared_ = new (seg_->payload().data()) Shared;
    if (auto ok = shared_->mutex.Init(); !ok) throw std::runtime_error(ok.error().message());
    if (auto ok = shared_->cond.Init(); !ok) throw std::runtime_error(ok.error().message());
  }
  // Kills a holding child, releases and destroys the mutex (ThreadSanitizer keeps a mutex that is
  // never destroyed as held: 64 of them abort it), then the segment goes.
  virtual ~MutexSutBase() IPC_NO_THREAD_SAFETY_ANALYSIS {
    holder_.reset();
    if (parent_holds_) shared_->mutex.Unlock();
    (void)shared_->mutex.Destroy();
  }
  virtual bool Lock(LockOutcome& out) = 0;
  virtual bool TryLock(LockOutcome& out) = 0;
  virtual bool LockUntil(ipc::sys::Deadline d, LockOutcome& out) = 0;
  virtual ipc::sys::Status MarkConsistent() = 0;
  virtual void Unlock() = 0;

  Shared& shared() { return *shared_; }
  // Whether this process holds the mutex now, kept by the locking calls for the destructor.
  bool parent_holds_ = false;
  std::optional<ipc::testing::Child>& holder() { return holder_; }

  // Forks a child that runs `body`; `body`'s lock result goes to child_code, which this waits for.
  ipc::testing::Child ForkAndAwaitCode(std::function<int()> body) {
    shared_->child_code.store(kPending);
    auto child = ForkChild(std::move(body));
    RC_ASSERT(child.has_value());
    auto deadline = ipc::sys::Deadline::After(10s);
    while (shared_->child_code.load() == kPending && !deadline.expired()) std::this_thread::sleep_for(100us);
    RC_ASSERT(shared_->child_code.load() != kPending);
    return std::move(*child);
  }
  // Waits for a child that was told to finish; it must exit 0.
  static void Reap(ipc::testing::Child& child) {
    auto st = child.Wait(10s);
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == 0);
  }

 private:
  std::unique_ptr<ipc::shm::Segment> seg_;
  Shared* shared_ = nullptr;
  std::optional<ipc::testing::Child> holder_;
};

template <class M>
class MutexSut : public MutexSutBase {
 public:
  MutexSut() : m_(shared().mutex) {}
  bool Lock(LockOutcome& out) override { return parent_holds_ = m_.Lock(out); }
  bool TryLock(LockOutcome& out) override { return Held(m_.TryLock(out), out); }
  bool LockUntil(ipc::sys::Deadline d, LockOutcome& out) override { return parent_holds_ = m_.LockUntil(d, out); }
  ipc::sys::Status MarkConsistent() override { return m_.MarkConsistent(); }
  void Unlock() override {
    m_.Unlock();
    parent_holds_ = false;
  }

 private:
  bool Held(bool held, const LockOutcome& out) {
    if (held || !out.error || out.error->err != EDEADLK) parent_holds_ = held;  // EDEADLK: still ours
    return held;
  }

  M m_;
};
using RealSut = MutexSut<DirectMutex>;
using PlantedSut = MutexSut<properties::planted::OwnerDeathHidingMutex>;

using Cmd = rc::state::Command<MutexModel, MutexSutBase>;

// Lock, TryLock or a 5 ms timed lock from this process.
enum class How { kLock, kTry, kTimed };
struct ParentLock : Cmd {
  How how = *rc::gen::element(How::kLock, How::kTry, How::kTry, How::kTimed);
  void checkPreconditions(const MutexModel& m) const override {
    RC_PRE(m.holder != Holder::kParent);                           // error-checking: not twice
    RC_PRE(how != How::kLock || m.holder != Holder::kChild);  // would wait for ever
  }
  void apply(MutexModel& m) const override {
    if (m.holder == Holder::kNone) Acquire(m, Holder::kParent);
  }
  void run(const MutexModel& m, MutexSutBase& sut) const override {
    LockOutcome out;
    auto t0 = std::chrono::steady_clock::now();
    bool held = how == How::kLock  ? sut.Lock(out)
                : how == How::kTry ? sut.TryLock(out)
                                   : sut.LockUntil(ipc::sys::Deadline::After(5ms), out);
    int want = m.holder == Holder::kChild ? (how == How::kTry ? EBUSY : ETIMEDOUT) : FreeLockCode(m);
    RC_ASSERT(Code(held, out) == want);
    if (want == ETIMEDOUT) RC_ASSERT(std::chrono::steady_clock::now() - t0 >= 5ms);
  }
  void show(std::ostream& os) const override {
    os << (how == How::kLock ? "Lock" : how == How::kTry ? "TryLock" : "TimedLock(5ms)");
  }
};

struct ParentUnlock : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kParent); }
  void apply(MutexModel& m) const override { Release(m); }
  void run(const MutexModel&, MutexSutBase& sut) const override { sut.Unlock(); }
  void show(std::ostream& os) const override { os << "Unlock"; }
};

struct MarkConsistent : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kParent); }
  void apply(MutexModel& m) const override { m.owner_died = false; }
  void run(const MutexModel& m, MutexSutBase& sut) const override {
    auto s = sut.MarkConsistent();
    if (m.owner_died) {
      RC_ASSERT(s.has_value());
    } else {
      RC_ASSERT(!s.has_value());
      RC_ASSERT(s.error().err == EINVAL);  // nothing to repair
    }
  }
  void show(std::ostream& os) const override { os << "MarkConsistent"; }
};

// A forked child locks (nobody holds it), reports what it got and, holding it, waits for orders.
struct ChildHolds : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kNone); }
  void apply(MutexModel& m) const override { Acquire(m, Holder::kChild); }
  void run(const MutexModel& m, MutexSutBase& sut) const override {
    Shared& s = sut.shared();
    s.order.store(0);
    auto child = sut.ForkAndAwaitCode([&] {
      LockOutcome out;
      bool held = sut.Lock(out);
      s.child_code.store(Code(held, out));
      if (!held) return 0;
      int order;
      while ((order = s.order.load()) == 0) std::this_thread::sleep_for(100us);
      if (order == 2 && out.owner_died && !sut.MarkConsistent()) return 2;
      sut.Unlock();
      return 0;
    });
    RC_ASSERT(sut.shared().child_code.load() == FreeLockCode(m));
    if (m.unrecoverable) {
      MutexSutBase::Reap(child);
    } else {
      sut.holder().emplace(std::move(child));
    }
  }
  void show(std::ostream& os) const override { os << "ChildHolds"; }
};

struct ChildReleases : Cmd {
  bool consistent = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kChild); }
  void apply(MutexModel& m) const override {
    if (consistent) m.owner_died = false;
    Release(m);
  }
  void run(const MutexModel&, MutexSutBase& sut) const override {
    RC_ASSERT(sut.holder().has_value());
    sut.shared().order.store(consistent ? 2 : 1);
    MutexSutBase::Reap(*sut.holder());
    sut.holder().reset();
  }
  void show(std::ostream& os) const override {
    os << "ChildReleases(" << (consistent ? "marked consistent" : "unrepaired") << ")";
  }
};

struct ChildKilledHolding : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kChild); }
  void apply(MutexModel& m) const override {
    m.holder = Holder::kNone;
    m.owner_died = true;
  }
  void run(const MutexModel&, MutexSutBase& sut) const override {
    RC_ASSERT(sut.holder().has_value());
    auto st = sut.holder()->Kill();
    sut.holder().reset();
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == -SIGKILL);
  }
  void show(std::ostream& os) const override { os << "ChildKilledHolding"; }
};

// This process holds it; a forked child blocks in a timed lock until this process unlocks.
struct ChildBlockedUntilUnlock : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(m.holder == Holder::kParent); }
  void apply(MutexModel& m) const override { Release(m); }  // the child locks and unlocks after
  void run(const MutexModel& m, MutexSutBase& sut) const override {
    Shared& s = sut.shared();
    s.child_code.store(kPending);
    auto child = ForkChild([&] {
      LockOutcome out;
      bool held = sut.LockUntil(ipc::sys::Deadline::After(8s), out);
      s.child_code.store(Code(held, out));
      if (held) sut.Unlock();
      return 0;
    });
    RC_ASSERT(child.has_value());
    std::this_thread::sleep_for(3ms);  // most often the child sleeps in the lock by now
    RC_ASSERT(s.child_code.load() == kPending);  // it cannot have the mutex yet
    sut.Unlock();
    MutexSutBase::Reap(*child);
    MutexModel after = m;
    Release(after);
    RC_ASSERT(s.child_code.load() == FreeLockCode(after));  // 0, or ENOTRECOVERABLE if unrepaired
  }
  void show(std::ostream& os) const override { os << "ChildBlockedUntilUnlock"; }
};

// Locks in this process for a condvar command (the mutex is clean: nobody holds it).
void LockClean(MutexSutBase& sut) {
  LockOutcome out;
  bool held = sut.Lock(out);
  RC_ASSERT(Code(held, out) == 0);
}

// Nobody notifies: a timed wait ends with ETIMEDOUT after its deadline, the mutex held again.
struct WaitTimesOut : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(Clean(m)); }
  void apply(MutexModel&) const override {}
  void run(const MutexModel&, MutexSutBase& sut) const override IPC_NO_THREAD_SAFETY_ANALYSIS {
    Shared& s = sut.shared();
    LockClean(sut);
    const int seen = s.ready;
    auto t0 = std::chrono::steady_clock::now();
    auto deadline = ipc::sys::Deadline::After(5ms);
    LockOutcome out;
    while (s.ready == seen) {  // spurious wakeups are allowed: wait again
      if (!s.cond.WaitUntil(sut.shared().mutex, deadline, out)) break;
    }
    RC_ASSERT(out.error.has_value());
    RC_ASSERT(out.error->err == ETIMEDOUT);
    RC_ASSERT(std::chrono::steady_clock::now() - t0 >= 5ms);
    RC_ASSERT(s.ready == seen);
    LockOutcome again;
    RC_ASSERT(Code(sut.TryLock(again), again) == EDEADLK);  // held again, by this thread
    sut.Unlock();
  }
  void show(std::ostream& os) const override { os << "WaitTimesOut(5ms)"; }
};

// 1-3 forked waiters register under the mutex and wait for the predicate to change; this process
// changes it and sends a broadcast, or one signal per waiter, with or without the mutex held.
struct ChildWaitersNotified : Cmd {
  int waiters = *rc::gen::element(1, 2, 3);  // element, not inRange: not scaled by size
  bool broadcast = *rc::gen::arbitrary<bool>();
  bool under_lock = *rc::gen::arbitrary<bool>();
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(Clean(m)); }
  void apply(MutexModel&) const override {}
  void run(const MutexModel&, MutexSutBase& sut) const override IPC_NO_THREAD_SAFETY_ANALYSIS {
    Shared& s = sut.shared();
    LockClean(sut);
    s.waiters = 0;
    sut.Unlock();
    std::vector<ipc::testing::Child> children;
    for (int i = 0; i < waiters; ++i) {
      auto child = ForkChild([&]() IPC_NO_THREAD_SAFETY_ANALYSIS {
        LockOutcome out;
        if (!sut.Lock(out) || out.owner_died) return 2;
        const int seen = s.ready;
        ++s.waiters;
        auto deadline = ipc::sys::Deadline::After(8s);
        while (s.ready == seen) {
          if (!s.cond.WaitUntil(s.mutex, deadline, out)) {
            if (out.error && out.error->err == ETIMEDOUT) sut.Unlock();
            return 3;  // lost wakeup: the notification came after it registered
          }
        }
        sut.Unlock();
        return 0;
      });
      RC_ASSERT(child.has_value());
      children.push_back(std::move(*child));
    }
    // Every waiter registered (under the mutex, released only inside its wait).
    auto deadline = ipc::sys::Deadline::After(10s);
    for (;;) {
      LockClean(sut);
      if (s.waiters == waiters || deadline.expired()) break;
      sut.Unlock();
      std::this_thread::sleep_for(100us);
    }
    RC_ASSERT(s.waiters == waiters);
    ++s.ready;
    auto notify = [&] {
      for (int i = 0; i < (broadcast ? 1 : waiters); ++i) broadcast ? s.cond.NotifyAll() : s.cond.NotifyOne();
    };
    if (under_lock) notify();
    sut.Unlock();
    if (!under_lock) notify();
    for (auto& c : children) MutexSutBase::Reap(c);
  }
  void show(std::ostream& os) const override {
    os << "ChildWaitersNotified(" << waiters << " waiters, " << (broadcast ? "broadcast" : "one signal each")
       << (under_lock ? ", under the mutex" : ", after unlock") << ")";
  }
};

// This process waits; a forked child locks (once the wait released it), changes the predicate,
// signals and unlocks.
struct WaitNotifiedByChild : Cmd {
  void checkPreconditions(const MutexModel& m) const override { RC_PRE(Clean(m)); }
  void apply(MutexModel&) const override {}
  void run(const MutexModel&, MutexSutBase& sut) const override IPC_NO_THREAD_SAFETY_ANALYSIS {
    Shared& s = sut.shared();
    LockClean(sut);
    const int seen = s.ready;
    auto child = ForkChild([&]() IPC_NO_THREAD_SAFETY_ANALYSIS {
      LockOutcome out;
      if (!sut.LockUntil(ipc::sys::Deadline::After(8s), out) || out.owner_died) return 2;
      ++s.ready;
      s.cond.NotifyOne();
      sut.Unlock();
      return 0;
    });
    RC_ASSERT(child.has_value());
    auto deadline = ipc::sys::Deadline::After(8s);
    LockOutcome out;
    bool woken = true;
    while (woken && s.ready == seen) woken = s.cond.WaitUntil(s.mutex, deadline, out);
    RC_ASSERT(woken);  // not ETIMEDOUT: the child's signal reached this waiter
    RC_ASSERT(s.ready == seen + 1);
    sut.Unlock();
    MutexSutBase::Reap(*child);
  }
  void show(std::ostream& os) const override { os << "WaitNotifiedByChild"; }
};

template <class SutT, class... Cmds>
void RunSequence() {
  ipc::testing::Watchdog dog(60s, "robust mutex model: one command sequence");
  properties::RunCommands<Cmds...>(MutexModel{}, [] { return SutT(); });
}

#define MUTEX_COMMANDS ParentLock, ParentLock, ParentUnlock, ParentUnlock, MarkConsistent, ChildHolds, \
                       ChildReleases, ChildKilledHolding, ChildKilledHolding, ChildBlockedUntilUnlock
#define CONDVAR_COMMANDS WaitTimesOut, ChildWaitersNotified, ChildWaitersNotified, WaitNotifiedByChild

RC_GTEST_PROP(RobustMutexModel, OwnerDeathRecoveryAndUnrecoverableFollowTheModel, ()) {
  RunSequence<RealSut, MUTEX_COMMANDS>();
}

RC_GTEST_PROP(RobustMutexModel, CondVarAcrossProcessesLosesNoWakeup, ()) {
  RunSequence<RealSut, MUTEX_COMMANDS, CONDVAR_COMMANDS>();
}

TEST(RobustMutexModel, FindsPlantedHiddenOwnerDeathAndShrinksIt) {
  // The smallest failure is ChildHolds, ChildKilledHolding, Lock (or ChildHolds): three commands.
  properties::ExpectCaughtAndShrunk("planted: EOWNERDEAD reported as a plain lock", 3,
                                    [] { RunSequence<PlantedSut, MUTEX_COMMANDS>(); });
}

}  // namespace
