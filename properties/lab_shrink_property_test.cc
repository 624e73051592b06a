// Properties of the schedule shrinker on a family of synthetic bugs with a known minimal
// schedule: "the choice at point p, taken modulo m alternatives, is r" for a few points.
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lab/report/shrink.h"

namespace lab {
namespace {

using Choices = std::vector<std::uint32_t>;

struct Constraint {
  std::size_t point = 0;
  std::uint32_t alternatives = 2;
  std::uint32_t pick = 0;
};

std::uint32_t At(const Choices& c, std::size_t i) { return i < c.size() ? c[i] : 0; }

bool Fails(const std::vector<Constraint>& bug, const Choices& c) {
  return std::all_of(bug.begin(), bug.end(), [&](const Constraint& k) {
    return At(c, k.point) % k.alternatives == k.pick;
  });
}

RC_GTEST_PROP(LabShrinkProperty, FindsTheKnownMinimumAndNeverGrows, ()) {
  const std::size_t length = *rc::gen::inRange<std::size_t>(1, 40);
  std::vector<Constraint> bug;
  const int n = *rc::gen::inRange(1, 4);
  for (int i = 0; i < n; ++i) {
    Constraint k;
    k.point = *rc::gen::inRange<std::size_t>(0, length);
    k.alternatives = *rc::gen::inRange<std::uint32_t>(2, 9);
    k.pick = *rc::gen::inRange<std::uint32_t>(0, k.alternatives);
    // One constraint per point keeps the minimum unique.
    if (std::none_of(bug.begin(), bug.end(), [&](const Constraint& o) { return o.point == k.point; })) {
      bug.push_back(k);
    }
  }
  Choices failing = *rc::gen::container<Choices>(length, rc::gen::inRange<std::uint32_t>(0, 100));
  for (const Constraint& k : bug) {
    failing[k.point] = failing[k.point] - failing[k.point] % k.alternatives + k.pick;
  }
  RC_PRE(Fails(bug, failing));

  ShrinkStats stats;
  int calls = 0;
  Choices shrunk = ShrinkChoices(
      failing,
      [&](const Choices& c) {
        ++calls;
        return Fails(bug, c);
      },
      5000, &stats);
  RC_ASSERT(calls == stats.attempts);
  RC_ASSERT(calls <= 5000);
  RC_ASSERT(shrunk.size() <= failing.size());
  RC_ASSERT(Fails(bug, shrunk));

  Choices minimal;
  for (const Constraint& k : bug) {
    if (k.pick == 0) continue;
    if (minimal.size() <= k.point) minimal.resize(k.point + 1, 0);
    minimal[k.point] = k.pick;
  }
  RC_ASSERT(shrunk == minimal);
}

RC_GTEST_PROP(LabShrinkProperty, RespectsAnyBudget, (const std::vector<std::uint32_t>& failing)) {
  const int budget = *rc::gen::inRange(0, 50);
  int calls = 0;
  Choices shrunk = ShrinkChoices(
      failing,
      [&](const Choices& c) {
        ++calls;
        return c.size() % 3 == failing.size() % 3;
      },
      budget);
  RC_ASSERT(calls <= budget);
  RC_ASSERT(shrunk.size() <= failing.size());
  RC_ASSERT(shrunk.size() % 3 == failing.size() % 3);
}

}  // namespace
}  // namespace lab
