// lab/strategy/random.h: uniform random choice at every point (a random walk over schedules).
#pragma once

#include "lab/strategy/strategy.h"

namespace lab {

class RandomStrategy final : public Strategy {
 public:
  std::string_view Name() const override { return "random"; }
  void NewExecution(std::uint64_t seed) override { rng_ = Rng(seed); }
  std::size_t Pick(const Choices& c) override { return rng_.Below(c.count); }

 private:
  Rng rng_;
};

}  // namespace lab
