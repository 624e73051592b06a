#include "problems/exercises/lazy_init.h"

#include <array>

#include "problems/exercises/harness.h"

namespace exercises::lazy_init {
namespace {

// Counts CreateResource() calls of the current run (the harness resets it; the lab runs the
// threads of one run one at a time, so a plain counter is exact).
lab::Atomic<int>* g_created = nullptr;

}  // namespace

Resource* CreateResource() {
  if (g_created != nullptr) g_created->fetch_add(1);
  Resource* r = new Resource;
  lab::yield_point();   // building it takes a while
  r->value = 42;
  return r;
}

bool Implemented() { return &MakeLazy != nullptr; }

void Harness() {
  lab::Atomic<int> created{0, "created"};
  g_created = &created;
  {
    auto lazy = harness::Own(MakeLazy());
    LAB_ASSERT_MSG(lazy != nullptr, "MakeLazy() returned null");
    std::array<lab::Atomic<Resource*>, 2> seen{};
    std::array<lab::Atomic<int>, 2> values{};
    std::array<lab::Thread, 2> threads;
    for (int t = 0; t < 2; ++t) {
      threads[t] = lab::Thread([&, t] {
      harness::Uses uses(lazy.get());
        Resource* r = lazy->Get();
        LAB_ASSERT_MSG(r != nullptr, "Get() returned null");
        values[t].store(r->value);
        seen[t].store(r);
      });
    }
    for (lab::Thread& t : threads) t.join();
    LAB_ASSERT_MSG(values[0].load() == 42 && values[1].load() == 42,
                   "a thread saw the resource before it was fully built");
    LAB_ASSERT_MSG(seen[0].load() == seen[1].load(), "two threads got different resources");
    LAB_ASSERT_MSG(created.load() == 1, "CreateResource() was called more than once");
  }
  g_created = nullptr;
}

}  // namespace exercises::lazy_init
