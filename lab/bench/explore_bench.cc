// Executions per second of a small 2-thread test under lab::Explore (fibers, random strategy),
// against the same body run on 2 real std::threads created and joined, measured in the same run.
// design.md's bar: creating and joining two std::threads costs ~70 us, ~14,000 executions/s.
//
//   bazel run -c opt //lab/bench:explore_bench
// prints both rates and "ratio lab/std::thread = X" at the end.
#include <benchmark/benchmark.h>

#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <thread>

#include "lab/explore.h"
#include "lab/sync/sync.h"

namespace {

constexpr int kIncrements = 2;   // per thread: each a lock, a read-modify-write, an unlock

void LabBody() {
  lab::Mutex m;
  int counter = 0;
  auto work = [&] {
    for (int i = 0; i < kIncrements; ++i) {
      lab::MutexLock l(m);
      ++counter;
    }
  };
  lab::Thread a(work), b(work);
  a.join();
  b.join();
  LAB_ASSERT(counter == 2 * kIncrements);
}

void BM_LabExplore(benchmark::State& state) {
  const int per_call = static_cast<int>(state.range(0));
  std::uint64_t executions = 0, steps = 0;
  for (auto _ : state) {
    auto r = lab::Explore({.iterations = per_call, .read_env = false, .quiet = true}, LabBody);
    if (!r.clean()) state.SkipWithError("the benchmark body has a finding");
    executions += r.executions;
    steps += r.steps;
  }
  state.counters["executions/s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
  state.counters["steps/s"] = benchmark::Counter(static_cast<double>(steps), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_LabExplore)->Arg(1000)->Unit(benchmark::kMillisecond)->UseRealTime();

void BM_StdThread(benchmark::State& state) {
  std::uint64_t executions = 0;
  for (auto _ : state) {
    std::mutex m;
    int counter = 0;
    auto work = [&] {
      for (int i = 0; i < kIncrements; ++i) {
        std::lock_guard l(m);
        ++counter;
      }
    };
    std::thread a(work), b(work);
    a.join();
    b.join();
    benchmark::DoNotOptimize(counter);
    ++executions;
  }
  state.counters["executions/s"] = benchmark::Counter(static_cast<double>(executions), benchmark::Counter::kIsRate);
}
BENCHMARK(BM_StdThread)->Unit(benchmark::kMicrosecond)->UseRealTime();

// Remembers each benchmark's executions/s to print the ratio after the table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& run : runs) {
      auto it = run.counters.find("executions/s");
      if (it != run.counters.end()) rates_[run.run_name.function_name] = it->second.value;
    }
  }
  std::map<std::string, double> rates_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  auto lab_rate = reporter.rates_["BM_LabExplore"];
  auto std_rate = reporter.rates_["BM_StdThread"];
  if (lab_rate > 0 && std_rate > 0) {
    std::printf("lab executions/s %.0f, std::thread executions/s %.0f, ratio lab/std::thread = %.2f\n",
                lab_rate, std_rate, lab_rate / std_rate);
  }
  benchmark::Shutdown();
  return 0;
}
