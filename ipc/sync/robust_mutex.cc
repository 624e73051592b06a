#include "ipc/sync/robust_mutex.h"

#include <climits>

#include <cerrno>
#include <ctime>

#include "ipc/sync/futex.h"

namespace ipc::sync {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {
constexpr std::string_view kMutex = "robust mutex";
constexpr std::string_view kCond = "shared condvar";
}  // namespace

sys::Status RobustMutex::Init() {
  pthread_mutexattr_t attr;
  if (auto s = sys::CheckCode("pthread_mutexattr_init", kMutex, ::pthread_mutexattr_init(&attr)); !s) {
    return s;
  }
  sys::Status s = sys::CheckCode("pthread_mutexattr_setpshared", kMutex,
                                 ::pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
  if (s) {
    s = sys::CheckCode("pthread_mutexattr_setrobust", kMutex,
                       ::pthread_mutexattr_setrobust(&attr, PTHREAD_MUTEX_ROBUST));
  }
  if (s) {
    // Error checking: unlocking a mutex this thread does not hold is reported, not UB.
    s = sys::CheckCode("pthread_mutexattr_settype", kMutex,
                       ::pthread_mutexattr_settype(&attr, PTHREAD_MUTEX_ERRORCHECK));
  }
  if (s) s = sys::CheckCode("pthread_mutex_init", kMutex, ::pthread_mutex_init(&mutex_, &attr));
  ::pthread_mutexattr_destroy(&attr);
  return s;
}

sys::Status RobustMutex::Destroy() {
  return sys::CheckCode("pthread_mutex_destroy", kMutex, ::pthread_mutex_destroy(&mutex_));
}

bool RobustMutex::Finish(int code, const char* call, LockOutcome& out) {
  out = {};
  if (code == 0) return true;
  if (code == EOWNERDEAD) {
    out.owner_died = true;
    return true;
  }
  out.error = sys::Error(call, kMutex, code,
                         code == ENOTRECOVERABLE
                             ? "a previous owner died and the next one unlocked without "
                               "MarkConsistent: the guarded state is lost"
                             : "");
  return false;
}

bool RobustMutex::Lock(LockOutcome& out) {
  IPCLAB_CHAOS_POINT("sync.robust_mutex.before_lock");
  bool held = Finish(::pthread_mutex_lock(&mutex_), "pthread_mutex_lock", out);
  // Just acquired (maybe with EOWNERDEAD, before any repair): a death here orphans the mutex again.
  if (held) IPCLAB_CRASH_POINT("sync.robust_mutex.acquired");
  return held;
}

bool RobustMutex::TryLock(LockOutcome& out) {
  // Not pthread_mutex_trylock: glibc's (2.36) returns ENOTRECOVERABLE but leaves the lock word
  // owned by the caller, so every later Lock, in any process, blocks for ever instead of failing
  // (found by properties/robust_mutex_model_property_test). A clocklock whose deadline has passed
  // tries once the same way and releases the word on that path; "busy" comes back as ETIMEDOUT.
  static constexpr timespec kPast{0, 0};
  int code = ::pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &kPast);
  return Finish(code == ETIMEDOUT ? EBUSY : code, "pthread_mutex_clocklock", out);
}

bool RobustMutex::LockUntil(sys::Deadline deadline, LockOutcome& out) {
  if (deadline.is_never()) return Lock(out);
  timespec at = deadline.monotonic_timespec();
  IPCLAB_CHAOS_POINT("sync.robust_mutex.before_lock");
  bool held = Finish(::pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &at),
                     "pthread_mutex_clocklock", out);
  if (held) IPCLAB_CRASH_POINT("sync.robust_mutex.acquired");
  return held;
}

sys::Status RobustMutex::MarkConsistent() {
  return sys::CheckCode("pthread_mutex_consistent", kMutex, ::pthread_mutex_consistent(&mutex_));
}

void RobustMutex::Unlock() { ::pthread_mutex_unlock(&mutex_); }

// The guard's own bodies hold the mutex conditionally (held_), which the analysis cannot follow.
RobustLock::RobustLock(RobustMutex& m) IPC_NO_THREAD_SAFETY_ANALYSIS : mutex_(m) { held_ = mutex_.Lock(outcome_); }

RobustLock::~RobustLock() IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (held_) mutex_.Unlock();
}

sys::Status RobustLock::MarkConsistent() IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (!held_) return sys::Fail("pthread_mutex_consistent", kMutex, EPERM, "lock not held");
  return mutex_.MarkConsistent();
}

sys::Status SharedCondVar::Init() {
  seq_.store(0, std::memory_order_relaxed);
  return {};
}

// Nothing to release: the kernel keeps no state for a futex no one sleeps on.
sys::Status SharedCondVar::Destroy() { return {}; }

bool SharedCondVar::Wait(RobustMutex& m, LockOutcome& out) {
  return WaitUntil(m, sys::Deadline::Never(), out);
}

// The analysis cannot follow the unlock/relock pair around the sleep.
bool SharedCondVar::WaitUntil(RobustMutex& m, sys::Deadline deadline, LockOutcome& out)
    IPC_NO_THREAD_SAFETY_ANALYSIS {
  // Read under the mutex: a notifier that changes the predicate (under the mutex) after this
  // point also increments seq after it, so the futex sees a changed word and does not sleep.
  const std::uint32_t seen = seq_.load(std::memory_order_acquire);
  m.Unlock();
  // Between the unlock and the sleep: a notify here must still be seen (seq changed).
  IPCLAB_CHAOS_POINT("sync.condvar.before_sleep");
  sys::Status slept = FutexWait(&seq_, seen, deadline, kCond);
  if (!m.Lock(out)) return false;  // out.error says why (ENOTRECOVERABLE, ...)
  if (out.owner_died) return true;  // repair first; the caller re-checks its predicate and deadline
  if (!slept) {
    out.error = slept.error();  // ETIMEDOUT (or EFAULT, EINVAL: a caller bug), mutex held
    return false;
  }
  return true;
}

void SharedCondVar::NotifyOne() {
  seq_.fetch_add(1, std::memory_order_release);
  (void)FutexWake(&seq_, 1, kCond);  // only EFAULT is possible, for a word that is not mapped
}

void SharedCondVar::NotifyAll() {
  seq_.fetch_add(1, std::memory_order_release);
  (void)FutexWake(&seq_, INT_MAX, kCond);
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::sync
