// lab/strategy/replay.h: replays a recorded vector of choices (see strategy.h for the semantics:
// modulo when out of range, 0 past the end), so any vector is a valid schedule.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

// `keep_current`: past the end, the thread that reached the point when it is enabled (else 0):
// the default with which a DFS extends its prefix without a preemption (ipclab explore's dfs runs).
class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<std::uint32_t> choices, bool keep_current = false)
      : choices_(std::move(choices)), keep_current_(keep_current) {}
  std::string_view Name() const override { return "replay"; }
  void NewExecution(std::uint64_t) override {}
  std::size_t Pick(const Choices& c) override {
    consumed_ = std::max(consumed_, c.index + 1);
    if (c.index >= choices_.size()) return keep_current_ ? CurrentOrFirst(c) : 0;
    if (choices_[c.index] >= c.count && first_out_of_range_ == kNone) first_out_of_range_ = c.index;
    return choices_[c.index] % c.count;
  }

  // Signs that the program is not the one the schedule was recorded from (only meaningful for a
  // schedule that came from a real execution, not one the shrinker made up).
  static constexpr std::size_t kNone = ~std::size_t{0};
  std::size_t first_out_of_range() const { return first_out_of_range_; }  // kNone if none
  std::size_t consumed() const { return consumed_; }
  std::size_t size() const { return choices_.size(); }

 private:
  static std::size_t CurrentOrFirst(const Choices& c) {
    if (c.kind != Choices::Kind::kThread || !c.current_enabled) return 0;
    auto it = std::find(c.threads.begin(), c.threads.end(), c.current);
    return it != c.threads.end() ? static_cast<std::size_t>(it - c.threads.begin()) : 0;
  }

  std::vector<std::uint32_t> choices_;
  bool keep_current_ = false;
  std::size_t first_out_of_range_ = kNone;
  std::size_t consumed_ = 0;
};

}  // namespace lab
