// Tests of the linearizability checker: hand-made histories with known verdicts for a register, a
// FIFO queue, a counter and a map, the report's content, and properties against histories the
// model itself produced (linearizable by construction) or that were corrupted (not).
#include "properties/linearizability.h"

// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <chrono>
#include <random>
#include <string>

#include "properties/history_testing.h"
#include "properties/models.h"

namespace properties {

// How rapidcheck prints an operation in a counterexample.
void showValue(const Operation& op, std::ostream& os) { os << FormatOperation(op); }

namespace {

using testing::AtomicHistory;
using testing::Call;
using testing::Op;
using testing::Scripts;

// --- Known histories --------------------------------------------------------------------------

TEST(Register, ConcurrentReadMaySeeEitherValue) {
  // T0 writes 1 over [0,10]; T1 reads during it: 0 and 1 are both linearizable.
  for (std::int64_t seen : {0, 1}) {
    History h = {Op(0, "write", {1}, {}, 0, 10), Op(1, "read", {}, seen, 2, 5)};
    EXPECT_TRUE(CheckLinearizable(h, RegisterModel()).ok()) << seen;
  }
}

TEST(Register, UnknownOperationIsAMalformedHistoryNotACrash) {
  // Found by fuzz/history_json_fuzzer: a history file may name any operation; the model's
  // logic_error used to escape the checker and terminate `ipclab linearizable`.
  History h = {Op(0, "write", {1}, {}, 0, 1), Op(1, "add", {2}, {}, 2, 3)};
  CheckResult r = CheckLinearizable(h, RegisterModel());
  EXPECT_EQ(r.verdict, Verdict::kMalformed);
  EXPECT_NE(r.explanation.find("has no operation add(2)"), std::string::npos) << r.explanation;
}

TEST(Register, StaleReadAfterWriteCompletedIsRejected) {
  History h = {Op(0, "write", {1}, {}, 0, 3), Op(1, "read", {}, std::int64_t{0}, 4, 6)};
  CheckResult r = CheckLinearizable(h, RegisterModel());
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable) << r.explanation;
  ASSERT_TRUE(r.blocked.has_value());
  EXPECT_EQ(*r.blocked, 1u);
  EXPECT_EQ(r.order, std::vector<size_t>{0});  // the write fits; then the read cannot go
}

TEST(Register, NewOldInversionIsRejected) {
  // Two sequential reads overlapping one write: new value then old value is not linearizable.
  History h = {Op(0, "write", {1}, {}, 0, 20), Op(1, "read", {}, std::int64_t{1}, 1, 3),
               Op(1, "read", {}, std::int64_t{0}, 4, 6)};
  EXPECT_EQ(CheckLinearizable(h, RegisterModel()).verdict, Verdict::kNotLinearizable);
}

TEST(Queue, OverlappingPushesMayPopInEitherOrder) {
  History h = {Op(0, "push", {1}, {}, 0, 5), Op(1, "push", {2}, {}, 1, 6),
               Op(2, "pop", {}, std::int64_t{2}, 7, 8), Op(2, "pop", {}, std::int64_t{1}, 9, 10)};
  CheckResult r = CheckLinearizable(h, QueueModel());
  EXPECT_TRUE(r.ok()) << r.explanation;
  EXPECT_EQ(r.order.size(), 4u);
}

TEST(Queue, SequentialPushesPoppedOutOfOrderAreRejected) {
  History h = {Op(0, "push", {1}, {}, 0, 1), Op(0, "push", {2}, {}, 2, 3),
               Op(1, "pop", {}, std::int64_t{2}, 4, 5), Op(1, "pop", {}, std::int64_t{1}, 6, 7)};
  CheckResult r = CheckLinearizable(h, QueueModel());
  ASSERT_EQ(r.verdict, Verdict::kNotLinearizable);
  ASSERT_TRUE(r.blocked.has_value());
  EXPECT_EQ(*r.blocked, 2u);
  EXPECT_EQ(r.order, (std::vector<size_t>{0, 1}));
  EXPECT_EQ(r.state_after_prefix, "[1, 2]");
  ASSERT_EQ(r.candidates.size(), 1u);
  EXPECT_EQ(r.candidates[0].expected, Value(std::int64_t{1}));
  EXPECT_FALSE(r.candidates[0].matches);
}

TEST(Queue, SizeThatNoMomentHadIsRejected) {
  // size() ran while one push and one pop were in flight on a queue holding one item: it may see
  // 0, 1 or 2, never 3.
  History base = {Op(0, "push", {7}, {}, 0, 1), Op(0, "push", {8}, {}, 2, 10),
                  Op(1, "pop", {}, std::int64_t{7}, 3, 9)};
  for (std::int64_t seen : {0, 1, 2, 3}) {
    History h = base;
    h.push_back(Op(2, "size", {}, seen, 4, 8));
    EXPECT_EQ(CheckLinearizable(h, QueueModel()).ok(), seen != 3) << seen;
  }
}

TEST(Queue, PopOnEmptyQueue) {
  History ok = {Op(0, "pop", {}, Empty{}, 0, 3), Op(1, "push", {1}, {}, 1, 2)};
  EXPECT_TRUE(CheckLinearizable(ok, QueueModel()).ok());
  History bad = {Op(1, "push", {1}, {}, 0, 1), Op(0, "pop", {}, Empty{}, 2, 3)};
  EXPECT_FALSE(CheckLinearizable(bad, QueueModel()).ok());
}

TEST(Counter, LostUpdateIsRejected) {
  // Two overlapping increments both saw 0: one update was lost.
  History h = {Op(0, "add", {1}, std::int64_t{0}, 0, 5), Op(1, "add", {1}, std::int64_t{0}, 1, 6),
               Op(0, "get", {}, std::int64_t{1}, 7, 8)};
  CheckResult r = CheckLinearizable(h, CounterModel());
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  h[1].result = std::int64_t{1};
  h[2].result = std::int64_t{2};
  EXPECT_TRUE(CheckLinearizable(h, CounterModel()).ok());
}

TEST(Checker, PendingOperationMayOrMayNotHaveTakenEffect) {
  Operation pending = Call("write", {5});
  pending.thread = 0;
  pending.invoke = 0;  // never responded
  for (std::int64_t seen : {0, 5}) {
    History h = {pending, Op(1, "read", {}, seen, 1, 2)};
    EXPECT_TRUE(CheckLinearizable(h, RegisterModel()).ok()) << seen;
  }
  History h = {pending, Op(1, "read", {}, std::int64_t{6}, 1, 2)};
  EXPECT_FALSE(CheckLinearizable(h, RegisterModel()).ok());
}

TEST(Checker, MalformedHistoriesAreNamed) {
  History overlap = {Op(0, "write", {1}, {}, 0, 5), Op(0, "read", {}, std::int64_t{1}, 3, 6)};
  CheckResult r = CheckLinearizable(overlap, RegisterModel());
  EXPECT_EQ(r.verdict, Verdict::kMalformed);
  EXPECT_NE(r.explanation.find("overlaps"), std::string::npos) << r.explanation;
  History backwards = {Op(0, "write", {1}, {}, 5, 4)};
  EXPECT_EQ(CheckLinearizable(backwards, RegisterModel()).verdict, Verdict::kMalformed);
}

TEST(Checker, EmptyHistoryIsLinearizable) {
  EXPECT_TRUE(CheckLinearizable(History{}, QueueModel()).ok());
}

TEST(Checker, SearchBoundGivesUnknown) {
  // Many overlapping writes and a read of a value never written: the search must try every order.
  History h;
  for (int t = 0; t < 8; ++t) h.push_back(Op(t, "write", {t}, {}, 0, 100));
  h.push_back(Op(8, "read", {}, std::int64_t{99}, 0, 100));
  CheckOptions bounded;
  bounded.max_search_steps = 10;
  EXPECT_EQ(CheckLinearizable(h, RegisterModel(), bounded).verdict, Verdict::kUnknown);
  EXPECT_EQ(CheckLinearizable(h, RegisterModel()).verdict, Verdict::kNotLinearizable);
}

TEST(Map, KeysAreCheckedSeparately) {
  History h = {Op(0, "put", {"a", 1}, {}, 0, 1), Op(1, "put", {"b", 2}, {}, 0, 1),
               Op(0, "get", {"a"}, std::int64_t{1}, 2, 3), Op(1, "get", {"b"}, Empty{}, 2, 3)};
  CheckResult r = CheckLinearizable(h, MapModel());
  EXPECT_EQ(r.verdict, Verdict::kNotLinearizable);
  EXPECT_EQ(r.partition, "k=b") << r.explanation;
  h[3].result = std::int64_t{2};
  EXPECT_TRUE(CheckLinearizable(h, MapModel()).ok());
}

TEST(Report, NamesThePrefixTheBlockedOperationAndWhatTheModelExpected) {
  History h = {Op(0, "push", {1}, {}, 0, 1), Op(0, "push", {2}, {}, 2, 3),
               Op(1, "pop", {}, std::int64_t{2}, 4, 5), Op(1, "pop", {}, std::int64_t{1}, 6, 7)};
  CheckResult r = CheckLinearizable(h, QueueModel());
  const std::string& e = r.explanation;
  for (const char* needle :
       {"nonlinearizable", "thread 0", "thread 1", "push(1) [0,1] (prefix 1)",
        "pop() -> 2 [4,5] <- cannot be placed", "longest linearizable prefix: 2 of 4",
        "model state after it: [1, 2]", "T1 pop() -> 2 must take effect before it responds at 5",
        "the model returns 1"}) {
    EXPECT_NE(e.find(needle), std::string::npos) << "missing '" << needle << "' in\n" << e;
  }
}

// --- Properties --------------------------------------------------------------------------------

struct Kind {
  const char* name;
  std::function<CheckResult(const History&)> check;
  std::function<History(const Scripts&, const std::function<size_t(size_t)>&,
                        std::vector<size_t>*)>
      run;
  rc::Gen<Operation> op;
  Operation observer;     // an operation whose result can be corrupted
  Value impossible;       // a result no order can give `observer`
};

template <typename M>
Kind MakeKind(const char* name, M model, rc::Gen<Operation> op, Operation observer) {
  return Kind{name, [model](const History& h) { return CheckLinearizable(h, model); },
              [model](const Scripts& s, const std::function<size_t(size_t)>& pick,
                      std::vector<size_t>* order) { return AtomicHistory(model, s, pick, order); },
              std::move(op), std::move(observer), Value(std::int64_t{-777})};
}

std::vector<Kind> Kinds() {
  auto small = rc::gen::inRange<std::int64_t>(0, 4);
  std::vector<Kind> kinds;
  kinds.push_back(MakeKind("register", RegisterModel(),
                           rc::gen::oneOf(rc::gen::map(small, [](std::int64_t v) { return Call("write", {v}); }),
                                          rc::gen::just(Call("read"))),
                           Call("read")));
  kinds.push_back(MakeKind("queue", QueueModel(),
                           rc::gen::oneOf(rc::gen::map(small, [](std::int64_t v) { return Call("push", {v}); }),
                                          rc::gen::just(Call("pop")), rc::gen::just(Call("size"))),
                           Call("pop")));
  kinds.push_back(MakeKind("counter", CounterModel(),
                           rc::gen::oneOf(rc::gen::map(rc::gen::inRange<std::int64_t>(1, 4),
                                                       [](std::int64_t v) { return Call("add", {v}); }),
                                          rc::gen::just(Call("get"))),
                           Call("get")));
  kinds.push_back(MakeKind("stack", StackModel(),
                           rc::gen::oneOf(rc::gen::map(small, [](std::int64_t v) { return Call("push", {v}); }),
                                          rc::gen::just(Call("pop"))),
                           Call("pop")));
  kinds.push_back(MakeKind("map", MapModel(),
                           rc::gen::oneOf(rc::gen::map(small, [](std::int64_t k) { return Call("put", {k % 2, k}); }),
                                          rc::gen::map(small, [](std::int64_t k) { return Call("get", {k % 2}); })),
                           Call("get", {std::int64_t{0}})));
  return kinds;
}

Scripts GenScripts(const Kind& kind, size_t max_threads, size_t max_ops) {
  size_t threads = *rc::gen::inRange<size_t>(1, max_threads + 1);
  Scripts scripts(threads);
  for (auto& s : scripts) s = *rc::gen::container<std::vector<Operation>>(*rc::gen::inRange<size_t>(0, max_ops + 1), kind.op);
  return scripts;
}

std::function<size_t(size_t)> RcPick() {
  return [](size_t n) { return *rc::gen::inRange<size_t>(0, n); };
}

RC_GTEST_PROP(LinearizabilityProperty, SequentialHistoriesOfTheModelAreLinearizable, ()) {
  const std::vector<Kind> kinds = Kinds();
  const Kind& kind = kinds[*rc::gen::inRange<size_t>(0, kinds.size())];
  RC_TAG(kind.name);
  Scripts scripts = GenScripts(kind, 4, 5);
  // A random interleaving of whole operations, run one at a time by the model (as one script, so
  // each gets its own [3k, 3k+2] interval), then handed back to the threads they came from.
  Scripts single(1);
  std::vector<int> owner;
  std::vector<size_t> next(scripts.size(), 0);
  for (;;) {
    std::vector<size_t> active;
    for (size_t t = 0; t < scripts.size(); ++t) {
      if (next[t] < scripts[t].size()) active.push_back(t);
    }
    if (active.empty()) break;
    size_t t = active[*rc::gen::inRange<size_t>(0, active.size())];
    single[0].push_back(scripts[t][next[t]++]);
    owner.push_back(static_cast<int>(t));
  }
  History h = kind.run(single, [](size_t) { return size_t{0}; }, nullptr);
  for (size_t k = 0; k < h.size(); ++k) h[k].thread = owner[k];
  CheckResult r = kind.check(h);
  if (!r.ok()) RC_FAIL(r.explanation);
  std::vector<size_t> expected(h.size());
  for (size_t i = 0; i < h.size(); ++i) expected[i] = i;
  if (std::string(kind.name) != "map") RC_ASSERT(r.order == expected);
}

RC_GTEST_PROP(LinearizabilityProperty, AtomicConcurrentHistoriesAreLinearizable, ()) {
  const std::vector<Kind> kinds = Kinds();
  const Kind& kind = kinds[*rc::gen::inRange<size_t>(0, kinds.size())];
  RC_TAG(kind.name);
  Scripts scripts = GenScripts(kind, 5, 4);
  History h = kind.run(scripts, RcPick(), nullptr);
  CheckResult r = kind.check(h);
  if (!r.ok()) RC_FAIL(r.explanation);
  RC_ASSERT(r.order.size() == h.size());
}

RC_GTEST_PROP(LinearizabilityProperty, AResultNoOrderExplainsIsRejected, ()) {
  const std::vector<Kind> kinds = Kinds();
  const Kind& kind = kinds[*rc::gen::inRange<size_t>(0, kinds.size())];
  RC_TAG(kind.name);
  Scripts scripts = GenScripts(kind, 4, 4);
  const size_t victim_thread = *rc::gen::inRange<size_t>(0, scripts.size());
  const size_t position = *rc::gen::inRange<size_t>(0, scripts[victim_thread].size() + 1);
  scripts[victim_thread].insert(scripts[victim_thread].begin() + position, kind.observer);
  History h = kind.run(scripts, RcPick(), nullptr);
  // Find the inserted observer in the history and corrupt its result.
  size_t seen = 0;
  for (Operation& op : h) {
    if (op.thread == static_cast<int>(victim_thread) && seen++ == position) {
      op.result = kind.impossible;
    }
  }
  CheckResult r = kind.check(h);
  RC_ASSERT(r.verdict == Verdict::kNotLinearizable);
  RC_ASSERT(r.blocked.has_value());
  RC_ASSERT(r.explanation.find("cannot be placed") != std::string::npos);
}

// --- Speed ---------------------------------------------------------------------------------------

// 6 threads x 4 operations, fully overlapping schedules: every history decided well inside a
// small search budget (a deterministic bound, not a wall-clock one), linearizable or not.
TEST(Speed, SixThreadsFourOpsDecideWithinASmallBudget) {
  std::mt19937_64 rng(1);
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  CheckOptions options;
  options.max_search_steps = 200'000;
  const auto start = std::chrono::steady_clock::now();
  std::uint64_t max_steps = 0;
  for (int round = 0; round < 200; ++round) {
    Scripts scripts(6);
    for (size_t t = 0; t < 6; ++t) {
      for (int k = 0; k < 4; ++k) {
        // The shape of a lincheck scenario: pushes and pops alike, values from a small domain.
        int r = static_cast<int>(pick(2));
        scripts[t].push_back(r == 0 ? Call("pop") : Call("push", {static_cast<std::int64_t>(pick(4))}));
      }
    }
    History h = AtomicHistory(QueueModel(), scripts, pick);
    CheckResult ok = CheckLinearizable(h, QueueModel(), options);
    ASSERT_TRUE(ok.ok()) << ok.explanation;
    max_steps = std::max(max_steps, ok.search_steps);
    // Swap the results of two pops (when they differ): usually no longer linearizable; either way
    // the checker must decide within the budget.
    std::vector<size_t> pops;
    for (size_t i = 0; i < h.size(); ++i) if (h[i].name == "pop") pops.push_back(i);
    if (pops.size() >= 2) std::swap(h[pops.front()].result, h[pops.back()].result);
    CheckResult other = CheckLinearizable(h, QueueModel(), options);
    ASSERT_NE(other.verdict, Verdict::kUnknown) << other.explanation;
    max_steps = std::max(max_steps, other.search_steps);
  }
  const double ms = std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::printf("400 histories of 6 threads x 4 queue ops: %.1f ms, at most %llu search steps\n", ms,
              static_cast<unsigned long long>(max_steps));
}

}  // namespace
}  // namespace properties
