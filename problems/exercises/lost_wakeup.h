// problems/exercises/lost_wakeup.h: the interface of exercise `lost_wakeup` (docs/exercises/lost_wakeup/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/lost_wakeup.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check lost_wakeup FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::lost_wakeup {

// A one-shot event. Wait() returns once Signal() has been called, whether Signal() came before
// Wait() or during it; it blocks (no busy waiting) until then. Signal() is called once.
class Event {
 public:
  virtual ~Event() = default;
  virtual void Wait() = 0;
  virtual void Signal() = 0;
};

// Yours: an event not signalled yet.
[[gnu::weak]] std::unique_ptr<Event> MakeEvent();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::lost_wakeup
