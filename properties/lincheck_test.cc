// lincheck: planted nonlinearizable objects are caught (and the report says what a reader needs),
// their correct twins pass: a mutex-protected queue, a lab::Atomic counter, a Treiber stack.
#include "properties/lincheck.h"

// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <stdlib.h>

#include <array>
#include <deque>
#include <memory>
#include <optional>

#include "lab/sync/sync.h"
#include "properties/models.h"

namespace properties::lincheck {
namespace {


Value OrEmpty(std::optional<std::int64_t> v) { return v ? Value(*v) : Value(Empty{}); }

// --- Queues ------------------------------------------------------------------------------------

// Correct: every operation under one lock.
class MutexQueue {
 public:
  void Push(std::int64_t v) {
    lab::MutexLock l(mu_);
    items_.push_back(v);
  }
  std::optional<std::int64_t> Pop() {
    lab::MutexLock l(mu_);
    if (items_.empty()) return std::nullopt;
    std::int64_t v = items_.front();
    items_.pop_front();
    return v;
  }
  std::int64_t Size() {
    lab::MutexLock l(mu_);
    return static_cast<std::int64_t>(items_.size());
  }

 private:
  lab::Mutex mu_{"queue.lock"};
  std::deque<std::int64_t> items_ LAB_GUARDED_BY(mu_);
};

// A bounded array queue with head and tail counters. Push and pop hold the lock; the planted bug
// is in size(), which reads the two counters without it (each read atomic, the pair not): it can
// see the tail before a push and the head after the pop that followed, or the other way round.
class CountersQueue {
 public:
  explicit CountersQueue(bool size_takes_lock) : size_takes_lock_(size_takes_lock) {}
  void Push(std::int64_t v) {
    lab::MutexLock l(mu_);
    std::int64_t t = tail_.load();
    items_[static_cast<size_t>(t) % items_.size()].store(v);
    tail_.store(t + 1);
  }
  std::optional<std::int64_t> Pop() {
    lab::MutexLock l(mu_);
    std::int64_t h = head_.load();
    if (h == tail_.load()) return std::nullopt;
    std::int64_t v = items_[static_cast<size_t>(h) % items_.size()].load();
    head_.store(h + 1);
    return v;
  }
  std::int64_t Size() {
    if (size_takes_lock_) {
      lab::MutexLock l(mu_);
      return tail_.load() - head_.load();
    }
    std::int64_t t = tail_.load();  // planted: no lock, two separate reads
    std::int64_t h = head_.load();
    return t - h;
  }

 private:
  const bool size_takes_lock_;
  lab::Mutex mu_{"queue.lock"};
  lab::Atomic<std::int64_t> head_{0, "queue.head"};
  lab::Atomic<std::int64_t> tail_{0, "queue.tail"};
  std::array<lab::Atomic<std::int64_t>, 16> items_;
};

// Planted: push writes the item into the slot at `tail` and only then reserves the slot by bumping
// `tail` (no lock, as if only one thread ever pushed). Two concurrent pushes can write the same
// slot: one item is lost and a later pop returns what was never pushed at that position.
class PublishFirstQueue {
 public:
  void Push(std::int64_t v) {
    std::int64_t t = tail_.load();
    items_[static_cast<size_t>(t) % items_.size()].store(v);  // publish...
    tail_.fetch_add(1);                                        // ...then reserve
  }
  std::optional<std::int64_t> Pop() {
    lab::MutexLock l(pop_mu_);
    std::int64_t h = head_.load();
    if (h == tail_.load()) return std::nullopt;
    std::int64_t v = items_[static_cast<size_t>(h) % items_.size()].load();
    head_.store(h + 1);
    return v;
  }
  std::int64_t Size() { return tail_.load() - head_.load(); }

 private:
  lab::Mutex pop_mu_{"queue.pop_lock"};
  lab::Atomic<std::int64_t> head_{0, "queue.head"};
  lab::Atomic<std::int64_t> tail_{0, "queue.tail"};
  std::array<lab::Atomic<std::int64_t>, 16> items_;
};

template <typename Q>
std::vector<OperationDef<Q>> QueueOperations() {
  return {
      {"push", IntArgs(1, 3),
       [](Q& q, const Operation& op) -> Value {
         q.Push(op.Arg(0));
         return {};
       }},
      {"pop", NoArgs(), [](Q& q, const Operation&) { return OrEmpty(q.Pop()); }},
      {"size", NoArgs(), [](Q& q, const Operation&) -> Value { return q.Size(); }},
  };
}

Spec<MutexQueue, std::vector<std::int64_t>, Int64VectorHash> MutexQueueSpec() {
  return {"mutex queue", QueueOperations<MutexQueue>(), QueueModel(), {}};
}

Spec<CountersQueue, std::vector<std::int64_t>, Int64VectorHash> CountersQueueSpec(bool size_takes_lock) {
  return {size_takes_lock ? "counters queue (size under the lock)" : "counters queue (unlocked size)",
          QueueOperations<CountersQueue>(), QueueModel(),
          [size_takes_lock] { return std::make_unique<CountersQueue>(size_takes_lock); }};
}

// --- Counters ------------------------------------------------------------------------------------

class AtomicCounter {
 public:
  std::int64_t Add(std::int64_t d) { return n_.fetch_add(d); }
  std::int64_t Get() { return n_.load(); }

 private:
  lab::Atomic<std::int64_t> n_{0, "counter"};
};

// Planted: read, then write (each atomic, the increment not).
class LoadStoreCounter {
 public:
  std::int64_t Add(std::int64_t d) {
    std::int64_t v = n_.load();
    n_.store(v + d);
    return v;
  }
  std::int64_t Get() { return n_.load(); }

 private:
  lab::Atomic<std::int64_t> n_{0, "counter"};
};

// Planted: plain data, no synchronization at all (a data race before it is a linearizability bug).
class RacyCounter {
 public:
  std::int64_t Add(std::int64_t d) {
    std::int64_t v = n_.read();
    n_.write(v + d);
    return v;
  }
  std::int64_t Get() { return n_.read(); }

 private:
  lab::Shared<std::int64_t> n_{0, "counter"};
};

template <typename C>
Spec<C, std::int64_t> CounterSpec(const char* name) {
  return {name,
          {{"add", IntArgs(1, 2), [](C& c, const Operation& op) -> Value { return c.Add(op.Arg(0)); }},
           {"get", NoArgs(), [](C& c, const Operation&) -> Value { return c.Get(); }}},
          CounterModel(),
          {}};
}

// --- Treiber stack ---------------------------------------------------------------------------------

// Lock-free stack (Treiber 1986). Nodes are kept until the stack is destroyed, so a popped node is
// never reused while another pop may still read it (no ABA, no use after free).
class TreiberStack {
 public:
  void Push(std::int64_t v) {
    Node* n = Allocate(v);
    Node* top = top_.load(std::memory_order_relaxed);
    do {
      n->next = top;
    } while (!top_.compare_exchange_weak(top, n, std::memory_order_release, std::memory_order_relaxed));
  }
  std::optional<std::int64_t> Pop() {
    Node* top = top_.load(std::memory_order_acquire);
    while (top != nullptr &&
           !top_.compare_exchange_weak(top, top->next, std::memory_order_acquire, std::memory_order_acquire)) {
    }
    if (top == nullptr) return std::nullopt;
    return top->value;
  }

 private:
  struct Node {
    std::int64_t value;
    Node* next = nullptr;
  };
  Node* Allocate(std::int64_t v) {
    lab::MutexLock l(arena_mu_);  // the arena is bookkeeping, not part of the algorithm
    arena_.push_back(std::make_unique<Node>(Node{v, nullptr}));
    return arena_.back().get();
  }
  lab::Atomic<Node*> top_{nullptr, "stack.top"};
  lab::Mutex arena_mu_{"stack.arena"};
  std::vector<std::unique_ptr<Node>> arena_ LAB_GUARDED_BY(arena_mu_);
};

Spec<TreiberStack, std::vector<std::int64_t>, Int64VectorHash> TreiberSpec() {
  return {"treiber stack",
          {{"push", IntArgs(1, 3),
            [](TreiberStack& s, const Operation& op) -> Value {
              s.Push(op.Arg(0));
              return {};
            }},
           {"pop", NoArgs(), [](TreiberStack& s, const Operation&) { return OrEmpty(s.Pop()); }}},
          StackModel(),
          {}};
}

// ASan on the lab's fibers costs ~100 ms per execution (fiber stacks, fake stacks) and TSan
// several times the default build: budgets are cut tenfold there (the exploration is
// deterministic, so what the cut budgets catch they catch in every build).
#if defined(IPCLAB_ASAN) || defined(IPCLAB_TSAN)
constexpr int kSlow = 10;
#else
constexpr int kSlow = 1;
#endif

// Under a sanitizer a property runs its first 10 scenarios only.
#define LINCHECK_LIMIT_CASES()                    \
  do {                                            \
    static int cases = 0;                         \
    if (kSlow > 1 && ++cases > 10) return;        \
  } while (0)

Options SmallBudget() {
  Options o;
  o.lab.iterations = 50 / kSlow;
  o.lab.shrink_budget = 200 / kSlow;
  return o;
}

// --- Correct objects pass ------------------------------------------------------------------------

RC_GTEST_PROP(Lincheck, MutexQueueIsLinearizable, ()) { LINCHECK_LIMIT_CASES();
  Check(MutexQueueSpec(), SmallBudget()); }
RC_GTEST_PROP(Lincheck, CountersQueueWithLockedSizeIsLinearizable, ()) {
  LINCHECK_LIMIT_CASES();
  Check(CountersQueueSpec(true), SmallBudget());
}
RC_GTEST_PROP(Lincheck, AtomicCounterIsLinearizable, ()) {
  LINCHECK_LIMIT_CASES();
  Check(CounterSpec<AtomicCounter>("lab::Atomic counter"), SmallBudget());
}
RC_GTEST_PROP(Lincheck, TreiberStackIsLinearizable, ()) { LINCHECK_LIMIT_CASES();
  Check(TreiberSpec(), SmallBudget()); }

// --- Planted bugs are caught -----------------------------------------------------------------------

// Runs the property with rapidcheck (generation and shrinking) and returns the report of the
// smallest failing scenario it met, or "" when it found none.
template <typename S>
std::string FindFailure(const S& spec, const Options& options) {
  struct Smallest {
    size_t ops = SIZE_MAX;
    ScenarioResult result;
  };
  auto smallest = std::make_shared<Smallest>();
  bool passed = rc::check("lincheck finds the planted bug", [&] {
    std::optional<Scenario> from_env = internal::ScenarioFromEnv();  // the report's replay line
    Scenario s = from_env ? *from_env : *GenScenario(spec, options);
    ScenarioResult r = RunScenario(spec, s, options);
    if (!r.ok() && s.operation_count() <= smallest->ops) {
      smallest->ops = s.operation_count();
      smallest->result = r;
    }
    RC_ASSERT(r.ok());
  });
  return passed ? "" : smallest->result.report;
}

TEST(LincheckPlanted, UnlockedSizeOfTheCountersQueueIsCaught) {
  Options o = SmallBudget();
  o.lab.iterations = 100 / kSlow;
  std::string report = FindFailure(CountersQueueSpec(false), o);
  ASSERT_FALSE(report.empty()) << "the planted unlocked size() was not caught";
  std::printf("%s\n", report.c_str());
  for (const char* needle : {"nonlinearizable", "size() -> ", "thread 0", "thread 1",
                             "cannot be placed", "longest linearizable prefix", "The interleaving",
                             "invokes size()", "load queue.tail", "Replay token: lab1.",
                             "LINCHECK_SCENARIO="}) {
    EXPECT_NE(report.find(needle), std::string::npos) << "missing '" << needle << "'";
  }
}

TEST(LincheckPlanted, PublishBeforeReservePushIsCaught) {
  Spec<PublishFirstQueue, std::vector<std::int64_t>, Int64VectorHash> spec{
      "publish-first queue", QueueOperations<PublishFirstQueue>(), QueueModel(), {}};
  spec.operations.pop_back();  // push and pop only: the lost item must show in what pops return
  std::string report = FindFailure(spec, SmallBudget());
  ASSERT_FALSE(report.empty()) << "the planted push was not caught";
  EXPECT_NE(report.find("push("), std::string::npos) << report;
  EXPECT_NE(report.find("cannot be placed"), std::string::npos) << report;
}

TEST(LincheckPlanted, LoadStoreCounterIsCaught) {
  std::string report = FindFailure(CounterSpec<LoadStoreCounter>("load/store counter"), SmallBudget());
  ASSERT_FALSE(report.empty());
  EXPECT_NE(report.find("add(") , std::string::npos) << report;
}

// Other findings of the lab come back with the scenario: here a data race on lab::Shared.
TEST(LincheckPlanted, DataRaceIsReportedAsSuch) {
  auto scenario = Scenario::Parse("add(1) | add(1)");
  ASSERT_TRUE(scenario.has_value());
  ScenarioResult r = RunScenario(CounterSpec<RacyCounter>("racy counter"), *scenario, SmallBudget());
  EXPECT_EQ(r.kind, "data-race") << r.report;
  EXPECT_NE(r.report.find("The lab found a data-race"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("thread 0"), std::string::npos) << r.report;
  EXPECT_NE(r.report.find("Replay token: lab1."), std::string::npos) << r.report;
}

// A fixed scenario: how many schedules each strategy needs to catch the unlocked size().
TEST(LincheckPlanted, SchedulesToCatchTheUnlockedSize) {
  auto scenario = Scenario::Parse("push(1) pop() | size()");
  ASSERT_TRUE(scenario.has_value());
  for (const auto& [label, strategy] : std::vector<std::pair<std::string, lab::StrategySpec>>{
           {"pct:3", lab::Pct{.depth = 3}}, {"random", lab::Random{}}}) {
    std::uint64_t total = 0, caught = 0;
    const int seeds = 10 / kSlow;
    for (int seed = 1; seed <= seeds; ++seed) {
      Options o;
      o.lab.strategy = strategy;
      o.lab.seed = static_cast<std::uint64_t>(seed);
      o.lab.iterations = label == "pct:3" ? 1000 : 1000 / kSlow;
      o.lab.shrink_budget = 0;
      ScenarioResult r = RunScenario(CountersQueueSpec(false), *scenario, o);
      if (!r.ok()) {
        EXPECT_EQ(r.kind, "nonlinearizable");
        ++caught;
        total += r.failing_execution + 1;
      }
    }
    if (label == "pct:3") EXPECT_EQ(caught, static_cast<std::uint64_t>(seeds)) << label;
    std::printf("%s: caught `%s` in %llu of %d seeds, %.1f schedules on average\n", label.c_str(),
                scenario->ToString().c_str(), static_cast<unsigned long long>(caught), seeds,
                caught ? static_cast<double>(total) / caught : 0.0);
  }
}

// The report's replay line reproduces the same outcome in one schedule.
TEST(LincheckPlanted, ReplayReproducesTheOutcome) {
  auto scenario = Scenario::Parse("push(1) pop() | size()");
  ASSERT_TRUE(scenario.has_value());
  Options o;
  o.lab.iterations = 1000;  // stops at the first failure
  ScenarioResult first = RunScenario(CountersQueueSpec(false), *scenario, o);
  ASSERT_EQ(first.kind, "nonlinearizable") << first.report;
  ASSERT_FALSE(first.token.empty());
  setenv("LINCHECK_SCENARIO", scenario->ToString().c_str(), 1);
  setenv("LAB_REPLAY", first.token.c_str(), 1);
  ScenarioResult again = RunScenario(CountersQueueSpec(false), *internal::ScenarioFromEnv(), o);
  unsetenv("LINCHECK_SCENARIO");
  unsetenv("LAB_REPLAY");
  EXPECT_EQ(again.kind, "nonlinearizable") << again.report;
  EXPECT_LE(again.executions, 2u);  // the schedule, and its determinism check
  EXPECT_EQ(again.token, first.token);
  ASSERT_EQ(again.history.size(), first.history.size());
  for (size_t i = 0; i < first.history.size(); ++i) {
    EXPECT_EQ(again.history[i].result, first.history[i].result) << i;
    EXPECT_EQ(again.history[i].invoke, first.history[i].invoke) << i;
  }
}

// Bounded-exhaustive: every interleaving with at most two preemptions (CHESS-style) of the fixed
// scenario. The correct twin passes all of them; the planted queue fails within the same space.
TEST(Lincheck, CorrectTwinPassesTheFixedScenarioExhaustively) {
  auto scenario = Scenario::Parse("push(1) pop() | size()");
  ASSERT_TRUE(scenario.has_value());
  Options o;
  o.lab.strategy = lab::Dfs{.max_preemptions = 2};
  o.lab.iterations = 100000;
  o.lab.shrink_budget = 20;
  ScenarioResult r = RunScenario(CountersQueueSpec(true), *scenario, o);
  EXPECT_TRUE(r.ok()) << r.report;
  EXPECT_TRUE(r.exhausted) << r.report;  // every interleaving in the bound, not a sample
  EXPECT_GT(r.distinct_histories, 1u);
  std::printf("%s", r.report.c_str());
  ScenarioResult planted = RunScenario(CountersQueueSpec(false), *scenario, o);
  EXPECT_EQ(planted.kind, "nonlinearizable") << planted.report;
  std::printf("planted twin: %s after %llu schedules\n", planted.kind.c_str(),
              static_cast<unsigned long long>(planted.failing_execution + 1));
}

}  // namespace
}  // namespace properties::lincheck
