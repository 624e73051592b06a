// problems/exercises/if_instead_of_while.h: the interface of exercise `if_instead_of_while` (docs/exercises/if_instead_of_while/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/if_instead_of_while.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check if_instead_of_while FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::if_instead_of_while {

// Slots in the buffer.
inline constexpr int kCapacity = 2;

// A bounded FIFO buffer of ints. Put(item) blocks while the buffer is full; Take() blocks while
// it is empty and returns the oldest item. Any number of producers and consumers at once; every
// item put is taken exactly once.
class BoundedBuffer {
 public:
  virtual ~BoundedBuffer() = default;
  virtual void Put(int item) = 0;
  virtual int Take() = 0;
};

// Yours: an empty buffer of kCapacity slots.
[[gnu::weak]] std::unique_ptr<BoundedBuffer> MakeBuffer();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::if_instead_of_while
