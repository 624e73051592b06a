// ipclab_explore: `ipclab explore` alone (the tests drive it; tools/ipclab carries the same
// subcommand). Usage: ipclab_explore explore [options] -- ./program args
#include <iostream>

#include <CLI/CLI.hpp>

#include "lab/interpose/explore_command.h"

int main(int argc, char** argv) {
  CLI::App app{"ipclab explore: run an unmodified pthread program under many controlled schedules"};
  app.require_subcommand(1, 1);
  CLI::App* sub = app.add_subcommand("explore", "explore the program's schedules");
  auto run = lab::interpose::SetupExploreCommand(*sub);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "ipclab: " << e.what() << " (see ipclab explore --help)\n";
    return 2;
  }
  return run();
}
