// Schedule fuzzing of one planted bug (SCHEDFUZZ_PLANTED names it; lab/schedfuzz/planted_programs.h):
// the whole input is the schedule (lab/strategy/fuzz.h), the interleaving coverage of each
// execution goes back to libFuzzer, and the finding aborts with the lab report, its replay token
// and the number of schedules it took (fuzz/schedule_vs_pct.sh compares that with PCT).
//
// Replay a reported token: LAB_REPLAY=<token> schedule_<bug>_fuzzer (exit 1: the finding again).
// SCHEDFUZZ_FIXED=1 fuzzes the correct twin instead (throughput without a finding to stop at);
// SCHEDFUZZ_FALLBACK=random and SCHEDFUZZ_ENCODING=preemptions select the fuzz strategy's random
// fallback and preemption encoding (lab/strategy/fuzz.h); SCHEDFUZZ_NO_INTERLEAVING_COVERAGE=1
// feeds libFuzzer code coverage only (the ablation in docs/fuzzing.md).
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <span>
#include <string>

#include "fuzz/extra_counters.h"
#include "lab/schedfuzz/driver.h"
#include "lab/schedfuzz/planted_programs.h"

#ifndef SCHEDFUZZ_PLANTED
#error "define SCHEDFUZZ_PLANTED to a planted program name"
#endif

namespace {

lab::schedfuzz::ScheduleFuzzer& Fuzzer() {
  static auto* fuzzer = [] {
    auto p = lab::schedfuzz::FindPlanted(SCHEDFUZZ_PLANTED);
    if (!p) {
      std::fprintf(stderr, "no planted program %s\n", SCHEDFUZZ_PLANTED);
      std::abort();
    }
    const char* fallback = std::getenv("SCHEDFUZZ_FALLBACK");
    const char* encoding = std::getenv("SCHEDFUZZ_ENCODING");
    const char* fixed_env = std::getenv("SCHEDFUZZ_FIXED");
    const bool fixed = fixed_env && std::string(fixed_env) == "1";
    return new lab::schedfuzz::ScheduleFuzzer(
        [bug = p->bug, fixed] { lab::schedfuzz::RunPlanted(bug, fixed); },
        lab::schedfuzz::FuzzOptions{
            .name = std::string(p->name),
            .fallback = fallback && std::string(fallback) == "random" ? lab::FuzzStrategy::Fallback::kRandom
                                                                      : lab::FuzzStrategy::Fallback::kContinue,
            .encoding = encoding && std::string(encoding) == "preemptions"
                            ? lab::FuzzStrategy::Encoding::kPreemptions
                            : lab::FuzzStrategy::Encoding::kChoices});
  }();
  return *fuzzer;
}

}  // namespace

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  lab::schedfuzz::ReplayFromEnv(Fuzzer());
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const bool interleaving_coverage = [] {
    const char* off = std::getenv("SCHEDFUZZ_NO_INTERLEAVING_COVERAGE");
    return !(off && std::string(off) == "1");
  }();
  return lab::schedfuzz::FuzzOne(Fuzzer(), {data, size},
                                 interleaving_coverage ? ipclab::fuzz::ExtraCounters() : std::span<std::uint8_t>());
}
