#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "lab/strategy/dfs.h"
#include "lab/strategy/pct.h"
#include "lab/strategy/random.h"
#include "lab/strategy/replay.h"

namespace lab {
namespace {

Choices ThreadChoice(const std::vector<ThreadId>& threads, std::size_t index, ThreadId current) {
  Choices c;
  c.kind = Choices::Kind::kThread;
  c.count = threads.size();
  c.threads = threads;
  c.index = index;
  c.current = current;
  c.current_enabled = true;
  return c;
}

TEST(Replay, ModuloAndZeroPastTheEnd) {
  ReplayStrategy r({5, 1});
  r.NewExecution(0);
  std::vector<ThreadId> t = {0, 1, 2};
  EXPECT_EQ(r.Pick(ThreadChoice(t, 0, 0)), 2u);  // 5 % 3
  EXPECT_EQ(r.Pick(ThreadChoice(t, 1, 0)), 1u);
  EXPECT_EQ(r.Pick(ThreadChoice(t, 2, 0)), 0u);  // past the end
}

TEST(Random, SameSeedSamePicksAndInRange) {
  RandomStrategy a, b;
  a.NewExecution(42);
  b.NewExecution(42);
  std::vector<ThreadId> t = {0, 1, 2, 3};
  std::set<std::size_t> seen;
  for (std::size_t i = 0; i < 200; ++i) {
    std::size_t x = a.Pick(ThreadChoice(t, i, 0));
    EXPECT_EQ(x, b.Pick(ThreadChoice(t, i, 0)));
    EXPECT_LT(x, 4u);
    seen.insert(x);
  }
  EXPECT_EQ(seen.size(), 4u);
}

TEST(Pct, DepthOneRunsTheHighestPriorityThreadWhileEnabled) {
  PctStrategy p(1);
  p.NewExecution(7);
  std::vector<ThreadId> t = {0, 1, 2};
  std::size_t first = p.Pick(ThreadChoice(t, 0, 0));
  for (std::size_t i = 1; i < 50; ++i) EXPECT_EQ(p.Pick(ThreadChoice(t, i, t[first])), first);
}

TEST(Pct, ChangePointLowersTheRunningThread) {
  // Depth 2 with k = 1: the change point is at choice 0, so the first pick's winner is demoted
  // right away and another thread must win from then on, for every seed.
  for (std::uint64_t seed = 0; seed < 20; ++seed) {
    PctStrategy p(2);
    p.EndExecution(1);   // learn k = 1
    p.NewExecution(seed);
    std::vector<ThreadId> t = {0, 1};
    std::size_t pick = p.Pick(ThreadChoice(t, 0, 0));
    EXPECT_EQ(pick, 1u) << "thread 0 was running at the change point, so thread 1 wins";
  }
}

TEST(Dfs, EnumeratesEveryVectorOfATree) {
  // A synthetic program: three binary choices -> 8 executions, then exhausted.
  DfsStrategy d;
  std::set<std::vector<std::size_t>> seen;
  std::vector<ThreadId> t = {0, 1};
  while (!d.Exhausted()) {
    d.NewExecution(0);
    std::vector<std::size_t> v;
    for (std::size_t i = 0; i < 3; ++i) v.push_back(d.Pick(ThreadChoice(t, i, 0)));
    d.EndExecution(3);
    EXPECT_TRUE(seen.insert(v).second);
  }
  EXPECT_EQ(seen.size(), 8u);
}

TEST(Dfs, PreemptionBoundZeroNeverSwitchesAwayFromAnEnabledThread) {
  DfsStrategy d(0);
  std::vector<ThreadId> t = {0, 1};
  int executions = 0;
  while (!d.Exhausted() && executions < 100) {
    d.NewExecution(0);
    for (std::size_t i = 0; i < 4; ++i) EXPECT_EQ(d.Pick(ThreadChoice(t, i, 0)), 0u);
    d.EndExecution(4);
    ++executions;
  }
  EXPECT_EQ(executions, 1);
}


// A synthetic program of two threads, always enabled, with `a` and `b` steps; thread 0 is at the
// first point. Driven the way `ipclab explore` drives a DfsTree: each execution follows Prefix()
// and then keeps running the current thread; every choice point is reported with Next().
std::set<std::vector<std::size_t>> Interleavings(int a, int b, int bound, int* executions) {
  DfsTree tree(bound);
  std::set<std::vector<std::size_t>> seen;
  *executions = 0;
  while (!tree.Exhausted() && *executions < 100000) {
    const std::vector<std::uint32_t> prefix = tree.Prefix();
    tree.Begin();
    int left[2] = {a, b};
    std::size_t running = 0;
    std::vector<std::size_t> order;
    for (std::size_t i = 0; left[0] > 0 || left[1] > 0; ++i) {
      if (left[0] > 0 && left[1] > 0) {
        DfsPoint p{.count = 2, .current = left[running] > 0 ? std::optional<std::size_t>(running) : std::nullopt};
        const std::size_t want = i < prefix.size() ? prefix[i] : p.current.value_or(0);
        const std::size_t got = tree.Next(p, want);
        EXPECT_EQ(got, want) << "the tree takes the alternative the execution took";
        running = got;
      } else {
        running = left[0] > 0 ? 0 : 1;
      }
      --left[running];
      order.push_back(running);
    }
    tree.End();
    ++*executions;
    EXPECT_TRUE(seen.insert(order).second) << "an interleaving explored twice";
  }
  return seen;
}

TEST(DfsTree, DrivenFromOutsideEnumeratesEveryInterleavingOnce) {
  int executions = 0;
  EXPECT_EQ(Interleavings(3, 2, -1, &executions).size(), 10u);  // C(5, 2)
  EXPECT_EQ(executions, 10);
  EXPECT_EQ(Interleavings(4, 4, -1, &executions).size(), 70u);  // C(8, 4)
}

TEST(DfsTree, PreemptionBoundsCountAsPredicted) {
  int executions = 0;
  // Bound 0: thread 0 runs to its end, then thread 1.
  EXPECT_EQ(Interleavings(4, 3, 0, &executions).size(), 1u);
  // Bound 1: thread 1 first (1), or thread 0 preempted once after 1..a-1 of its steps (a-1),
  // plus the unpreempted one: a + 1.
  EXPECT_EQ(Interleavings(4, 3, 1, &executions).size(), 5u);
}

TEST(DfsTree, PreferredAlternativeFirstThenTheOthersAscending) {
  DfsTree tree;
  std::vector<std::size_t> firsts;
  while (!tree.Exhausted()) {
    tree.Begin();
    firsts.push_back(tree.Next(DfsPoint{.count = 3, .current = 2}, 2));
    tree.End();
  }
  EXPECT_EQ(firsts, (std::vector<std::size_t>{2, 0, 1}));
}

}  // namespace
}  // namespace lab
