#include "ipc/audit/leaks_command.h"

#include <algorithm>
#include <memory>

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include "ipc/audit/leaks.h"

namespace ipc::audit {
namespace {

struct Options {
  bool reap = false;
  bool json = false;
};

int Run(const Options& opt) {
  std::vector<IpcObject> objects = ListObjects();
  std::vector<IpcObject> reaped;
  std::vector<sys::SysError> errors;
  if (opt.reap) reaped = ReapOrphans(&errors);
  auto was_reaped = [&](const IpcObject& o) {
    return std::any_of(reaped.begin(), reaped.end(), [&](const IpcObject& r) {
      return r.kind == o.kind && r.name == o.name;
    });
  };
  size_t orphans = 0, left = 0;
  nlohmann::json items = nlohmann::json::array();
  for (const auto& o : objects) {
    bool orphan = !o.session_alive;
    bool gone = orphan && was_reaped(o);
    orphans += orphan;
    left += orphan && !gone;
    if (opt.json) {
      nlohmann::json j = {{"kind", KindName(o.kind)},       {"name", o.name},
                          {"session_pid", o.session_pid},   {"session_alive", o.session_alive},
                          {"purpose", o.purpose},           {"orphan", orphan},
                          {"reaped", gone}};
      if (o.sysv_id >= 0) j["sysv_id"] = o.sysv_id;
      if (!o.registry_entry.empty()) j["registry_entry"] = o.registry_entry;
      items.push_back(std::move(j));
    } else {
      fmt::print("{:<7} {}\n", gone ? "reaped" : orphan ? "orphan" : "in-use", Describe(o));
    }
  }
  if (opt.json) {
    nlohmann::json errs = nlohmann::json::array();
    for (const auto& e : errors) errs.push_back(e.message());
    nlohmann::json out = {{"objects", items},
                          {"orphans", orphans},
                          {"reaped", orphans - left},
                          {"errors", errs},
                          {"kind", left ? nlohmann::json("ipc-leak") : nlohmann::json(nullptr)}};
    fmt::print("{}\n", out.dump(2));
  } else {
    for (const auto& e : errors) fmt::print(stderr, "ipclab leaks: {}\n", e.message());
    if (objects.empty()) {
      fmt::print("no ipclab IPC objects on this machine\n");
    } else {
      fmt::print("{} objects, {} orphaned{}\n", objects.size(), orphans,
                 opt.reap ? fmt::format(", {} reaped", orphans - left)
                 : orphans ? std::string(" (ipc-leak; `ipclab leaks --reap` removes them)")
                           : std::string());
    }
  }
  return left ? 1 : 0;
}

}  // namespace

std::function<int()> SetupLeaksCommand(CLI::App& sub) {
  auto opt = std::make_shared<Options>();
  sub.add_flag("--reap", opt->reap, "remove the orphans (objects whose session process is dead)");
  sub.add_flag("--json", opt->json, "print JSON instead of text");
  return [opt] { return Run(*opt); };
}

}  // namespace ipc::audit
