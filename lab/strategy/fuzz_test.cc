#include "lab/strategy/fuzz.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

namespace lab {
namespace {

Choices ThreadChoice(const std::vector<ThreadId>& threads, ThreadId current, bool current_enabled = true) {
  Choices c;
  c.kind = Choices::Kind::kThread;
  c.count = threads.size();
  c.threads = threads;
  c.current = current;
  c.current_enabled = current_enabled;
  return c;
}

Choices ValueChoice(std::size_t count) {
  Choices c;
  c.kind = Choices::Kind::kValue;
  c.count = count;
  return c;
}

TEST(FuzzStrategy, ReadsOneBytePerChoiceModuloTheAlternatives) {
  FuzzStrategy f;
  const std::vector<std::uint8_t> bytes = {7, 2, 255};
  f.SetInput(bytes);
  f.NewExecution(0);
  std::vector<ThreadId> t = {0, 2, 5};
  EXPECT_EQ(f.Pick(ThreadChoice(t, 0)), 1u);   // 7 % 3
  EXPECT_EQ(f.Pick(ValueChoice(4)), 2u);       // 2 % 4
  EXPECT_EQ(f.Pick(ThreadChoice(t, 0)), 0u);   // 255 % 3
  EXPECT_EQ(f.bytes_consumed(), 3u);
  EXPECT_EQ(f.fallback_choices(), 0u);
}

TEST(FuzzStrategy, ContinueFallbackKeepsTheCurrentThreadElseTheFirst) {
  FuzzStrategy f(FuzzStrategy::Fallback::kContinue);
  f.SetInput({});
  f.NewExecution(0);
  std::vector<ThreadId> t = {1, 3, 4};
  EXPECT_EQ(f.Pick(ThreadChoice(t, 3)), 1u);          // current (T3) continues
  EXPECT_EQ(f.Pick(ThreadChoice(t, 4)), 2u);
  EXPECT_EQ(f.Pick(ThreadChoice(t, 3, false)), 0u);   // T3 blocked: the first alternative
  EXPECT_EQ(f.Pick(ThreadChoice(t, 7)), 0u);          // current filtered out (fairness): first
  EXPECT_EQ(f.Pick(ValueChoice(9)), 0u);
  EXPECT_EQ(f.fallback_choices(), 5u);
}

TEST(FuzzStrategy, WideChoicesReadTwoBytesAndAShortTailFallsBack) {
  FuzzStrategy f;
  const std::vector<std::uint8_t> bytes = {0x34, 0x12, 9};
  f.SetInput(bytes);
  f.NewExecution(0);
  EXPECT_EQ(f.Pick(ValueChoice(1000)), 0x1234u % 1000);
  EXPECT_EQ(f.Pick(ValueChoice(300)), 0u);   // one byte left, two needed: fallback
  EXPECT_EQ(f.Pick(ValueChoice(3)), 0u);     // the tail is not read later either
  EXPECT_EQ(f.fallback_choices(), 2u);
}

TEST(FuzzStrategy, SameInputSamePicksEveryExecution) {
  FuzzStrategy f(FuzzStrategy::Fallback::kRandom);
  const std::vector<std::uint8_t> bytes = {1, 2, 3};
  f.SetInput(bytes);
  std::vector<ThreadId> t = {0, 1, 2, 3};
  std::vector<std::size_t> first, second;
  f.NewExecution(11);
  for (int i = 0; i < 100; ++i) first.push_back(f.Pick(ThreadChoice(t, 0)));
  f.NewExecution(11);
  for (int i = 0; i < 100; ++i) second.push_back(f.Pick(ThreadChoice(t, 0)));
  EXPECT_EQ(first, second);
  EXPECT_EQ(f.fallback_choices(), 97u);
}

TEST(FuzzStrategy, RandomFallbackDependsOnTheInputAndCoversEveryAlternative) {
  std::vector<ThreadId> t = {0, 1, 2, 3};
  auto picks = [&](std::vector<std::uint8_t> bytes) {
    FuzzStrategy f(FuzzStrategy::Fallback::kRandom);
    f.SetInput(bytes);
    f.NewExecution(0);
    std::vector<std::size_t> out;
    for (int i = 0; i < 64; ++i) out.push_back(f.Pick(ThreadChoice(t, 0)));
    return out;
  };
  auto a = picks({1});
  auto b = picks({5});   // same first pick (1 % 4 == 5 % 4), different tail
  EXPECT_EQ(a[0], b[0]);
  EXPECT_NE(a, b);
  std::set<std::size_t> seen(a.begin(), a.end());
  EXPECT_EQ(seen.size(), 4u);
  for (std::size_t x : a) EXPECT_LT(x, 4u);
}

TEST(FuzzStrategy, PreemptionsEncodingContinuesThenSwitchesAtEachGap) {
  FuzzStrategy f(FuzzStrategy::Fallback::kContinue, FuzzStrategy::Encoding::kPreemptions);
  // Continue for 2 points then switch to the 1st thread after the current; then right away (gap 0)
  // to the 2nd after it; then continue forever (no more pairs; the odd byte is ignored).
  const std::vector<std::uint8_t> bytes = {2, 0, 0, 1, 9};
  f.SetInput(bytes);
  f.NewExecution(0);
  std::vector<ThreadId> t = {0, 1, 2};
  auto at = [&](std::size_t index, ThreadId current) {
    Choices c = ThreadChoice(t, current);
    c.index = index;
    return f.Pick(c);
  };
  EXPECT_EQ(at(0, 1), 1u);   // continue T1
  EXPECT_EQ(at(1, 1), 1u);
  EXPECT_EQ(at(2, 1), 2u);   // switch: the first after T1 is T2
  EXPECT_EQ(at(3, 2), 1u);   // gap 0: switch again, target 1 = the second after T2, cyclically: T1
  EXPECT_EQ(at(4, 1), 1u);   // input exhausted: continue
  EXPECT_EQ(at(5, 1), 1u);
  EXPECT_EQ(f.fallback_choices(), 2u);
}

TEST(FuzzStrategy, APreemptionIsAlwaysAnotherThreadWhenTheCurrentMayContinue) {
  std::vector<ThreadId> t = {0, 1};
  for (int target = 0; target < 256; ++target) {
    FuzzStrategy f(FuzzStrategy::Fallback::kContinue, FuzzStrategy::Encoding::kPreemptions);
    const std::vector<std::uint8_t> bytes = {0, static_cast<std::uint8_t>(target)};
    f.SetInput(bytes);
    f.NewExecution(0);
    EXPECT_EQ(f.Pick(ThreadChoice(t, 0)), 1u);
  }
  // The current thread is blocked: the target picks among the alternatives.
  FuzzStrategy f(FuzzStrategy::Fallback::kContinue, FuzzStrategy::Encoding::kPreemptions);
  const std::vector<std::uint8_t> bytes = {0, 3};
  f.SetInput(bytes);
  f.NewExecution(0);
  std::vector<ThreadId> three = {0, 1, 2};
  EXPECT_EQ(f.Pick(ThreadChoice(three, 1, false)), 0u);   // 3 % 3
}

TEST(FuzzStrategy, HashInputIsFnv1a) {
  EXPECT_EQ(HashInput({}), 0xcbf29ce484222325ull);
  const std::vector<std::uint8_t> a = {'a'};
  EXPECT_EQ(HashInput(a), 0xaf63dc4c8601ec8cull);
}

}  // namespace
}  // namespace lab
