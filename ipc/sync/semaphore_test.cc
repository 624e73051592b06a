#include "ipc/sync/semaphore.h"

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <memory>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/audit/leaks.h"
#include "ipc/audit/names.h"
#include "ipc/shm/segment.h"
#include "ipc/testing/process.h"

namespace ipc::sync {
namespace {

using std::chrono::milliseconds;
using testing::ExitCode;
using testing::ForkChild;
using testing::Watchdog;

// One contract (a counting semaphore two processes share), three back-ends. Each fixture makes
// the semaphore before fork(); `Sem()` is usable in both processes afterwards.
struct UnnamedBackend {
  static constexpr const char* kName = "unnamed";
  std::unique_ptr<shm::Segment> seg;
  UnnamedSemaphore* sem = nullptr;
  void Make(unsigned value) {
    auto s = shm::Segment::CreatePosix("sem", sizeof(UnnamedSemaphore));
    ASSERT_TRUE(s.has_value());
    seg = std::make_unique<shm::Segment>(std::move(*s));
    sem = new (seg->payload().data()) UnnamedSemaphore;
    ASSERT_TRUE(sem->Init(value).has_value());
  }
  UnnamedSemaphore& Sem() { return *sem; }
  ~UnnamedBackend() {
    if (sem) (void)sem->Destroy();
  }
};

struct NamedBackend {
  static constexpr const char* kName = "named";
  std::unique_ptr<NamedSemaphore> owner;
  void Make(unsigned value) {
    auto s = NamedSemaphore::Create("sem", value);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    owner = std::make_unique<NamedSemaphore>(std::move(*s));
  }
  NamedSemaphore& Sem() { return *owner; }
};

struct SysvBackend {
  static constexpr const char* kName = "sysv";
  std::unique_ptr<SysvSemaphoreSet> owner;
  void Make(unsigned value) {
    auto s = SysvSemaphoreSet::Create("sem", 1, value);
    ASSERT_TRUE(s.has_value()) << s.error().message();
    owner = std::make_unique<SysvSemaphoreSet>(std::move(*s));
  }
  SysvSemaphoreSet& Sem() { return *owner; }
};

template <class B>
class SemaphoreTest : public ::testing::Test {
 protected:
  B backend;
};
using Backends = ::testing::Types<UnnamedBackend, NamedBackend, SysvBackend>;
class BackendNames {
 public:
  template <class T>
  static std::string GetName(int) {
    return T::kName;
  }
};
TYPED_TEST_SUITE(SemaphoreTest, Backends, BackendNames);

TYPED_TEST(SemaphoreTest, CountsAndTries) {
  this->backend.Make(2);
  auto& sem = this->backend.Sem();
  EXPECT_EQ(*sem.Value(), 2);
  EXPECT_TRUE(*sem.TryWait());
  EXPECT_TRUE(*sem.TryWait());
  EXPECT_FALSE(*sem.TryWait());
  ASSERT_TRUE(sem.Post().has_value());
  EXPECT_EQ(*sem.Value(), 1);
  ASSERT_TRUE(sem.Wait().has_value());
  EXPECT_EQ(*sem.Value(), 0);
}

TYPED_TEST(SemaphoreTest, TimedWaitTimesOut) {
  this->backend.Make(0);
  auto t0 = std::chrono::steady_clock::now();
  auto s = this->backend.Sem().WaitFor(milliseconds(40));
  ASSERT_FALSE(s.has_value());
  EXPECT_EQ(s.error().err, ETIMEDOUT) << s.error().message();
  EXPECT_GE(std::chrono::steady_clock::now() - t0, milliseconds(40));
  EXPECT_EQ(this->backend.Sem().WaitFor(milliseconds(0)).error().err, ETIMEDOUT);
}

TYPED_TEST(SemaphoreTest, PostsFromAnotherProcessWakeTheWaiter) {
  Watchdog dog(std::chrono::seconds(20), "semaphore hand-off between processes");
  this->backend.Make(0);
  constexpr int kPosts = 500;
  auto child = ForkChild([&] {
    for (int i = 0; i < kPosts; ++i) {
      if (!this->backend.Sem().Post()) return 2;
    }
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  for (int i = 0; i < kPosts; ++i) {
    auto s = this->backend.Sem().WaitFor(std::chrono::seconds(10));
    ASSERT_TRUE(s.has_value()) << i << ": " << s.error().message();
  }
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
  EXPECT_FALSE(*this->backend.Sem().TryWait());
}

TYPED_TEST(SemaphoreTest, WaiterBlocksUntilPosted) {
  Watchdog dog(std::chrono::seconds(20), "semaphore blocking wait");
  this->backend.Make(0);
  auto child = ForkChild([&] {
    auto s = this->backend.Sem().WaitFor(std::chrono::seconds(10));
    return s ? 0 : 2;
  });
  ASSERT_TRUE(child.has_value());
  std::this_thread::sleep_for(milliseconds(30));
  auto early = child->Wait(milliseconds(1));
  EXPECT_FALSE(early.has_value()) << "the child did not block";
  ASSERT_TRUE(this->backend.Sem().Post().has_value());
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
}

TEST(NamedSemaphore, OpensByNameAndFollowsTheScheme) {
  auto owner = NamedSemaphore::Create("named", 1);
  ASSERT_TRUE(owner.has_value());
  EXPECT_TRUE(audit::ParseName(owner->name()).has_value());
  auto ours = audit::ListSessionObjects(audit::SessionPid());
  ASSERT_EQ(ours.size(), 1u);
  EXPECT_EQ(ours[0].kind, audit::IpcObject::Kind::kPosixSemaphore);
  auto other = NamedSemaphore::Open(owner->name());
  ASSERT_TRUE(other.has_value());
  EXPECT_FALSE(other->owner());
  EXPECT_TRUE(*other->TryWait());
  EXPECT_FALSE(*owner->TryWait());
  EXPECT_EQ(NamedSemaphore::Create("named", 1).has_value(), true);  // a new random name
  EXPECT_EQ(NamedSemaphore::Open("/ipclab.1.000000000000.none").error().err, ENOENT);
}

TEST(SysvSemaphoreSet, UndoReleasesTheHoldOfAKilledProcess) {
  Watchdog dog(std::chrono::seconds(20), "SEM_UNDO after a crash");
  auto set = SysvSemaphoreSet::Create("undo", 2, 0);
  ASSERT_TRUE(set.has_value()) << set.error().message();
  ASSERT_TRUE(set->Post(0).has_value());  // one count in semaphore 0; semaphore 1 stays 0
  auto child = ForkChild([&] {
    if (!set->Wait(0, /*undo=*/true)) return 2;      // take the only count, as a lock
    if (!set->Wait(1, /*undo=*/false).has_value()) {  // never returns: blocks until killed
      return 3;
    }
    return 4;
  });
  ASSERT_TRUE(child.has_value());
  // Wait until the child holds it.
  auto deadline = sys::Deadline::After(std::chrono::seconds(10));
  while (*set->Value(0) != 0 && !deadline.expired()) std::this_thread::sleep_for(milliseconds(1));
  ASSERT_EQ(*set->Value(0), 0);
  EXPECT_FALSE(*set->TryWait(0));
  auto st = child->Kill();
  ASSERT_TRUE(st.has_value());
  EXPECT_EQ(ExitCode(*st), -SIGKILL);
  // The kernel undid the dead process's hold.
  EXPECT_EQ(*set->Value(0), 1);
  EXPECT_TRUE(set->WaitFor(milliseconds(100), 0).has_value());
}

TEST(SysvSemaphoreSet, ApplyChangesSeveralSemaphoresAtomically) {
  auto set = SysvSemaphoreSet::Create("apply", 3, 0);
  ASSERT_TRUE(set.has_value());
  ASSERT_TRUE(set->Post(0).has_value());
  // Semaphore 1 is 0: the whole change waits, semaphore 0 keeps its count.
  const SysvSemaphoreSet::Change blocked[] = {{0, -1}, {1, -1}, {2, 1}};
  EXPECT_EQ(set->ApplyUntil(blocked, sys::Deadline::After(milliseconds(20))).error().err, ETIMEDOUT);
  EXPECT_EQ(*set->Value(0), 1);
  EXPECT_EQ(*set->Value(2), 0);
  const SysvSemaphoreSet::Change take[] = {{0, -1}, {2, 1}};
  ASSERT_TRUE(set->ApplyUntil(take, sys::Deadline::After(milliseconds(100))).has_value());
  EXPECT_EQ(*set->Value(0), 0);
  EXPECT_EQ(*set->Value(2), 1);
  const SysvSemaphoreSet::Change bad[] = {{3, 1}};
  EXPECT_EQ(set->ApplyUntil(bad, sys::Deadline::Never()).error().err, EINVAL);
}

TEST(SysvSemaphoreSet, WithoutUndoAHandOffOutlivesThePoster) {
  auto set = SysvSemaphoreSet::Create("handoff", 1, 0);
  ASSERT_TRUE(set.has_value());
  auto child = ForkChild([&] { return set->Post(0).has_value() ? 0 : 2; });
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(ExitCode(*child->Wait()), 0);
  EXPECT_EQ(*set->Value(0), 1);
}

TEST(SysvSemaphoreSet, RegisteredAndRemoved) {
  int id = -1;
  {
    auto set = SysvSemaphoreSet::Create("registered", 3, 0);
    ASSERT_TRUE(set.has_value());
    id = set->id();
    auto ours = audit::ListSessionObjects(audit::SessionPid());
    ASSERT_EQ(ours.size(), 1u);
    EXPECT_EQ(ours[0].kind, audit::IpcObject::Kind::kSysvSemaphore);
    EXPECT_EQ(ours[0].sysv_id, id);
    auto attached = SysvSemaphoreSet::Attach(id);
    ASSERT_TRUE(attached.has_value());
    EXPECT_EQ(attached->count(), 3);
    EXPECT_FALSE(attached->owner());
    EXPECT_EQ(attached->Post(3).error().err, EINVAL);
  }
  EXPECT_FALSE(SysvSemaphoreSet::Attach(id).has_value());
}

// Mode 0600: another uid can neither open the named semaphore nor use the System V set.
TEST(SemaphorePermissions, AnotherUidIsDenied) {
  if (::geteuid() != 0) GTEST_SKIP() << "needs root to become another uid";
  Watchdog dog(std::chrono::seconds(20), "semaphore permission check");
  auto named = NamedSemaphore::Create("perm", 1);
  auto set = SysvSemaphoreSet::Create("perm", 1, 1);
  ASSERT_TRUE(named.has_value() && set.has_value());
  auto child = ForkChild([&] {
    if (::setgid(65534) != 0 || ::setuid(65534) != 0) return 2;
    auto n = NamedSemaphore::Open(named->name());
    if (n.has_value() || n.error().err != EACCES) return 3;
    auto a = SysvSemaphoreSet::Attach(set->id());
    if (a.has_value() || a.error().err != EACCES) return 4;
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  EXPECT_EQ(ExitCode(*child->Wait()), 0)
      << "2: could not drop privileges, 3: opened the named one, 4: attached the System V set";
}

}  // namespace
}  // namespace ipc::sync
