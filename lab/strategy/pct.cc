#include "lab/strategy/pct.h"

#include <algorithm>

namespace lab {

void PctStrategy::NewExecution(std::uint64_t seed) {
  rng_ = Rng(seed);
  priority_.clear();
  change_points_.clear();
  for (int i = 0; i < depth_ - 1; ++i) change_points_.push_back(rng_.Below(k_));
  std::sort(change_points_.begin(), change_points_.end());
  next_change_ = 0;
  lowered_ = 0;
}

std::size_t PctStrategy::Pick(const Choices& c) {
  if (c.kind == Choices::Kind::kValue) return rng_.Below(c.count);
  // New threads get a random initial priority above every change-point priority (< depth_).
  for (ThreadId t : c.threads) {
    if (!priority_.contains(t)) priority_[t] = static_cast<std::uint64_t>(depth_) + (rng_.Next() >> 8);
  }
  // A change point: the thread that is running now drops below all initial priorities.
  while (next_change_ < change_points_.size() && change_points_[next_change_] <= c.index) {
    ++next_change_;
    if (c.current != kNoThread) priority_[c.current] = ++lowered_;
  }
  std::size_t best = 0;
  for (std::size_t i = 1; i < c.threads.size(); ++i) {
    if (priority_[c.threads[i]] > priority_[c.threads[best]]) best = i;
  }
  return best;
}

void PctStrategy::EndExecution(std::size_t choices_made) {
  k_ = std::max(learned_ ? k_ : std::size_t{1}, choices_made);
  learned_ = true;
}

}  // namespace lab
