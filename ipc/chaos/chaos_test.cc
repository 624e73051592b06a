// The points call the installed hook with their name and kind, and nothing without a hook.
#include "ipc/chaos/chaos.h"

#include <string>
#include <vector>

#include <gtest/gtest.h>

namespace ipc::chaos {
namespace {

std::vector<std::string> g_seen;
void Record(const char* name, PointKind kind) {
  g_seen.push_back(std::string(kind == PointKind::kCrash ? "crash:" : "noise:") + name);
}

TEST(ChaosPoints, CallTheHookOnlyWhenInstalled) {
  g_seen.clear();
  IPCLAB_CHAOS_POINT("before");
  EXPECT_TRUE(g_seen.empty());
  SetHook(&Record);
  IPCLAB_CHAOS_POINT("a");
  IPCLAB_CRASH_POINT("b");
  SetHook(nullptr);
  IPCLAB_CRASH_POINT("after");
  EXPECT_EQ(g_seen, (std::vector<std::string>{"noise:a", "crash:b"}));
}

}  // namespace
}  // namespace ipc::chaos
