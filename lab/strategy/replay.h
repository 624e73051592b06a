// lab/strategy/replay.h: replays a recorded vector of choices (see strategy.h for the semantics:
// modulo when out of range, 0 past the end), so any vector is a valid schedule.
#pragma once

#include <cstdint>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

class ReplayStrategy final : public Strategy {
 public:
  explicit ReplayStrategy(std::vector<std::uint32_t> choices) : choices_(std::move(choices)) {}
  std::string_view Name() const override { return "replay"; }
  void NewExecution(std::uint64_t) override {}
  std::size_t Pick(const Choices& c) override {
    if (c.index >= choices_.size()) return 0;
    return choices_[c.index] % c.count;
  }

 private:
  std::vector<std::uint32_t> choices_;
};

}  // namespace lab
