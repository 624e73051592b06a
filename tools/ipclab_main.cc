// ipclab: the one command. Each subsystem exports its subcommand as
//   std::function<int()> SetupXCommand(CLI::App& sub)
// (register options on `sub`, return what runs when it is chosen); this main only dispatches.
// Exit status everywhere: 0 clean, 1 finding, 2 usage or environment error.
#include <functional>
#include <iostream>
#include <map>
#include <string>

#include <CLI/CLI.hpp>

#include "ipc/audit/doctor.h"
#include "ipc/audit/leaks_command.h"
#include "lab/interpose/explore_command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ipclab: explore, stress and fuzz concurrent and inter-process code; find and explain its "
      "races, deadlocks, starvation and leaks.\n\nWith no command, runs `doctor`."};
  app.require_subcommand(0, 1);
  std::map<CLI::App*, std::function<int()>> commands;
  auto add = [&](const char* name, const char* help, auto setup) {
    CLI::App* sub = app.add_subcommand(name, help);
    commands[sub] = setup(*sub);
  };
  add("doctor", "check what this machine offers ipclab (IPC kinds, limits, costs, leftovers)",
      ipc::audit::SetupDoctorCommand);
  add("leaks", "list ipclab IPC objects still alive; --reap removes those of dead sessions",
      ipc::audit::SetupLeaksCommand);
  add("explore", "run an unmodified pthread program under many controlled schedules; report its bugs",
      lab::interpose::SetupExploreCommand);

  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    // One line saying what is wrong and what is valid; usage errors exit 2.
    std::cerr << "ipclab: " << e.what() << " (see ipclab --help)\n";
    return 2;
  }
  for (auto& [sub, run] : commands) {
    if (sub->parsed()) return run();
  }
  CLI::App* fallback = app.get_subcommand("doctor");
  return commands[fallback]();
}
