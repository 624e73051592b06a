// lab/interpose/explore_command.h: `ipclab explore [options] -- ./program args`.
//
// Runs an unmodified pthread program many times under LD_PRELOAD=libipclab_interpose.so, each run
// under one schedule of the lab's strategies (random, pct or dfs; replay for --replay).
//
// `--strategy dfs [--preemption-bound N]`: every schedule once, depth-first (lab/strategy/dfs.h).
// Each run is a fresh process tree, so the search tree (a lab::DfsTree) lives here: a run follows
// the tree's prefix, then keeps running the current thread, and reports each choice point (its
// alternatives and which one continued the current thread) in the result file; the tree then
// advances its deepest open point. The summary says when the space was exhausted ("explored all N
// schedules within preemption bound B: no bug"). With --faults, a dfs run offers a fault choice
// (none, or each target) at every point where one is possible, so faults are enumerated too.
// A run that does not follow its prefix (a program not deterministic under control) is counted
// and reported: the counts are then not exact. Choices beyond the result file's 65536 are not
// branched on.
//
// The oracle:
//   - a hang (no controlled thread can run and none sleeps): `deadlock`, or `lost-wakeup` when a
//     waiter sleeps on a condition variable that was signalled while nobody waited; reported at
//     once with the wait-for state (who holds which mutex, who waits for what, at which line);
//   - SIGABRT: `assertion-failure`; another fatal signal: `crash`;
//   - a sanitizer report on stderr: `sanitizer-report`; another non-zero exit:
//     `invariant-violation` (the program's own check failed);
//   - a run that reaches no scheduling point for --timeout seconds: `hang`;
//   - named IPC objects the program created and left behind: `ipc-leak` (see Leaks below).
// It prints the report of the first failure (kind on the first line; the steps with the
// interposed call, object and caller file:line via addr2line), a replay command and a summary
// line (runs, schedules/s, bugs). `--json` prints the same as one JSON object; `--html FILE`
// writes it as a lab::Report page (lab/report/html.h: the steps as swimlanes, the diagnosis, the
// replay command; a "no finding" page with the figures when the budget found nothing).
// `--naive` is the baseline: the same number of runs without control (and, with --jitter, random
// real sleeps of up to 100us before each interposed call), classified the same way (a deadlock
// then shows up only as a `hang` after --timeout).
//
// Only synchronization calls are scheduling points (no memory-access points): an unprotected
// read-modify-write is exposed only when a scheduling point lies between the read and the write
// and the program checks its own result.
//
// Process trees: children the program forks join the same exploration (threads are named
// `p<process>.t<thread>` once the program forked); a parent's waitpid and a read on an empty pipe
// are waits the scheduler knows, so a reader whose pipe's write end was left open is reported at
// once as a `hang` naming the pipe and the processes holding its write end. A controlled child
// that dies of a signal nobody chose is a `crash` (or `assertion-failure` for SIGABRT).
//
// `--faults kill,signal` makes faults scheduling choices: at most one per run, at a point the
// strategy picks, SIGKILL to a live child process or SIGUSR1 to a thread blocked in read() on a
// pipe (EINTR unless the handler has SA_RESTART). The faults are part of the replay token (its
// strategy field reads e.g. `random-kill-signal`).
//
// Leaks: every POSIX shared memory object, named semaphore and message queue the program created
// (O_CREAT) and every SysV segment, semaphore set and queue (IPC_CREAT) still present after a
// clean run is an `ipc-leak` naming it; the explorer removes them after every run either way.
//
// Exit status: 0 the budget found nothing, 1 a bug was found (or replayed), 2 usage error or a
// program that cannot be run.
#pragma once

#include <cstdint>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace lab::interpose {

struct ExploreOptions {
  std::uint64_t budget = 1000;
  std::string strategy = "random";  // random | pct | dfs
  int preemption_bound = -1;        // dfs: at most this many preemptions; -1 none
  int pct_depth = 3;                // pct: d
  bool keep_going = false;          // run the whole budget, count every failing schedule
  std::string schedule_log;         // each run's choices, one line per run
  std::uint64_t seed = 1;
  std::string replay;               // a token; runs that one schedule
  bool json = false;
  std::string html;                 // write the report as a self-contained HTML page there
  double timeout_seconds = 10;      // per run, real time
  bool naive = false;               // the uncontrolled baseline
  bool jitter = false;              // with naive: random real sleeps around interposed calls
  std::string library;              // the preload library; found automatically when empty
  std::string faults;               // "kill", "signal" or "kill,signal": faults as choices
  std::vector<std::string> command; // the program and its arguments
};

// Runs the exploration; writes the report to `out` and one-line errors to `err`.
int RunExplore(const ExploreOptions& options, std::ostream& out, std::ostream& err);

std::function<int()> SetupExploreCommand(CLI::App& sub);

}  // namespace lab::interpose
