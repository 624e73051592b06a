// lab/schedfuzz/planted_programs.h: the lab's planted concurrency bugs and their correct twins,
// the one copy shared by lab/pct_test.cc (depth-2 order violation), lab/explore_test.cc (AB-BA
// deadlock, lost wakeup), the schedule fuzz targets (fuzz/) and the PCT baseline they are
// compared with, so the figures of each compare with the others.
#pragma once

#include <optional>
#include <span>
#include <string_view>

namespace lab::schedfuzz {

enum class Planted {
  kOrderViolation,   // depth 2: T2 must run its 12 work steps inside T1's two-store window
  kAbBa,             // two mutexes taken in opposite orders
  kLostWakeup,       // cv.wait without a predicate: a notify sent before the wait is lost
};

struct PlantedInfo {
  Planted bug;
  std::string_view name;   // "order_violation", "abba", "lost_wakeup"
  std::string_view kind;   // the finding the buggy program must produce
};

std::span<const PlantedInfo> AllPlanted();
std::optional<PlantedInfo> FindPlanted(std::string_view name);

// The programs, each run once under the lab (a body for lab::Explore or a ScheduleFuzzer).
// Depth-2 order violation: T1 publishes a half-initialised state (flag = 1) and completes it one
// step later; T2 runs kOrderViolationWork steps, then must not see the half state. `fixed` holds
// a mutex over T1's two stores.
inline constexpr int kOrderViolationWork = 12;
void OrderViolation(bool fixed);
// Two threads take mutexes A and B in opposite orders, or (`ordered`) in the same order.
void AbBa(bool ordered);
// A waiter waits on a condition variable without a predicate, so a notify sent before the wait
// is lost; `with_state` waits for a `ready` flag instead.
void Handoff(bool with_state);

// Runs the program once under the lab (a body for lab::Explore or a ScheduleFuzzer); `fixed`
// selects the correct twin, on which no schedule finds anything.
void RunPlanted(Planted bug, bool fixed);

}  // namespace lab::schedfuzz
