// Model-based (rc::state) property of the counting semaphores of ipc/sync/semaphore.h, all three
// back-ends (an unnamed sem_t in a POSIX shared-memory segment, a named POSIX semaphore, a System V
// set) against a model that is one counter. Commands: Post (+1), TryWait (-1, or false on 0, the
// count unchanged), WaitFor with a short deadline (-1, or ETIMEDOUT on 0 after the deadline has
// passed), Value.
//
// Multi-process commands (the semaphore is shared through fork: the segment, the sem_open mapping,
// the SysV id): a forked child posts n times and exits; a forked child waits n times and exits; a
// forked child blocks on a count of 0 and is woken by the parent's post. System V only: a forked
// child decrements (or increments) with SEM_UNDO, the parent sees the count change, SIGKILLs it,
// and the kernel has reversed the dead child's operations: the count is as before the child.
// Child commands carry a watchdog: a child that blocks for ever fails the test with a diagnosis.
// The planted twin (properties/planted/planted_semaphore.h: SEM_UNDO dropped) must be caught and
// shrunk to a short sequence.
// On failure rapidcheck prints the shrunk commands and an RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>

#include <cerrno>
#include <chrono>
#include <memory>
#include <new>
#include <stdexcept>
#include <thread>

#include "ipc/shm/segment.h"
#include "ipc/sync/semaphore.h"
#include "ipc/sys/deadline.h"
#include "ipc/testing/process.h"
#include "properties/planted/planted_semaphore.h"
#include "properties/stateful.h"

namespace {

using namespace std::chrono_literals;
using ipc::testing::ExitCode;
using ipc::testing::ForkChild;

struct SemModel {
  int value = 0;
};

// One interface over the three back-ends; `undo` is honoured by System V only.
class SemSut {
 public:
  virtual ~SemSut() = default;
  virtual bool supports_undo() const { return false; }
  virtual ipc::sys::Status Post(bool undo = false) = 0;
  virtual ipc::sys::Result<bool> TryWait(bool undo = false) = 0;
  virtual ipc::sys::Status WaitFor(std::chrono::milliseconds d, bool undo = false) = 0;
  virtual ipc::sys::Result<int> Value() = 0;
};

class UnnamedSut : public SemSut {
 public:
  explicit UnnamedSut(unsigned initial) {
    auto s = ipc::shm::Segment::CreatePosix("semprop", sizeof(ipc::sync::UnnamedSemaphore));
    if (!s) throw std::runtime_error(s.error().message());
    seg_ = std::make_unique<ipc::shm::Segment>(std::move(*s));
    sem_ = new (seg_->payload().data()) ipc::sync::UnnamedSemaphore;
    if (auto ok = sem_->Init(initial); !ok) throw std::runtime_error(ok.error().message());
  }
  ~UnnamedSut() override { (void)sem_->Destroy(); }
  ipc::sys::Status Post(bool) override { return sem_->Post(); }
  ipc::sys::Result<bool> TryWait(bool) override { return sem_->TryWait(); }
  ipc::sys::Status WaitFor(std::chrono::milliseconds d, bool) override { return sem_->WaitFor(d); }
  ipc::sys::Result<int> Value() override { return sem_->Value(); }

 private:
  std::unique_ptr<ipc::shm::Segment> seg_;
  ipc::sync::UnnamedSemaphore* sem_ = nullptr;
};

class NamedSut : public SemSut {
 public:
  explicit NamedSut(unsigned initial) {
    auto s = ipc::sync::NamedSemaphore::Create("semprop", initial);
    if (!s) throw std::runtime_error(s.error().message());
    sem_ = std::make_unique<ipc::sync::NamedSemaphore>(std::move(*s));
  }
  ipc::sys::Status Post(bool) override { return sem_->Post(); }
  ipc::sys::Result<bool> TryWait(bool) override { return sem_->TryWait(); }
  ipc::sys::Status WaitFor(std::chrono::milliseconds d, bool) override { return sem_->WaitFor(d); }
  ipc::sys::Result<int> Value() override { return sem_->Value(); }

 private:
  std::unique_ptr<ipc::sync::NamedSemaphore> sem_;
};

// System V; `Set` is SysvSemaphoreSet or the planted twin that drops SEM_UNDO.
template <class Set>
class SysvSutOf : public SemSut {
 public:
  explicit SysvSutOf(unsigned initial) {
    auto s = Set::Create("semprop", 1, initial);
    if (!s) throw std::runtime_error(s.error().message());
    set_ = std::make_unique<Set>(std::move(*s));
  }
  bool supports_undo() const override { return true; }
  ipc::sys::Status Post(bool undo) override { return set_->Post(0, undo); }
  ipc::sys::Result<bool> TryWait(bool undo) override { return set_->TryWait(0, undo); }
  ipc::sys::Status WaitFor(std::chrono::milliseconds d, bool undo) override {
    return set_->WaitFor(d, 0, undo);
  }
  ipc::sys::Result<int> Value() override { return set_->Value(0); }

 private:
  std::unique_ptr<Set> set_;
};
using SysvSut = SysvSutOf<ipc::sync::SysvSemaphoreSet>;
using PlantedSysvSut = SysvSutOf<properties::planted::NoUndoSysvSemaphore>;

using Cmd = rc::state::Command<SemModel, SemSut>;
constexpr int kMaxValue = 64;  // keeps sequences short and well below SEMVMX

struct Post : Cmd {
  void checkPreconditions(const SemModel& m) const override { RC_PRE(m.value < kMaxValue); }
  void apply(SemModel& m) const override { ++m.value; }
  void run(const SemModel&, SemSut& sut) const override { RC_ASSERT(sut.Post().has_value()); }
  void show(std::ostream& os) const override { os << "Post"; }
};

struct TryWait : Cmd {
  void apply(SemModel& m) const override {
    if (m.value > 0) --m.value;
  }
  void run(const SemModel& m, SemSut& sut) const override {
    auto r = sut.TryWait();
    RC_ASSERT(r.has_value());
    RC_ASSERT(*r == (m.value > 0));  // false (EAGAIN inside) exactly when the count is 0
  }
  void show(std::ostream& os) const override { os << "TryWait"; }
};

struct TimedWait : Cmd {
  void apply(SemModel& m) const override {
    if (m.value > 0) --m.value;
  }
  void run(const SemModel& m, SemSut& sut) const override {
    constexpr auto kWait = 5ms;
    auto t0 = std::chrono::steady_clock::now();
    auto r = sut.WaitFor(kWait);
    if (m.value > 0) {
      RC_ASSERT(r.has_value());
    } else {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == ETIMEDOUT);
      RC_ASSERT(std::chrono::steady_clock::now() - t0 >= kWait);  // not before the deadline
    }
  }
  void show(std::ostream& os) const override { os << "TimedWait(5ms)"; }
};

struct Value : Cmd {
  void apply(SemModel&) const override {}
  void run(const SemModel& m, SemSut& sut) const override {
    auto v = sut.Value();
    RC_ASSERT(v.has_value());
    RC_ASSERT(*v == m.value);
  }
  void show(std::ostream& os) const override { os << "Value"; }
};

// A forked child posts n times (without undo: a hand-off that outlives the poster) and exits.
struct ChildPosts : Cmd {
  int n = *rc::gen::inRange(1, 6);
  void checkPreconditions(const SemModel& m) const override { RC_PRE(m.value + n <= kMaxValue); }
  void apply(SemModel& m) const override { m.value += n; }
  void run(const SemModel&, SemSut& sut) const override {
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "semaphore: child posts");
    auto child = ForkChild([&] {
      for (int i = 0; i < n; ++i) {
        if (!sut.Post()) return 2;
      }
      return 0;
    });
    RC_ASSERT(child.has_value());
    auto st = child->Wait(10s);
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == 0);
  }
  void show(std::ostream& os) const override { os << "ChildPosts(" << n << ")"; }
};

// A forked child takes n counts (the model has them) and exits.
struct ChildWaits : Cmd {
  int n = *rc::gen::inRange(1, 4);
  void checkPreconditions(const SemModel& m) const override { RC_PRE(m.value >= n); }
  void apply(SemModel& m) const override { m.value -= n; }
  void run(const SemModel&, SemSut& sut) const override {
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "semaphore: child waits");
    auto child = ForkChild([&] {
      for (int i = 0; i < n; ++i) {
        if (!sut.WaitFor(5s)) return 2;
      }
      return 0;
    });
    RC_ASSERT(child.has_value());
    auto st = child->Wait(10s);
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == 0);
  }
  void show(std::ostream& os) const override { os << "ChildWaits(" << n << ")"; }
};

// On a count of 0 a forked child blocks in a wait; the parent's post wakes it; the count stays 0.
struct ChildWokenByPost : Cmd {
  void checkPreconditions(const SemModel& m) const override { RC_PRE(m.value == 0); }
  void apply(SemModel&) const override {}
  void run(const SemModel&, SemSut& sut) const override {
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "semaphore: blocked child woken by post");
    auto child = ForkChild([&] { return sut.WaitFor(8s) ? 0 : 2; });
    RC_ASSERT(child.has_value());
    std::this_thread::sleep_for(3ms);  // most often the child is asleep in the wait by now
    auto early = child->Wait(std::chrono::milliseconds(0));
    RC_ASSERT(!early.has_value());  // nothing to take: it cannot have finished
    RC_ASSERT(sut.Post().has_value());
    auto st = child->Wait(10s);
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == 0);
  }
  void show(std::ostream& os) const override { os << "ChildWokenByPost"; }
};

// System V: a forked child changes the count by `delta` (waits or posts) with SEM_UNDO, the parent
// sees the change, then SIGKILLs it: the kernel reverses the dead child's adjustments.
struct ChildUndoKilled : Cmd {
  int delta = *rc::gen::element(-3, -2, -1, 1, 2);
  void checkPreconditions(const SemModel& m) const override {
    RC_PRE(m.value + delta >= 0 && m.value + delta <= kMaxValue);
  }
  void apply(SemModel&) const override {}  // undone: as if it had never run
  void run(const SemModel& m, SemSut& sut) const override {
    RC_ASSERT(sut.supports_undo());  // only in the System V property
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "semaphore: SEM_UNDO child killed");
    auto child = ForkChild([&] {
      for (int i = 0; i < (delta < 0 ? -delta : delta); ++i) {
        if (!(delta < 0 ? sut.WaitFor(5s, /*undo=*/true) : sut.Post(/*undo=*/true))) return 2;
      }
      for (;;) std::this_thread::sleep_for(1s);  // holds until killed
    });
    RC_ASSERT(child.has_value());
    auto deadline = ipc::sys::Deadline::After(10s);
    int seen = -1;
    while (!deadline.expired()) {
      auto v = sut.Value();
      RC_ASSERT(v.has_value());
      seen = *v;
      if (seen == m.value + delta) break;
      std::this_thread::sleep_for(std::chrono::microseconds(200));
    }
    RC_ASSERT(seen == m.value + delta);  // the child's operations happened
    auto st = child->Kill();
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == -SIGKILL);
    auto after = sut.Value();
    RC_ASSERT(after.has_value());
    RC_ASSERT(*after == m.value);  // and were undone when it died
  }
  void show(std::ostream& os) const override { os << "ChildUndoKilled(delta " << delta << ")"; }
};

template <class SutT, class... Cmds>
void RunSequence() {
  SemModel model;
  model.value = *rc::gen::inRange(0, 4);
  properties::RunCommands<Cmds...>(model, [&] { return SutT(static_cast<unsigned>(model.value)); });
}

#define SEM_LOCAL_COMMANDS Post, Post, TryWait, TryWait, TimedWait, Value
#define SEM_PROCESS_COMMANDS ChildPosts, ChildWaits, ChildWokenByPost

RC_GTEST_PROP(SemaphoreModel, UnnamedInSharedMemoryIsACounter, ()) {
  RunSequence<UnnamedSut, SEM_LOCAL_COMMANDS, SEM_PROCESS_COMMANDS>();
}

RC_GTEST_PROP(SemaphoreModel, NamedIsACounter, ()) {
  RunSequence<NamedSut, SEM_LOCAL_COMMANDS, SEM_PROCESS_COMMANDS>();
}

RC_GTEST_PROP(SemaphoreModel, SysvIsACounterAndUndoesAKilledHolder, ()) {
  RunSequence<SysvSut, SEM_LOCAL_COMMANDS, SEM_PROCESS_COMMANDS, ChildUndoKilled>();
}

TEST(SemaphoreModel, FindsPlantedMissingSemUndoAndShrinksIt) {
  // The smallest failure is one ChildUndoKilled: the dead child's count is never given back. The
  // shrinker sometimes stops at a local minimum of 3 (ChildPosts(1), Post, ChildUndoKilled(delta -2)).
  properties::ExpectCaughtAndShrunk("planted: SEM_UNDO dropped", 3, [] {
    RunSequence<PlantedSysvSut, SEM_LOCAL_COMMANDS, SEM_PROCESS_COMMANDS, ChildUndoKilled>();
  });
}

}  // namespace
