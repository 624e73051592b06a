// One file of docs/exercises/ graded as `ipclab check` grades it, linked with the harness (the
// BUILD makes one test per exercise and file; IPCLAB_EXERCISE names the exercise and
// IPCLAB_EXERCISE_VARIANT the file: starter, sleep_fix or solution).
//   starter:   fails, with the exercise's kind of bug; the failure replays from its token
//   sleep_fix: fails too, under every seed tried: a sleep only makes the bug rarer on real
//              machines, and grading time is adversarial, so it fails deterministically
//   solution:  passes the whole budget (both phases)
#include <cstdlib>
#include <iostream>
#include <string>

#include <gtest/gtest.h>

#include "lab/report/report.h"
#include "problems/exercises/exercise.h"

namespace exercises {
namespace {

std::string Env(const char* name) {
  const char* v = std::getenv(name);
  return v != nullptr ? v : "";
}

std::string Describe(const Grade& g) {
  const lab::Report* r = g.report();
  return r != nullptr ? lab::RenderText(*r, false) : std::string("clean");
}

TEST(ExerciseVariant, GradesAsExpected) {
  const std::string name = Env("IPCLAB_EXERCISE");
  const std::string variant = Env("IPCLAB_EXERCISE_VARIANT");
  const Exercise* e = Find(name);
  ASSERT_NE(e, nullptr) << "no exercise '" << name << "'";
  ASSERT_TRUE(e->implemented()) << "the file does not define " << e->entry_point;

  const Grade g = GradeSolution(*e);
  if (variant == "solution") {
    EXPECT_TRUE(g.passed()) << Describe(g);
    ASSERT_EQ(g.phases.size(), 2u);   // both phases ran
    EXPECT_EQ(g.phases[0].result.executions,
              static_cast<std::uint64_t>(e->budget.pct_iterations));
    std::cout << name << ": " << g.schedules() << " schedules, dfs "
              << (g.phases[1].result.exhausted ? "covered its bound" : "stopped at its budget")
              << "\n";
    return;
  }
  ASSERT_FALSE(g.passed()) << name << "/" << variant << " passed; it must fail";
  const lab::Report& report = *g.report();
  std::cout << name << "/" << variant << ": " << report.kind << ": " << report.summary << "\n";
  EXPECT_TRUE(e->Accepts(report.kind)) << "found " << report.kind << ", want " << e->kind << "\n"
                                       << Describe(g);

  // Deterministic: the same grade again gives the same finding and schedule.
  const Grade again = GradeSolution(*e);
  ASSERT_FALSE(again.passed());
  EXPECT_EQ(again.report()->kind, report.kind);
  EXPECT_EQ(again.report()->token, report.token);

  // The token replays the bug.
  const lab::ExploreResult replayed = ReplaySolution(*e, report.token);
  ASSERT_FALSE(replayed.clean()) << "token " << report.token << " did not replay";
  EXPECT_EQ(replayed.findings[0].kind, report.kind);

  if (variant == "sleep_fix") {
    // Not a lucky seed: the sleeps never help, whatever the seed.
    for (std::uint64_t seed : {2u, 3u, 4u}) {
      const Grade other = GradeSolution(*e, seed);
      EXPECT_FALSE(other.passed()) << "the sleep-based fix passed with seed " << seed;
    }
  }
}

}  // namespace
}  // namespace exercises
