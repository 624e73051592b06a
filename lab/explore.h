// lab/explore.h: run a concurrent test body under the lab's controlled scheduler.
//
// API at a glance:
//   lab::ExploreResult r = lab::Explore(lab::Options{.strategy = lab::Pct{.depth = 3},
//                                                    .iterations = 2000}, [] {
//     lab::Mutex m; lab::Shared<int> x{0};
//     lab::Thread a([&] { lab::MutexLock l(m); x.write(x.read() + 1); });
//     lab::Thread b([&] { lab::MutexLock l(m); x.write(x.read() + 1); });
//     a.join(); b.join();
//     LAB_ASSERT(x.read() == 2);
//   });
//   if (!r.clean()) std::cerr << r.Text();
//   lab::Replay("lab1.pct.2a.AgEA.2a4022be", body);     // one schedule, exactly
//
// The body runs once per execution (it must build its own state, or reset it): `iterations`
// executions, each with its own seed derived from `seed`. Every lab/sync operation is a scheduling
// point; the strategy picks who runs. Findings (deadlock, lost-wakeup, data-race,
// lock-order-inversion, starvation, livelock, assertion-failure, crash, hang) come back as Reports
// whose schedule has been shrunk and whose token replays it.
//
// Environment knobs (override Options unless Options::read_env is false):
//   LAB_ITERATIONS=N   LAB_SEED=N   LAB_STRATEGY=random|pct[:depth]|dfs[:preemption bound]
//   LAB_REPLAY=<token>           run exactly that schedule (once) instead of exploring
//   LAB_REPORT_DIR=<dir>         write <name>.txt, <name>.json and <name>.trace.json per finding
//   LAB_HTML_DIR=<dir>           write <name>.html per finding (lab/report/html.h; for teaching)
//   LAB_WATCHDOG_SECONDS=S       fail the exploration with a `hang` finding after S seconds
//   TEST_TOTAL_SHARDS / TEST_SHARD_INDEX (Bazel): executions are split across shards (DFS runs in
//   shard 0); such targets set IPCLAB_SHARD_WITHIN_TESTS=1.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "lab/report/report.h"

namespace lab {

struct Random {};
struct Pct {
  int depth = 3;
};
struct Dfs {
  int max_preemptions = -1;   // -1: unbounded (all interleavings)
};
using StrategySpec = std::variant<Random, Pct, Dfs>;

struct Options {
  StrategySpec strategy = Random{};
  int iterations = 1000;                  // executions (DFS stops earlier when exhausted)
  std::uint64_t seed = 1;
  std::uint64_t max_steps = 50000;        // per execution; longer is a `hang`
  std::uint64_t starvation_bound = 5000;  // steps without progress; 0 disables liveness checks
  bool spurious_wakeups = false;          // a condvar wait may wake once without a notify
  // Virtual time advanced per step. A huge tick (an hour) makes time adversarial: any sleep or
  // timeout is over after the next step of anyone, so code that is only right when a sleep is
  // "long enough" fails (ipclab check uses it).
  std::int64_t tick_ns = 1000;
  bool stop_at_first_finding = true;      // first fatal one (lock-order inversions don't stop)
  int shrink_budget = 300;                // replays spent shrinking a failing schedule (0: none)
  double watchdog_seconds = 0;            // 0: LAB_WATCHDOG_SECONDS, else none
  std::string name{};                     // names report files and the replay command
  bool read_env = true;
  bool quiet = false;                     // don't print findings to stderr
};

struct ExploreResult {
  std::vector<Report> findings;
  std::uint64_t executions = 0;
  std::uint64_t failing_executions = 0;   // executions that ended in a fatal finding
  std::uint64_t steps = 0;
  bool exhausted = false;                 // DFS covered its whole space
  double seconds = 0;
  std::string strategy;
  std::vector<std::uint64_t> max_bypass;  // by thread id: the longest stretch without progress
  int shard = 0;
  int shards = 1;

  bool clean() const { return findings.empty(); }
  bool Found(std::string_view kind) const;
  const Report* First(std::string_view kind) const;
  std::string Text() const;               // every finding, rendered, or a one-line "clean" summary
  std::string Summary() const;            // one line
};

ExploreResult Explore(const Options& options, std::function<void()> body);

// Runs exactly the schedule in `token` once (no shrinking) and checks that a second run gives the
// same event log. A token that does not decode is reported on stderr and gives a `hang`-free,
// finding-free result with executions == 0.
ExploreResult Replay(std::string_view token, std::function<void()> body, Options options = {});

// Determinism: runs the schedule twice and compares the event logs; empty when identical, else a
// description of the first differing step.
std::string CheckDeterminism(const std::vector<std::uint32_t>& choices,
                             const std::function<void()>& body, const Options& options);

// The event log of one execution of `choices` (tests, tools).
std::vector<ReportStep> RunSchedule(const std::vector<std::uint32_t>& choices,
                                    const std::function<void()>& body, const Options& options);

}  // namespace lab
