#include "ipc/sync/semaphore.h"

#include <fcntl.h>
#include <sys/ipc.h>
#include <sys/sem.h>
#include <time.h>

#include <utility>
#include <vector>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/audit/registry.h"

namespace ipc::sync {
namespace {

constexpr std::string_view kUnnamed = "unnamed semaphore";

// One timed wait on a sem_t against an absolute deadline. ThreadSanitizer intercepts
// sem_timedwait but not sem_clockwait, so TSan builds take the CLOCK_REALTIME call (converted
// from the monotonic deadline at each attempt) to keep the happens-before edge it creates.
int TimedWait(sem_t* sem, sys::Deadline d) {
#if defined(IPCLAB_TSAN)
  timespec at = d.realtime_timespec();
  return ::sem_timedwait(sem, &at);
#else
  timespec at = d.monotonic_timespec();
  return ::sem_clockwait(sem, CLOCK_MONOTONIC, &at);
#endif
}

sys::Status SemWaitUntil(sem_t* sem, std::string_view object, sys::Deadline deadline) {
  if (deadline.is_never()) {
    auto r = sys::Retry("sem_wait", object, [&] { return ::sem_wait(sem); });
    if (!r) return std::unexpected(r.error());
    return {};
  }
  auto r = sys::RetryUntil("sem_clockwait", object, deadline,
                           [&](sys::Deadline d) { return TimedWait(sem, d); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<bool> SemTryWait(sem_t* sem, std::string_view object) {
  auto r = sys::Retry("sem_trywait", object, [&] { return ::sem_trywait(sem); });
  if (r) return true;
  if (r.error().err == EAGAIN) return false;
  return std::unexpected(r.error());
}

sys::Status SemPost(sem_t* sem, std::string_view object) {
  auto r = sys::Call("sem_post", object, [&] { return ::sem_post(sem); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Result<int> SemValue(sem_t* sem, std::string_view object) {
  int v = 0;
  auto r = sys::Call("sem_getvalue", object, [&] { return ::sem_getvalue(sem, &v); });
  if (!r) return std::unexpected(r.error());
  return v;
}

}  // namespace

// --- UnnamedSemaphore -------------------------------------------------------------------------

sys::Status UnnamedSemaphore::Init(unsigned value) {
  auto r = sys::Call("sem_init", kUnnamed, [&] { return ::sem_init(&sem_, 1, value); });
  if (!r) return std::unexpected(r.error());
  return {};
}
sys::Status UnnamedSemaphore::Destroy() {
  auto r = sys::Call("sem_destroy", kUnnamed, [&] { return ::sem_destroy(&sem_); });
  if (!r) return std::unexpected(r.error());
  return {};
}
sys::Status UnnamedSemaphore::Post() { return SemPost(&sem_, kUnnamed); }
sys::Status UnnamedSemaphore::Wait() { return SemWaitUntil(&sem_, kUnnamed, sys::Deadline::Never()); }
sys::Result<bool> UnnamedSemaphore::TryWait() { return SemTryWait(&sem_, kUnnamed); }
sys::Status UnnamedSemaphore::WaitUntil(sys::Deadline d) { return SemWaitUntil(&sem_, kUnnamed, d); }
sys::Result<int> UnnamedSemaphore::Value() { return SemValue(&sem_, kUnnamed); }

// --- NamedSemaphore ---------------------------------------------------------------------------

sys::Result<NamedSemaphore> NamedSemaphore::Create(std::string_view purpose, unsigned value) {
  auto name = audit::PosixName(purpose);
  if (!name) return std::unexpected(name.error());
  auto sem = sys::Call("sem_open", *name, [&] {
    return ::sem_open(name->c_str(), O_CREAT | O_EXCL, 0600, value);
  });
  if (!sem) return std::unexpected(sem.error());
  return NamedSemaphore(*sem, *name, true);
}

sys::Result<NamedSemaphore> NamedSemaphore::Open(const std::string& name) {
  auto sem = sys::Call("sem_open", name, [&] { return ::sem_open(name.c_str(), 0); });
  if (!sem) return std::unexpected(sem.error());
  return NamedSemaphore(*sem, name, false);
}

NamedSemaphore::NamedSemaphore(NamedSemaphore&& o) noexcept
    : sem_(std::exchange(o.sem_, nullptr)),
      name_(std::move(o.name_)),
      owner_(std::exchange(o.owner_, false)) {}

NamedSemaphore::~NamedSemaphore() {
  if (sem_) ::sem_close(sem_);
  (void)Unlink();
}

sys::Status NamedSemaphore::Unlink() {
  if (!owner_) return {};
  owner_ = false;
  auto r = sys::Call("sem_unlink", name_, [&] { return ::sem_unlink(name_.c_str()); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status NamedSemaphore::Post() { return SemPost(sem_, name_); }
sys::Status NamedSemaphore::Wait() { return SemWaitUntil(sem_, name_, sys::Deadline::Never()); }
sys::Result<bool> NamedSemaphore::TryWait() { return SemTryWait(sem_, name_); }
sys::Status NamedSemaphore::WaitUntil(sys::Deadline d) { return SemWaitUntil(sem_, name_, d); }
sys::Result<int> NamedSemaphore::Value() { return SemValue(sem_, name_); }

// --- SysvSemaphoreSet -------------------------------------------------------------------------

sys::Result<SysvSemaphoreSet> SysvSemaphoreSet::Create(std::string_view purpose, int count,
                                                       unsigned initial) {
  if (count <= 0 || initial > 32767) {
    return sys::Fail("semget", purpose, EINVAL, "count must be > 0 and initial <= 32767");
  }
  auto id = sys::Call("semget", fmt::format("IPC_PRIVATE ({})", purpose), [&] {
    return ::semget(IPC_PRIVATE, count, IPC_CREAT | IPC_EXCL | 0600);
  });
  if (!id) return std::unexpected(id.error());
  if (auto r = audit::RegisterSysv(audit::SysvKind::kSem, *id, purpose); !r) {
    ::semctl(*id, 0, IPC_RMID);
    return std::unexpected(r.error());
  }
  SysvSemaphoreSet set(*id, count, true);
  if (initial > 0) {
    std::vector<sembuf> ops(count);
    for (int i = 0; i < count; ++i) {
      ops[i] = {static_cast<unsigned short>(i), static_cast<short>(initial), 0};
    }
    auto r = sys::Retry("semop", set.Object(), [&] { return ::semop(*id, ops.data(), ops.size()); });
    if (!r) return std::unexpected(r.error());  // ~set removes it
  }
  return set;
}

sys::Result<SysvSemaphoreSet> SysvSemaphoreSet::Attach(int id) {
  semid_ds ds{};
  union {
    int val;
    semid_ds* buf;
  } arg;
  arg.buf = &ds;
  auto r = sys::Call("semctl(IPC_STAT)", fmt::format("sysv-sem {}", id),
                     [&] { return ::semctl(id, 0, IPC_STAT, arg); });
  if (!r) return std::unexpected(r.error());
  return SysvSemaphoreSet(id, static_cast<int>(ds.sem_nsems), false);
}

SysvSemaphoreSet::SysvSemaphoreSet(SysvSemaphoreSet&& o) noexcept
    : id_(std::exchange(o.id_, -1)), count_(o.count_), owner_(std::exchange(o.owner_, false)) {}

SysvSemaphoreSet::~SysvSemaphoreSet() { (void)Remove(); }

sys::Status SysvSemaphoreSet::Remove() {
  if (!owner_) return {};
  owner_ = false;
  auto s = audit::RemoveSysvObject(audit::SysvKind::kSem, id_);
  auto u = audit::UnregisterSysv(audit::SysvKind::kSem, id_);
  if (!s) return s;
  return u;
}

std::string SysvSemaphoreSet::Object() const { return fmt::format("sysv-sem {}", id_); }

sys::Status SysvSemaphoreSet::Op(int index, short delta, bool undo, bool nowait,
                                 sys::Deadline deadline) {
  if (index < 0 || index >= count_) {
    return sys::Fail("semop", Object(), EINVAL, fmt::format("index {} of {}", index, count_));
  }
  sembuf op{static_cast<unsigned short>(index), delta,
            static_cast<short>((undo ? SEM_UNDO : 0) | (nowait ? IPC_NOWAIT : 0))};
  return Semop(std::span(&op, 1), deadline);
}

sys::Status SysvSemaphoreSet::Semop(std::span<sembuf> ops, sys::Deadline deadline) {
  sys::Result<int> r;
  if (deadline.is_never()) {
    r = sys::Retry("semop", Object(), [&] { return ::semop(id_, ops.data(), ops.size()); });
  } else {
    // semtimedop takes a relative timeout: recomputed from the deadline after each EINTR.
    r = sys::RetryUntil("semtimedop", Object(), deadline, [&](sys::Deadline d) {
      timespec rel = d.relative_timespec();
      return ::semtimedop(id_, ops.data(), ops.size(), &rel);
    });
    if (!r && r.error().err == EAGAIN) r = sys::Fail("semtimedop", Object(), ETIMEDOUT);
  }
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status SysvSemaphoreSet::ApplyUntil(std::span<const Change> changes, sys::Deadline deadline, bool undo) {
  std::vector<sembuf> ops;
  for (const Change& c : changes) {
    if (c.index < 0 || c.index >= count_) {
      return sys::Fail("semop", Object(), EINVAL, fmt::format("index {} of {}", c.index, count_));
    }
    ops.push_back({static_cast<unsigned short>(c.index), c.delta, static_cast<short>(undo ? SEM_UNDO : 0)});
  }
  if (ops.empty()) return {};
  return Semop(ops, deadline);
}

sys::Status SysvSemaphoreSet::Post(int index, bool undo) {
  return Op(index, 1, undo, false, sys::Deadline::Never());
}
sys::Status SysvSemaphoreSet::Wait(int index, bool undo) {
  return Op(index, -1, undo, false, sys::Deadline::Never());
}
sys::Result<bool> SysvSemaphoreSet::TryWait(int index, bool undo) {
  auto s = Op(index, -1, undo, true, sys::Deadline::Never());
  if (s) return true;
  if (s.error().err == EAGAIN) return false;
  return std::unexpected(s.error());
}
sys::Status SysvSemaphoreSet::WaitUntil(sys::Deadline deadline, int index, bool undo) {
  return Op(index, -1, undo, false, deadline);
}
sys::Result<int> SysvSemaphoreSet::Value(int index) {
  if (index < 0 || index >= count_) {
    return sys::Fail("semctl(GETVAL)", Object(), EINVAL, fmt::format("index {} of {}", index, count_));
  }
  return sys::Call("semctl(GETVAL)", Object(), [&] { return ::semctl(id_, index, GETVAL); });
}

}  // namespace ipc::sync
