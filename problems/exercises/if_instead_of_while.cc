#include "problems/exercises/if_instead_of_while.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::if_instead_of_while {

bool Implemented() { return &MakeBuffer != nullptr; }

void Harness() {
  constexpr int kItems = 4;   // one producer puts 0..3; two consumers take two each
  auto buffer = harness::Own(MakeBuffer());
  LAB_ASSERT_MSG(buffer != nullptr, "MakeBuffer() returned null");
  std::array<lab::Atomic<int>, kItems> taken{};
  lab::Thread producer([&] { harness::Uses uses(buffer.get());
    for (int i = 0; i < kItems; ++i) buffer->Put(i);
  });
  std::array<lab::Thread, 2> consumers;
  for (lab::Thread& c : consumers) {
    c = lab::Thread([&] {
      harness::Uses uses(buffer.get());
      for (int i = 0; i < kItems / 2; ++i) {
        const int item = buffer->Take();
        LAB_ASSERT_MSG(item >= 0 && item < kItems, "Take() returned an item nobody put");
        LAB_ASSERT_MSG(taken[item].fetch_add(1) == 0,
                       "an item was taken twice (a consumer took from an empty buffer)");
      }
    });
  }
  producer.join();
  for (lab::Thread& c : consumers) c.join();
  for (int i = 0; i < kItems; ++i) LAB_ASSERT_MSG(taken[i].load() == 1, "an item was lost");
}

}  // namespace exercises::if_instead_of_while
