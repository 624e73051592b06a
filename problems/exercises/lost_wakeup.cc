#include "problems/exercises/lost_wakeup.h"

namespace exercises::lost_wakeup {

bool Implemented() { return &MakeEvent != nullptr; }

void Harness() {
  std::unique_ptr<Event> event = MakeEvent();
  LAB_ASSERT_MSG(event != nullptr, "MakeEvent() returned null");
  lab::Atomic<int> signalled{0, "signalled"};
  lab::Thread waiter([&] {
    event->Wait();
    LAB_ASSERT_MSG(signalled.load() == 1, "Wait() returned before Signal() was called");
  });
  lab::Thread signaller([&] {
    signalled.store(1);
    event->Signal();
  });
  waiter.join();
  signaller.join();
}

}  // namespace exercises::lost_wakeup
