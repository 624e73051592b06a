// problems/exercises/exercise.h: the exercises `ipclab check` grades, and how a solution is graded.
//
// An exercise is one small concurrent object the student implements against the `lab::` facade
// (lab/sync/sync.h): its interface and the factory the student defines are declared in
// problems/exercises/<name>.h; the harness (problems/exercises/<name>.cc) builds the student's
// object, runs threads against it and states the invariant with LAB_ASSERT. The harness is
// compiled into the grading kit, not into the student's file, so a student cannot "fix" a bug by
// editing the check. The texts, starters (the buggy variants) and reference solutions live in
// docs/exercises/<name>/.
//
//   const exercises::Exercise* e = exercises::Find("lost_update");
//   exercises::Grade g = exercises::GradeSolution(*e);    // PCT, then bounded DFS
//   if (!g.passed()) std::cout << lab::RenderText(*g.report());
//
// Grading is deterministic (fixed seeds) and time is adversarial: under grading a sleep or a
// timeout ends after the next step of any thread (Options::tick_ns is an hour), so a "fix" that
// only works when a sleep is long enough fails every time, as it would on a loaded machine.
#pragma once

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "lab/explore.h"

namespace exercises {

// How much exploring a solution must survive. Both phases run (PCT first); the first finding
// fails the solution.
struct Budget {
  int pct_iterations = 400;    // PCT schedules
  int pct_depth = 3;           // PCT bug depth (priority change points + 1)
  int dfs_preemptions = 2;     // DFS explores every schedule with at most this many preemptions
  int dfs_iterations = 4000;   // ... or this many of them, whichever comes first
};

struct Exercise {
  std::string name;            // "lost_update": the folder docs/exercises/<name>/
  std::string title;           // one line: what the student builds
  std::string teaches;         // what it teaches
  std::string kind;            // how the starter's bug is reported (a finding kind)
  std::vector<std::string> also_accepted = {};  // other kinds the starter's bug may show up as
  std::string entry_point;     // what the student's file must define, for error messages
  Budget budget = {};
  void (*harness)() = nullptr;       // one run: builds the student's object, runs, asserts
  bool (*implemented)() = nullptr;   // the student's file defines the entry point

  bool Accepts(std::string_view verdict) const;
};

// Every exercise, in teaching order.
std::span<const Exercise> All();
// The exercise named exactly `name`, or nullptr.
const Exercise* Find(std::string_view name);

// The result of grading: the phases that ran, each with its exploration result.
struct Phase {
  std::string label;           // "pct, depth 3" or "dfs, at most 2 preemptions"
  lab::ExploreResult result;
};
struct Grade {
  std::vector<Phase> phases;
  bool passed() const;
  // The first finding (of the last phase that ran), or nullptr when passed.
  const lab::Report* report() const;
  std::uint64_t schedules() const;
};

// The lab options of one grading phase (0: pct, 1: dfs). `seed` shifts the PCT seeds.
lab::Options PhaseOptions(const Exercise& e, int phase, std::uint64_t seed = 1);
// Runs PCT, then (if clean) bounded DFS, stopping at the first finding.
Grade GradeSolution(const Exercise& e, std::uint64_t seed = 1);
// Replays one schedule printed by a failing grade.
lab::ExploreResult ReplaySolution(const Exercise& e, std::string_view token);
// One line describing the budget: "pct depth 3 × 400 schedules, then dfs ...".
std::string BudgetText(const Exercise& e);

}  // namespace exercises
