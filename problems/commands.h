// problems/commands.h: the `ipclab` subcommands that run the catalogue of classic problems.
//
//   ipclab [catalogue] [PREFIX...] [--json]      every case (or those under PREFIX), as a table
//   ipclab list [PREFIX...] [--json]             the cases, their expected verdicts
//   ipclab run CASE [--strategy S] [--iterations N] [--seed S] [--depth D]
//                   [--json] [--trace FILE] [--explain]
//   ipclab replay CASE TOKEN [--json] [--trace FILE] [--explain]
//
// Each Setup function registers its options on `sub` and returns what runs when it is chosen
// (tools/ipclab_main.cc dispatches). Exit status: 0 clean, 1 a finding (for `catalogue`: a case
// that did not behave as expected), 2 a usage error, printed as one line.
#pragma once

#include <functional>

#include <CLI/CLI.hpp>

namespace problems {

std::function<int()> SetupCatalogueCommand(CLI::App& sub);
std::function<int()> SetupListCommand(CLI::App& sub);
std::function<int()> SetupRunCommand(CLI::App& sub);
std::function<int()> SetupReplayCommand(CLI::App& sub);

}  // namespace problems
