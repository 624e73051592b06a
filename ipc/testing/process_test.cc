#include "ipc/testing/process.h"

#include <signal.h>
#include <unistd.h>

#include <thread>

#include <gtest/gtest.h>

namespace ipc::testing {
namespace {

TEST(ForkChild, ReportsExitCodeAndSignal) {
  auto ok = ForkChild([] { return 7; });
  ASSERT_TRUE(ok.has_value());
  auto s = ok->Wait();
  ASSERT_TRUE(s.has_value());
  EXPECT_EQ(ExitCode(*s), 7);

  auto sleeper = ForkChild([] {
    ::pause();
    return 0;
  });
  ASSERT_TRUE(sleeper.has_value());
  auto timed = sleeper->Wait(std::chrono::milliseconds(30));
  ASSERT_FALSE(timed.has_value());
  EXPECT_EQ(timed.error().err, ETIMEDOUT);
  auto killed = sleeper->Kill();
  ASSERT_TRUE(killed.has_value());
  EXPECT_EQ(ExitCode(*killed), -SIGKILL);
}

TEST(WatchdogDeathTest, FailsAHungTestWithADiagnosis) {
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_EXIT(
      {
        Watchdog dog(std::chrono::seconds(1), "the planted hang");
        Watchdog::Note("waiting for nothing");
        std::this_thread::sleep_for(std::chrono::seconds(5));
      },
      ::testing::ExitedWithCode(1), "hang: the planted hang did not finish within 1 s.*waiting for nothing");
}

TEST(Watchdog, QuietWhenTheTestFinishesInTime) {
  {
    Watchdog dog(std::chrono::seconds(1), "a quick test");
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  SUCCEED();  // reaching here means the disarmed watchdog did not fire
}

}  // namespace
}  // namespace ipc::testing
