// lab/report/shrink.h: shrinking a failing schedule to a small one that still fails.
//
// A schedule is the vector of the strategy's choices. The runtime replays any vector: choice i
// indexes the sorted list of enabled alternatives at scheduling point i, taken modulo its size,
// and past the end of the vector every choice is 0 (the first alternative). So every vector is a
// valid schedule, and the shrinker may delete or lower entries freely; a smaller vector with
// smaller entries means fewer deviations from "keep running the first runnable thread", i.e. fewer
// preemptions to read in the report.
#pragma once

#include <cstdint>
#include <functional>
#include <vector>

namespace lab {

struct ShrinkStats {
  int attempts = 0;  // calls of still_fails
  int accepted = 0;  // candidates that still failed (and replaced the current schedule)
};

// Delta debugging (Zeller & Hildebrandt, TSE 2002, the ddmin chunk deletion) over the choice
// vector, repeated to a fixpoint or until the budget is spent:
//   1. delete chunks, starting with the whole vector and halving the chunk size down to 1;
//   2. lower each non-zero entry: to the smallest of 0..15 that still fails, else to half, else
//      to one less;
//   3. drop trailing zeros (equivalent under the replay rule, still checked).
// Only candidates for which `still_fails` returns true are kept. `failing` is assumed to fail and
// is never passed to `still_fails`. Never returns a longer vector, nor one that did not fail
// (the result is `failing` or a candidate for which `still_fails` returned true); calls
// `still_fails` at most `budget` times. `stats` (optional) receives the counts.
std::vector<std::uint32_t> ShrinkChoices(
    std::vector<std::uint32_t> failing,
    const std::function<bool(const std::vector<std::uint32_t>&)>& still_fails, int budget = 2000,
    ShrinkStats* stats = nullptr);

}  // namespace lab
