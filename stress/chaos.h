// stress/chaos.h: the chaos driver. Real processes, random scheduling noise, signal storms,
// crash injection with respawn, a watchdog that explains hangs, starvation metrics, leak audit.
//
// A target sets up its IPC objects, spawns participants (each a forked process running a body),
// calls Run(), then checks its end-to-end invariants and reports what it found:
//
//   Chaos chaos(config);                       // config.seed is the one seed of the run
//   chaos.Spawn("producer", [&](Participant& p) {
//     while (!p.stopping()) { ... p.Done(waited); }
//     return 0;                                // nonzero (or p.Fail) = invariant violated
//   }, {.killable = true});
//   RunReport report = chaos.Run();            // storms, kills, respawns, watchdog until duration
//   if (lost > report.crashes_injected) chaos.AddFinding("invariant-violation", "...");
//   report = chaos.Finish();                   // metrics, starvation check, leak audit
//
// While Run() goes, the driver, every ~millisecond:
//   - sends signals (SIGUSR1, SIGUSR2, SIGALRM, and SIGRTMIN/SIGRTMIN+1 with a value via
//     sigqueue) to random participants at `signals_per_second`, a share of them (tgkill,
//     rt_tgsigqueueinfo) to one random thread of the participant (/proc/PID/task); participants
//     handle them without SA_RESTART, so every blocking call they make, in any thread, sees EINTR.
//     A real-time signal's value carries its own check bits; a value that arrives altered is a
//     finding (invariant-violation);
//   - SIGKILLs a random killable participant at `kills_per_second` and respawns it (the same body,
//     a new incarnation with its own seed); crash points in the code (chaos_point.h) kill with
//     probability `crash_point_permille` and are respawned the same way;
//   - shuffles CPU affinity and nice values of random participants;
//   - watches progress (the sum of Done() calls): none for `hang_after` (plus the time the
//     participants waited for a CPU meanwhile, stress/stall.h) is a finding, `hang`, or
//     `deadlock` when the lock registry shows a wait-for cycle; the report gives every
//     participant's /proc state, wchan and current system call, the ipclab locks it holds and
//     waits for, and locks whose holder died holding them.
// A participant that exits nonzero, or dies of a signal the driver did not plan, is a finding
// (invariant-violation or crash). After the run every participant must leave within
// `exit_grace` of the stop flag (a hang otherwise; load-aware like the watchdog). Hang reports
// state the effective limit and the load average.
//
// Lock registry: participants announce their lock operations (Waiting/Acquired/Released with an
// id from RegisterLock), a few atomic stores into the chaos segment, so the driver can say who
// holds what without stopping anyone.
//
// Finish() computes per-participant operation counts, wait-time percentiles, time denied a CPU
// and Jain's fairness index over the operation counts (starvation finding when a participant's
// count is below `min_share` of the mean, or a role's Jain index below `min_role_jain`; runs that
// judge starvation get no nice or affinity shuffle, which would make the verdict the driver's). Counts, not
// rates per CPU-available second: where progress depends on others (a philosopher on its
// neighbours) a participant's own run-queue wait says nothing about its share. Then it audits IPC objects of this session: anything still alive (besides what
// `keep_objects` lists) is removed and reported as `ipc-leak`.
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "stress/chaos_point.h"
#include "stress/metrics.h"
#include "stress/stall.h"

namespace stress {

inline constexpr int kMaxParticipants = 16;
inline constexpr int kMaxLocks = 32;
inline constexpr int kMaxHeldLocks = 4;

struct ChaosConfig {
  std::uint64_t seed = 1;
  std::chrono::milliseconds duration{2000};
  // Scheduling noise at every chaos point.
  ChaosPlan plan{.yield_permille = 100, .sleep_permille = 10, .spin_permille = 40,
                 .max_sleep_us = 200, .crash_ppm = 0};
  double signals_per_second = 0;
  bool realtime_signals = true;  // also sigqueue SIGRTMIN/SIGRTMIN+1 with values
  // Share of the storm aimed at one random thread of the participant (tgkill, and
  // rt_tgsigqueueinfo for the real-time signals with values) instead of the process: a process
  // signal goes to whichever thread does not block it (usually the main one), a thread signal
  // interrupts exactly that thread's blocking call.
  double thread_signal_share = 0.5;
  double kills_per_second = 0;
  bool shuffle_affinity = true;  // off, too, whenever a starvation bound is set
  bool shuffle_nice = true;  // off whenever a starvation bound is set (chaos.cc says why)
  std::chrono::milliseconds hang_after{3000};
  std::chrono::milliseconds exit_grace{5000};
  double min_share = 0;  // starvation bound (fraction of the mean op count); 0 = off
  // Starvation bound on Jain's fairness index among the participants of one role (they do the
  // same work, so their operation counts are comparable; readers and writers are not); 0 = off.
  double min_role_jain = 0;
  // Planted bug: the participants' signal handler also calls malloc and snprintf, which are not
  // async-signal-safe (a signal landing inside malloc deadlocks it).
  bool unsafe_signal_handler = false;
  // The command that reruns this run (printed with every finding).
  std::string rerun;
  // Progress lines on stderr every second (campaigns).
  bool progress = false;
  // End the run at the first finding (the rest of the run would only add noise to its report).
  bool stop_on_finding = true;
};

struct Finding {
  std::string kind;     // the design's vocabulary: hang, deadlock, crash, ipc-leak, ...
  std::string summary;  // one line
  std::string details;  // hang report, etc.
};

struct ParticipantStats {
  std::string role;
  int index = 0;
  std::uint64_t ops = 0;
  std::uint64_t incarnations = 0;
  std::uint64_t signals_received = 0;
  std::uint64_t thread_signals_received = 0;  // on a thread other than the main one
  std::uint64_t wait_p50_ns = 0, wait_p99_ns = 0, wait_max_ns = 0;
  double cpu_denied_seconds = 0;  // runnable but waiting for a CPU (all incarnations)
  double ops_per_second = 0;      // ops per second it was not denied a CPU (for the report)
};

struct RunReport {
  std::uint64_t seed = 0;
  double seconds = 0;
  std::uint64_t operations = 0;
  std::uint64_t kills_injected = 0;        // SIGKILL by the driver
  std::uint64_t crash_point_kills = 0;     // crash points that fired
  std::uint64_t crashes_injected = 0;      // both
  std::uint64_t respawns = 0;
  std::uint64_t signals_sent = 0;
  std::uint64_t signals_delivered = 0;
  std::uint64_t signals_to_threads = 0;     // of those sent: aimed at one thread (tgkill)
  std::uint64_t thread_signals_delivered = 0;  // handled on a thread other than the main one
  std::uint64_t rt_values_delivered = 0;    // real-time signals whose value arrived intact
  std::uint64_t recoveries = 0;            // Participant::Recovered()
  std::uint64_t messages_lost = 0;         // as the target documents for crashes
  std::uint64_t leaks = 0;
  double jain_index = 1;
  std::map<std::string, double> jain_by_role;  // Jain's index among each role's participants
  double first_finding_seconds = -1;  // when the driver saw the first finding; -1 none
  std::vector<ParticipantStats> participants;
  std::vector<Finding> findings;
  std::string rerun;
  bool clean() const { return findings.empty(); }
  std::string Json() const;  // one object, see docs/stress.md
  std::string Text() const;  // human summary, findings with details and the rerun command
};

struct ChaosShared;  // the chaos segment's layout (chaos.cc)

// What a participant body sees. Lives in the participant's process.
class Participant {
 public:
  int index() const { return index_; }
  std::uint64_t incarnation() const { return incarnation_; }
  std::mt19937_64& rng() { return rng_; }
  bool stopping() const;
  // One operation done; `waited` is how long it waited to do it (for percentiles). Progress.
  void Done(std::chrono::nanoseconds waited = std::chrono::nanoseconds(0));
  // A repair after a crash (EOWNERDEAD, a stale lock broken, ...).
  void Recovered();
  // Messages lost as the primitive documents for a crash (counted once, by whoever notices).
  void Lost(std::uint64_t n = 1);
  // Lock registry (ids from Chaos::RegisterLock).
  void Waiting(int lock);
  void Acquired(int lock);
  void Released(int lock);
  // A crash this process is about to inflict on itself by other means than a crash point (e.g.
  // MpmcBuffer's kill_after_bytes): counted with the crash-point kills.
  void PlannedCrash();
  // Records why the body is about to fail (shown in the finding); returns 1 to return from body.
  int Fail(std::string_view why);

 private:
  friend class Chaos;
  Participant(ChaosShared* shared, int index, std::uint64_t incarnation, std::uint64_t seed)
      : shared_(shared), index_(index), incarnation_(incarnation), rng_(seed) {}
  ChaosShared* shared_;
  int index_;
  std::uint64_t incarnation_;
  std::mt19937_64 rng_;
};

using Body = std::function<int(Participant&)>;

struct SpawnOptions {
  bool killable = false;     // the driver may SIGKILL it (and crash points may fire in it)
  bool signalled = true;     // it receives signal storms
  bool respawn = true;       // a killed incarnation is replaced
};

class Chaos {
 public:
  explicit Chaos(ChaosConfig config);
  ~Chaos();
  Chaos(const Chaos&) = delete;
  Chaos& operator=(const Chaos&) = delete;

  const ChaosConfig& config() const { return config_; }
  std::mt19937_64& rng() { return rng_; }  // the driver's generator (seeded from config.seed)

  // A lock for the registry ("fork3", "ring.mutex"); call before Spawn. Returns its id.
  int RegisterLock(std::string_view name);
  // Starts a participant now. Returns its index.
  int Spawn(std::string_view role, Body body, SpawnOptions options = {});
  // Drives the run for config.duration, then sets the stop flag and waits for participants.
  // `at_stop` runs right after the stop flag is set, when no incarnation starts any more: e.g.
  // the driver closes its copies of a pipe's ends, which it kept for respawned participants to
  // inherit, so the reader sees end of file once the writers have left.
  void Run(const std::function<void()>& at_stop = {});
  // Adds a finding of the target's own checks.
  void AddFinding(std::string kind, std::string summary, std::string details = {});
  // Per-participant stats, fairness, starvation check, leak audit. Call once, after the target
  // released its own IPC objects.
  RunReport Finish();

  // Runs `fn` in a forked child (the driver must never block on a primitive a killed participant
  // may have wedged): its exit code, or -1 after a hang finding (with the child's /proc state)
  // when it does not finish within `limit`.
  int RunBounded(std::string_view what, std::function<int()> fn,
                 std::chrono::milliseconds limit = std::chrono::milliseconds(5000));
  // Repairs and documented losses the target found itself (e.g. in a final drain).
  void AddRecoveries(std::uint64_t n);
  void AddLost(std::uint64_t n);
  // Counters a target may need while checking.
  std::uint64_t crashes_injected() const;
  bool has_findings() const { return !findings_.empty(); }
  std::uint64_t deaths(int index) const;  // incarnations of participant `index` that were killed

 private:
  struct Slot;
  void StartIncarnation(int index);
  void Tick(std::chrono::steady_clock::time_point now);
  void ReapDead(bool respawn);
  void CheckProgress(std::chrono::steady_clock::time_point now);
  std::vector<pid_t> LivePids() const;
  void SampleDenial();           // each live incarnation's CPU denial so far
  void EndIncarnation(Slot& slot);  // its denial joins the slot's total
  std::string HangReport(bool* cycle) const;
  void Shuffle(int index);
  void SendSignal(int index);
  void KillAll();

  ChaosConfig config_;
  std::mt19937_64 rng_;
  std::unique_ptr<struct ChaosSegment> segment_;
  ChaosShared* shared_ = nullptr;
  std::vector<std::unique_ptr<Slot>> slots_;
  std::vector<std::string> locks_;
  std::vector<Finding> findings_;
  std::vector<std::string> orphaned_locks_;
  std::uint64_t kills_ = 0, respawns_ = 0, signals_sent_ = 0, signals_to_threads_ = 0;
  std::uint64_t last_ops_ = 0;
  std::chrono::steady_clock::time_point started_, last_tick_, last_denial_sample_;
  StallTimer progress_timer_{std::chrono::milliseconds(3000)};
  bool hung_ = false;
  double first_finding_seconds_ = -1;
  double seconds_ = 0;
};

}  // namespace stress
