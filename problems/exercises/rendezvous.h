// problems/exercises/rendezvous.h: the interface of exercise `rendezvous` (docs/exercises/rendezvous/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/rendezvous.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check rendezvous FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::rendezvous {

// Two threads, 0 and 1, meet: Arrive(me) returns only once the other thread has called
// Arrive() too (in any order). Used once per thread.
class Rendezvous {
 public:
  virtual ~Rendezvous() = default;
  virtual void Arrive(int me) = 0;
};

// Yours: a rendezvous nobody has arrived at.
[[gnu::weak]] std::unique_ptr<Rendezvous> MakeRendezvous();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::rendezvous
