// The lock-order detector against a brute-force model: random acquisitions and releases by a few
// threads, each holding at most two locks (so no gate lock exists) in exclusive mode. Then an
// inversion is reported at some point iff the set of all observed orders "held A, took B" has a
// cycle, and every reported cycle is a closed chain of observed orders. With every acquisition
// shared, nothing is ever reported.
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <set>
#include <utility>
#include <vector>

#include "lab/detect/lock_order.h"

namespace lab {
namespace {

constexpr ThreadId kThreads = 3;
constexpr ObjectId kLocks = 5;

struct Step {
  ThreadId thread;
  ObjectId lock;  // acquire it if not held by the thread, else release it
};

bool HasCycle(const std::set<std::pair<ObjectId, ObjectId>>& orders) {
  // Repeatedly remove locks without incoming orders (Kahn); what is left lies on a cycle.
  std::set<std::pair<ObjectId, ObjectId>> left = orders;
  bool removed = true;
  while (removed && !left.empty()) {
    removed = false;
    for (ObjectId l = 1; l <= kLocks; ++l) {
      bool incoming = std::any_of(left.begin(), left.end(), [&](auto& e) { return e.second == l; });
      if (incoming) continue;
      for (auto it = left.begin(); it != left.end();) {
        if (it->first == l) {
          it = left.erase(it);
          removed = true;
        } else {
          ++it;
        }
      }
    }
  }
  return !left.empty();
}

// Runs `steps`, in `shared` mode or exclusive; returns the observed orders and the cycles.
std::pair<std::set<std::pair<ObjectId, ObjectId>>, std::vector<LockOrderCycle>> Run(
    const std::vector<Step>& steps, bool shared) {
  LockOrderDetector d;
  std::vector<std::vector<ObjectId>> held(kThreads);
  std::set<std::pair<ObjectId, ObjectId>> orders;
  std::vector<LockOrderCycle> cycles;
  StepIndex index = 0;
  for (const Step& s : steps) {
    auto& mine = held[s.thread];
    auto it = std::find(mine.begin(), mine.end(), s.lock);
    if (it != mine.end()) {
      mine.erase(it);
      d.OnReleased(s.thread, s.lock);
    } else if (mine.size() < 2) {
      for (ObjectId h : mine) orders.insert({h, s.lock});
      mine.push_back(s.lock);
      d.OnAcquired(s.thread, s.lock, index, shared);
    }
    ++index;
    while (auto c = d.TakeNewCycle()) cycles.push_back(std::move(*c));
  }
  return {orders, cycles};
}

rc::Gen<std::vector<Step>> Steps() {
  return rc::gen::container<std::vector<Step>>(
      rc::gen::build<Step>(rc::gen::set(&Step::thread, rc::gen::inRange<ThreadId>(0, kThreads)),
                           rc::gen::set(&Step::lock, rc::gen::inRange<ObjectId>(1, kLocks + 1))));
}

RC_GTEST_PROP(LabLockOrderProperty, ReportsIffTheOrdersHaveACycle, ()) {
  const auto steps = *Steps();
  auto [orders, cycles] = Run(steps, /*shared=*/false);
  RC_ASSERT(cycles.empty() == !HasCycle(orders));
  std::set<std::set<ObjectId>> distinct;
  for (const LockOrderCycle& c : cycles) {
    RC_ASSERT(c.edges.size() >= 2u);
    std::set<ObjectId> locks;
    for (std::size_t i = 0; i < c.edges.size(); ++i) {
      const LockOrderEdge& e = c.edges[i];
      RC_ASSERT(orders.contains({e.first, e.second}));
      RC_ASSERT(e.second == c.edges[(i + 1) % c.edges.size()].first);
      RC_ASSERT(e.first_step < e.second_step);
      locks.insert(e.first);
    }
    RC_ASSERT(locks.size() == c.edges.size());  // a simple cycle
  }
}

RC_GTEST_PROP(LabLockOrderProperty, ReadersNeverDeadlock, ()) {
  auto [orders, cycles] = Run(*Steps(), /*shared=*/true);
  RC_ASSERT(cycles.empty());
}

}  // namespace
}  // namespace lab
