// lab/strategy/dfs.h: bounded-exhaustive depth-first search over schedules (stateless, as in
// CHESS/VeriSoft): each execution replays the current prefix and extends it with first
// alternatives; after it, the deepest point with an untried alternative is advanced. When no point
// is left the space is covered: Exhausted() becomes true and lab::Explore says so.
//
// Preemption bound (context bounding, Musuvathi & Qadeer PLDI 2007): with `max_preemptions` >= 0,
// switching away from a thread that could have continued counts as a preemption and schedules with
// more are not explored; -1 means unbounded (every interleaving of visible operations).
// Value choices (lab::random) are enumerated too.
#pragma once

#include <cstdint>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

class DfsStrategy final : public Strategy {
 public:
  explicit DfsStrategy(int max_preemptions = -1) : bound_(max_preemptions) {}
  std::string_view Name() const override { return "dfs"; }
  void NewExecution(std::uint64_t seed) override;
  std::size_t Pick(const Choices& c) override;
  void EndExecution(std::size_t choices_made) override;
  bool Exhausted() const override { return exhausted_; }

 private:
  struct Frame {
    std::vector<std::uint32_t> allowed;   // alternatives within the preemption bound, ascending
    std::size_t at = 0;                   // index into allowed being explored
    int preemptions_before = 0;
    ThreadId current = kNoThread;
    bool current_enabled = false;
    std::vector<ThreadId> threads;
  };
  int Cost(const Frame& f, std::size_t alternative) const;

  int bound_;
  std::vector<Frame> stack_;
  std::size_t depth_ = 0;       // choice index within the current execution
  int preemptions_ = 0;
  bool exhausted_ = false;
};

}  // namespace lab
