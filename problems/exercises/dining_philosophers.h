// problems/exercises/dining_philosophers.h: the interface of exercise `dining_philosophers` (docs/exercises/dining_philosophers/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/dining_philosophers.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check dining_philosophers FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::dining_philosophers {

// Philosophers (and forks) around the table.
inline constexpr int kPhilosophers = 3;

// Philosopher p eats with fork p (left) and fork (p + 1) % kPhilosophers (right). PickUp(p)
// returns when philosopher p holds both forks; PutDown(p) gives them back. Nobody may hold a fork
// another philosopher holds, and the table must never get stuck.
class Table {
 public:
  virtual ~Table() = default;
  virtual void PickUp(int p) = 0;
  virtual void PutDown(int p) = 0;
};

// Yours: a table with all forks free.
[[gnu::weak]] std::unique_ptr<Table> MakeTable();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::dining_philosophers
