// Fuzzes the `ipclab` command line: the real app (tools/ipclab_cli.h, every subcommand and option
// registered) parses an argv made of the input's NUL-separated pieces. Parsing may only succeed or
// throw a CLI::ParseError (what main turns into exit 2); help and version requests are parse
// errors too. Any other exception, a crash or a sanitizer report is a bug. The commands
// themselves never run here.
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include <CLI/CLI.hpp>

#include "tools/ipclab_cli.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size > 4096) return 0;
  std::vector<std::string> args;
  std::string cur;
  for (size_t i = 0; i < size; ++i) {
    if (data[i] == 0) {
      args.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(static_cast<char>(data[i]));
    }
  }
  if (!cur.empty()) args.push_back(cur);
  if (args.size() > 64) return 0;

  ipclab::IpclabCli cli = ipclab::BuildIpclabCli();
  // CLI11's vector overload takes the arguments in reverse order.
  std::vector<std::string> reversed(args.rbegin(), args.rend());
  try {
    cli.app->parse(reversed);
  } catch (const CLI::ParseError& e) {
    // What main prints must be a message and an exit code.
    if (e.get_exit_code() < 0) std::abort();
    return 0;
  }
  // At most one subcommand was chosen (require_subcommand(0, 1)).
  int chosen = 0;
  for (auto& [sub, run] : cli.commands) chosen += sub->parsed() ? 1 : 0;
  if (chosen > 1) std::abort();
  return 0;
}
