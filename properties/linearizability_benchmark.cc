// How fast the linearizability checker decides histories of 6 threads x 4 operations, with
// memoization and without it (the peer: plain Wing & Gong backtracking), in the same run.
//
//   bazel run -c opt //properties:linearizability_benchmark
//
// Histories are made by AtomicHistory (every operation takes effect at a random point inside its
// interval), so they are linearizable; the "corrupted" cases swap two results first, which most of
// the time makes them not linearizable and forces the search to exhaust every order.
#include <benchmark/benchmark.h>

#include <random>
#include <vector>

#include "properties/history_testing.h"
#include "properties/linearizability.h"
#include "properties/models.h"

namespace properties {
namespace {

using testing::AtomicHistory;
using testing::Call;
using testing::Scripts;

enum Workload { kQueueSmallValues, kQueueUniqueValues, kCounter, kRegister };

History Make(Workload w, std::mt19937_64& rng, bool corrupt) {
  auto pick = [&](size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); };
  Scripts scripts(6);
  for (size_t t = 0; t < 6; ++t) {
    for (size_t k = 0; k < 4; ++k) {
      bool write = pick(2) == 0;
      switch (w) {
        case kQueueSmallValues:
          scripts[t].push_back(write ? Call("push", {static_cast<std::int64_t>(pick(4))}) : Call("pop"));
          break;
        case kQueueUniqueValues:
          scripts[t].push_back(write ? Call("push", {static_cast<std::int64_t>(t * 10 + k)}) : Call("pop"));
          break;
        case kCounter:
          scripts[t].push_back(write ? Call("add", {std::int64_t{1}}) : Call("get"));
          break;
        case kRegister:
          scripts[t].push_back(write ? Call("write", {static_cast<std::int64_t>(pick(4))}) : Call("read"));
          break;
      }
    }
  }
  History h = (w == kCounter)    ? AtomicHistory(CounterModel(), scripts, pick)
              : (w == kRegister) ? AtomicHistory(RegisterModel(), scripts, pick)
                                 : AtomicHistory(QueueModel(), scripts, pick);
  if (corrupt) {
    std::vector<size_t> observers;
    for (size_t i = 0; i < h.size(); ++i) {
      if (!std::holds_alternative<std::monostate>(h[i].result) && h[i].name != "add") observers.push_back(i);
    }
    if (observers.size() >= 2) std::swap(h[observers.front()].result, h[observers.back()].result);
  }
  return h;
}

CheckResult Check(Workload w, const History& h, const CheckOptions& o) {
  switch (w) {
    case kCounter: return CheckLinearizable(h, CounterModel(), o);
    case kRegister: return CheckLinearizable(h, RegisterModel(), o);
    default: return CheckLinearizable(h, QueueModel(), o);
  }
}

// state.range(0): workload; range(1): memoize; range(2): corrupt.
void BM_Check(benchmark::State& state) {
  const auto w = static_cast<Workload>(state.range(0));
  CheckOptions options;
  options.memoize = state.range(1) != 0;
  options.max_search_steps = 2'000'000;
  std::mt19937_64 rng(42);
  std::vector<History> histories;
  for (int i = 0; i < 64; ++i) histories.push_back(Make(w, rng, state.range(2) != 0));
  size_t i = 0;
  std::uint64_t steps = 0, unknown = 0, rejected = 0, checked = 0;
  for (auto _ : state) {
    CheckResult r = Check(w, histories[i++ % histories.size()], options);
    steps += r.search_steps;
    unknown += r.verdict == Verdict::kUnknown;
    rejected += r.verdict == Verdict::kNotLinearizable;
    ++checked;
  }
  state.counters["steps/history"] = static_cast<double>(steps) / checked;
  state.counters["unknown%"] = 100.0 * unknown / checked;
  state.counters["rejected%"] = 100.0 * rejected / checked;
}

void Args(benchmark::internal::Benchmark* b) {
  b->ArgNames({"workload", "memo", "corrupt"});
  for (int w : {kQueueSmallValues, kQueueUniqueValues, kCounter, kRegister}) {
    for (int corrupt : {0, 1}) {
      for (int memo : {1, 0}) b->Args({w, memo, corrupt});
    }
  }
  b->Unit(benchmark::kMicrosecond);
}
BENCHMARK(BM_Check)->Apply(Args);

}  // namespace
}  // namespace properties

BENCHMARK_MAIN();
