// Every case of the catalogue behaves within its stated budget: each buggy case is found with its
// expected verdict, each correct case survives (exhaustively where it uses DFS), and each found
// bug's replay token reproduces the same kind of bug. The correct cases also run once on real
// threads: the same code, outside the lab (and under TSan in the tsan config).
//
// Sharding: the test splits the cases across Bazel shards itself (case i runs in shard
// i % shards) and hides the shard variables from the lab, so each exploration keeps its budget.
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "problems/all.h"
#include "problems/catalogue.h"
#include "problems/runner.h"

namespace problems {
namespace {

struct Shard {
  int index = 0;
  int total = 1;
};

const Shard& TheShard() {
  static const Shard shard = [] {
    Shard s;
    if (const char* t = std::getenv("TEST_TOTAL_SHARDS")) s.total = std::max(1, std::atoi(t));
    if (const char* i = std::getenv("TEST_SHARD_INDEX")) s.index = std::atoi(i);
    if (const char* status = std::getenv("TEST_SHARD_STATUS_FILE")) std::ofstream(status).flush();
    // The lab would split every exploration's executions across shards too; we split cases.
    unsetenv("TEST_TOTAL_SHARDS");
    unsetenv("TEST_SHARD_INDEX");
    return s;
  }();
  return shard;
}

const Catalogue& TheCatalogue() {
  static const Catalogue* cat = new Catalogue(FullCatalogue());
  return *cat;
}

std::vector<std::string> CaseNames() {
  std::vector<std::string> names;
  for (const Case& c : TheCatalogue().cases()) names.push_back(c.name);
  return names;
}

class CaseTest : public testing::TestWithParam<std::string> {
 protected:
  void SetUp() override {
    const auto& cases = TheCatalogue().cases();
    for (std::size_t i = 0; i < cases.size(); ++i) {
      if (cases[i].name != GetParam()) continue;
      if (static_cast<int>(i % TheShard().total) != TheShard().index) {
        GTEST_SKIP() << "runs in shard " << i % TheShard().total;
      }
      c_ = &cases[i];
    }
    ASSERT_NE(c_, nullptr);
  }
  const Case* c_ = nullptr;
};

TEST_P(CaseTest, BehavesWithinItsBudget) {
  const Outcome o = RunCase(*c_);
  ASSERT_TRUE(c_->Accepts(o.verdict))
      << "found " << o.verdict << ", expected " << c_->expected << ": " << c_->name << " after " << o.result.executions << " schedules:\n" << o.result.Text();
  if (c_->buggy()) {
    const lab::Report* r = o.report();
    ASSERT_NE(r, nullptr);
    EXPECT_LE(o.result.executions, static_cast<std::uint64_t>(c_->exploration.iterations));
    // A student sees where: at least one step that matters is on a line of the problem's code.
    bool names_a_line = false;
    for (const lab::ReportStep& s : r->StepsThatMatter()) {
      names_a_line |= s.where.find("problems/") != std::string::npos;
    }
    EXPECT_TRUE(names_a_line) << lab::RenderText(*r, false);
    EXPECT_NE(r->replay_command.find("tools/ipclab replay " + c_->name + " lab1."),
              std::string::npos)
        << r->replay_command;

    // The token reproduces the same kind of bug.
    auto again = ReplayCase(*c_, r->token);
    ASSERT_TRUE(again.has_value()) << again.error();
    EXPECT_EQ(again->verdict, o.verdict) << again->result.Text();
  } else if (c_->exploration.strategy == "dfs") {
    EXPECT_TRUE(o.result.exhausted) << "DFS did not cover the whole space within "
                                    << c_->exploration.iterations << " schedules";
  }
}

// The budget is not tuned to one lucky seed: other seeds find the bug within it too.
TEST_P(CaseTest, BugsAreFoundWithOtherSeedsToo) {
  if (!c_->buggy()) GTEST_SKIP() << "correct cases explore their whole budget once";
  for (std::uint64_t seed = 2; seed <= 6; ++seed) {
    Overrides overrides;
    overrides.seed = seed;
    const Outcome o = RunCase(*c_, overrides);
    EXPECT_TRUE(c_->Accepts(o.verdict)) << "seed " << seed << ": found " << o.verdict << "\n"
                                        << o.result.Text();
  }
}

TEST_P(CaseTest, CorrectCasesRunOnRealThreads) {
  if (c_->buggy()) GTEST_SKIP() << "a buggy case may hang or race for real";
  c_->body();  // the facade runs on std::thread and the real primitives outside an exploration
}

INSTANTIATE_TEST_SUITE_P(Catalogue, CaseTest, testing::ValuesIn(CaseNames()),
                         [](const testing::TestParamInfo<std::string>& info) {
                           std::string n = info.param;
                           for (char& ch : n) {
                             if (ch == '/') ch = '_';
                           }
                           return n;
                         });

TEST(ReplayTest, BadTokensAreErrors) {
  const Case* c = TheCatalogue().Find("dining_philosophers/naive");
  ASSERT_NE(c, nullptr);
  for (const char* bad : {"", "lab1", "lab1.pct.zz.AA.00000000", "lab2.pct.1.AA.12345678",
                          "not a token"}) {
    auto r = ReplayCase(*c, bad);
    EXPECT_FALSE(r.has_value()) << "'" << bad << "' was accepted";
  }
}

TEST(ReplayTest, SameSeedSameOutcome) {
  const Case* c = TheCatalogue().Find("barrier/one_turnstile");
  ASSERT_NE(c, nullptr);
  const Outcome a = RunCase(*c), b = RunCase(*c);
  ASSERT_NE(a.report(), nullptr);
  ASSERT_NE(b.report(), nullptr);
  EXPECT_EQ(a.report()->token, b.report()->token);
}

}  // namespace
}  // namespace problems
