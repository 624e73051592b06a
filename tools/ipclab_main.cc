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
#include "problems/commands.h"
#include "properties/linearizability_command.h"
#include "stress/command.h"

int main(int argc, char** argv) {
  CLI::App app{
      "ipclab: explore, stress and fuzz concurrent and inter-process code; find and explain its "
      "races, deadlocks, starvation and leaks.\n\nWith no command, runs `catalogue`: every classic "
      "synchronization problem of the catalogue, correct and buggy, under the lab."};
  app.footer(
      "EXIT STATUS\n  0 clean; 1 a finding (for catalogue: a case not as expected); 2 usage or "
      "environment error, one line saying what is wrong and what is valid.\n\n"
      "EXAMPLES\n  ipclab                                  run the catalogue, print the table\n"
      "  ipclab list                             the cases and their expected verdicts\n"
      "  ipclab run dining_philosophers/naive    explore one case, report its bug\n"
      "  ipclab replay CASE TOKEN                re-run the schedule a report printed\n"
      "  ipclab doctor                           what this machine offers IPC code\n\n"
      "`ipclab COMMAND --help` describes each command.");
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
  add("catalogue", "run the catalogue of classic problems under the lab; print the verdicts",
      problems::SetupCatalogueCommand);
  add("list", "list the catalogue's cases and their expected verdicts", problems::SetupListCommand);
  add("run", "explore one case (problem/variant) and report the first bug found",
      problems::SetupRunCommand);
  add("replay", "re-run the one schedule of a report's replay token", problems::SetupReplayCommand);
  add("linearizable", "check a recorded history against a sequential model (queue, stack, ...)",
      properties::SetupLinearizableCommand);
  add("stress", "chaos campaigns on real processes: storms, crashes, hang and leak diagnosis",
      stress::SetupStressCommand);

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
  CLI::App* fallback = app.get_subcommand("catalogue");
  return commands[fallback]();
}
