#include "lab/strategy/dfs.h"

#include <algorithm>

namespace lab {

void DfsTree::Begin() {
  depth_ = 0;
  preemptions_ = 0;
}

std::size_t DfsTree::Next(const DfsPoint& p, std::optional<std::size_t> preferred) {
  if (depth_ < stack_.size()) {
    // Replaying the prefix: the program must present the same point again.
    const Frame& f = stack_[depth_++];
    const std::size_t alt = p.count > 0 ? f.allowed[f.at] % p.count : 0;
    preemptions_ += Cost(f.current, alt);
    return alt;
  }
  Frame f;
  f.current = p.current;
  for (std::uint32_t i = 0; i < p.count; ++i) {
    if (bound_ < 0 || preemptions_ + Cost(p.current, i) <= bound_) f.allowed.push_back(i);
  }
  if (f.allowed.empty()) f.allowed.push_back(0);  // cannot happen: staying is free
  if (preferred.has_value()) {
    // The preferred alternative first (when allowed), the others in ascending order after it.
    auto it = std::find(f.allowed.begin(), f.allowed.end(), static_cast<std::uint32_t>(*preferred));
    if (it != f.allowed.end()) std::rotate(f.allowed.begin(), it, it + 1);
  }
  const std::uint32_t alt = f.allowed[0];
  preemptions_ += Cost(f.current, alt);
  stack_.push_back(std::move(f));
  ++depth_;
  return alt;
}

void DfsTree::End() {
  stack_.resize(std::min(stack_.size(), depth_));
  while (!stack_.empty() && stack_.back().at + 1 >= stack_.back().allowed.size()) stack_.pop_back();
  if (stack_.empty()) {
    exhausted_ = true;
    return;
  }
  ++stack_.back().at;
}

std::vector<std::uint32_t> DfsTree::Prefix() const {
  std::vector<std::uint32_t> prefix;
  prefix.reserve(stack_.size());
  for (const Frame& f : stack_) prefix.push_back(f.allowed[f.at]);
  return prefix;
}

DfsPoint DfsStrategy::PointOf(const Choices& c) {
  DfsPoint p;
  p.count = c.count;
  if (c.kind == Choices::Kind::kThread && c.current_enabled) {
    for (std::size_t i = 0; i < c.threads.size(); ++i) {
      if (c.threads[i] == c.current) p.current = i;
    }
  }
  return p;
}

}  // namespace lab
