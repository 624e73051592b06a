#include "problems/exercises/dining_philosophers.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::dining_philosophers {

bool Implemented() { return &MakeTable != nullptr; }

void Harness() {
  constexpr int kMeals = 1;
  auto table = harness::Own(MakeTable());
  LAB_ASSERT_MSG(table != nullptr, "MakeTable() returned null");
  std::array<lab::Atomic<int>, kPhilosophers> users{};   // who holds each fork, by count
  std::array<lab::Thread, kPhilosophers> philosophers;
  for (int p = 0; p < kPhilosophers; ++p) {
    philosophers[p] = lab::Thread([&, p] {
      harness::Uses uses(table.get());
      const int left = p, right = (p + 1) % kPhilosophers;
      for (int meal = 0; meal < kMeals; ++meal) {
        table->PickUp(p);
        LAB_ASSERT_MSG(users[left].fetch_add(1) == 0, "a philosopher took a fork in use");
        LAB_ASSERT_MSG(users[right].fetch_add(1) == 0, "a philosopher took a fork in use");
        lab::yield_point();   // eating
        users[left].fetch_sub(1);
        users[right].fetch_sub(1);
        table->PutDown(p);
      }
    });
  }
  for (lab::Thread& t : philosophers) t.join();
}

}  // namespace exercises::dining_philosophers
