#include "lab/strategy/dfs.h"

namespace lab {

void DfsStrategy::NewExecution(std::uint64_t) {
  depth_ = 0;
  preemptions_ = 0;
}

int DfsStrategy::Cost(const Frame& f, std::size_t alternative) const {
  if (f.threads.empty() || !f.current_enabled) return 0;
  return f.threads[alternative] != f.current ? 1 : 0;
}

std::size_t DfsStrategy::Pick(const Choices& c) {
  if (depth_ < stack_.size()) {
    // Replaying the prefix: the program must present the same point again.
    Frame& f = stack_[depth_++];
    std::uint32_t alt = f.allowed[f.at];
    preemptions_ += Cost(f, alt);
    return alt < c.count ? alt : 0;
  }
  Frame f;
  f.preemptions_before = preemptions_;
  f.current = c.current;
  f.current_enabled = c.current_enabled;
  if (c.kind == Choices::Kind::kThread) f.threads.assign(c.threads.begin(), c.threads.end());
  for (std::uint32_t i = 0; i < c.count; ++i) {
    if (bound_ < 0 || preemptions_ + Cost(f, i) <= bound_) f.allowed.push_back(i);
  }
  if (f.allowed.empty()) f.allowed.push_back(0);  // cannot happen: staying is free
  std::uint32_t alt = f.allowed[0];
  preemptions_ += Cost(f, alt);
  stack_.push_back(std::move(f));
  ++depth_;
  return alt;
}

void DfsStrategy::EndExecution(std::size_t) {
  // Points beyond what this execution reached belong to a different program path: drop them.
  stack_.resize(depth_);
  while (!stack_.empty() && stack_.back().at + 1 >= stack_.back().allowed.size()) stack_.pop_back();
  if (stack_.empty()) {
    exhausted_ = true;
    return;
  }
  ++stack_.back().at;
}

}  // namespace lab
