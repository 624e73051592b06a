// stress/command.h: `ipclab stress`.
//
//   ipclab stress --list
//   ipclab stress <target> [--duration 10m] [--seed S] [--jobs N] [--json]
//
// A campaign: N jobs (forked processes, each its own IPC session for the leak audit) run the
// target in rounds of at most 30 s; job j's k-th round uses seed S + j + k*N, so one printed seed
// reproduces every round. A progress line goes to stderr; the summary (text, or one JSON object
// with --json: operations, crashes injected, signals delivered, recoveries, messages lost,
// leaks, findings each with its seed and rerun command) to stdout. Every finding prints the seed
// and the command that reruns it. Exit status: 0 every invariant held, 1 a finding, 2 usage.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace stress {

std::function<int()> SetupStressCommand(CLI::App& app);

}  // namespace stress
