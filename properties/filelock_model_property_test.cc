// Model-based (rc::state) property of ipc/filelock: OFD byte-range locks (whole file) and flock(2)
// locks against a model of lock ownership. Three holders are three open file descriptions of one
// file in a PrivateDir (these locks belong to the open file description, so holders in one process
// conflict as processes would). The model is each holder's mode (none, shared, exclusive):
// exclusive conflicts with anything another holder has, shared with another's exclusive.
// Commands: TryLock (taken exactly when the model has no conflict, else EAGAIN), timed Lock with a
// 5 ms deadline (ETIMEDOUT on conflict), Unlock, and for OFD locks WouldConflict (F_OFD_GETLK).
//
// Multi-process command: a forked holder opens the file, takes a lock the model allows, and is
// SIGKILLed by the parent once a probe (a fourth open file description) sees its lock; after the
// kill the probe gets exactly what the model without the dead holder allows: its lock was
// released by the kernel. Watchdogs cover every child. The planted twin
// (properties/planted/planted_filelock.h: classic F_SETLK locks, owned by the process) must be
// caught and shrunk to a short sequence. On failure rapidcheck prints the shrunk
// commands and an RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>

#include <array>
#include <atomic>
#include <new>
#include <type_traits>
#include <cerrno>
#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <thread>

#include "ipc/audit/names.h"
#include "ipc/filelock/filelock.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"
#include "ipc/testing/process.h"
#include "properties/planted/planted_filelock.h"
#include "properties/stateful.h"

namespace {

using namespace std::chrono_literals;
using ipc::filelock::LockType;
using ipc::testing::ExitCode;
using ipc::testing::ForkChild;

constexpr int kHolders = 3;
enum class Mode { kNone, kShared, kExclusive };

struct LockModel {
  std::array<Mode, kHolders> modes{Mode::kNone, Mode::kNone, Mode::kNone};
  // Whether a holder other than `self` (-1: everyone) blocks a lock of `type`.
  bool Conflicts(int self, LockType type) const {
    for (int h = 0; h < kHolders; ++h) {
      if (h == self || modes[h] == Mode::kNone) continue;
      if (type == LockType::kExclusive || modes[h] == Mode::kExclusive) return true;
    }
    return false;
  }
};

const char* Name(LockType t) { return t == LockType::kShared ? "shared" : "exclusive"; }

ipc::sys::Fd OpenFile(const std::string& path) {
  auto fd = ipc::sys::Call("open", path, [&] { return ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600); });
  if (!fd) throw std::runtime_error(fd.error().message());
  return ipc::sys::Fd(*fd);
}

// One lock per holder of either back-end; the SUT keeps the holders' descriptors.
class LockSut {
 public:
  LockSut() {
    auto d = ipc::audit::PrivateDir::Create("lockprop");
    if (!d) throw std::runtime_error(d.error().message());
    dir_.emplace(std::move(*d));
    path_ = dir_->file("locked");
    for (auto& fd : fds_) fd = OpenFile(path_);
    // A flag the forked holder raises once it holds its lock (shared with it through fork).
    void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED) throw std::runtime_error("mmap of the child flag failed");
    child_locked_ = new (p) std::atomic<bool>(false);
  }
  virtual ~LockSut() { ::munmap(child_locked_, 4096); }
  virtual bool is_ofd() const = 0;
  // Locks through `fd` (nothing held there) until `deadline` (nullopt: try once). Keeps the lock in
  // holder slot `h` (or kHolders for the probe).
  virtual ipc::sys::Status Lock(int h, LockType type, std::optional<ipc::sys::Deadline> deadline) = 0;
  virtual ipc::sys::Status Unlock(int h) = 0;
  // In a forked child: its own open file description, try once, hold until killed.
  virtual int ChildHold(LockType type) = 0;

  int fd(int h) const { return fds_[h].get(); }
  bool child_locked() const { return child_locked_->load(); }
  void reset_child_locked() { child_locked_->store(false); }
  const std::string& path() const { return path_; }

 protected:
  std::optional<ipc::audit::PrivateDir> dir_;
  std::string path_;
  std::array<ipc::sys::Fd, kHolders + 1> fds_;
  std::atomic<bool>* child_locked_ = nullptr;  // [kHolders]: the probe, opened afresh
};

template <class L>
class LockSutOf : public LockSut {
 public:
  static constexpr bool kOfd = std::is_same_v<L, ipc::filelock::OfdLock>;
  bool is_ofd() const override { return kOfd; }
  ipc::sys::Status Lock(int h, LockType type, std::optional<ipc::sys::Deadline> deadline) override {
    if (h == kHolders) fds_[h] = OpenFile(path_);
    auto l = deadline ? L::Lock(fds_[h].get(), type, *deadline) : L::TryLock(fds_[h].get(), type);
    if (!l) return std::unexpected(l.error());
    locks_[h].emplace(std::move(*l));
    return {};
  }
  ipc::sys::Status Unlock(int h) override {
    auto s = locks_[h]->Unlock();
    locks_[h].reset();
    if (h == kHolders) fds_[h].reset();
    return s;
  }
  int ChildHold(LockType type) override {
    auto fd = ::open(path_.c_str(), O_RDWR | O_CLOEXEC);
    if (fd < 0) return 3;
    auto l = L::TryLock(fd, type);
    if (!l) return 2;
    child_locked_->store(true);
    for (;;) std::this_thread::sleep_for(1s);
  }

 private:
  std::array<std::optional<L>, kHolders + 1> locks_;
};
using OfdSut = LockSutOf<ipc::filelock::OfdLock>;
using FlockSut = LockSutOf<ipc::filelock::FlockLock>;
using PlantedSut = LockSutOf<properties::planted::ProcessOwnedLock>;

using Cmd = rc::state::Command<LockModel, LockSut>;

rc::Gen<LockType> AnyType() { return rc::gen::element(LockType::kShared, LockType::kExclusive); }

struct TryLock : Cmd {
  int h = *rc::gen::inRange(0, kHolders);
  LockType type = *AnyType();
  void checkPreconditions(const LockModel& m) const override { RC_PRE(m.modes[h] == Mode::kNone); }
  void apply(LockModel& m) const override {
    if (!m.Conflicts(h, type)) m.modes[h] = type == LockType::kShared ? Mode::kShared : Mode::kExclusive;
  }
  void run(const LockModel& m, LockSut& sut) const override {
    auto s = sut.Lock(h, type, std::nullopt);
    if (m.Conflicts(h, type)) {
      RC_ASSERT(!s.has_value());
      RC_ASSERT(s.error().err == EAGAIN);
    } else {
      RC_ASSERT(s.has_value());
    }
  }
  void show(std::ostream& os) const override { os << "TryLock(holder " << h << ", " << Name(type) << ")"; }
};

struct TimedLock : Cmd {
  int h = *rc::gen::inRange(0, kHolders);
  LockType type = *AnyType();
  void checkPreconditions(const LockModel& m) const override { RC_PRE(m.modes[h] == Mode::kNone); }
  void apply(LockModel& m) const override {
    if (!m.Conflicts(h, type)) m.modes[h] = type == LockType::kShared ? Mode::kShared : Mode::kExclusive;
  }
  void run(const LockModel& m, LockSut& sut) const override {
    auto t0 = std::chrono::steady_clock::now();
    auto s = sut.Lock(h, type, ipc::sys::Deadline::After(5ms));
    if (m.Conflicts(h, type)) {
      RC_ASSERT(!s.has_value());
      RC_ASSERT(s.error().err == ETIMEDOUT);
      RC_ASSERT(std::chrono::steady_clock::now() - t0 >= 5ms);
    } else {
      RC_ASSERT(s.has_value());
    }
  }
  void show(std::ostream& os) const override { os << "TimedLock(holder " << h << ", " << Name(type) << ", 5ms)"; }
};

struct Unlock : Cmd {
  int h = *rc::gen::inRange(0, kHolders);
  void checkPreconditions(const LockModel& m) const override { RC_PRE(m.modes[h] != Mode::kNone); }
  void apply(LockModel& m) const override { m.modes[h] = Mode::kNone; }
  void run(const LockModel&, LockSut& sut) const override { RC_ASSERT(sut.Unlock(h).has_value()); }
  void show(std::ostream& os) const override { os << "Unlock(holder " << h << ")"; }
};

// OFD only: F_OFD_GETLK through a holder that has nothing agrees with the model.
struct WouldConflict : Cmd {
  int h = *rc::gen::inRange(0, kHolders);
  LockType type = *AnyType();
  void checkPreconditions(const LockModel& m) const override { RC_PRE(m.modes[h] == Mode::kNone); }
  void apply(LockModel&) const override {}
  void run(const LockModel& m, LockSut& sut) const override {
    RC_ASSERT(sut.is_ofd());  // only in the OFD property
    auto c = ipc::filelock::WouldConflict(sut.fd(h), type);
    RC_ASSERT(c.has_value());
    RC_ASSERT(*c == m.Conflicts(h, type));
  }
  void show(std::ostream& os) const override { os << "WouldConflict(holder " << h << ", " << Name(type) << ")"; }
};

// A forked holder takes a lock the model allows and is SIGKILLed holding it: the kernel releases it.
struct ChildHolderKilled : Cmd {
  LockType type = *AnyType();
  void checkPreconditions(const LockModel& m) const override { RC_PRE(!m.Conflicts(-1, type)); }
  void apply(LockModel&) const override {}  // gone with its holder
  void run(const LockModel& m, LockSut& sut) const override {
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "file lock: forked holder killed");
    sut.reset_child_locked();
    auto child = ForkChild([&] { return sut.ChildHold(type); });
    RC_ASSERT(child.has_value());
    auto deadline = ipc::sys::Deadline::After(10s);
    while (!sut.child_locked() && !deadline.expired()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    RC_ASSERT(sut.child_locked());
    // While it lives, a probe that conflicts with its lock (exclusive always does) is refused.
    auto blocked = sut.Lock(kHolders, LockType::kExclusive, std::nullopt);
    RC_ASSERT(!blocked.has_value());
    RC_ASSERT(blocked.error().err == EAGAIN);
    auto st = child->Kill();
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == -SIGKILL);  // it was holding, not failing to lock
    // Released: the probe gets exactly what our own holders allow.
    for (LockType t : {LockType::kShared, LockType::kExclusive}) {
      auto s = sut.Lock(kHolders, t, std::nullopt);
      RC_ASSERT(s.has_value() == !m.Conflicts(-1, t));
      if (s) RC_ASSERT(sut.Unlock(kHolders).has_value());
    }
  }
  void show(std::ostream& os) const override { os << "ChildHolderKilled(" << Name(type) << ")"; }
};

template <class SutT, class... Cmds>
void RunSequence() {
  properties::RunCommands<Cmds...>(LockModel{}, [] { return SutT(); });
}

RC_GTEST_PROP(FileLockModel, OfdLocksFollowTheOwnershipModel, ()) {
  RunSequence<OfdSut, TryLock, TryLock, TimedLock, Unlock, Unlock, WouldConflict, ChildHolderKilled>();
}

RC_GTEST_PROP(FileLockModel, FlockLocksFollowTheOwnershipModel, ()) {
  RunSequence<FlockSut, TryLock, TryLock, TimedLock, Unlock, Unlock, ChildHolderKilled>();
}

TEST(FileLockModel, FindsPlantedProcessOwnedLockAndShrinksIt) {
  // The smallest failure is two conflicting TryLocks by two holders of this process.
  properties::ExpectCaughtAndShrunk("planted: classic process-owned record locks", 3, [] {
    RunSequence<PlantedSut, TryLock, TryLock, TimedLock, Unlock, Unlock, ChildHolderKilled>();
  });
}

}  // namespace
