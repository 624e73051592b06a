#include "tools/ipclab_cli.h"

#include "ipc/audit/doctor.h"
#include "ipc/audit/leaks_command.h"

namespace ipclab {

IpclabCli BuildIpclabCli() {
  IpclabCli cli;
  cli.app = std::make_unique<CLI::App>(
      "ipclab: explore, stress and fuzz concurrent and inter-process code; find and explain its "
      "races, deadlocks, starvation and leaks.\n\nWith no command, runs `doctor`.");
  CLI::App& app = *cli.app;
  app.require_subcommand(0, 1);
  auto add = [&](const char* name, const char* help, auto setup) {
    CLI::App* sub = app.add_subcommand(name, help);
    cli.commands[sub] = setup(*sub);
  };
  add("doctor", "check what this machine offers ipclab (IPC kinds, limits, costs, leftovers)",
      ipc::audit::SetupDoctorCommand);
  add("leaks", "list ipclab IPC objects still alive; --reap removes those of dead sessions",
      ipc::audit::SetupLeaksCommand);
  return cli;
}

}  // namespace ipclab
