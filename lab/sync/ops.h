// lab/sync/ops.h: free-standing facade operations: yield_point, sleep_for, now, random, progress,
// in_exploration and LAB_ASSERT.
#pragma once

#include <chrono>
#include <cstdint>
#include <source_location>
#include <string>
#include <thread>

#include "lab/rt/execution.h"

namespace lab {

// True while the caller runs as a controlled thread of lab::Explore.
inline bool in_exploration() { return rt::Execution::Current() != nullptr; }

// A scheduling point and nothing else (spin loops, places worth preempting). No-op outside.
inline void yield_point(std::source_location loc = std::source_location::current()) {
  if (auto* ex = rt::Execution::Current()) ex->Yield(loc);
}

// Sleeps in virtual time under exploration (instant, deterministic), real time outside.
template <class Rep, class Period>
void sleep_for(std::chrono::duration<Rep, Period> d,
               std::source_location loc = std::source_location::current()) {
  if (auto* ex = rt::Execution::Current()) {
    ex->Sleep(std::chrono::duration_cast<std::chrono::nanoseconds>(d).count(), loc);
  } else {
    std::this_thread::sleep_for(d);
  }
}

// Virtual time since the execution began under exploration; steady_clock time outside.
std::chrono::nanoseconds now();

// Uniform in [0, n). Under exploration the value is a choice of the schedule (replayed exactly,
// enumerated by DFS); outside, a per-thread PRNG.
std::uint64_t random(std::uint64_t n, std::source_location loc = std::source_location::current());

// Declares that the calling thread made progress (liveness: starvation and livelock bounds count
// steps since the last progress). Completing a lock, semaphore, condvar wait or join also counts.
inline void progress(std::source_location loc = std::source_location::current()) {
  if (auto* ex = rt::Execution::Current()) ex->Progress(loc);
}

namespace detail {
[[noreturn]] void AssertFailed(const char* expr, const std::string& message,
                               std::source_location loc);
}  // namespace detail

}  // namespace lab

// LAB_ASSERT(cond) / LAB_ASSERT_MSG(cond, message): under exploration a failure ends the execution
// with an assertion-failure finding and its schedule; outside, it prints and aborts.
#define LAB_ASSERT(cond)                                                                \
  do {                                                                                  \
    if (!(cond)) ::lab::detail::AssertFailed(#cond, "", std::source_location::current()); \
  } while (0)
#define LAB_ASSERT_MSG(cond, message)                                                        \
  do {                                                                                       \
    if (!(cond)) ::lab::detail::AssertFailed(#cond, (message), std::source_location::current()); \
  } while (0)
