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

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>

#include "ipc/chaos/chaos.h"
#include "ipc/sync/thread_annotations.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::sync {
IPCLAB_CHAOS_NAMESPACE_BEGIN

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
// owner died while this process waited (repair as for Lock). Spurious wakeups are allowed (after
// a signal, for instance): callers re-check their predicate in a loop.
//
// Crash safety. It is a futex on a 32-bit sequence word and nothing else: a wait reads the word
// (mutex held), unlocks, sleeps while the word is unchanged, relocks; a notify increments the
// word and wakes one or all sleepers. There is no internal lock and no waiter bookkeeping, so a
// process SIGKILLed at any instant inside Wait or Notify* can neither block a later call nor
// absorb a notification meant for others (unlike glibc's pthread_cond_t, whose internal lock a
// dead process can leave held). A notification sent while no one waits is not remembered, as
// usual: the predicate, guarded by the mutex, is the state.
class SharedCondVar {
 public:
  SharedCondVar() = default;
  SharedCondVar(const SharedCondVar&) = delete;
  SharedCondVar& operator=(const SharedCondVar&) = delete;

  sys::Status Init();  // once, in the creator
  sys::Status Destroy();

  // true: woken (or spurious, or `owner_died` — which wins over a timeout so that the repair is
  // never skipped); false with `out.error`: ETIMEDOUT (mutex held again) or a relock failure such
  // as ENOTRECOVERABLE (mutex NOT held: the analysis cannot express this rare case).
  bool Wait(RobustMutex& m, LockOutcome& out) IPC_REQUIRES(m);
  bool WaitUntil(RobustMutex& m, sys::Deadline deadline, LockOutcome& out) IPC_REQUIRES(m);
  template <class Rep, class Period>
  bool WaitFor(RobustMutex& m, std::chrono::duration<Rep, Period> timeout, LockOutcome& out)
      IPC_REQUIRES(m) {
    return WaitUntil(m, sys::Deadline::After(timeout), out);
  }
  // Callable with or without the mutex held; never blocks.
  void NotifyOne();
  void NotifyAll();

 private:
  // Incremented by every notify; a shared futex word (lock-free, address-free atomic).
  std::atomic<std::uint32_t> seq_{0};
  static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::sync
