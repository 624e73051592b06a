#include "lab/strategy/fuzz.h"

namespace lab {

void FuzzStrategy::SetInput(std::span<const std::uint8_t> bytes) {
  input_.assign(bytes.begin(), bytes.end());
  pos_ = 0;
}

void FuzzStrategy::NewExecution(std::uint64_t seed) {
  pos_ = 0;
  fallback_choices_ = 0;
  rng_ = Rng(Mix64(seed) ^ HashInput(input_));
  if (encoding_ == Encoding::kPreemptions) NextDirective(0);
}

void FuzzStrategy::NextDirective(std::size_t base) {
  has_directive_ = pos_ + 2 <= input_.size();
  if (!has_directive_) {
    pos_ = input_.size();
    return;
  }
  directive_at_ = base + (input_[pos_] & 0x0f);   // short hops; longer gaps chain pairs
  directive_target_ = input_[pos_ + 1];
  pos_ += 2;
}

std::size_t FuzzStrategy::Continue(const Choices& c) {
  if (c.kind == Choices::Kind::kThread && c.current_enabled) {
    for (std::size_t i = 0; i < c.threads.size(); ++i) {
      if (c.threads[i] == c.current) return i;
    }
  }
  return 0;
}

std::size_t FuzzStrategy::Pick(const Choices& c) {
  if (encoding_ == Encoding::kPreemptions) {
    if (!has_directive_) return PickWithoutInput(c);
    if (c.index < directive_at_) return Continue(c);
    std::size_t pick = directive_target_ % c.count;
    const std::size_t cur = Continue(c);
    if (c.kind == Choices::Kind::kThread && c.current_enabled && c.threads[cur] == c.current) {
      pick = (cur + 1 + directive_target_ % (c.count - 1)) % c.count;   // always another thread
    }
    NextDirective(c.index + 1);
    return pick;
  }
  const std::size_t width = c.count > 256 ? 2 : 1;
  if (pos_ + width > input_.size()) return PickWithoutInput(c);
  std::size_t v = input_[pos_];
  if (width == 2) v |= static_cast<std::size_t>(input_[pos_ + 1]) << 8;
  pos_ += width;
  return v % c.count;
}

std::size_t FuzzStrategy::PickWithoutInput(const Choices& c) {
  ++fallback_choices_;
  pos_ = input_.size();   // a 1-byte tail before a 2-byte choice is not read later either
  if (fallback_ == Fallback::kRandom) return rng_.Below(c.count);
  return Continue(c);
}

std::uint64_t HashInput(std::span<const std::uint8_t> bytes) {
  std::uint64_t h = 0xcbf29ce484222325ull;
  for (std::uint8_t b : bytes) h = (h ^ b) * 0x100000001b3ull;
  return h;
}

}  // namespace lab
