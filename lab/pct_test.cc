// An order violation of depth 2: PCT finds it where uniform random almost never does.
//
// T1 publishes a half-initialised state (flag = 1) and completes it right after (flag = 2); T2
// does kWork steps of its own and then must not see the half state. The bug needs T1's first
// store before T2's check AND T2's check before T1's second store — two ordering constraints,
// depth 2 — with T2 running kWork steps inside T1's two-step window. Random scheduling hits that
// with probability about kWork / 2^kWork; PCT (depth 2) with about 1/(2k) (the change point lands
// in the window, T2 has the higher priority).
#include <gtest/gtest.h>

#include <cstdio>

#include "lab/explore.h"
#include "lab/gtest.h"
#include "lab/schedfuzz/planted_programs.h"

namespace {

using lab::schedfuzz::OrderViolation;
constexpr int kWork = lab::schedfuzz::kOrderViolationWork;

TEST(Pct, FindsTheDepthTwoOrderViolationFarMoreOftenThanRandom) {
  constexpr int kIterations = 2000;
  auto pct = lab::Explore({.strategy = lab::Pct{.depth = 2}, .iterations = kIterations,
                           .stop_at_first_finding = false, .shrink_budget = 0, .quiet = true},
                          [] { OrderViolation(false); });
  auto random = lab::Explore({.strategy = lab::Random{}, .iterations = kIterations,
                              .stop_at_first_finding = false, .shrink_budget = 0, .quiet = true},
                             [] { OrderViolation(false); });
  std::printf("order violation (depth 2, %d work steps) over %d executions: pct(d=2) %llu failing "
              "(%.2f%%), random %llu failing (%.2f%%)\n",
              kWork, kIterations, static_cast<unsigned long long>(pct.failing_executions),
              100.0 * pct.failing_executions / kIterations,
              static_cast<unsigned long long>(random.failing_executions),
              100.0 * random.failing_executions / kIterations);
  EXPECT_GE(pct.failing_executions, 10u);
  EXPECT_GE(pct.failing_executions, 5 * (random.failing_executions + 1));
}

TEST(Pct, FindsItWithinTheStatedBudget) {
  EXPECT_LAB_FINDS("assertion-failure", lab::Options{.strategy = lab::Pct{.depth = 2}, .iterations = 500},
                   [] { OrderViolation(false); });
}

TEST(Pct, TheFixedTwinIsClean) {
  EXPECT_LAB_CLEAN(lab::Options{.strategy = lab::Pct{.depth = 2}, .iterations = 1000},
                   [] { OrderViolation(true); });
  EXPECT_LAB_CLEAN(lab::Options{.strategy = lab::Dfs{.max_preemptions = 2}, .iterations = 100000},
                   [] { OrderViolation(true); });
}

}  // namespace
