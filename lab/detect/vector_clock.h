// lab/detect/vector_clock.h: vector clocks and epochs for happens-before analysis.
//
// A `VectorClock` maps each controlled thread to the number of release-like events
// ("ticks") of that thread that are known to have happened before the owner's present.
// An `Epoch` (thread, clock) is FastTrack's compact stand-in for a clock that only one
// thread's entry matters for: epoch e happened before clock V iff e.clock <= V[e.thread].
// Threads are the dense ids of lab/rt/ids.h, so the clock is a plain vector that grows on
// demand; missing entries are 0.
#pragma once

#include <algorithm>
#include <cstdint>
#include <vector>

#include "lab/rt/ids.h"

namespace lab {

using Clock = std::uint32_t;

struct Epoch {
  ThreadId thread = kNoThread;
  Clock clock = 0;

  bool valid() const { return thread != kNoThread; }
  friend bool operator==(const Epoch&, const Epoch&) = default;
};

class VectorClock {
 public:
  VectorClock() = default;

  Clock Get(ThreadId t) const { return t < clocks_.size() ? clocks_[t] : 0; }

  void Set(ThreadId t, Clock c) {
    Grow(t);
    clocks_[t] = c;
  }

  // Advances `t`'s own component (after a release-like event of `t`).
  void Tick(ThreadId t) {
    Grow(t);
    ++clocks_[t];
  }

  // Pointwise maximum: afterwards everything `other` knows, this knows too.
  void Join(const VectorClock& other) {
    if (other.clocks_.size() > clocks_.size()) clocks_.resize(other.clocks_.size(), 0);
    for (std::size_t i = 0; i < other.clocks_.size(); ++i) {
      clocks_[i] = std::max(clocks_[i], other.clocks_[i]);
    }
  }

  // True iff the epoch happened before (or is) this clock's present.
  bool Covers(Epoch e) const { return !e.valid() || e.clock <= Get(e.thread); }

  // True iff every component of `other` is <= this one's (other happened before this).
  bool Covers(const VectorClock& other) const {
    for (std::size_t i = 0; i < other.clocks_.size(); ++i) {
      if (other.clocks_[i] > Get(static_cast<ThreadId>(i))) return false;
    }
    return true;
  }

  Epoch EpochOf(ThreadId t) const { return Epoch{t, Get(t)}; }

  std::size_t size() const { return clocks_.size(); }
  void Clear() { clocks_.clear(); }

  friend bool operator==(const VectorClock& a, const VectorClock& b) {
    std::size_t n = std::max(a.clocks_.size(), b.clocks_.size());
    for (std::size_t i = 0; i < n; ++i) {
      if (a.Get(static_cast<ThreadId>(i)) != b.Get(static_cast<ThreadId>(i))) return false;
    }
    return true;
  }

 private:
  void Grow(ThreadId t) {
    if (t >= clocks_.size()) clocks_.resize(static_cast<std::size_t>(t) + 1, 0);
  }

  std::vector<Clock> clocks_;
};

}  // namespace lab
