// Environment knobs, Bazel sharding and the watchdog of lab::Explore.
#include <stdlib.h>

#include <gtest/gtest.h>

#include "lab/explore.h"
#include "lab/sync/sync.h"

namespace {

void Tiny() {
  lab::Atomic<int> x{0};
  lab::Thread t([&] { x.fetch_add(1); });
  x.fetch_add(1);
  t.join();
}

class ScopedEnv {
 public:
  ScopedEnv(const char* name, const char* value) : name_(name) {
    if (const char* old = getenv(name)) old_ = old, had_ = true;
    setenv(name, value, 1);
  }
  ~ScopedEnv() {
    if (had_) {
      setenv(name_, old_.c_str(), 1);
    } else {
      unsetenv(name_);
    }
  }

 private:
  const char* name_;
  std::string old_;
  bool had_ = false;
};

TEST(Knobs, IterationsSeedAndStrategyComeFromTheEnvironment) {
  ScopedEnv it("LAB_ITERATIONS", "7");
  ScopedEnv st("LAB_STRATEGY", "pct:2");
  auto r = lab::Explore({.iterations = 1000, .quiet = true}, Tiny);
  EXPECT_EQ(r.executions, 7u);
  EXPECT_EQ(r.strategy, "pct2");
  auto q = lab::Explore({.iterations = 1000, .read_env = false, .quiet = true}, Tiny);
  EXPECT_EQ(q.executions, 1000u);
}

TEST(Knobs, ABadValueIsAUsageError) {
  EXPECT_EXIT(
      {
        setenv("LAB_STRATEGY", "bogus", 1);
        lab::Explore({.iterations = 1, .quiet = true}, Tiny);
      },
      ::testing::ExitedWithCode(2), "LAB_STRATEGY=bogus is not a strategy");
}

TEST(Knobs, ShardsSplitTheExecutions) {
  ScopedEnv total("TEST_TOTAL_SHARDS", "3");
  std::uint64_t sum = 0;
  for (const char* index : {"0", "1", "2"}) {
    ScopedEnv i("TEST_SHARD_INDEX", index);
    auto r = lab::Explore({.iterations = 100, .quiet = true}, Tiny);
    EXPECT_EQ(r.shards, 3);
    sum += r.executions;
  }
  EXPECT_EQ(sum, 100u);
}

TEST(Knobs, LabReplayRunsTheTokenInsteadOfExploring) {
  auto found = lab::Explore({.iterations = 500, .read_env = false, .quiet = true}, [] {
    lab::Atomic<int> x{0};
    lab::Thread t([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    t.join();
    LAB_ASSERT(x.load() == 2);
  });
  ASSERT_FALSE(found.clean());
  ScopedEnv replay("LAB_REPLAY", found.findings[0].token.c_str());
  auto r = lab::Explore({.iterations = 500, .quiet = true}, [] {
    lab::Atomic<int> x{0};
    lab::Thread t([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    t.join();
    LAB_ASSERT(x.load() == 2);
  });
  EXPECT_EQ(r.strategy, "replay");
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_EQ(r.findings[0].kind, "assertion-failure");
}

TEST(Knobs, TheWatchdogEndsALongExplorationWithAHang) {
  auto r = lab::Explore({.iterations = 1 << 30, .watchdog_seconds = 0.3, .read_env = false, .quiet = true}, Tiny);
  ASSERT_TRUE(r.Found("hang")) << r.Summary();
  EXPECT_LT(r.seconds, 5.0);
}

}  // namespace

namespace {

TEST(Knobs, ReplayingATokenOfAnotherProgramSaysTheProgramChanged) {
  auto found = lab::Explore({.iterations = 500, .read_env = false, .quiet = true}, [] {
    lab::Atomic<int> x{0};
    lab::Thread t([&] { x.store(x.load() + 1); });
    lab::Thread u([&] { x.store(x.load() + 1); });
    x.store(x.load() + 1);
    t.join();
    u.join();
    LAB_ASSERT(x.load() == 3);
  });
  ASSERT_FALSE(found.clean());
  ASSERT_FALSE(found.findings[0].choices.empty());
  // A different program (no threads, so no choices at all) under the same token.
  auto r = lab::Replay(found.findings[0].token, [] {
    lab::Atomic<int> x{0};
    LAB_ASSERT(x.load() == 1);
  }, {.quiet = true});
  ASSERT_EQ(r.findings.size(), 1u);
  EXPECT_NE(r.findings[0].determinism.find("the program has changed"), std::string::npos)
      << r.findings[0].determinism;
}

}  // namespace
