// problems/exercises/lazy_init.h: the interface of exercise `lazy_init` (docs/exercises/lazy_init/README.md).
//
// Your file includes this header and defines the factory below (marked "yours"); the harness
// (problems/exercises/lazy_init.cc) is part of the grading kit: it builds your object, runs threads
// against it and checks the invariant. `ipclab check lazy_init FILE.cc` grades your file.
#pragma once

#include <memory>

#include "lab/sync/sync.h"

namespace exercises::lazy_init {

// The expensive resource: made by CreateResource() (the harness defines it; it counts calls).
struct Resource {
  int value = 0;
};
Resource* CreateResource();

// Lazily created: Get() returns the one Resource, calling CreateResource() exactly once, on the
// first Get() of any thread; every thread sees it fully built. Get() may be called from many
// threads at once. The Lazy owns the resource (delete it in the destructor).
class Lazy {
 public:
  virtual ~Lazy() = default;
  virtual Resource* Get() = 0;
};

// Yours: a Lazy that has not created its resource yet.
[[gnu::weak]] std::unique_ptr<Lazy> MakeLazy();

// The harness, in the grading kit: one run of the exercise; and whether your file defines the
// factory (it is declared weak so that the kit links without it and can say so).
void Harness();
bool Implemented();

}  // namespace exercises::lazy_init
