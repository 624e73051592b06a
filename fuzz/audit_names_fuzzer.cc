// Fuzzes the IPC name parser: the leak audit and the reaper feed it every name found in /dev/shm,
// /dev/mqueue and the temp root, which any local process can create. Whatever it accepts must
// be exactly what UniqueName would have produced for the parsed parts.
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include <fmt/format.h>

#include "ipc/audit/names.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view name(reinterpret_cast<const char*>(data), size);
  auto parsed = ipc::audit::ParseName(name);
  if (!parsed) return 0;
  std::string canonical = fmt::format("ipclab.{}.{}.{}", parsed->pid, parsed->random, parsed->purpose);
  std::string_view rest = name;
  if (rest.starts_with('/')) rest.remove_prefix(1);
  if (rest.starts_with("sem.")) rest.remove_prefix(4);
  // Leading zeros in the pid are the only non-canonical spelling the parser may accept.
  auto reparsed = ipc::audit::ParseName(canonical);
  if (!reparsed || reparsed->pid != parsed->pid || reparsed->random != parsed->random ||
      reparsed->purpose != parsed->purpose || parsed->pid <= 0) {
    std::abort();
  }
  return 0;
}
