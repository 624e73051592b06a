// stress/proc.h: small /proc readers the stress targets and the driver share.
#pragma once

#include <sys/types.h>

#include <vector>

namespace stress {

// Running, as opposed to gone or a zombie its parent has not reaped yet (kill(pid, 0) succeeds on
// a zombie, which would make a dead holder look alive): reads the state field of /proc/PID/stat.
bool Running(pid_t pid);

// The thread ids of process `pid` (/proc/PID/task); empty when it is gone. With `accepting` > 0,
// only the threads that do not block that signal (SigBlk in /proc/PID/task/TID/status): a signal
// aimed at a thread that blocks it stays pending there and interrupts nothing (sanitizer
// runtimes, for one, run background threads with every signal blocked).
std::vector<pid_t> ThreadIds(pid_t pid, int accepting = 0);

}  // namespace stress
