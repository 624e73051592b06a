// properties/lincheck.h: linearizability testing of a concurrent object under the lab scheduler,
// as Lincheck does for the JVM.
//
// You declare the object's operations and a sequential model; rapidcheck generates small
// concurrent scenarios (2-3 threads x a few operations), the lab explores each scenario's
// interleavings (PCT by default, a budget of schedules), every execution's history is recorded
// (each operation bracketed by two scheduling points, so its interval is measured in the lab's
// steps) and the checker (properties/linearizability.h) decides it. A failure reports the shrunk
// scenario as a table of threads x operations with results, where the search for an order got
// stuck, the interleaving that produced the outcome step by step, and the command that replays it.
//
//   struct Queue { ... uses lab::Mutex / lab::Atomic / lab::Shared ... };
//
//   const properties::lincheck::Spec<Queue, std::vector<std::int64_t>,
//                                    properties::Int64VectorHash> kSpec{
//       .name = "mutex queue",
//       .operations = {
//           {"push", properties::lincheck::IntArgs(0, 3),
//            [](Queue& q, const properties::Operation& op) -> properties::Value {
//              q.Push(op.Arg(0)); return {}; }},
//           {"pop", properties::lincheck::NoArgs(),
//            [](Queue& q, const properties::Operation&) -> properties::Value {
//              auto v = q.Pop(); return v ? properties::Value(*v) : properties::Empty{}; }},
//       },
//       .model = properties::QueueModel(),
//   };
//
//   RC_GTEST_PROP(MutexQueue, IsLinearizable, ()) {
//     properties::lincheck::Check(kSpec, {});   // RC_FAILs with the report
//   }
//
// Reproducing a failure: the report ends with
//   LINCHECK_SCENARIO='push(1) pop() | size()' LAB_REPLAY=lab1.pct.... <the test binary>
// With LINCHECK_SCENARIO set, Check runs that scenario (instead of generated ones); with LAB_REPLAY
// also set, exactly that schedule. LINCHECK_SCHEDULES=N overrides the schedule budget per scenario.
//
// Operations must touch shared state only through the lab/sync facade (lab::Mutex, lab::Atomic,
// lab::Shared, ...): the lab interleaves threads only at facade operations. A data race, deadlock
// or crash inside an operation is reported as that finding, with the scenario.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <exception>
#include <type_traits>
#include <string>
#include <unordered_map>
#include <vector>

#include <rapidcheck.h>

#include "lab/explore.h"
#include "lab/sync/sync.h"
#include "properties/linearizability.h"
#include "properties/scenario.h"

namespace properties::lincheck {

// One operation of the object: its name, how its arguments are generated, how it runs.
template <typename Object>
struct OperationDef {
  std::string name;
  rc::Gen<std::vector<Value>> args;
  // Runs the operation on the object (from a controlled thread) and returns its result
  // (std::monostate for a void operation). `op.Arg(i)` reads an integer argument.
  std::function<Value(Object&, const Operation& op)> run;
};

template <typename Object, typename State, typename Hash = std::hash<State>>
struct Spec {
  std::string name;
  std::vector<OperationDef<Object>> operations;
  Model<State, Hash> model;
  // Builds a fresh object for each execution; default: std::make_unique<Object>().
  std::function<std::unique_ptr<Object>()> make;
};

rc::Gen<std::vector<Value>> NoArgs();
// One integer argument in [lo, hi].
rc::Gen<std::vector<Value>> IntArgs(std::int64_t lo, std::int64_t hi);

struct Options {
  int min_threads = 2;
  int max_threads = 3;
  int min_ops_per_thread = 1;
  int max_ops_per_thread = 3;
  // The exploration of one scenario. `iterations` is the schedule budget; the first
  // nonlinearizable execution stops it. read_env is ignored (lincheck reads its own knobs); the
  // seed is mixed with a hash of the scenario, so each scenario gets its own schedules.
  lab::Options lab{.strategy = lab::Pct{.depth = 3}, .iterations = 200, .shrink_budget = 200};
  CheckOptions check;
};

// The outcome of exploring one scenario.
struct ScenarioResult {
  Scenario scenario;
  std::uint64_t executions = 0;          // schedules explored
  std::uint64_t distinct_histories = 0;  // different outcomes among them
  std::uint64_t unknown = 0;             // histories the checker's bound left undecided
  bool exhausted = false;                // DFS covered every interleaving
  // Set when an execution failed: "nonlinearizable", or the lab's finding kind (data-race, ...).
  std::string kind;
  std::uint64_t failing_execution = 0;   // its index (0-based): schedules to catch it
  std::string token;                     // LAB_REPLAY token of the (shrunk) failing schedule
  History history;                       // its history, intervals in lab steps
  CheckResult check;                     // the checker's verdict on it
  std::string report;                    // everything above, for humans

  bool ok() const { return kind.empty(); }
};

namespace internal {

// Scheduling points that bracket each operation; the report finds them by their source file.
inline void Mark(std::source_location loc = std::source_location::current()) { lab::progress(loc); }

// The non-template half (lincheck.cc): the exploration driver and the report.
struct Erased {
  std::string name;
  // Runs `scenario` once under the current execution, recording its history into `out` as it goes
  // (an execution cut short leaves pending operations). Times: the order events happened in.
  std::function<void(const Scenario&, History* out)> execute;
  std::function<CheckResult(const History&)> check;
};
ScenarioResult RunScenario(const Erased& erased, const Scenario& scenario, const Options& options);
std::optional<Scenario> ScenarioFromEnv();
void FailProperty(const ScenarioResult& r);  // RC_FAIL with the report

}  // namespace internal

// Generates a scenario from the spec's operations.
template <typename Object, typename State, typename Hash>
rc::Gen<Scenario> GenScenario(const Spec<Object, State, Hash>& spec, const Options& options) {
  std::vector<rc::Gen<Operation>> ops;
  for (const auto& def : spec.operations) {
    ops.push_back(rc::gen::map(def.args, [name = def.name](std::vector<Value> args) {
      Operation op;
      op.name = name;
      op.args = std::move(args);
      return op;
    }));
  }
  // Uniform over the operations and their arguments whatever rapidcheck's size (inRange scales
  // with it); shrinks towards the first declared operation and the smallest arguments.
  rc::Gen<Operation> any = rc::gen::resize(
      rc::kNominalSize,
      rc::gen::mapcat(rc::gen::inRange<size_t>(0, ops.size()), [ops](size_t i) { return ops[i]; }));
  // Containers (not fixed counts) so that rapidcheck shrinks a scenario by removing operations
  // and threads; the size bounds are kept by suchThat.
  const auto min_ops = static_cast<size_t>(options.min_ops_per_thread);
  const auto min_threads = static_cast<size_t>(options.min_threads);
  auto thread = rc::gen::suchThat(
      rc::gen::resize(options.max_ops_per_thread, rc::gen::container<std::vector<Operation>>(any)),
      [min_ops](const std::vector<Operation>& ops) { return ops.size() >= min_ops; });
  auto threads = rc::gen::suchThat(
      rc::gen::resize(options.max_threads,
                      rc::gen::container<std::vector<std::vector<Operation>>>(thread)),
      [min_threads](const std::vector<std::vector<Operation>>& t) { return t.size() >= min_threads; });
  return rc::gen::map(threads, [](std::vector<std::vector<Operation>> t) {
    Scenario s;
    s.threads = std::move(t);
    return s;
  });
}

// Explores `scenario`'s interleavings and checks every outcome.
template <typename Object, typename State, typename Hash>
ScenarioResult RunScenario(const Spec<Object, State, Hash>& spec, const Scenario& scenario,
                           const Options& options = {}) {
  internal::Erased erased;
  erased.name = spec.name;
  // What one execution needs. On a normal end it is freed after the joins; when the lab cuts an
  // execution short (a finding elsewhere) the threads are unwound without a join, so freeing it
  // then would look to TSan like a free racing with their last reads: it is kept until the
  // exploration is over instead (`graveyard`, freed by the caller of Explore).
  struct ExecutionState {
    std::unique_ptr<Object> object;
    std::unordered_map<std::string, const OperationDef<Object>*> defs;
    std::vector<std::vector<size_t>> slots;
    // Only one controlled thread runs at a time, so this counter gives the order events happened
    // in. Atomic (not a lab::Atomic: no scheduling point) because the threads share it outside
    // the facade's synchronization, and TSan must not flag the harness's own bookkeeping.
    std::atomic<Clock> clock{0};
  };
  auto graveyard = std::make_shared<std::vector<std::unique_ptr<ExecutionState>>>();
  erased.execute = [&spec, graveyard](const Scenario& s, History* out) {
    auto owned = std::make_unique<ExecutionState>();
    ExecutionState* st = owned.get();
    struct Keeper {
      std::unique_ptr<ExecutionState>& owned;
      std::vector<std::unique_ptr<ExecutionState>>& graveyard;
      ~Keeper() {
        if (std::uncaught_exceptions() > 0) graveyard.push_back(std::move(owned));
      }
    } keeper{owned, *graveyard};
    if (spec.make) {
      st->object = spec.make();
    } else if constexpr (std::is_default_constructible_v<Object>) {
      st->object = std::make_unique<Object>();
    }
    LAB_ASSERT_MSG(st->object != nullptr, "lincheck: Spec::make is needed for " + spec.name);
    for (const auto& d : spec.operations) st->defs[d.name] = &d;
    History& history = *out;
    history.clear();
    st->slots.resize(s.threads.size());
    for (size_t t = 0; t < s.threads.size(); ++t) {
      for (const Operation& op : s.threads[t]) {
        st->slots[t].push_back(history.size());
        history.push_back(op);
        history.back().thread = static_cast<int>(t);
      }
    }
    std::vector<lab::Thread> threads;
    threads.reserve(s.threads.size());
    for (size_t t = 0; t < s.threads.size(); ++t) {
      threads.push_back(lab::Thread([st, &history, t] {
        for (size_t i : st->slots[t]) {
          Operation& op = history[i];
          auto it = st->defs.find(op.name);
          internal::Mark();
          op.invoke = st->clock.fetch_add(1, std::memory_order_relaxed) + 1;
          Value result = it == st->defs.end() ? Value(std::string("<unknown operation>"))
                                              : it->second->run(*st->object, op);
          internal::Mark();
          op.result = std::move(result);
          op.response = st->clock.fetch_add(1, std::memory_order_relaxed) + 1;
        }
      }));
    }
    for (auto& th : threads) th.join();
  };
  erased.check = [&spec, check = options.check](const History& h) {
    return CheckLinearizable(h, spec.model, check);
  };
  return internal::RunScenario(erased, scenario, options);
}

// Inside a rapidcheck property: generates a scenario (or takes LINCHECK_SCENARIO), explores it and
// fails the property with the report when an execution is not linearizable (or the lab finds
// another bug). rapidcheck then shrinks the scenario; the report printed is the shrunk one's.
template <typename Object, typename State, typename Hash>
void Check(const Spec<Object, State, Hash>& spec, const Options& options) {
  std::optional<Scenario> scenario = internal::ScenarioFromEnv();
  if (!scenario) scenario = *GenScenario(spec, options);
  ScenarioResult r = RunScenario(spec, *scenario, options);
  if (!r.ok()) internal::FailProperty(r);
}

}  // namespace properties::lincheck
