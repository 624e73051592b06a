// stress/targets.h: the stress targets, one registry for the tests and the `ipclab stress` command.
//
// A target runs one chaos run (stress/chaos.h) against an ipc/ primitive or a classic problem as
// real processes, checks its end-to-end invariants (every message accounted for exactly once or
// lost only as the primitive documents for a crash, checksums intact, counters consistent) and
// returns the run's report. Targets whose name carries a planted bug (`planted` set) are the
// proof that the harness bites: they are expected to produce a finding of `expected_kind`; their
// correct twin (`twin`) is expected to be clean.
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "stress/chaos.h"

namespace stress {

struct Target {
  std::string name;         // "spsc_ring", "planted/plain_mutex"
  std::string description;  // one line
  bool planted = false;     // a planted bug: a finding is expected
  std::string expected_kind;  // for planted bugs: the finding kind that must appear
  std::string twin;         // for planted bugs: the correct target it mirrors
  // Only meaningful without sanitizers (their runtimes change what the bug does, e.g. TSan
  // defers signals out of malloc): skipped in tsan/asan test builds.
  bool native_only = false;
  // How long its `bazel test` run goes (IPCLAB_STRESS_SECONDS overrides); runs end at the first
  // finding, so a planted bug's test stops as soon as it is caught.
  std::chrono::milliseconds test_duration{2000};
  // The target's own chaos settings (signal rate, kills, crash points) on top of the seed and
  // duration the caller chooses.
  std::function<void(ChaosConfig&)> configure;
  // Sets up, spawns participants, runs, checks, tears down; then Finish()es.
  std::function<RunReport(Chaos&)> run;
};

// The test run of a planted bug the watchdog catches: longer than the longest effective
// `hang_after` of 1 s (kMaxStretch times it on a loaded machine, stress/stall.h), so the watchdog
// always gets to judge; the run ends at the finding (about 1 s on a quiet machine).
inline constexpr std::chrono::milliseconds kHangPlantedTestDuration{12000};

const std::vector<Target>& AllTargets();
const Target* FindTarget(const std::string& name);

// Runs `target` with `seed` for `duration` (its configure() applied on top). `rerun` is printed
// with findings.
// `judge_starvation` false drops the target's starvation bounds (min_share, min_role_jain).
RunReport RunTarget(const Target& target, std::uint64_t seed, std::chrono::milliseconds duration,
                    const std::string& rerun, bool progress = false, bool judge_starvation = true);

// Registration from the targets_*.cc files.
void AddRingTargets(std::vector<Target>& out);
void AddSyncTargets(std::vector<Target>& out);
void AddIoTargets(std::vector<Target>& out);
void AddSocketTargets(std::vector<Target>& out);
void AddProblemTargets(std::vector<Target>& out);

// The cc_test that runs a target: "planted/plain_mutex" -> "planted_plain_mutex_test".
std::string TestTargetName(const std::string& target);

// A checksum for test payloads (FNV-1a 64).
std::uint64_t Checksum(const void* data, std::size_t n);

}  // namespace stress
