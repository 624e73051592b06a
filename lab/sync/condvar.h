// lab/sync/condvar.h: lab::CondVar, used with lab::Mutex.
//
// Outside an exploration a pthread condition variable on the mutex's native handle. Under
// exploration: wait() releases the mutex and waits as one step, wakes as another and relocks as a
// third; notify_one wakes the longest waiter; a notify that finds no waiter is remembered so a
// thread that then waits forever is reported as a lost wakeup. Timed waits run on virtual time.
// With Options::spurious_wakeups each thread may be woken once without a notify (a choice).
#pragma once

#include <pthread.h>
#include <time.h>

#include <chrono>
#include <source_location>

#include "lab/rt/execution.h"
#include "lab/sync/annotations.h"
#include "lab/sync/mutex.h"

namespace lab {

class CondVar {
 public:
  CondVar() { pthread_cond_init(&cv_, nullptr); }
  explicit CondVar(const char* name) : CondVar() { ref_.name = name; }
  ~CondVar() { pthread_cond_destroy(&cv_); }
  CondVar(const CondVar&) = delete;
  CondVar& operator=(const CondVar&) = delete;

  void wait(Mutex& m, std::source_location loc = std::source_location::current()) LAB_REQUIRES(m) {
    if (auto* ex = rt::Execution::Current()) {
      ex->Wait(ref_, this, m.ref_, &m, rt::kForever, loc);
    } else {
      pthread_cond_wait(&cv_, m.m_.native_handle());
    }
  }
  template <class Pred>
  void wait(Mutex& m, Pred pred, std::source_location loc = std::source_location::current())
      LAB_REQUIRES(m) {
    while (!pred()) wait(m, loc);
  }
  // false if the timeout expired (virtual time under exploration).
  template <class Rep, class Period>
  bool wait_for(Mutex& m, std::chrono::duration<Rep, Period> timeout,
                std::source_location loc = std::source_location::current()) LAB_REQUIRES(m) {
    auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
    if (ns < 0) ns = 0;
    if (auto* ex = rt::Execution::Current()) return ex->Wait(ref_, this, m.ref_, &m, ns, loc);
    timespec now{};
    clock_gettime(CLOCK_MONOTONIC, &now);
    long long total = now.tv_nsec + ns % 1000000000LL;
    timespec abs{now.tv_sec + static_cast<time_t>(ns / 1000000000LL + total / 1000000000LL),
                 static_cast<long>(total % 1000000000LL)};
    return pthread_cond_clockwait(&cv_, m.m_.native_handle(), CLOCK_MONOTONIC, &abs) == 0;
  }
  // Waits until pred() holds or the timeout expires; returns pred().
  template <class Rep, class Period, class Pred>
  bool wait_for(Mutex& m, std::chrono::duration<Rep, Period> timeout, Pred pred,
                std::source_location loc = std::source_location::current()) LAB_REQUIRES(m) {
    // One deadline for the whole wait, in the clock of the mode we are in.
    if (auto* ex = rt::Execution::Current()) {
      const auto deadline =
          ex->NowNs() + std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
      while (!pred()) {
        auto left = deadline - rt::Execution::Current()->NowNs();
        if (left <= 0) return pred();
        wait_for(m, std::chrono::nanoseconds(left), loc);
      }
      return true;
    }
    const auto deadline = std::chrono::steady_clock::now() + timeout;
    while (!pred()) {
      auto left = deadline - std::chrono::steady_clock::now();
      if (left <= decltype(left)::zero()) return pred();
      wait_for(m, left, loc);
    }
    return true;
  }
  void wait(MutexLock& lock, std::source_location loc = std::source_location::current())
      LAB_NO_THREAD_SAFETY_ANALYSIS {
    wait(lock.mutex(), loc);
  }
  template <class Pred>
  void wait(MutexLock& lock, Pred pred, std::source_location loc = std::source_location::current())
      LAB_NO_THREAD_SAFETY_ANALYSIS {
    while (!pred()) wait(lock.mutex(), loc);
  }
  template <class Rep, class Period>
  bool wait_for(MutexLock& lock, std::chrono::duration<Rep, Period> timeout,
                std::source_location loc = std::source_location::current())
      LAB_NO_THREAD_SAFETY_ANALYSIS {
    return wait_for(lock.mutex(), timeout, loc);
  }

  void notify_one(std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      ex->Notify(ref_, this, false, loc);
    } else {
      pthread_cond_signal(&cv_);
    }
  }
  void notify_all(std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      ex->Notify(ref_, this, true, loc);
    } else {
      pthread_cond_broadcast(&cv_);
    }
  }

 private:
  pthread_cond_t cv_;
  rt::ObjRef ref_;
};

}  // namespace lab
