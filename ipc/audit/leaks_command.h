// ipc/audit/leaks_command.h: `ipclab leaks [--reap] [--json]`.
//
// Lists every ipclab IPC object alive on this machine (POSIX segments, named semaphores, message
// queues, private directories, registered System V objects, stale registry entries) with its
// session pid and whether that process still runs. An object whose session is dead is an orphan:
// a leak. `--reap` removes the orphans (never an object of a running session).
//
// Exit status: 0 no orphans (or all reaped), 1 orphans found and not reaped (or a removal failed),
// 2 usage error.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace ipc::audit {

std::function<int()> SetupLeaksCommand(CLI::App& sub);

}  // namespace ipc::audit
