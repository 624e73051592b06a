// properties/planted/planted_robust_mutex.h: a TEST-ONLY locking wrapper over ipc::sync::RobustMutex
// with a planted crash-recovery bug: it treats EOWNERDEAD as a plain acquisition (the caller is
// never told that the previous owner died, so it never repairs and never calls MarkConsistent).
// The first unlock after such a lock makes the mutex unrecoverable for good. Everything else is
// passed through. Used by robust_mutex_model_property_test to show the model-based property
// catches and shrinks it.
#pragma once

#include "ipc/sync/robust_mutex.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace properties::planted {

class OwnerDeathHidingMutex {
 public:
  explicit OwnerDeathHidingMutex(ipc::sync::RobustMutex& m) : m_(m) {}
  ipc::sync::RobustMutex& raw() { return m_; }

  // The analysis cannot follow a pass-through of a conditional acquisition.
  bool Lock(ipc::sync::LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS { return Hide(m_.Lock(out), out); }
  bool TryLock(ipc::sync::LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS { return Hide(m_.TryLock(out), out); }
  bool LockUntil(ipc::sys::Deadline d, ipc::sync::LockOutcome& out) IPC_NO_THREAD_SAFETY_ANALYSIS {
    return Hide(m_.LockUntil(d, out), out);
  }
  ipc::sys::Status MarkConsistent() IPC_NO_THREAD_SAFETY_ANALYSIS { return m_.MarkConsistent(); }
  void Unlock() IPC_NO_THREAD_SAFETY_ANALYSIS { m_.Unlock(); }

 private:
  static bool Hide(bool held, ipc::sync::LockOutcome& out) {
    out.owner_died = false;  // PLANTED BUG: the dead owner's half-done update goes unrepaired
    return held;
  }
  ipc::sync::RobustMutex& m_;
};

}  // namespace properties::planted
