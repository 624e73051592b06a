// Schedule fuzzing of the correct twins of the lab's planted bugs: the first byte picks the
// program (order violation, AB-BA, lost wakeup; lab/schedfuzz/planted_programs.h), the rest is the
// schedule (lab/strategy/fuzz.h), and the interleaving coverage of each execution goes back to
// libFuzzer. Any finding is a false positive of a detector or a broken fix, and aborts with the
// lab report and its replay token. The corpus holds, per program, the schedules that break the
// buggy version (fuzz/planted/regressions/schedule_*), which the fixed one must survive.
// The buggy versions are fuzzed by //fuzz/planted:schedule_*_fuzzer.
//
// Replay a reported token: LAB_REPLAY=<token> LAB_SCHEDULE_PROGRAM=<name> lab_schedule_fuzzer_bin
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "fuzz/extra_counters.h"
#include "lab/schedfuzz/driver.h"
#include "lab/schedfuzz/planted_programs.h"

namespace {

using lab::schedfuzz::ScheduleFuzzer;

std::vector<std::unique_ptr<ScheduleFuzzer>>& Fuzzers() {
  static auto* fuzzers = [] {
    auto* v = new std::vector<std::unique_ptr<ScheduleFuzzer>>;
    for (const auto& p : lab::schedfuzz::AllPlanted()) {
      v->push_back(std::make_unique<ScheduleFuzzer>([bug = p.bug] { lab::schedfuzz::RunPlanted(bug, true); },
                                                    lab::schedfuzz::FuzzOptions{.name = std::string(p.name) + "_fixed"}));
    }
    return v;
  }();
  return *fuzzers;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  if (std::getenv("LAB_REPLAY")) {
    const char* name = std::getenv("LAB_SCHEDULE_PROGRAM");
    auto p = lab::schedfuzz::FindPlanted(name ? name : "");
    if (!p) {
      std::fprintf(stderr, "lab_schedule_fuzzer: LAB_REPLAY needs LAB_SCHEDULE_PROGRAM=order_violation|abba|lost_wakeup\n");
      std::exit(2);
    }
    lab::schedfuzz::ReplayFromEnv(*Fuzzers()[static_cast<std::size_t>(p->bug)]);
  }
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  auto& fuzzers = Fuzzers();
  return lab::schedfuzz::FuzzOne(*fuzzers[data[0] % fuzzers.size()], {data + 1, size - 1},
                                 ipclab::fuzz::ExtraCounters());
}
