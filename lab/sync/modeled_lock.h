// lab/sync/modeled_lock.h: the one rule shared by lab::Mutex and lab::RwLock (internal).
//
// Under lab::Explore a lock operation is the runtime's modeled Acquire/Release (a scheduling
// point; a contended lock blocks the controlled thread, not the OS thread; timeouts run in
// virtual time). Outside an exploration it is the real std lock, passed in as `real`.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>

#include "lab/rt/execution.h"

namespace lab::sync_internal {

template <rt::ObjKind Kind, rt::LockMode Mode>
struct ModeledLock {
  template <class Real>
  static bool Acquire(rt::ObjRef& ref, const void* self, std::int64_t timeout_ns,
                      const std::source_location& loc, Real&& real) {
    if (auto* ex = rt::Execution::Current()) {
      return ex->Acquire(ref, self, Kind, Mode, timeout_ns, loc);
    }
    return real();
  }
  template <class Real>
  static void Release(rt::ObjRef& ref, const void* self, const std::source_location& loc,
                      Real&& real) {
    if (auto* ex = rt::Execution::Current()) {
      ex->Release(ref, self, Kind, Mode, loc);
    } else {
      real();
    }
  }
};

// A try_lock_for timeout as the runtime's timeout: 0 means "try once".
template <class Rep, class Period>
std::int64_t TimeoutNs(std::chrono::duration<Rep, Period> timeout) {
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
  return ns <= 0 ? 0 : ns;
}

}  // namespace lab::sync_internal
