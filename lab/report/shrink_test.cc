#include "lab/report/shrink.h"

#include <algorithm>
#include <cstdint>
#include <random>
#include <set>
#include <vector>

#include <gtest/gtest.h>

namespace lab {
namespace {

using Choices = std::vector<std::uint32_t>;

// The replay rule: past the end every choice is 0.
std::uint32_t At(const Choices& c, std::size_t i) { return i < c.size() ? c[i] : 0; }

Choices RandomChoices(std::mt19937& rng, std::size_t n, std::uint32_t max) {
  Choices c(n);
  for (auto& v : c) v = rng() % (max + 1);
  return c;
}

// A synthetic bug: with two alternatives at every point, it fails when thread 1 is picked at
// points 3 and 7 (a depth-2 order violation).
bool DepthTwoBug(const Choices& c) { return At(c, 3) % 2 == 1 && At(c, 7) % 2 == 1; }

TEST(ShrinkTest, FindsTheMinimalFailingSchedule) {
  std::mt19937 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    Choices failing = RandomChoices(rng, 60, 9);
    failing[3] = 2 * (rng() % 5) + 1;
    failing[7] = 2 * (rng() % 5) + 1;
    ASSERT_TRUE(DepthTwoBug(failing));
    ShrinkStats stats;
    Choices shrunk = ShrinkChoices(failing, DepthTwoBug, 2000, &stats);
    EXPECT_EQ(shrunk, (Choices{0, 0, 0, 1, 0, 0, 0, 1})) << "trial " << trial;
    EXPECT_LE(stats.attempts, 2000);
    EXPECT_GT(stats.accepted, 0);
  }
}

TEST(ShrinkTest, ShrinksCountingBugToOnes) {
  // Fails when at least three points deviate from the first alternative.
  auto three_deviations = [](const Choices& c) {
    return std::count_if(c.begin(), c.end(), [](std::uint32_t v) { return v != 0; }) >= 3;
  };
  Choices failing{0, 5, 0, 0, 9, 1000000, 0, 3, 7};
  EXPECT_EQ(ShrinkChoices(failing, three_deviations), (Choices{1, 1, 1}));
}

TEST(ShrinkTest, AlwaysFailingShrinksToEmpty) {
  ShrinkStats stats;
  EXPECT_TRUE(ShrinkChoices({4, 5, 6}, [](const Choices&) { return true; }, 100, &stats).empty());
  EXPECT_EQ(stats.attempts, 1);  // deleting everything at once is tried first
}

TEST(ShrinkTest, NothingSmallerFailsKeepsInput) {
  Choices failing{1, 2};
  auto exact = [&](const Choices& c) { return c == failing; };
  EXPECT_EQ(ShrinkChoices(failing, exact), failing);
}

TEST(ShrinkTest, NeverGrowsAndAlwaysFails) {
  std::mt19937 rng(99);
  for (int trial = 0; trial < 200; ++trial) {
    const std::uint32_t modulus = 2 + rng() % 5;
    const std::uint32_t target = rng() % modulus;
    auto sum_bug = [&](const Choices& c) {
      std::uint64_t sum = 0;
      for (auto v : c) sum += v;
      return c.size() >= 2 && sum % modulus == target;
    };
    Choices failing = RandomChoices(rng, 2 + rng() % 40, 20);
    if (!sum_bug(failing)) continue;
    Choices shrunk = ShrinkChoices(failing, sum_bug, 500);
    EXPECT_LE(shrunk.size(), failing.size());
    EXPECT_TRUE(sum_bug(shrunk));
  }
}

TEST(ShrinkTest, RespectsBudget) {
  std::mt19937 rng(3);
  for (int budget : {0, 1, 2, 5, 17, 100}) {
    int calls = 0;
    auto counting = [&](const Choices& c) {
      ++calls;
      return DepthTwoBug(c);
    };
    Choices failing = RandomChoices(rng, 200, 9);
    failing[3] = 1;
    failing[7] = 3;
    ShrinkStats stats;
    Choices shrunk = ShrinkChoices(failing, counting, budget, &stats);
    EXPECT_LE(calls, budget);
    EXPECT_EQ(stats.attempts, calls);
    EXPECT_TRUE(DepthTwoBug(shrunk));
    EXPECT_LE(shrunk.size(), failing.size());
    if (budget == 0) EXPECT_EQ(shrunk, failing);
  }
}

// A flaky predicate (a bug that reproduces only sometimes): the result must be the input or a
// candidate the predicate said failed.
TEST(ShrinkTest, FlakyPredicateReturnsOnlyWitnessedFailures) {
  std::mt19937 rng(5);
  std::set<Choices> witnessed;
  auto flaky = [&](const Choices& c) {
    bool fails = rng() % 2 == 0;
    if (fails) witnessed.insert(c);
    return fails;
  };
  Choices failing = RandomChoices(rng, 30, 4);
  Choices shrunk = ShrinkChoices(failing, flaky, 300);
  EXPECT_TRUE(shrunk == failing || witnessed.contains(shrunk));
  EXPECT_LE(shrunk.size(), failing.size());
}

}  // namespace
}  // namespace lab
