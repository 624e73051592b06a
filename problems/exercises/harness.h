// problems/exercises/harness.h: what every exercise harness needs to own the student's object.
//
//   auto counter = harness::Own(MakeCounter());
//   lab::Thread a([&] { harness::Uses uses(counter.get()); counter->Increment(); });
//
// When an execution ends early (a finding), the lab unwinds the threads and then the harness
// body, which frees the object. Fiber switches carry no ordering for ThreadSanitizer, so without
// these marks TSan would see a thread's last use and the free as a race: each thread releases the
// object when its use ends (also when unwinding), and the deleter acquires before deleting.
// Outside TSan builds both compile to nothing.
#pragma once

#include <memory>

#include "lab/rt/sanitizer.h"

namespace exercises::harness {

class Uses {
 public:
  explicit Uses(const void* object) : object_(object) {}
  ~Uses() { lab::rt::TsanRelease(object_); }
  Uses(const Uses&) = delete;
  Uses& operator=(const Uses&) = delete;

 private:
  const void* object_;
};

template <class T>
struct DeleteAfterUses {
  void operator()(T* p) const {
    lab::rt::TsanAcquire(p);
    delete p;
  }
};

template <class T>
using Owned = std::unique_ptr<T, DeleteAfterUses<T>>;

template <class T>
Owned<T> Own(std::unique_ptr<T> p) {
  return Owned<T>(p.release());
}

}  // namespace exercises::harness
