// lab/schedfuzz/planted_programs.h: the lab's planted concurrency bugs and their correct twins,
// shared by the schedule fuzz targets (fuzz/), the PCT baseline they are compared with and tests.
//
// They are the programs of lab/pct_test.cc (depth-2 order violation) and lab/explore_test.cc
// (AB-BA deadlock, lost wakeup), unchanged, so the figures here compare with those tests.
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

// Runs the program once under the lab (a body for lab::Explore or a ScheduleFuzzer); `fixed`
// selects the correct twin, on which no schedule finds anything.
void RunPlanted(Planted bug, bool fixed);

}  // namespace lab::schedfuzz
