// lab/schedfuzz/driver.h: one lab execution per fuzzer input (schedule fuzzing).
//
//   lab::schedfuzz::ScheduleFuzzer fuzzer(body, {.name = "order_violation"});
//   extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
//     return lab::schedfuzz::FuzzOne(fuzzer, {data, size}, fuzz::ExtraCounters());
//   }
//
// Run(input) executes `body` once under a FuzzStrategy reading `input` (lab/strategy/fuzz.h). A
// fatal finding (deadlock, lost-wakeup, assertion-failure, ...) is shrunk like lab::Explore does,
// replayed twice through lab::Replay (determinism check) and returned as an ordinary Report whose
// token and replay command are the usual ones: the token holds the choices the execution made, not
// the input bytes, so `LAB_REPLAY=<token>` reruns it in any binary that runs the same body
// (ReplayFromEnv below makes every schedule fuzz target such a binary).
//
// Non-fatal findings (a lock-order inversion that did not deadlock) are not reported: a fuzz
// target's verdict is per input, and an inversion is judged across executions (lab::Explore).
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>

#include "lab/report/report.h"
#include "lab/rt/execution.h"
#include "lab/strategy/fuzz.h"

namespace lab::schedfuzz {

struct FuzzOptions {
  std::string name{};   // the program, in the finding's header line
  FuzzStrategy::Fallback fallback = FuzzStrategy::Fallback::kContinue;
  FuzzStrategy::Encoding encoding = FuzzStrategy::Encoding::kChoices;
  std::uint64_t max_steps = 50000;         // as lab::Options
  std::uint64_t starvation_bound = 5000;   // as lab::Options
  int shrink_budget = 300;                 // replays spent shrinking a finding (0: none)
};

struct Outcome {
  rt::ExecutionRecord record;     // of the fuzzed execution (not the shrunk one)
  std::optional<Report> finding;  // its fatal finding, shrunk, with token and replay command
};

class ScheduleFuzzer {
 public:
  ScheduleFuzzer(std::function<void()> body, FuzzOptions options);

  // One execution whose choices come from `input`.
  Outcome Run(std::span<const std::uint8_t> input);

  std::uint64_t executions() const { return executions_; }
  // From the start of the first Run to the end of the last execution (shrinking and replaying a
  // finding excluded), for exec/s.
  double seconds() const { return seconds_; }
  const FuzzOptions& options() const { return options_; }
  const std::function<void()>& body() const { return body_; }

 private:
  std::function<void()> body_;
  FuzzOptions options_;
  FuzzStrategy strategy_;
  std::uint64_t executions_ = 0;
  double start_ = 0;
  double seconds_ = 0;
};

// The libFuzzer entry: runs `input`, adds its interleaving coverage to `counters`, and on a finding
// prints the lab report (with token and replay command) and a line
//   schedfuzz: <name>: <kind> after <N> schedules (<s> s, <r> exec/s)
// to stderr, then aborts (a crash is how libFuzzer records a finding). Returns 0 otherwise.
int FuzzOne(ScheduleFuzzer& fuzzer, std::span<const std::uint8_t> input, std::span<std::uint8_t> counters);

// If LAB_REPLAY is set, replays that token on the fuzzer's body with its settings (lab::Replay,
// report on stderr) and exits: 1 with a finding, 0 without, 2 when the token does not decode.
// Otherwise returns. For LLVMFuzzerInitialize.
void ReplayFromEnv(const ScheduleFuzzer& fuzzer);

}  // namespace lab::schedfuzz
