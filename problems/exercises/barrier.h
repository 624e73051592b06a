// problems/exercises/barrier.h: the interface of exercise `barrier` (docs/exercises/barrier/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/barrier.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check barrier FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::barrier {

// A reusable barrier for n threads: ArriveAndWait() returns once all n threads have arrived in
// this phase; then the barrier is ready for the next phase (the same threads call it again).
class Barrier {
 public:
  virtual ~Barrier() = default;
  virtual void ArriveAndWait() = 0;
};

// Yours: a barrier for `n` threads.
[[gnu::weak]] std::unique_ptr<Barrier> MakeBarrier(int n);

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::barrier
