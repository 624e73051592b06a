// ipc/sys/deadline.h: absolute deadlines.
//
// Timeouts are durations at the API edge and absolute deadlines inside: a call that retries after
// EINTR, or waits in several steps, keeps one Deadline so the total wait never exceeds what the
// caller asked for. All deadlines are on CLOCK_MONOTONIC (immune to wall-clock jumps); the timed
// POSIX calls that take a clock (sem_clockwait, pthread_mutex_clocklock, pthread_cond_clockwait)
// get `monotonic_timespec()`; the few that only take CLOCK_REALTIME (mq_timedsend, semtimedop's
// relative timeout) convert at the last moment.
#pragma once

#include <time.h>

#include <chrono>
#include <optional>

namespace ipc::sys {

class Deadline {
 public:
  using Clock = std::chrono::steady_clock;  // CLOCK_MONOTONIC on Linux

  static Deadline Never() { return Deadline(std::nullopt); }
  static Deadline At(Clock::time_point t) { return Deadline(t); }
  template <class Rep, class Period>
  static Deadline After(std::chrono::duration<Rep, Period> d) {
    return Deadline(Clock::now() + std::chrono::duration_cast<Clock::duration>(d));
  }

  bool is_never() const { return !at_; }
  bool expired() const { return at_ && Clock::now() >= *at_; }
  // Time left, zero once expired; Clock::duration::max() for Never.
  Clock::duration remaining() const;
  // Absolute time for clock-taking POSIX calls (CLOCK_MONOTONIC). Far future for Never.
  timespec monotonic_timespec() const;
  // Absolute time on CLOCK_REALTIME, for calls that accept nothing else (mq_timed*).
  timespec realtime_timespec() const;
  // Relative time left, for calls that take a relative timeout (semtimedop, ppoll).
  timespec relative_timespec() const;
  // Milliseconds left rounded up, for poll(); -1 for Never.
  int poll_timeout_ms() const;

 private:
  explicit Deadline(std::optional<Clock::time_point> at) : at_(at) {}
  std::optional<Clock::time_point> at_;
};

}  // namespace ipc::sys
