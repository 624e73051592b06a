#include "stress/stall.h"

#include <sched.h>
#include <sys/resource.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <thread>
#include <vector>

#include <gtest/gtest.h>

#include "ipc/signal/signal.h"
#include "ipc/testing/process.h"

namespace stress {
namespace {

using namespace std::chrono_literals;

TEST(EffectiveLimit, AddsTheTimeTheParticipantsWaitedForACpu) {
  EXPECT_EQ(EffectiveLimit(3s, 0ns, {.one_minute = 40, .cpus = 2}), 3s);  // blocked: base, whatever the load
  EXPECT_EQ(EffectiveLimit(3s, 1500ms, {.one_minute = 40, .cpus = 2}), 4500ms);
  EXPECT_EQ(EffectiveLimit(3s, -5ms, {}), 3s);
  EXPECT_EQ(EffectiveLimit(3s, 100s, {}), 30s);  // capped at kMaxStretch * base
}

TEST(EffectiveLimit, WithoutSchedstatScalesByLoadPerCpuWhenOversubscribed) {
  EXPECT_EQ(EffectiveLimit(3s, std::nullopt, {.one_minute = 1.5, .cpus = 2}), 3s);
  EXPECT_EQ(EffectiveLimit(3s, std::nullopt, {.one_minute = 8, .cpus = 2}), 12s);
  EXPECT_EQ(EffectiveLimit(3s, std::nullopt, {.one_minute = -1, .cpus = 2}), 3s);  // unreadable
  EXPECT_EQ(EffectiveLimit(3s, std::nullopt, {.one_minute = 70, .cpus = 2}), 30s);  // capped
}

// A process sleeping (as a deadlocked one does in futex) is denied nothing: judged after `base`.
TEST(StallTimer, ABlockedProcessIsJudgedAfterBase) {
  ipc::testing::Watchdog dog(30s, "stall timer, blocked");
  auto child = ipc::signal::Child::Fork([] {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(child.has_value());
  std::vector<pid_t> pids{child->pid()};
  StallTimer timer(300ms);
  auto start = StallTimer::Clock::now();
  timer.Restart(start, pids, true);
  while (!timer.Expired(StallTimer::Clock::now(), pids)) std::this_thread::sleep_for(5ms);
  auto took = StallTimer::Clock::now() - start;
  EXPECT_GE(took, 300ms);
  EXPECT_LT(took, 2s) << timer.Explain(StallTimer::Clock::now());
  EXPECT_NE(timer.Explain(StallTimer::Clock::now()).find("effective limit"), std::string::npos);
}

// Four busy processes on one CPU each get about a quarter of it: the one watched waits for the
// CPU about 3/4 of the time, and the limit grows by that wait.
TEST(StallTimer, AProcessDeniedTheCpuGetsThatTimeAdded) {
  ipc::testing::Watchdog dog(60s, "stall timer, denied");
  std::vector<ipc::signal::Child> spinners;
  for (int i = 0; i < 4; ++i) {
    auto child = ipc::signal::Child::Fork([] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(0, &one);
      if (::sched_setaffinity(0, sizeof one, &one) != 0) return 1;
      for (volatile unsigned long n = 0;; n = n + 1) {
      }
      return 0;
    });
    ASSERT_TRUE(child.has_value());
    spinners.push_back(std::move(*child));
  }
  std::vector<pid_t> pids{spinners[0].pid()};
  StallTimer timer(300ms);
  auto start = StallTimer::Clock::now();
  timer.Restart(start, pids, true);
  while (!timer.Expired(StallTimer::Clock::now(), pids)) std::this_thread::sleep_for(5ms);
  auto took = StallTimer::Clock::now() - start;
  std::string why = timer.Explain(StallTimer::Clock::now());
  EXPECT_GE(took, 600ms) << why;
  EXPECT_NE(why.find("waited for a CPU"), std::string::npos) << why;
  for (auto& s : spinners) (void)s.Kill(SIGKILL);
}

// A nice-19 spinner sharing a CPU with two nice-0 ones waits for it in stretches of a second: the
// kernel adds such a wait to run_delay only when it ends, so a watchdog reading schedstat alone
// saw nothing and fired. RunDelays counts the wait so far: it grows between any two samples.
TEST(RunDelays, AThreadStillWaitingForACpuCountsItsWaitSoFar) {
  if (!std::ifstream("/proc/thread-self/sched")) GTEST_SKIP() << "the kernel shows no /proc/PID/sched";
  ipc::testing::Watchdog dog(60s, "run delays, waiting");
  std::vector<ipc::signal::Child> spinners;
  for (int nice : {19, 0, 0}) {
    auto child = ipc::signal::Child::Fork([nice] {
      cpu_set_t one;
      CPU_ZERO(&one);
      CPU_SET(0, &one);
      if (::sched_setaffinity(0, sizeof one, &one) != 0) return 1;
      if (::setpriority(PRIO_PROCESS, 0, nice) != 0) return 1;
      for (volatile unsigned long n = 0;; n = n + 1) {
      }
      return 0;
    });
    ASSERT_TRUE(child.has_value());
    spinners.push_back(std::move(*child));
  }
  pid_t watched = spinners[0].pid();
  std::this_thread::sleep_for(200ms);
  int flat = 0;
  std::uint64_t last = RunDelays(watched)[watched];
  for (int i = 0; i < 20; ++i) {
    std::this_thread::sleep_for(100ms);
    std::uint64_t now = RunDelays(watched)[watched];
    EXPECT_GE(now, last);
    if (now == last) ++flat;
    last = now;
  }
  // It runs for a few ms now and then; a sample may fall while it does (4 of 15 under ASan at load
  // 20; without counting the wait so far, 16 of 20 were flat at load 20).
  EXPECT_LE(flat, 6) << "run_delay of a thread waiting for a CPU did not grow in " << flat << " of 20 samples";
  for (auto& s : spinners) (void)s.Kill(SIGKILL);
}

// A task that has not run since fork shows exec_start 0: its wait so far is since the fork, not
// since boot (that once read as 73,828 s of CPU denial).
TEST(RunDelays, AChildThatHasNotRunYetIsNotBehindByTheUptime) {
  ipc::testing::Watchdog dog(60s, "run delays, new child");
  for (int i = 0; i < 20; ++i) {
    auto start = std::chrono::steady_clock::now();
    auto child = ipc::signal::Child::Fork([] {
      ::pause();
      return 0;
    });
    ASSERT_TRUE(child.has_value());
    for (auto [tid, delay] : RunDelays(child->pid())) {
      EXPECT_LE(std::chrono::nanoseconds(delay), std::chrono::steady_clock::now() - start) << "tid " << tid;
    }
    (void)child->Kill(SIGKILL);
  }
}

}  // namespace
}  // namespace stress
