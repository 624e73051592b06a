// lab/strategy/dfs.h: bounded-exhaustive depth-first search over schedules (stateless, as in
// CHESS/VeriSoft): each execution replays the current prefix and extends it with a default
// alternative; after it, the deepest point with an untried alternative is advanced. When no point
// is left the space is covered: Exhausted() becomes true and lab::Explore says so.
//
// Preemption bound (context bounding, Musuvathi & Qadeer PLDI 2007): with `max_preemptions` >= 0,
// switching away from a thread that could have continued counts as a preemption and schedules with
// more are not explored; -1 means unbounded (every interleaving of visible operations).
// Value choices (lab::random) are enumerated too (they cost no preemption).
//
// The search itself (DfsTree) does not need to run in the process that executes the schedule:
// `ipclab explore --strategy dfs` keeps the tree in the driver and runs each schedule as a fresh
// process tree that follows Prefix() and reports every choice point back (lab/interpose).
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

// One choice point as the search sees it: `count` alternatives; `current` the index of the thread
// that reached the point when it is enabled (picking another one is then a preemption), none for
// a value choice or a blocked/ending thread.
struct DfsPoint {
  std::size_t count = 0;
  std::optional<std::size_t> current;
};

class DfsTree {
 public:
  explicit DfsTree(int max_preemptions = -1) : bound_(max_preemptions) {}

  // A new execution begins at the root.
  void Begin();
  // The execution reached its next choice point `p`. Inside the prefix: the prefix's alternative
  // (taken modulo p.count). Beyond it: a new point whose first alternative is `preferred` when it
  // is within the bound (else the lowest one that is); its other alternatives within the bound
  // are explored later, in ascending order.
  std::size_t Next(const DfsPoint& p, std::optional<std::size_t> preferred = std::nullopt);
  // The execution ended: the deepest point with an untried alternative advances; points beyond
  // what this execution reached are dropped (a different program path).
  void End();
  bool Exhausted() const { return exhausted_; }

  // The alternatives the next execution must take at its first Prefix().size() points.
  std::vector<std::uint32_t> Prefix() const;
  // Preemptions of the execution so far (between Begin and End).
  int preemptions() const { return preemptions_; }
  int bound() const { return bound_; }

 private:
  struct Frame {
    std::vector<std::uint32_t> allowed;   // alternatives within the bound, the first one taken first
    std::size_t at = 0;                   // index into allowed being explored
    std::optional<std::size_t> current;
  };
  static int Cost(const std::optional<std::size_t>& current, std::size_t alternative) {
    return current.has_value() && *current != alternative ? 1 : 0;
  }

  int bound_;
  std::vector<Frame> stack_;
  std::size_t depth_ = 0;       // choice index within the current execution
  int preemptions_ = 0;
  bool exhausted_ = false;
};

class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(int max_preemptions = -1) : tree_(max_preemptions) {}
  std::string_view Name() const override { return "dfs"; }
  void NewExecution(std::uint64_t) override { tree_.Begin(); }
  std::size_t Pick(const Choices& c) override { return tree_.Next(PointOf(c)); }
  void EndExecution(std::size_t) override { tree_.End(); }
  bool Exhausted() const override { return tree_.Exhausted(); }

  // The DfsPoint of a runtime choice (the current thread's index when it is enabled).
  static DfsPoint PointOf(const Choices& c);

 private:
  DfsTree tree_;
};

}  // namespace lab
