// lab/rt/ids.h: the small vocabulary every part of the lab shares (runtime, detectors, reports).
#pragma once

#include <cstdint>
#include <limits>

namespace lab {

// A controlled thread of one execution, numbered in creation order; 0 is the test body.
using ThreadId = std::uint32_t;
// A synchronization object or a checked memory location (`lab::Shared<T>`) of one execution,
// numbered in creation order from 1; 0 means none.
using ObjectId = std::uint64_t;
// The index of a scheduling point in one execution's event log, from 0.
using StepIndex = std::uint64_t;

inline constexpr ThreadId kNoThread = std::numeric_limits<ThreadId>::max();
inline constexpr ObjectId kNoObject = 0;

}  // namespace lab
