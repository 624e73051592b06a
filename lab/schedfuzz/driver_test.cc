#include "lab/schedfuzz/driver.h"

#include <gtest/gtest.h>

#include <set>
#include <vector>

#include "lab/explore.h"
#include "lab/report/token.h"
#include "lab/schedfuzz/coverage.h"
#include "lab/schedfuzz/planted_programs.h"

namespace lab::schedfuzz {
namespace {

std::function<void()> Body(Planted bug, bool fixed) {
  return [=] { RunPlanted(bug, fixed); };
}

std::vector<std::uint8_t> RandomInput(Rng& rng, std::size_t max_len) {
  std::vector<std::uint8_t> bytes(rng.Below(max_len + 1));
  for (auto& b : bytes) b = static_cast<std::uint8_t>(rng.Next());
  return bytes;
}

class PlantedTest : public ::testing::TestWithParam<PlantedInfo> {};

// A schedule any strategy found, written as bytes, is an input that finds the same bug; the
// report's token then replays it like any other lab token.
TEST_P(PlantedTest, AFoundScheduleAsBytesIsAFindingWithAReplayableToken) {
  const PlantedInfo p = GetParam();
  auto explored = Explore({.strategy = Pct{.depth = 2}, .iterations = 2000, .read_env = false, .quiet = true},
                          Body(p.bug, false));
  const Report* found = explored.First(p.kind);
  ASSERT_NE(found, nullptr) << explored.Text();
  auto token = DecodeToken(found->token);
  ASSERT_TRUE(token) << token.error();
  std::vector<std::uint8_t> bytes;
  for (std::uint32_t c : token->choices) {
    ASSERT_LT(c, 256u);
    bytes.push_back(static_cast<std::uint8_t>(c));
  }
  ScheduleFuzzer fuzzer(Body(p.bug, false), {.name = std::string(p.name)});
  Outcome out = fuzzer.Run(bytes);
  ASSERT_TRUE(out.finding.has_value());
  const Report& r = *out.finding;
  EXPECT_EQ(r.kind, p.kind);
  EXPECT_EQ(r.strategy, "fuzz");
  EXPECT_EQ(r.token.rfind("lab1.fuzz.", 0), 0u) << r.token;
  EXPECT_NE(r.replay_command.find("LAB_REPLAY=" + r.token), std::string::npos) << r.replay_command;
  EXPECT_LE(r.shrunk_choices, r.original_choices);
  EXPECT_NE(r.determinism.find("identical"), std::string::npos) << r.determinism;
  EXPECT_EQ(fuzzer.executions(), 1u);

  auto replayed = Replay(r.token, Body(p.bug, false), Options{.read_env = false, .quiet = true});
  EXPECT_TRUE(replayed.Found(p.kind)) << replayed.Text();
  // The same schedule on the correct twin is clean (the twin has the same shape up to the fix).
  auto twin = Replay(r.token, Body(p.bug, true), Options{.read_env = false, .quiet = true});
  EXPECT_TRUE(twin.clean()) << twin.Text();
}

TEST_P(PlantedTest, TheCorrectTwinIsQuietOnEveryInput) {
  const PlantedInfo p = GetParam();
  for (auto fallback : {FuzzStrategy::Fallback::kContinue, FuzzStrategy::Fallback::kRandom}) {
    ScheduleFuzzer fuzzer(Body(p.bug, true), {.name = std::string(p.name), .fallback = fallback});
    Rng rng(7);
    for (int i = 0; i < 300; ++i) {
      auto input = RandomInput(rng, 40);
      Outcome out = fuzzer.Run(input);
      ASSERT_FALSE(out.finding.has_value()) << RenderText(*out.finding);
      ASSERT_TRUE(out.record.completed);
    }
  }
}

TEST_P(PlantedTest, TheSameInputGivesTheSameExecution) {
  const PlantedInfo p = GetParam();
  ScheduleFuzzer fuzzer(Body(p.bug, true), {.fallback = FuzzStrategy::Fallback::kRandom});
  Rng rng(3);
  for (int i = 0; i < 20; ++i) {
    auto input = RandomInput(rng, 16);
    Outcome a = fuzzer.Run(input);
    Outcome b = fuzzer.Run(input);
    EXPECT_EQ(a.record.choices, b.record.choices);
    EXPECT_EQ(InterleavingFeatures(a.record.events), InterleavingFeatures(b.record.events));
  }
}

INSTANTIATE_TEST_SUITE_P(Planted, PlantedTest, ::testing::ValuesIn(AllPlanted().begin(), AllPlanted().end()),
                         [](const auto& info) { return std::string(info.param.name); });

TEST(ScheduleFuzzer, RandomInputsFindTheShallowBugs) {
  for (Planted bug : {Planted::kAbBa, Planted::kLostWakeup}) {
    ScheduleFuzzer fuzzer(Body(bug, false), {.shrink_budget = 0});
    Rng rng(11);
    bool found = false;
    for (int i = 0; i < 200 && !found; ++i) found = fuzzer.Run(RandomInput(rng, 8)).finding.has_value();
    EXPECT_TRUE(found) << FindPlanted(bug == Planted::kAbBa ? "abba" : "lost_wakeup")->name;
  }
}

TEST(ScheduleFuzzer, DifferentSchedulesGiveDifferentInterleavingFeatures) {
  ScheduleFuzzer fuzzer(Body(Planted::kOrderViolation, true), {});
  std::set<std::vector<std::uint64_t>> distinct;
  for (std::uint8_t first = 0; first < 4; ++first) {
    for (std::uint8_t second = 0; second < 4; ++second) {
      const std::vector<std::uint8_t> input = {first, second, 1, 0, 1};
      auto features = InterleavingFeatures(fuzzer.Run(input).record.events);
      std::sort(features.begin(), features.end());
      features.erase(std::unique(features.begin(), features.end()), features.end());
      distinct.insert(features);
    }
  }
  EXPECT_GE(distinct.size(), 4u);
}

TEST(ScheduleFuzzer, ReplayFromEnvDoesNothingWithoutLabReplay) {
  unsetenv("LAB_REPLAY");
  ScheduleFuzzer fuzzer(Body(Planted::kAbBa, false), {});
  ReplayFromEnv(fuzzer);   // returns
  EXPECT_EQ(fuzzer.executions(), 0u);
}

TEST(ScheduleFuzzerDeathTest, FuzzOneAbortsWithTheReportAndTheCount) {
  // A fresh process for the child: under TSan a forked child of this process misreads the fibers.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  // Find a deadlocking input first, then check what the libFuzzer entry does with it.
  ScheduleFuzzer probe(Body(Planted::kAbBa, false), {.shrink_budget = 0});
  Rng rng(5);
  std::vector<std::uint8_t> failing;
  for (int i = 0; i < 500 && failing.empty(); ++i) {
    auto input = RandomInput(rng, 8);
    if (probe.Run(input).finding) failing = input;
  }
  ASSERT_FALSE(failing.empty());
  std::array<std::uint8_t, 64> counters{};
  EXPECT_DEATH(
      {
        ScheduleFuzzer fuzzer(Body(Planted::kAbBa, false), {.name = "abba"});
        FuzzOne(fuzzer, failing, counters);
      },
      "deadlock(.|\n)*LAB_REPLAY=lab1\\.fuzz\\.(.|\n)*schedfuzz: abba: deadlock after 1 schedules");
}

}  // namespace
}  // namespace lab::schedfuzz
