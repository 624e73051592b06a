#include "problems/exercises/lost_update.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::lost_update {

bool Implemented() { return &MakeCounter != nullptr; }

void Harness() {
  auto counter = harness::Own(MakeCounter());
  LAB_ASSERT_MSG(counter != nullptr, "MakeCounter() returned null");
  // How many times each thread increments is part of the schedule (so is every interleaving).
  const std::array<int, 2> times = {1 + static_cast<int>(lab::random(2)), 2};
  lab::Thread a([&] { harness::Uses uses(counter.get());
    for (int i = 0; i < times[0]; ++i) counter->Increment();
  });
  lab::Thread b([&] { harness::Uses uses(counter.get());
    for (int i = 0; i < times[1]; ++i) counter->Increment();
  });
  a.join();
  b.join();
  LAB_ASSERT_MSG(counter->Value() == times[0] + times[1],
                 "the threads incremented the counter more times than it counted: an update was "
                 "lost");
}

}  // namespace exercises::lost_update
