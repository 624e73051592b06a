// lab/detect/deadlock.h: diagnosis when no controlled thread can run.
//
// The runtime hands over a wait-for snapshot: every unfinished thread, what it waits for, which
// threads could unblock it (the holders of the lock, the thread it joins) and what it holds. The
// analysis names, in order of precedence:
//   deadlock     a cycle in the wait-for graph: each thread, the object it waits on, the thread
//                holding it, the locks it holds and where it took them;
//   lost-wakeup  no cycle, but a thread waits forever on a condition variable that was notified
//                earlier when nobody was waiting (the notification was lost);
//   deadlock     otherwise (nobody is left who could wake the blocked threads), naming the
//                object each waits on and its last notify/post.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "lab/rt/finding.h"
#include "lab/rt/ids.h"

namespace lab::detect {

struct WaitNode {
  ThreadId thread = kNoThread;
  std::string thread_name;
  std::string waits_for;              // "lock", "wait on", "join", "acquire"
  std::string object_name;            // what it waits on
  std::string where;                  // file:line of the blocking operation
  StepIndex since = 0;                // step of the blocking operation
  std::vector<ThreadId> blockers;     // threads that hold what it waits for
  struct Held { std::string name; std::string where; StepIndex step = 0; };
  std::vector<Held> holds;
  bool on_condvar = false;            // condvar (lost-wakeup candidates)
  std::optional<StepIndex> lost_signal_step;   // a notify that found no waiter
  std::string lost_signal_where;
  std::optional<StepIndex> last_signal_step;   // the last notify/post on the object
  std::string last_signal_where;
};

rt::Finding AnalyzeDeadlock(const std::vector<WaitNode>& nodes);

}  // namespace lab::detect
