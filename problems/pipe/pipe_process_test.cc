// The pipe exercise on real processes: the variant that closes its unused write ends finishes,
// the two that keep one open hang (and the watchdog says so), as the lab predicts for the model.
#include "problems/pipe/pipe_process.h"

#include <chrono>

#include <gtest/gtest.h>

namespace problems {
namespace {

using std::chrono::milliseconds;

TEST(PipeProcessesTest, ClosingUnusedEndsFinishes) {
  auto v = RunPipeProcesses(PipeMistake::kNone, milliseconds(5000));
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, "clean");
}

TEST(PipeProcessesTest, ParentKeepingItsWriteEndHangs) {
  auto v = RunPipeProcesses(PipeMistake::kParentKeepsWriteEnd, milliseconds(300));
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, "hang");
}

TEST(PipeProcessesTest, ChildKeepingItsWriteEndHangs) {
  auto v = RunPipeProcesses(PipeMistake::kChildKeepsWriteEnd, milliseconds(300));
  ASSERT_TRUE(v.has_value()) << v.error().message();
  EXPECT_EQ(*v, "hang");
}

}  // namespace
}  // namespace problems
