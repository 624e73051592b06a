// Properties of the IPC naming scheme that the leak audit and the reaper rely on.
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <string>

#include <fmt/format.h>

#include "ipc/audit/names.h"

namespace ipc::audit {
namespace {

rc::Gen<std::string> ValidPurpose() {
  return rc::gen::container<std::string>(
      *rc::gen::inRange<size_t>(1, 33),
      rc::gen::elementOf(std::string("abcdefghijklmnopqrstuvwxyz0123456789_-")));
}

RC_GTEST_PROP(NamesProperty, EveryValidPurposeRoundTrips, ()) {
  std::string purpose = *ValidPurpose();
  auto name = PosixName(purpose);
  RC_ASSERT(name.has_value());
  auto parsed = ParseName(*name);
  RC_ASSERT(parsed.has_value());
  RC_ASSERT(parsed->purpose == purpose);
  RC_ASSERT(parsed->pid == SessionPid());
}

RC_GTEST_PROP(NamesProperty, AnAcceptedStringIsCanonical, (const std::string& s)) {
  auto parsed = ParseName(s);
  if (!parsed) return;
  std::string canonical = fmt::format("ipclab.{}.{}.{}", parsed->pid, parsed->random, parsed->purpose);
  auto again = ParseName(canonical);
  RC_ASSERT(again.has_value());
  RC_ASSERT(again->pid == parsed->pid);
  RC_ASSERT(again->random == parsed->random);
  RC_ASSERT(again->purpose == parsed->purpose);
}

RC_GTEST_PROP(NamesProperty, InvalidPurposesAreRefusedNotMangled, (const std::string& purpose)) {
  bool valid = !purpose.empty() && purpose.size() <= 32 &&
               purpose.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_-") == std::string::npos;
  auto name = UniqueName(purpose);
  RC_ASSERT(name.has_value() == valid);
  if (valid) RC_ASSERT(ParseName(*name)->purpose == purpose);
}

RC_GTEST_PROP(NamesProperty, NamesDoNotRepeat, ()) {
  int n = *rc::gen::inRange(2, 500);
  std::set<std::string> seen;
  for (int i = 0; i < n; ++i) RC_ASSERT(seen.insert(*UniqueName("p")).second);
}

}  // namespace
}  // namespace ipc::audit
