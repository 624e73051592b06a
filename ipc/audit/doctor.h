// ipc/audit/doctor.h: what this machine offers ipclab, checked for real.
//
// Each check does the thing it reports on (creates and removes a segment, opens a queue, passes
// a token between two threads) rather than reading a config, so a sandbox that forbids it shows
// up here first. `ipclab doctor` prints the result; exit 2 when something ipclab needs is missing.
#pragma once

#include <string>
#include <vector>

#include <CLI/CLI.hpp>

namespace ipc::audit {

struct Check {
  enum class Status { kOk, kWarn, kFail };
  std::string name;    // "posix-shm"
  Status status = Status::kOk;
  std::string detail;  // one line: what was found, and for warn/fail what to do
};

std::vector<Check> RunDoctor();

// Registers `doctor` options on `sub`; the returned function runs it (exit 0 ok, 2 missing).
std::function<int()> SetupDoctorCommand(CLI::App& sub);

}  // namespace ipc::audit
