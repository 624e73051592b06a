// lab/sync/rwlock.h: lab::RwLock (readers-writer lock), lab::ReaderLock, lab::WriterLock.
//
// Outside an exploration a std::shared_timed_mutex. Under exploration the model grants a shared
// lock whenever no writer holds it and an exclusive lock when nobody holds it; which waiter goes
// first is the scheduler's choice (no built-in preference), so starvation shows up as a finding.
#pragma once

#include <chrono>
#include <shared_mutex>
#include <source_location>

#include "lab/rt/execution.h"
#include "lab/sync/annotations.h"
#include "lab/sync/modeled_lock.h"

namespace lab {

class LAB_CAPABILITY("rwlock") RwLock {
 public:
  RwLock() = default;
  explicit RwLock(const char* name) { ref_.name = name; }
  RwLock(const RwLock&) = delete;
  RwLock& operator=(const RwLock&) = delete;

  void lock(std::source_location loc = std::source_location::current()) LAB_ACQUIRE() {
    Exclusive::Acquire(ref_, this, rt::kForever, loc, [&] { m_.lock(); return true; });
  }
  bool try_lock(std::source_location loc = std::source_location::current()) LAB_TRY_ACQUIRE(true) {
    return Exclusive::Acquire(ref_, this, 0, loc, [&] { return m_.try_lock(); });
  }
  template <class Rep, class Period>
  bool try_lock_for(std::chrono::duration<Rep, Period> timeout,
                    std::source_location loc = std::source_location::current()) LAB_TRY_ACQUIRE(true) {
    return Exclusive::Acquire(ref_, this, sync_internal::TimeoutNs(timeout), loc,
                              [&] { return m_.try_lock_for(timeout); });
  }
  void unlock(std::source_location loc = std::source_location::current()) LAB_RELEASE() {
    Exclusive::Release(ref_, this, loc, [&] { m_.unlock(); });
  }
  void lock_shared(std::source_location loc = std::source_location::current()) LAB_ACQUIRE_SHARED() {
    Shared::Acquire(ref_, this, rt::kForever, loc, [&] { m_.lock_shared(); return true; });
  }
  bool try_lock_shared(std::source_location loc = std::source_location::current())
      LAB_TRY_ACQUIRE_SHARED(true) {
    return Shared::Acquire(ref_, this, 0, loc, [&] { return m_.try_lock_shared(); });
  }
  template <class Rep, class Period>
  bool try_lock_shared_for(std::chrono::duration<Rep, Period> timeout,
                           std::source_location loc = std::source_location::current())
      LAB_TRY_ACQUIRE_SHARED(true) {
    return Shared::Acquire(ref_, this, sync_internal::TimeoutNs(timeout), loc,
                           [&] { return m_.try_lock_shared_for(timeout); });
  }
  void unlock_shared(std::source_location loc = std::source_location::current()) LAB_RELEASE_SHARED() {
    Shared::Release(ref_, this, loc, [&] { m_.unlock_shared(); });
  }

 private:
  using Exclusive = sync_internal::ModeledLock<rt::ObjKind::kRwLock, rt::LockMode::kExclusive>;
  using Shared = sync_internal::ModeledLock<rt::ObjKind::kRwLock, rt::LockMode::kShared>;
  std::shared_timed_mutex m_;
  rt::ObjRef ref_;
};

class LAB_SCOPED_CAPABILITY ReaderLock {
 public:
  explicit ReaderLock(RwLock& m, std::source_location loc = std::source_location::current())
      LAB_ACQUIRE_SHARED(m)
      : m_(m), loc_(loc) {
    m_.lock_shared(loc_);
  }
  ~ReaderLock() LAB_RELEASE() { m_.unlock_shared(loc_); }
  ReaderLock(const ReaderLock&) = delete;
  ReaderLock& operator=(const ReaderLock&) = delete;

 private:
  RwLock& m_;
  std::source_location loc_;
};

class LAB_SCOPED_CAPABILITY WriterLock {
 public:
  explicit WriterLock(RwLock& m, std::source_location loc = std::source_location::current())
      LAB_ACQUIRE(m)
      : m_(m), loc_(loc) {
    m_.lock(loc_);
  }
  ~WriterLock() LAB_RELEASE() { m_.unlock(loc_); }
  WriterLock(const WriterLock&) = delete;
  WriterLock& operator=(const WriterLock&) = delete;

 private:
  RwLock& m_;
  std::source_location loc_;
};

}  // namespace lab
