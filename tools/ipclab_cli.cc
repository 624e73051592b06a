#include "tools/ipclab_cli.h"

#include "ipc/audit/doctor.h"
#include "ipc/audit/leaks_command.h"
#include "lab/interpose/explore_command.h"
#include "problems/commands.h"
#include "problems/exercises/check_command.h"
#include "properties/linearizability_command.h"
#include "stress/command.h"

namespace ipclab {

IpclabCli BuildIpclabCli() {
  IpclabCli cli;
  cli.app = std::make_unique<CLI::App>(
      "ipclab: explore, stress and fuzz concurrent and inter-process code; find and explain its "
      "races, deadlocks, starvation and leaks.\n\nWith no command, runs `catalogue`: every classic "
      "synchronization problem of the catalogue, correct and buggy, under the lab.");
  CLI::App& app = *cli.app;
  app.footer(
      "EXIT STATUS\n  0 clean; 1 a finding (for catalogue: a case not as expected); 2 usage or "
      "environment error, one line saying what is wrong and what is valid.\n\n"
      "EXAMPLES\n  ipclab                                  run the catalogue, print the table\n"
      "  ipclab list                             the cases and their expected verdicts\n"
      "  ipclab run dining_philosophers/naive    explore one case, report its bug\n"
      "  ipclab replay CASE TOKEN                re-run the schedule a report printed\n"
      "  ipclab check lost_update my.cc          grade an exercise (docs/exercises/)\n"
      "  ipclab doctor                           what this machine offers IPC code\n\n"
      "`ipclab COMMAND --help` describes each command.");
  app.require_subcommand(0, 1);
  auto add = [&](const char* name, const char* help, auto setup) {
    CLI::App* sub = app.add_subcommand(name, help);
    cli.commands[sub] = setup(*sub);
  };
  add("catalogue", "run the catalogue of classic problems under the lab; print the verdicts",
      problems::SetupCatalogueCommand);
  add("list", "list the catalogue's cases and their expected verdicts", problems::SetupListCommand);
  add("run", "explore one case (problem/variant) and report the first bug found",
      problems::SetupRunCommand);
  add("replay", "re-run the one schedule of a report's replay token", problems::SetupReplayCommand);
  add("check", "grade an exercise solution: compile FILE.cc, explore it, pass it or show its bug",
      exercises::SetupCheckCommand);
  add("explore", "run an unmodified pthread program under many controlled schedules; report its bugs",
      lab::interpose::SetupExploreCommand);
  add("stress", "chaos campaigns on real processes: storms, crashes, hang and leak diagnosis",
      stress::SetupStressCommand);
  add("linearizable", "check a recorded history against a sequential model (queue, stack, ...)",
      properties::SetupLinearizableCommand);
  add("leaks", "list ipclab IPC objects still alive; --reap removes those of dead sessions",
      ipc::audit::SetupLeaksCommand);
  add("doctor", "check what this machine offers ipclab (IPC kinds, limits, costs, leftovers)",
      ipc::audit::SetupDoctorCommand);
  return cli;
}

}  // namespace ipclab
