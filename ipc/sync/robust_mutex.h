// ipc/sync/robust_mutex.h: a robust process-shared mutex and condition variable, placed in
// shared memory.
//
// Both live inside a segment (ipc/shm) that several processes map. The creator constructs them
// in place and calls Init() once; every other process uses them as they are (never Init twice).
//
// Crash recovery. The mutex is PTHREAD_PROCESS_SHARED + PTHREAD_MUTEX_ROBUST: when a process dies
// holding it, the next Lock succeeds with `owner_died` set. The data the mutex guards may then be
// half-updated; the new owner must repair it (or decide it is fine) and call MarkConsistent()
// before Unlock. Unlocking without MarkConsistent makes the mutex permanently unusable: every
// later Lock fails with ENOTRECOVERABLE (reported, never hidden), and the segment must be rebuilt.
//
//   RobustLock lock(shared->mutex);
//   if (!lock.held()) return std::unexpected(*lock.error());   // ENOTRECOVERABLE, ...
//   if (lock.owner_died()) { RepairQueue(shared); (void)lock.MarkConsistent(); }
//   shared->count++;
//
// Thread-safety analysis: Lock/TryLock/LockFor return whether the mutex is now held
// (IPC_TRY_ACQUIRE(true)); RobustLock is a scoped capability (the analysis assumes it holds the
// mutex; check held()).
//
// Timeouts are std::chrono durations (or an absolute ipc::sys::Deadline) on CLOCK_MONOTONIC.
#pragma once

#include <pthread.h>

#include <chrono>
#include <optional>

#include "ipc/sync/thread_annotations.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::sync {

// What a lock attempt found.
struct LockOutcome {
  bool owner_died = false;             // held, but the previous owner died holding it
  std::optional<sys::SysError> error;  // not held: EBUSY (try), ETIMEDOUT, ENOTRECOVERABLE, ...
};

class IPC_CAPABILITY("mutex") RobustMutex {
 public:
  RobustMutex() = default;  // raw storage; the creator calls Init()
  RobustMutex(const RobustMutex&) = delete;
  RobustMutex& operator=(const RobustMutex&) = delete;

  // Initialises process-shared and robust. Call once, in the creator, before sharing.
  sys::Status Init();
  // pthread_mutex_destroy; only when no process uses it any more.
  sys::Status Destroy();

  // Each returns true when the caller now holds the mutex (see `out.owner_died`), false with
  // `out.error` when not.
  [[nodiscard]] bool Lock(LockOutcome& out) IPC_TRY_ACQUIRE(true);
  [[nodiscard]] bool TryLock(LockOutcome& out) IPC_TRY_ACQUIRE(true);
  [[nodiscard]] bool LockUntil(sys::Deadline deadline, LockOutcome& out) IPC_TRY_ACQUIRE(true);
  template <class Rep, class Period>
  [[nodiscard]] bool LockFor(std::chrono::duration<Rep, Period> timeout, LockOutcome& out)
      IPC_TRY_ACQUIRE(true) {
    return LockUntil(sys::Deadline::After(timeout), out);
  }

  // After owner_died: the guarded state is repaired; the mutex is usable again after Unlock.
  sys::Status MarkConsistent() IPC_REQUIRES(this);
  void Unlock() IPC_RELEASE();

  pthread_mutex_t* native() { return &mutex_; }

 private:
  bool Finish(int code, const char* call, LockOutcome& out);
  pthread_mutex_t mutex_;
};

// Scoped lock of a RobustMutex: locks in the constructor (blocking), unlocks in the destructor if
// it holds it.
class IPC_SCOPED_CAPABILITY RobustLock {
 public:
  explicit RobustLock(RobustMutex& m) IPC_ACQUIRE(m);
  ~RobustLock() IPC_RELEASE();
  RobustLock(const RobustLock&) = delete;
  RobustLock& operator=(const RobustLock&) = delete;

  bool held() const { return held_; }
  bool owner_died() const { return outcome_.owner_died; }
  const std::optional<sys::SysError>& error() const { return outcome_.error; }
  sys::Status MarkConsistent();

 private:
  RobustMutex& mutex_;
  LockOutcome outcome_;
  bool held_ = false;
};

// A process-shared condition variable on CLOCK_MONOTONIC, used with RobustMutex.
//
// Waits return with the mutex held again (REQUIRES), with `owner_died` when the mutex's previous
// owner died while this process waited (repair as for Lock). A waiter killed inside a wait can
// leave glibc's condvar expecting it, so a notification may be absorbed: callers in code that
// must survive crashes wait in bounded slices (WaitFor) and re-check their predicate, as
// ipc/ring's MPMC buffer does.
class SharedCondVar {
 public:
  SharedCondVar() = default;
  SharedCondVar(const SharedCondVar&) = delete;
  SharedCondVar& operator=(const SharedCondVar&) = delete;

  sys::Status Init();  // once, in the creator
  sys::Status Destroy();

  // true: woken (or spurious); false with `out.error`: ETIMEDOUT (mutex held again) or
  // ENOTRECOVERABLE (mutex NOT held: the analysis cannot express this rare case).
  bool Wait(RobustMutex& m, LockOutcome& out) IPC_REQUIRES(m);
  bool WaitUntil(RobustMutex& m, sys::Deadline deadline, LockOutcome& out) IPC_REQUIRES(m);
  template <class Rep, class Period>
  bool WaitFor(RobustMutex& m, std::chrono::duration<Rep, Period> timeout, LockOutcome& out)
      IPC_REQUIRES(m) {
    return WaitUntil(m, sys::Deadline::After(timeout), out);
  }
  void NotifyOne();
  void NotifyAll();

 private:
  pthread_cond_t cond_;
};

}  // namespace ipc::sync
