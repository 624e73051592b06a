// lab/strategy/pct.h: Probabilistic Concurrency Testing (Burckhardt, Kothari, Musuvathi,
// Nagarakatte, ASPLOS 2010).
//
// Each thread gets a random distinct priority (d, d+1, ... upward, on first sight); d-1 change
// points are drawn uniformly among the k choice points of an execution. At every point the
// highest-priority enabled thread runs; when the i-th change point is reached the running thread's
// priority drops to i (below every initial priority). For a program with n threads and k steps,
// one execution finds any bug of depth d (d ordering constraints) with probability at least
// 1/(n * k^(d-1)). k is learned: the longest execution seen so far (initially 64).
// Value choices (lab::random) are uniform.
//
// `memory`: where the strategy's containers allocate. ipclab explore's interposition library puts
// the strategy and this memory in the scheduler segment its process tree shares, so priorities
// and change points are global to every thread of every process.
#pragma once

#include <cstdint>
#include <memory_resource>
#include <unordered_map>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

class PctStrategy final : public Strategy {
 public:
  explicit PctStrategy(int depth = 3, std::pmr::memory_resource* memory = std::pmr::get_default_resource())
      : depth_(depth < 1 ? 1 : depth), change_points_(memory), priority_(memory) {}
  std::string_view Name() const override { return "pct"; }
  void NewExecution(std::uint64_t seed) override;
  std::size_t Pick(const Choices& c) override;
  void EndExecution(std::size_t choices_made) override;
  int depth() const { return depth_; }

 private:
  int depth_;
  std::size_t k_ = 64;
  bool learned_ = false;
  Rng rng_;
  std::pmr::vector<std::size_t> change_points_;   // sorted choice indices
  std::size_t next_change_ = 0;
  std::pmr::unordered_map<ThreadId, std::uint64_t> priority_;
  std::uint64_t lowered_ = 0;                // priorities 1..d-1 given at change points
};

}  // namespace lab
