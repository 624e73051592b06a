// problems/pipe/pipe_process.h: the pipe exercise on real processes, with a watchdog.
//
// The same program as problems/pipe (the parent forks a child that sums what it reads from a pipe
// until end-of-file; the parent writes 1, 2, 3 and waits), run with fork(), pipe2(), write(),
// read() and waitpid(). The buggy variants really hang there: the watchdog notices that the child
// has not exited in time, kills it and reports "hang" instead of letting the caller hang too.
//
//   auto v = problems::RunPipeProcesses(problems::PipeMistake::kParentKeepsWriteEnd, 300ms);
//   // v == "hang"
#pragma once

#include <chrono>
#include <string>

#include "ipc/sys/sys.h"

namespace problems {

enum class PipeMistake { kNone, kParentKeepsWriteEnd, kChildKeepsWriteEnd };

// "clean" when the child saw end-of-file, summed 6 and exited 0; "hang" when it had not exited
// when the watchdog expired (it is then killed and reaped); "assertion-failure" for a wrong sum.
// System-call failures are errors.
ipc::sys::Result<std::string> RunPipeProcesses(PipeMistake mistake,
                                               std::chrono::milliseconds watchdog);

}  // namespace problems
