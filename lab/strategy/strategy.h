// lab/strategy/strategy.h: the one narrow interface every exploration strategy implements.
//
// At every scheduling point with two or more alternatives the runtime asks the strategy to pick
// one. Alternatives are either the enabled threads (sorted by ThreadId) or the values 0..count-1
// of a lab::random(count) call. The runtime records the index picked; that vector of indices is
// the schedule (replay token), with these semantics, which the replay strategy and the shrinker
// rely on: choice i is the index into the sorted alternatives at choice point i; an index >= the
// number of alternatives is taken modulo it; past the end of the vector the choice is 0.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>

#include "lab/rt/ids.h"

namespace lab {

struct Choices {
  enum class Kind { kThread, kValue };
  Kind kind = Kind::kThread;
  std::size_t count = 0;                   // number of alternatives (>= 2)
  std::span<const ThreadId> threads;       // kThread: the enabled threads, ascending
  ThreadId current = kNoThread;            // the thread that reached the point (may be disabled)
  bool current_enabled = false;            // picking another thread is then a preemption
  std::size_t index = 0;                   // how many choices were made before this one
  StepIndex step = 0;                      // scheduling step of the execution
};

class Strategy {
 public:
  virtual ~Strategy() = default;
  virtual std::string_view Name() const = 0;
  // A new execution begins; all its randomness derives from `seed`.
  virtual void NewExecution(std::uint64_t seed) = 0;
  // Index in [0, choices.count).
  virtual std::size_t Pick(const Choices& choices) = 0;
  // The execution ended after `choices_made` choices (PCT learns the schedule length from it).
  virtual void EndExecution(std::size_t choices_made) { (void)choices_made; }
  // True when a systematic strategy has covered its whole space (DFS).
  virtual bool Exhausted() const { return false; }
};

// splitmix64: the seed mixer used everywhere in the lab (per-execution seeds, PRNG state).
inline std::uint64_t Mix64(std::uint64_t x) {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

// A small, fast, seedable PRNG (xoshiro-like via splitmix); deterministic across platforms.
class Rng {
 public:
  explicit Rng(std::uint64_t seed = 0) : state_(seed) {}
  std::uint64_t Next() { return Mix64(state_++); }
  // Uniform in [0, n), n > 0 (Lemire's multiply-shift; bias below 2^-64 * n is irrelevant here).
  std::uint64_t Below(std::uint64_t n) {
    return static_cast<std::uint64_t>((static_cast<unsigned __int128>(Next()) * n) >> 64);
  }

 private:
  std::uint64_t state_;
};

}  // namespace lab
