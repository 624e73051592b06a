// stress/stall.h: time limits that hold on a loaded machine.
//
// The watchdog ("no progress for hang_after"), the stop grace ("participants stop within
// exit_grace") and bounded checks judge a stall: a stretch of wall time in which the watched
// processes did not get somewhere. On a machine running 30 runnable tasks on 2 CPUs, a correct
// participant can sit on a run queue for seconds, and a wall-clock limit then reports a hang that
// is only the machine. So a limit counts only time the participants could use: the stall must
// last `base` PLUS the longest time any watched thread spent runnable but waiting for a CPU
// during the stall (the scheduler's run_delay, /proc/PID/task/TID/schedstat, plus the wait so far
// of a thread still queued, which the kernel adds to run_delay only when the wait ends — a nice-19
// participant on a busy CPU waits in stretches of a second or more). A deadlocked
// participant sleeps in futex, is not runnable, gains no run_delay, and is caught after `base`
// as before; a busy one on an oversubscribed machine gets as much extra time as it was denied.
// (CPU time alone cannot judge a stall: a deadlocked process uses none, so it would never be
// caught.) Where the kernel keeps no schedstat, the 1-minute load average per online CPU scales
// `base` instead (a runnable task gets about cpus/load of a CPU).
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "stress/proc.h"

namespace stress {

// A watchdog must fire in the end: the limit never exceeds kMaxStretch * base. (A deadlocked
// process under a signal storm wakes for every signal; on a machine with 20 runnable tasks per CPU
// each wakeup waits on a run queue, so its run_delay grows almost as fast as the wall clock.)
inline constexpr int kMaxStretch = 10;

// The limit a stall is judged against: `base` plus `denied` (the longest any watched thread
// waited for a CPU during the stall) when known; otherwise `base` scaled by load per CPU when the
// machine is oversubscribed; never below `base`, never above kMaxStretch * base.
std::chrono::nanoseconds EffectiveLimit(std::chrono::nanoseconds base,
                                        std::optional<std::chrono::nanoseconds> denied, LoadAverage load);

class StallTimer {
 public:
  using Clock = std::chrono::steady_clock;
  explicit StallTimer(std::chrono::milliseconds base) : base_(base), limit_(base) {}

  // The stall starts (again) at `now`: progress was made, or a wait begins. The CPU-denial
  // baseline is re-read when older than 100 ms or with `fresh` (between re-reads the older
  // baseline over-counts the denial by at most 100 ms, which only makes the limit later).
  void Restart(Clock::time_point now, const std::vector<pid_t>& pids, bool fresh = false);
  // Whether the stall since Restart() has lasted the effective limit. Reads /proc only once the
  // stall is past `base` (at most every 50 ms).
  bool Expired(Clock::time_point now, const std::vector<pid_t>& pids);
  std::chrono::nanoseconds stalled(Clock::time_point now) const { return now - start_; }
  // "3412 ms (limit 3000 ms + 412 ms the participants waited for a CPU; load average 5.10 on 2 CPUs)"
  std::string Explain(Clock::time_point now) const;

 private:
  std::chrono::nanoseconds base_;
  std::chrono::nanoseconds limit_;
  std::optional<std::chrono::nanoseconds> denied_;
  LoadAverage load_;
  Clock::time_point start_{}, baseline_read_{}, sampled_{};
  std::map<pid_t, std::uint64_t> baseline_;  // tid -> run_delay
};

}  // namespace stress
