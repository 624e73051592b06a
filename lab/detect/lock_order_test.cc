#include "lab/detect/lock_order.h"

#include <gtest/gtest.h>

namespace lab {
namespace {

constexpr ObjectId kA = 1, kB = 2, kC = 3, kGate = 9;

// Thread t takes `first` then `second` and releases both.
void Nested(LockOrderDetector& d, ThreadId t, ObjectId first, ObjectId second, StepIndex& step,
            bool first_shared = false, bool second_shared = false) {
  d.OnAcquired(t, first, step++, first_shared);
  d.OnAcquired(t, second, step++, second_shared);
  d.OnReleased(t, second);
  d.OnReleased(t, first);
}

void ExpectWellFormed(const LockOrderCycle& cycle) {
  ASSERT_FALSE(cycle.edges.empty());
  for (std::size_t i = 0; i < cycle.edges.size(); ++i) {
    EXPECT_EQ(cycle.edges[i].second, cycle.edges[(i + 1) % cycle.edges.size()].first);
  }
}

TEST(LockOrderTest, AbBaIsCaughtWithBothOrders) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step);  // steps 0, 1
  EXPECT_FALSE(d.TakeNewCycle());
  Nested(d, 2, kB, kA, step);  // steps 2, 3
  auto cycle = d.TakeNewCycle();
  ASSERT_TRUE(cycle.has_value());
  ExpectWellFormed(*cycle);
  ASSERT_EQ(cycle->edges.size(), 2u);
  const LockOrderEdge& closing = cycle->edges[0];
  EXPECT_EQ(closing.first, kB);
  EXPECT_EQ(closing.second, kA);
  EXPECT_EQ(closing.thread, 2u);
  EXPECT_EQ(closing.first_step, 2u);
  EXPECT_EQ(closing.second_step, 3u);
  const LockOrderEdge& earlier = cycle->edges[1];
  EXPECT_EQ(earlier.first, kA);
  EXPECT_EQ(earlier.second, kB);
  EXPECT_EQ(earlier.thread, 1u);
  EXPECT_EQ(earlier.first_step, 0u);
  EXPECT_EQ(earlier.second_step, 1u);
  EXPECT_FALSE(d.TakeNewCycle());
}

TEST(LockOrderTest, SameCycleIsReportedOnce) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step);
  Nested(d, 2, kB, kA, step);
  EXPECT_TRUE(d.TakeNewCycle());
  Nested(d, 2, kB, kA, step);
  Nested(d, 1, kA, kB, step);
  EXPECT_FALSE(d.TakeNewCycle());
}

TEST(LockOrderTest, ConsistentOrderIsQuiet) {
  LockOrderDetector d;
  StepIndex step = 0;
  for (int round = 0; round < 5; ++round) {
    Nested(d, 1, kA, kB, step);
    Nested(d, 2, kA, kB, step);
    Nested(d, 2, kB, kC, step);
    Nested(d, 1, kA, kC, step);
  }
  EXPECT_FALSE(d.TakeNewCycle());
  EXPECT_EQ(d.NumOrders(), 3u);
}

TEST(LockOrderTest, ThreeLockCycle) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step);
  Nested(d, 2, kB, kC, step);
  EXPECT_FALSE(d.TakeNewCycle());
  Nested(d, 3, kC, kA, step);
  auto cycle = d.TakeNewCycle();
  ASSERT_TRUE(cycle.has_value());
  ExpectWellFormed(*cycle);
  ASSERT_EQ(cycle->edges.size(), 3u);
  EXPECT_EQ(cycle->edges[0].first, kC);
  EXPECT_EQ(cycle->edges[0].thread, 3u);
  EXPECT_EQ(cycle->edges[1].first, kA);
  EXPECT_EQ(cycle->edges[2].first, kB);
}

TEST(LockOrderTest, GateLockSuppresses) {
  LockOrderDetector d;
  StepIndex step = 0;
  for (ThreadId t : {1u, 2u}) {
    d.OnAcquired(t, kGate, step++);
    if (t == 1) {
      Nested(d, t, kA, kB, step);
    } else {
      Nested(d, t, kB, kA, step);
    }
    d.OnReleased(t, kGate);
  }
  EXPECT_FALSE(d.TakeNewCycle());
  // The same inversion once without the gate is a real risk, and the report shows the ungated
  // occurrence.
  Nested(d, 3, kB, kA, step);
  auto cycle = d.TakeNewCycle();
  ASSERT_TRUE(cycle.has_value());
  EXPECT_EQ(cycle->edges[0].thread, 3u);
}

TEST(LockOrderTest, GateHeldSharedDoesNotSuppress) {
  LockOrderDetector d;
  StepIndex step = 0;
  d.OnAcquired(1, kGate, step++, /*shared=*/true);
  Nested(d, 1, kA, kB, step);
  d.OnReleased(1, kGate);
  d.OnAcquired(2, kGate, step++, /*shared=*/true);
  Nested(d, 2, kB, kA, step);
  d.OnReleased(2, kGate);
  EXPECT_TRUE(d.TakeNewCycle());
}

TEST(LockOrderTest, DifferentGatesDoNotSuppress) {
  LockOrderDetector d;
  StepIndex step = 0;
  d.OnAcquired(1, kGate, step++);
  Nested(d, 1, kA, kB, step);
  d.OnReleased(1, kGate);
  d.OnAcquired(2, kGate + 1, step++);
  Nested(d, 2, kB, kA, step);
  d.OnReleased(2, kGate + 1);
  EXPECT_TRUE(d.TakeNewCycle());
}

TEST(LockOrderTest, SharedSharedIsSuppressed) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step, /*first_shared=*/true, /*second_shared=*/true);
  Nested(d, 2, kB, kA, step, true, true);
  EXPECT_FALSE(d.TakeNewCycle());
}

TEST(LockOrderTest, ReadersAgainstWritersStillDeadlock) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step, /*first_shared=*/true, /*second_shared=*/true);
  Nested(d, 2, kB, kA, step, false, false);
  auto cycle = d.TakeNewCycle();
  ASSERT_TRUE(cycle.has_value());
  EXPECT_TRUE(cycle->edges[1].first_shared);
  EXPECT_FALSE(cycle->edges[0].first_shared);
}

TEST(LockOrderTest, TryLockAddsNoOrder) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step);
  d.OnAcquired(2, kB, step++);
  d.OnTryAcquired(2, kA, step++);
  EXPECT_FALSE(d.TakeNewCycle());
  EXPECT_EQ(d.Held(2).size(), 2u);
}

TEST(LockOrderTest, OutOfOrderReleaseAndRecursion) {
  LockOrderDetector d;
  d.OnAcquired(1, kA, 0);
  d.OnAcquired(1, kB, 1);
  d.OnAcquired(1, kA, 2);  // recursive: no A -> A order
  d.OnReleased(1, kA);
  ASSERT_EQ(d.Held(1).size(), 2u);
  EXPECT_EQ(d.Held(1)[0].lock, kA);
  d.OnReleased(1, kA);
  ASSERT_EQ(d.Held(1).size(), 1u);
  EXPECT_EQ(d.Held(1)[0].lock, kB);
  d.OnReleased(1, kC);  // not held: ignored
  EXPECT_FALSE(d.TakeNewCycle());
}

TEST(LockOrderTest, GraphPersistsAcrossExecutionsUntilClear) {
  LockOrderDetector d;
  StepIndex step = 0;
  Nested(d, 1, kA, kB, step);
  d.Reset();  // execution 1
  step = 0;
  Nested(d, 2, kB, kA, step);
  auto cycle = d.TakeNewCycle();
  ASSERT_TRUE(cycle.has_value());
  EXPECT_EQ(cycle->edges[0].execution, 1u);
  EXPECT_EQ(cycle->edges[1].execution, 0u);

  d.Clear();
  Nested(d, 1, kA, kB, step);
  d.Reset();
  d.Clear();
  Nested(d, 2, kB, kA, step);
  EXPECT_FALSE(d.TakeNewCycle());
}

TEST(LockOrderTest, ResetForgetsHeldLocks) {
  LockOrderDetector d;
  d.OnAcquired(1, kA, 0);
  d.Reset();
  EXPECT_TRUE(d.Held(1).empty());
  d.OnAcquired(1, kB, 0);  // A is no longer held: no A -> B order
  EXPECT_EQ(d.NumOrders(), 0u);
}

}  // namespace
}  // namespace lab
