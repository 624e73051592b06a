#include "problems/exercises/lost_wakeup.h"
#include "problems/exercises/harness.h"

namespace exercises::lost_wakeup {

bool Implemented() { return &MakeEvent != nullptr; }

void Harness() {
  auto event = harness::Own(MakeEvent());
  LAB_ASSERT_MSG(event != nullptr, "MakeEvent() returned null");
  lab::Atomic<int> signalled{0, "signalled"};
  lab::Thread waiter([&] { harness::Uses uses(event.get());
    event->Wait();
    LAB_ASSERT_MSG(signalled.load() == 1, "Wait() returned before Signal() was called");
  });
  lab::Thread signaller([&] { harness::Uses uses(event.get());
    signalled.store(1);
    event->Signal();
  });
  waiter.join();
  signaller.join();
}

}  // namespace exercises::lost_wakeup
