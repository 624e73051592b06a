// lab/sync/semaphore.h: lab::Semaphore, a counting semaphore.
//
// Outside an exploration a std::counting_semaphore. Under exploration the count is modeled per
// execution, starting from the constructor's count; acquire blocks (in the model) at zero.
#pragma once

#include <chrono>
#include <cstdint>
#include <semaphore>
#include <source_location>

#include "lab/rt/execution.h"

namespace lab {

class Semaphore {
 public:
  explicit Semaphore(std::int64_t initial, const char* name = nullptr)
      : initial_(initial), s_(static_cast<std::ptrdiff_t>(initial)) {
    ref_.name = name;
  }
  Semaphore(const Semaphore&) = delete;
  Semaphore& operator=(const Semaphore&) = delete;

  void acquire(std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      ex->SemAcquire(ref_, this, initial_, rt::kForever, loc);
    } else {
      s_.acquire();
    }
  }
  bool try_acquire(std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) return ex->SemAcquire(ref_, this, initial_, 0, loc);
    return s_.try_acquire();
  }
  template <class Rep, class Period>
  bool try_acquire_for(std::chrono::duration<Rep, Period> timeout,
                       std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(timeout).count();
      return ex->SemAcquire(ref_, this, initial_, ns <= 0 ? 0 : ns, loc);
    }
    return s_.try_acquire_for(timeout);
  }
  void release(std::int64_t n = 1, std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      ex->SemRelease(ref_, this, initial_, n, loc);
    } else {
      s_.release(static_cast<std::ptrdiff_t>(n));
    }
  }

 private:
  std::int64_t initial_;
  std::counting_semaphore<> s_;
  rt::ObjRef ref_;
};

}  // namespace lab
