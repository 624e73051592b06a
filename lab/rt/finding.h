// lab/rt/finding.h: what a detector found in one execution, before it becomes a lab::Report.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lab/rt/ids.h"

namespace lab::rt {

struct Finding {
  std::string kind;                 // the vocabulary of design.md: deadlock, data-race, ...
  std::string summary;              // one line
  std::vector<StepIndex> steps;     // the steps that matter, ascending
  std::vector<std::string> details; // teaching lines (the wait-for cycle, both accesses, ...)
  std::vector<std::pair<StepIndex, StepIndex>> flows;  // arrows for the trace (race pair, edges)
  bool fatal = true;                // ends the execution (lock-order inversions do not)
};

}  // namespace lab::rt
