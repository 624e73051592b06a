// problems/exercises/lost_update.h: the interface of exercise `lost_update` (docs/exercises/lost_update/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/lost_update.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check lost_update FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::lost_update {

// A counter shared by threads. Increment() adds one; Value() returns the count. Any number of
// threads may call Increment() at the same time; every increment must count.
class Counter {
 public:
  virtual ~Counter() = default;
  virtual void Increment() = 0;
  virtual long Value() = 0;
};

// Yours: a new counter at zero.
[[gnu::weak]] std::unique_ptr<Counter> MakeCounter();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::lost_update
