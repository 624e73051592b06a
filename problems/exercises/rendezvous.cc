#include "problems/exercises/rendezvous.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::rendezvous {

bool Implemented() { return &MakeRendezvous != nullptr; }

void Harness() {
  auto r = harness::Own(MakeRendezvous());
  LAB_ASSERT_MSG(r != nullptr, "MakeRendezvous() returned null");
  std::array<lab::Atomic<int>, 2> arrived{};
  std::array<lab::Thread, 2> threads;
  for (int me = 0; me < 2; ++me) {
    threads[me] = lab::Thread([&, me] {
      harness::Uses uses(r.get());
      arrived[me].store(1);
      r->Arrive(me);
      LAB_ASSERT_MSG(arrived[1 - me].load() == 1,
                     "a thread left the rendezvous before the other one arrived");
    });
  }
  for (lab::Thread& t : threads) t.join();
}

}  // namespace exercises::rendezvous
