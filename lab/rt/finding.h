// lab/rt/finding.h: what a detector found in one execution, before it becomes a lab::Report.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include "lab/rt/ids.h"

namespace lab::rt {

// One blocked thread of a wait-for snapshot, structured for drawing (deadlock, lost wakeup).
struct WaitFor {
  std::string thread;                 // the waiter
  std::string verb;                   // "lock", "wait on", "join", "acquire"
  std::string object;                 // what it waits for
  std::string where;                  // file:line of the blocking operation
  StepIndex step = 0;                 // of the blocking operation
  std::vector<std::string> held_by;   // threads that hold it (that could unblock the waiter)
  struct Held {
    std::string object;
    std::string where;
    StepIndex step = 0;
  };
  std::vector<Held> holds;            // what the waiter holds, where and when it took it
  bool in_cycle = false;              // part of the wait-for cycle
  long long lost_signal_step = -1;    // a notify on `object` that found no waiter, or -1
  std::string lost_signal_where;
};

struct Finding {
  std::string kind;                 // the vocabulary of design.md: deadlock, data-race, ...
  std::string summary;              // one line
  std::vector<StepIndex> steps;     // the steps that matter, ascending
  std::vector<std::string> details; // teaching lines (the wait-for cycle, both accesses, ...)
  std::vector<std::pair<StepIndex, StepIndex>> flows;  // arrows for the trace (race pair, edges)
  std::vector<WaitFor> wait_for;     // deadlock / lost-wakeup: every blocked thread
  std::string starved;               // starvation: the thread that starves
  bool fatal = true;                // ends the execution (lock-order inversions do not)
};

}  // namespace lab::rt
