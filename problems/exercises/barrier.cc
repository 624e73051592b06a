#include "problems/exercises/barrier.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::barrier {

bool Implemented() { return &MakeBarrier != nullptr; }

void Harness() {
  constexpr int kThreads = 3;
  constexpr int kPhases = 2;   // enough for a thread to lap the others
  auto b = harness::Own(MakeBarrier(kThreads));
  LAB_ASSERT_MSG(b != nullptr, "MakeBarrier() returned null");
  std::array<lab::Atomic<int>, kPhases> arrived{};
  std::array<lab::Thread, kThreads> threads;
  for (lab::Thread& t : threads) {
    t = lab::Thread([&] {
      harness::Uses uses(b.get());
      for (int phase = 0; phase < kPhases; ++phase) {
        arrived[phase].fetch_add(1);
        b->ArriveAndWait();
        LAB_ASSERT_MSG(arrived[phase].load() == kThreads,
                       "a thread passed the barrier before every thread arrived in its phase");
      }
    });
  }
  for (lab::Thread& t : threads) t.join();
}

}  // namespace exercises::barrier
