#include "ipc/sync/robust_mutex.h"

#include <cerrno>
#include <ctime>

namespace ipc::sync {
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
  return Finish(::pthread_mutex_lock(&mutex_), "pthread_mutex_lock", out);
}

bool RobustMutex::TryLock(LockOutcome& out) {
  return Finish(::pthread_mutex_trylock(&mutex_), "pthread_mutex_trylock", out);
}

bool RobustMutex::LockUntil(sys::Deadline deadline, LockOutcome& out) {
  if (deadline.is_never()) return Lock(out);
  timespec at = deadline.monotonic_timespec();
  return Finish(::pthread_mutex_clocklock(&mutex_, CLOCK_MONOTONIC, &at), "pthread_mutex_clocklock",
                out);
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
  pthread_condattr_t attr;
  if (auto s = sys::CheckCode("pthread_condattr_init", kCond, ::pthread_condattr_init(&attr)); !s) {
    return s;
  }
  sys::Status s = sys::CheckCode("pthread_condattr_setpshared", kCond,
                                 ::pthread_condattr_setpshared(&attr, PTHREAD_PROCESS_SHARED));
  if (s) {
    s = sys::CheckCode("pthread_condattr_setclock", kCond,
                       ::pthread_condattr_setclock(&attr, CLOCK_MONOTONIC));
  }
  if (s) s = sys::CheckCode("pthread_cond_init", kCond, ::pthread_cond_init(&cond_, &attr));
  ::pthread_condattr_destroy(&attr);
  return s;
}

sys::Status SharedCondVar::Destroy() {
  return sys::CheckCode("pthread_cond_destroy", kCond, ::pthread_cond_destroy(&cond_));
}

namespace {
bool FinishWait(int code, const char* call, LockOutcome& out) {
  out = {};
  if (code == 0) return true;
  if (code == EOWNERDEAD) {
    out.owner_died = true;
    return true;
  }
  out.error = sys::Error(call, kCond, code);
  return false;
}
}  // namespace

bool SharedCondVar::Wait(RobustMutex& m, LockOutcome& out) {
  return FinishWait(::pthread_cond_wait(&cond_, m.native()), "pthread_cond_wait", out);
}

bool SharedCondVar::WaitUntil(RobustMutex& m, sys::Deadline deadline, LockOutcome& out) {
  if (deadline.is_never()) return Wait(m, out);
  timespec at = deadline.monotonic_timespec();
  return FinishWait(::pthread_cond_clockwait(&cond_, m.native(), CLOCK_MONOTONIC, &at),
                    "pthread_cond_clockwait", out);
}

void SharedCondVar::NotifyOne() { ::pthread_cond_signal(&cond_); }
void SharedCondVar::NotifyAll() { ::pthread_cond_broadcast(&cond_); }

}  // namespace ipc::sync
