#include "problems/exercises/order_violation.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::order_violation {

bool Implemented() { return &MakeConfigSlot != nullptr; }

void Harness() {
  auto slot = harness::Own(MakeConfigSlot());
  LAB_ASSERT_MSG(slot != nullptr, "MakeConfigSlot() returned null");
  lab::Thread publisher([&] { harness::Uses uses(slot.get()); slot->Publish(Config{.port = 8080, .workers = 4}); });
  std::array<lab::Thread, 2> readers;
  for (lab::Thread& r : readers) {
    r = lab::Thread([&] {
      harness::Uses uses(slot.get());
      const Config c = slot->Get();
      LAB_ASSERT_MSG(c.port == 8080 && c.workers == 4,
                     "Get() returned a configuration that was never published (it ran before "
                     "Publish, or saw half of it)");
    });
  }
  publisher.join();
  for (lab::Thread& r : readers) r.join();
}

}  // namespace exercises::order_violation
