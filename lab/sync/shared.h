// lab/sync/shared.h: lab::Shared<T>, plain (non-atomic) shared data whose every access is checked.
//
// Under exploration each read and write is a scheduling point and is fed to the race detector
// (FastTrack vector clocks over the facade's synchronization): two accesses, at least one a write,
// not ordered by happens-before are a data race, reported with both threads and source lines.
// The lab checks these accesses itself, so they are hidden from TSan under exploration (TSan would
// otherwise abort the process on the planted races the lab is there to report). Outside an
// exploration a Shared<T> is just a T (TSan, when on, checks it as usual).
#pragma once

#include <source_location>
#include <utility>

#include "lab/rt/execution.h"
#include "lab/rt/sanitizer.h"

namespace lab {

template <class T>
class Shared {
 public:
  Shared() : v_() {}
  explicit Shared(T v, const char* name = nullptr) : v_(std::move(v)) { ref_.name = name; }
  Shared(const Shared&) = delete;
  Shared& operator=(const Shared&) = delete;

  T read(std::source_location loc = std::source_location::current()) const {
    if (auto* ex = rt::Execution::Current()) {
      ex->Access(ref_, this, false, loc);
      rt::RuntimeSection hidden;
      return v_;
    }
    return v_;
  }
  void write(T v, std::source_location loc = std::source_location::current()) {
    if (auto* ex = rt::Execution::Current()) {
      ex->Access(ref_, this, true, loc);
      rt::RuntimeSection hidden;
      v_ = std::move(v);
      return;
    }
    v_ = std::move(v);
  }
  // A read then a write (two scheduling points, like `x = f(x)` on plain data). Returns the new value.
  template <class F>
  T update(F f, std::source_location loc = std::source_location::current()) {
    T next = f(read(loc));
    write(next, loc);
    return next;
  }
  // Unchecked access for setup and final checks outside concurrent phases.
  T& unsafe() { return v_; }

 private:
  T v_;
  mutable rt::ObjRef ref_;
};

}  // namespace lab
