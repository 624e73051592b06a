// lab/schedfuzz/coverage.h: interleaving coverage of one execution, as features for a fuzzer.
//
// Code coverage barely moves between two schedules of the same program, so a coverage-guided
// fuzzer driving the scheduler needs a signal about the interleaving itself. Two kinds of feature
// are derived from the event log:
//   - context switches: for every two consecutive steps by different threads, the pair
//     (previous step's thread, op, object, source line; this step's thread, op, object, line);
//   - acquisition orders: for every successful lock or semaphore acquisition, the pair (previous
//     acquirer of that object, this acquirer, the object).
// Each feature is a 64-bit hash; AddInterleavingCoverage bumps a saturating 8-bit counter at
// hash % size, the layout libFuzzer's `__libfuzzer_extra_counters` expects (libFuzzer buckets the
// counts, so "this pair happened 1, 2, 3, 4-7, ... times" are distinct features too).
// Thread and object ids are per execution in creation order, so features are comparable across
// executions of the same program.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "lab/rt/event.h"

namespace lab::schedfuzz {

// The features of `events` in log order (repeats included).
std::vector<std::uint64_t> InterleavingFeatures(std::span<const rt::Event> events);

// Adds every feature of `events` to `counters` (saturating at 255). No-op on an empty span.
void AddInterleavingCoverage(std::span<const rt::Event> events, std::span<std::uint8_t> counters);

}  // namespace lab::schedfuzz
