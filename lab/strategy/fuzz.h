// lab/strategy/fuzz.h: scheduling choices read from a byte buffer (schedule fuzzing).
//
// The fuzzer's input is the schedule, in one of two encodings:
//   kChoices      at choice point i the strategy reads the next byte (two, little-endian, when
//                 there are more than 256 alternatives) and picks that value modulo the number of
//                 alternatives, so every byte string is a valid schedule and libFuzzer's mutations
//                 (flip, insert, erase, splice) become "choose differently here", "add a decision",
//                 "drop a decision".
//   kPreemptions  the input is a list of byte pairs (gap, target): let the running thread continue
//                 for `gap` choice points, then at the next one switch to another thread (the
//                 `target % (count - 1)`-th after the running one, cyclically; when the running
//                 thread cannot continue, or for a value choice, alternative `target % count`);
//                 then the next pair. A schedule with p preemptions is 2p bytes wherever they fall
//                 (as in context bounding, CHESS), so small inputs reach deep into an execution.
// When the bytes run out the choice falls back deterministically:
//   kContinue  keep running the thread that reached the point if it may continue, else the first
//              (lowest-id) alternative; value choices take 0. Short inputs then mean few
//              preemptions, and each extra byte buys one more decision.
//   kRandom    a PRNG seeded from the execution seed and the whole input (the driver passes a
//              hash of the bytes), so a short input names a whole random schedule.
// The execution records the indices actually picked: that vector is an ordinary replay token
// (lab/report/token.h), independent of the fallback, so a schedule found by fuzzing replays with
// LAB_REPLAY like any other.
//
// Usable without libFuzzer: SetInput() takes bytes from anywhere (a file, a test).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string_view>
#include <vector>

#include "lab/strategy/strategy.h"

namespace lab {

class FuzzStrategy final : public Strategy {
 public:
  enum class Fallback { kContinue, kRandom };
  enum class Encoding { kChoices, kPreemptions };

  explicit FuzzStrategy(Fallback fallback = Fallback::kContinue, Encoding encoding = Encoding::kChoices)
      : fallback_(fallback), encoding_(encoding) {}
  std::string_view Name() const override { return "fuzz"; }
  // The bytes of the next executions (copied); the read position restarts at NewExecution.
  void SetInput(std::span<const std::uint8_t> bytes);
  void NewExecution(std::uint64_t seed) override;
  std::size_t Pick(const Choices& choices) override;

  Fallback fallback() const { return fallback_; }
  Encoding encoding() const { return encoding_; }
  // Of the current execution: input bytes read, and choices made after the input ran out.
  std::size_t bytes_consumed() const { return pos_; }
  std::size_t fallback_choices() const { return fallback_choices_; }

 private:
  std::size_t PickWithoutInput(const Choices& c);
  static std::size_t Continue(const Choices& c);
  void NextDirective(std::size_t base);   // kPreemptions: read the next (gap, target) pair

  Fallback fallback_;
  Encoding encoding_;
  bool has_directive_ = false;
  std::size_t directive_at_ = 0;       // choice index of the pending preemption
  std::uint8_t directive_target_ = 0;
  std::vector<std::uint8_t> input_;
  std::size_t pos_ = 0;
  std::size_t fallback_choices_ = 0;
  Rng rng_;
};

// FNV-1a over `bytes`: the seed a driver derives from an input (for kRandom and the token).
std::uint64_t HashInput(std::span<const std::uint8_t> bytes);

}  // namespace lab
