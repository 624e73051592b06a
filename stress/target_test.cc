// The test of one stress target (named by IPCLAB_STRESS_TARGET, set by each cc_test in BUILD).
// A short seeded run inside `bazel test` (stress/knobs.h: IPCLAB_STRESS_SECONDS, _SEED, sharding:
// every shard runs its own seed). A correct target must come out clean; a planted bug must be
// caught with the finding kind its registry entry expects, and the time to catch it is printed.
#include <cstdio>
#include <cstdlib>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "ipc/testing/process.h"
#include "stress/knobs.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;

bool KindMatches(const std::string& expected, const std::string& kind) {
  std::stringstream ss(expected);
  for (std::string k; std::getline(ss, k, '|');) {
    if (k == kind) return true;
  }
  return false;
}

TEST(StressTarget, RunsWithItsSeed) {
  const char* name = std::getenv("IPCLAB_STRESS_TARGET");
  ASSERT_NE(name, nullptr) << "IPCLAB_STRESS_TARGET is not set";
  const Target* target = FindTarget(name);
  ASSERT_NE(target, nullptr) << "no stress target " << name;
#if defined(IPCLAB_TSAN) || defined(IPCLAB_ASAN)
  if (target->native_only) GTEST_SKIP() << name << " only means something without sanitizers";
#endif
  std::string error;
  Knobs knobs = ReadKnobs(target->test_duration, &error);
  ASSERT_TRUE(error.empty()) << error;
  auto limit = std::chrono::duration_cast<std::chrono::seconds>(4 * knobs.duration) + 60s;  // (a second run, below)
  ipc::testing::Watchdog dog(limit, std::string("stress target ") + name);
  std::string rerun = knobs.RerunHint(std::string("bazel test //stress:") + TestTargetName(name)) +
                      "  (or: ipclab stress " + name + " --seed " + std::to_string(knobs.seed) + ")";

  // Starvation is judged on operation counts. A 2-s run under a sanitizer on a loaded machine,
  // with kills whose sanitizer teardown keeps a participant away for a large part of it, leaves
  // tens of operations per participant: too few for a fairness verdict on a correct target (under
  // TSan at load 10-20 philosophers and readers_writers failed 2 of 16 runs each). The uninstrumented
  // tests and the campaigns judge it; planted starvation is still judged everywhere.
#if defined(IPCLAB_TSAN) || defined(IPCLAB_ASAN)
  bool judge_starvation = target->planted;
#else
  bool judge_starvation = true;
#endif
  RunReport report = RunTarget(*target, knobs.seed, knobs.duration, rerun, false, judge_starvation);
  std::printf("%s: %s", name, report.Text().c_str());
  // A run without a finding that did no work, or a planted run that caught nothing, proves nothing
  // when the machine kept the participants from running (under a sanitizer at load 20 a 2-s run of
  // socket_stream made no operation at all): run once more, three times as long. A twin must then
  // have done work and stayed clean, a planted bug must then be caught.
  if (report.findings.empty() && (report.operations == 0 || target->planted)) {
    std::printf("no finding and %llu operations in %.1f s: once more for %lld ms\n",
                static_cast<unsigned long long>(report.operations), report.seconds,
                static_cast<long long>((3 * knobs.duration).count()));
    report = RunTarget(*target, knobs.seed, 3 * knobs.duration, rerun, false, judge_starvation);
    std::printf("%s: %s", name, report.Text().c_str());
  }
  RecordProperty("operations", static_cast<int>(report.operations));
  RecordProperty("crashes_injected", static_cast<int>(report.crashes_injected));
  RecordProperty("signals_sent", static_cast<int>(report.signals_sent));

  if (!target->planted) {
    EXPECT_GT(report.operations, 0u) << "the target did no work";
    for (const auto& f : report.findings) {
      ADD_FAILURE() << f.kind << ": " << f.summary << "\n" << f.details << "seed " << knobs.seed << "; rerun: " << rerun;
    }
    return;
  }
  bool caught = false;
  for (const auto& f : report.findings) caught = caught || KindMatches(target->expected_kind, f.kind);
  EXPECT_TRUE(caught) << "planted bug " << name << " was not caught as " << target->expected_kind
                      << " with seed " << knobs.seed << "; findings: " << report.findings.size();
  if (caught) {
    std::printf("caught planted bug %s with seed %llu after %.2f s\n", name,
                static_cast<unsigned long long>(knobs.seed), report.first_finding_seconds);
  }
}

}  // namespace
}  // namespace stress
