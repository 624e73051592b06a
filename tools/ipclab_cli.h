// tools/ipclab_cli.h: the `ipclab` command line, built apart from main so the same CLI::App can be
// fuzzed (fuzz/ipclab_cli_fuzzer.cc) and tested without running a command.
#pragma once

#include <functional>
#include <map>
#include <memory>

#include <CLI/CLI.hpp>

namespace ipclab {

struct IpclabCli {
  std::unique_ptr<CLI::App> app;
  // What runs when each subcommand was chosen.
  std::map<CLI::App*, std::function<int()>> commands;
};

// The app with every subcommand registered (nothing runs until a command is called).
IpclabCli BuildIpclabCli();

}  // namespace ipclab
