// ipclab: the one command. Each subsystem exports its subcommand as
//   std::function<int()> SetupXCommand(CLI::App& sub)
// (register options on `sub`, return what runs when it is chosen); tools/ipclab_cli.cc registers
// them and this main only dispatches.
// Exit status everywhere: 0 clean, 1 finding, 2 usage or environment error.
#include <iostream>

#include <CLI/CLI.hpp>

#include "tools/ipclab_cli.h"

int main(int argc, char** argv) {
  ipclab::IpclabCli cli = ipclab::BuildIpclabCli();
  CLI::App& app = *cli.app;
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
  for (auto& [sub, run] : cli.commands) {
    if (sub->parsed()) return run();
  }
  CLI::App* fallback = app.get_subcommand("catalogue");
  return cli.commands[fallback]();
}
