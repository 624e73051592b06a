// stress/proc.h: small /proc readers the stress targets and the driver share.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace stress {

// Running, as opposed to gone or a zombie its parent has not reaped yet (kill(pid, 0) succeeds on
// a zombie, which would make a dead holder look alive): reads the state field of /proc/PID/stat.
bool Running(pid_t pid);

// Running and not on its way out: a SIGKILLed process sets PF_EXITING first, then may spend a long
// time (seconds for a sanitizer's address space on a loaded machine) tearing down its memory while
// /proc still reads R or D. Its robust mutexes are released by then, but nothing else it held.
bool Alive(pid_t pid);

// The state letter (R, S, D, Z, ...) of a process or thread, "/proc/PID" or "/proc/PID/task/TID";
// '?' when it is gone.
char StateLetter(const std::string& task_dir);

// The thread ids of process `pid` (/proc/PID/task); empty when it is gone. With `accepting` > 0,
// only the threads that do not block that signal (SigBlk in /proc/PID/task/TID/status): a signal
// aimed at a thread that blocks it stays pending there and interrupts nothing (sanitizer
// runtimes, for one, run background threads with every signal blocked).
std::vector<pid_t> ThreadIds(pid_t pid, int accepting = 0);

// How long each thread of `pid` has been runnable but waiting for a CPU, in nanoseconds (the
// run_delay field of /proc/PID/task/TID/schedstat, kept by the scheduler since the thread
// started). The kernel adds a wait to run_delay only when it ends, so for a thread runnable right
// now the wait so far (since its se.exec_start in /proc/PID/task/TID/sched, where the kernel shows
// it) is added. Keyed by thread id; empty when the process is gone or the kernel keeps no schedstat.
std::map<pid_t, std::uint64_t> RunDelays(pid_t pid);

// The 1-minute load average (/proc/loadavg) and the online CPUs; load -1 when unreadable.
struct LoadAverage {
  double one_minute = -1;
  long cpus = 1;
};
LoadAverage ReadLoadAverage();

}  // namespace stress
