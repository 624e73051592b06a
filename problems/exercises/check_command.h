// problems/exercises/check_command.h: `ipclab check EXERCISE FILE.cc` grades a student's solution.
//
//   ipclab check lost_update my_counter.cc [--seed N] [--replay TOKEN] [--explain] [--json]
//                [--html PAGE.html]
//   ipclab check --list
//
// Compiles FILE.cc with clang++-19 (-std=c++23, the repository's headers, the flags the kit was
// built with) and links it with the grading kit (//problems/exercises:kit: the exercise harnesses,
// the lab, a main), then runs it: PCT, then DFS bounded by preemptions, under the exercise's
// budget (printed), time adversarial. Passes (exit 0; prints the strategies, schedules and
// preemption bound explored) or prints the first bug as the lab's report with its replay command
// (exit 1). --html writes the grade as one self-contained page (lab/report/html.h): the report of
// the first bug (swimlanes, wait-for graph or racing accesses, source lines, replay command), or
// what was explored when it passed. Exit 2: usage error, a file that does not compile (the compiler's errors are shown) or
// does not define the exercise's entry point, or no compiler/kit found (one line).
//
// The kit is found in this binary's runfiles (or $IPCLAB_EXERCISE_KIT, the directory holding
// problems/exercises/kit.flags); the compiler is $IPCLAB_CXX or clang++-19.
#pragma once

#include <functional>
#include <iosfwd>
#include <string>

#include <CLI/CLI.hpp>

namespace exercises {

struct CheckOptions {
  std::string exercise;
  std::string file;
  std::uint64_t seed = 1;
  std::string replay;
  bool explain = false;
  bool json = false;
  bool list = false;
  std::string html;               // write the grade as one HTML page here
  double timeout_seconds = 300;   // the graded program, real time (a solution that spins)
};

// Runs the check; the graded program's report goes to stdout, errors to `err`.
int RunCheck(const CheckOptions& options, std::ostream& out, std::ostream& err);

std::function<int()> SetupCheckCommand(CLI::App& sub);

}  // namespace exercises
