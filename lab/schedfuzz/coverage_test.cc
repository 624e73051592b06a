#include "lab/schedfuzz/coverage.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <source_location>
#include <vector>

namespace lab::schedfuzz {
namespace {

rt::Event Ev(ThreadId thread, rt::Op op, ObjectId object = kNoObject, std::int64_t value = 0,
             std::source_location loc = std::source_location::current()) {
  rt::Event e;
  e.thread = thread;
  e.op = op;
  e.object = object;
  e.value = value;
  e.loc = loc;
  return e;
}

TEST(InterleavingCoverage, OneThreadAloneHasNoSwitchFeatures) {
  std::vector<rt::Event> log = {Ev(0, rt::Op::kBegin), Ev(0, rt::Op::kStore, 3), Ev(0, rt::Op::kLoad, 3)};
  EXPECT_TRUE(InterleavingFeatures(log).empty());
}

TEST(InterleavingCoverage, ASwitchIsOneFeatureAndItsOrderMatters) {
  const rt::Event a = Ev(1, rt::Op::kStore, 3), b = Ev(2, rt::Op::kLoad, 3);
  std::vector<rt::Event> ab = {a, b}, ba = {b, a}, abab = {a, b, a, b};
  ASSERT_EQ(InterleavingFeatures(ab).size(), 1u);
  ASSERT_EQ(InterleavingFeatures(ba).size(), 1u);
  EXPECT_NE(InterleavingFeatures(ab)[0], InterleavingFeatures(ba)[0]);
  // a,b,a,b: switches ab, ba, ab, the first and last are the same feature.
  auto f = InterleavingFeatures(abab);
  ASSERT_EQ(f.size(), 3u);
  EXPECT_EQ(f[0], f[2]);
  EXPECT_EQ(f[0], InterleavingFeatures(ab)[0]);
  EXPECT_EQ(f[1], InterleavingFeatures(ba)[0]);
}

TEST(InterleavingCoverage, TheSameOpOnAnotherObjectOrLineIsAnotherFeature) {
  const rt::Event a = Ev(1, rt::Op::kStore, 3), b = Ev(2, rt::Op::kLoad, 3);
  const rt::Event b_other_object = Ev(2, rt::Op::kLoad, 4);
  const rt::Event b_other_line = Ev(2, rt::Op::kLoad, 3);   // a different line of this file
  std::vector<rt::Event> x = {a, b}, y = {a, b_other_object}, z = {a, b_other_line};
  EXPECT_NE(InterleavingFeatures(x), InterleavingFeatures(y));
  EXPECT_NE(InterleavingFeatures(x), InterleavingFeatures(z));
}

TEST(InterleavingCoverage, AcquisitionOrdersPerObject) {
  // T1 then T2 take lock 5, vs T2 then T1: the switch features and the order features differ.
  const rt::Event l1 = Ev(1, rt::Op::kLock, 5, 1), u1 = Ev(1, rt::Op::kUnlock, 5);
  const rt::Event l2 = Ev(2, rt::Op::kLock, 5, 1), u2 = Ev(2, rt::Op::kUnlock, 5);
  std::vector<rt::Event> first = {l1, u1, l2, u2}, second = {l2, u2, l1, u1};
  auto f = InterleavingFeatures(first), s = InterleavingFeatures(second);
  ASSERT_EQ(f.size(), 3u);   // acquisition by T1, switch, acquisition by T2 after T1
  ASSERT_EQ(s.size(), 3u);
  std::sort(f.begin(), f.end());
  std::sort(s.begin(), s.end());
  std::vector<std::uint64_t> common;
  std::set_intersection(f.begin(), f.end(), s.begin(), s.end(), std::back_inserter(common));
  EXPECT_TRUE(common.empty());
  // A failed try_lock acquired nothing.
  std::vector<rt::Event> failed_try = {Ev(1, rt::Op::kTryLock, 5, 0)};
  EXPECT_TRUE(InterleavingFeatures(failed_try).empty());
  std::vector<rt::Event> sem = {Ev(1, rt::Op::kSemAcquire, 6, 1)};
  EXPECT_EQ(InterleavingFeatures(sem).size(), 1u);
}

TEST(InterleavingCoverage, CountersSaturateAndStayInRange) {
  const rt::Event a = Ev(1, rt::Op::kStore, 3), b = Ev(2, rt::Op::kLoad, 3);
  std::vector<rt::Event> log;
  for (int i = 0; i < 1200; ++i) log.push_back(i % 2 ? b : a);
  std::array<std::uint8_t, 7> counters{};
  AddInterleavingCoverage(log, counters);
  int total = 0, saturated = 0;
  for (auto c : counters) {
    total += c;
    saturated += c == 255;
  }
  EXPECT_GE(saturated, 1);   // 600 ab switches and 599 ba ones, in at most two slots
  EXPECT_LE(total, 2 * 255);
  AddInterleavingCoverage(log, std::span<std::uint8_t>());   // no counters: nothing to do
}

}  // namespace
}  // namespace lab::schedfuzz
