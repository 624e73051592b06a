// lab/sync/mutex.h: lab::Mutex and lab::MutexLock.
//
// Outside an exploration a Mutex is a std::timed_mutex. Under lab::Explore every operation is a
// scheduling point; a contended lock() marks the thread blocked on the mutex instead of blocking
// the OS thread; try_lock_for waits in virtual time.
#pragma once

#include <chrono>
#include <mutex>
#include <source_location>

#include "lab/rt/execution.h"
#include "lab/sync/annotations.h"
#include "lab/sync/modeled_lock.h"

namespace lab {

class LAB_CAPABILITY("mutex") Mutex {
 public:
  Mutex() = default;
  // `name` (static storage) names the mutex in reports.
  explicit Mutex(const char* name) { ref_.name = name; }
  Mutex(const Mutex&) = delete;
  Mutex& operator=(const Mutex&) = delete;

  void lock(std::source_location loc = std::source_location::current()) LAB_ACQUIRE() {
    Modeled::Acquire(ref_, this, rt::kForever, loc, [&] { m_.lock(); return true; });
  }
  bool try_lock(std::source_location loc = std::source_location::current()) LAB_TRY_ACQUIRE(true) {
    return Modeled::Acquire(ref_, this, 0, loc, [&] { return m_.try_lock(); });
  }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout,
                    std::source_location loc = std::source_location::current()) LAB_TRY_ACQUIRE(true) {
    return Modeled::Acquire(ref_, this, sync_internal::TimeoutNs(timeout), loc,
                            [&] { return m_.try_lock_for(timeout); });
  }
  void unlock(std::source_location loc = std::source_location::current()) LAB_RELEASE() {
    Modeled::Release(ref_, this, loc, [&] { m_.unlock(); });
  }

 private:
  using Modeled = sync_internal::ModeledLock<rt::ObjKind::kMutex, rt::LockMode::kExclusive>;
  friend class CondVar;
  std::timed_mutex m_;
  rt::ObjRef ref_;
};

// RAII: locks in the constructor, unlocks in the destructor (std::lock_guard for lab::Mutex, with
// the caller's source location).
class LAB_SCOPED_CAPABILITY MutexLock {
 public:
  explicit MutexLock(Mutex& m, std::source_location loc = std::source_location::current())
      LAB_ACQUIRE(m)
      : m_(m), loc_(loc) {
    m_.lock(loc_);
  }
  ~MutexLock() LAB_RELEASE() { m_.unlock(loc_); }
  MutexLock(const MutexLock&) = delete;
  MutexLock& operator=(const MutexLock&) = delete;
  Mutex& mutex() const { return m_; }

 private:
  Mutex& m_;
  std::source_location loc_;
};

}  // namespace lab
