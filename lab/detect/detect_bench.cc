// Throughput of the lab's detectors, each against a simple peer measured in the same run:
// - the FastTrack race detector (epochs) against a DJIT+-style detector that keeps full vector
//   clocks for every location's reads and writes, on the same event stream;
// - the lock-order detector in steady state (orders already known), next to an uncontended
//   std::mutex lock/unlock for scale;
// - GraphCycles while a lock graph grows, against a brute-force depth-first cycle check on every
//   new edge.
// Items/s are accesses, acquisitions or edge insertions per second.
//   bazel run -c opt //lab/detect:detect_bench
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cstdint>
#include <mutex>
#include <random>
#include <unordered_map>
#include <vector>

#include "lab/detect/graphcycles.h"
#include "lab/detect/lock_order.h"
#include "lab/detect/race.h"
#include "lab/detect/vector_clock.h"

namespace lab {
namespace {

constexpr ObjectId kLocations = 64;
constexpr int kEventsPerExecution = 4096;

// One execution's events: threads take turns; each access is under the lock that guards its
// location (a correct program, so no race is reported and every check runs to the end).
struct Event {
  ThreadId thread;
  ObjectId location;
  bool is_write;
};

std::vector<Event> MakeEvents(ThreadId threads) {
  std::mt19937 rng(1);
  std::vector<Event> events;
  for (int i = 0; i < kEventsPerExecution; ++i) {
    events.push_back(Event{static_cast<ThreadId>(1 + rng() % threads), 1000 + rng() % kLocations,
                           rng() % 4 == 0});
  }
  return events;
}

ObjectId LockOf(ObjectId location) { return location % 8; }

template <typename Detector>
void RunRaceBenchmark(benchmark::State& state) {
  const ThreadId threads = static_cast<ThreadId>(state.range(0));
  const std::vector<Event> events = MakeEvents(threads);
  Detector d;
  std::size_t races = 0;
  for (auto _ : state) {
    d.Reset(threads);
    for (ThreadId t = 1; t <= threads; ++t) d.OnSpawn(0, t);
    StepIndex step = 0;
    for (const Event& e : events) {
      d.OnAcquire(e.thread, LockOf(e.location));
      races += d.OnAccess(e.thread, e.location, e.is_write, step++).has_value();
      d.OnRelease(e.thread, LockOf(e.location));
    }
  }
  if (races != 0) state.SkipWithError("a correct program raced");
  state.SetItemsProcessed(state.iterations() * kEventsPerExecution);
}

// The peer: DJIT+ (Pozniansky & Schuster), full vector clocks for reads and writes per location.
// Its event methods are kept out of line, as the library's are, so both pay one call per event.
class FullClockRaceDetector {
 public:
  void Reset(ThreadId threads) {
    threads_.assign(threads + 1, VectorClock());
    for (ThreadId t = 0; t <= threads; ++t) threads_[t].Set(t, 1);
    sync_.clear();
    reads_.clear();
    writes_.clear();
  }
  [[gnu::noinline]] void OnSpawn(ThreadId parent, ThreadId child) {
    threads_[child].Join(threads_[parent]);
    threads_[parent].Tick(parent);
  }
  [[gnu::noinline]] void OnAcquire(ThreadId t, ObjectId s) { threads_[t].Join(sync_[s]); }
  [[gnu::noinline]] void OnRelease(ThreadId t, ObjectId s) {
    sync_[s].Join(threads_[t]);
    threads_[t].Tick(t);
  }
  [[gnu::noinline]] std::optional<Race> OnAccess(ThreadId t, ObjectId x, bool is_write,
                                                 StepIndex step) {
    const VectorClock& now = threads_[t];
    VectorClock& w = writes_[x];
    VectorClock& r = reads_[x];
    bool race = !now.Covers(w) || (is_write && !now.Covers(r));
    (is_write ? w : r).Set(t, now.Get(t));
    if (!race) return std::nullopt;
    return Race{x, Access{}, Access{t, is_write, step}};
  }

 private:
  std::vector<VectorClock> threads_;
  std::unordered_map<ObjectId, VectorClock> sync_, reads_, writes_;
};

struct FastTrack : RaceDetector {
  void Reset(ThreadId) { RaceDetector::Reset(); }
};

void BM_Race_FastTrack(benchmark::State& state) { RunRaceBenchmark<FastTrack>(state); }
void BM_Race_FullVectorClocks(benchmark::State& state) {
  RunRaceBenchmark<FullClockRaceDetector>(state);
}
BENCHMARK(BM_Race_FastTrack)->Arg(4)->Arg(32);
BENCHMARK(BM_Race_FullVectorClocks)->Arg(4)->Arg(32);

// Lock-order detector in steady state: every thread takes 3 nested locks of 16 in a consistent
// (ascending) order; after the first execution every order is known.
void BM_LockOrder_SteadyState(benchmark::State& state) {
  std::mt19937 rng(2);
  LockOrderDetector d;
  StepIndex step = 0;
  std::int64_t acquisitions = 0;
  std::size_t cycles = 0;
  for (auto _ : state) {
    ThreadId t = rng() % 4;
    ObjectId a = rng() % 16, b = a + 1 + rng() % 8, c = b + 1 + rng() % 8;
    d.OnAcquired(t, a, step++);
    d.OnAcquired(t, b, step++);
    d.OnAcquired(t, c, step++);
    d.OnReleased(t, c);
    d.OnReleased(t, b);
    d.OnReleased(t, a);
    cycles += d.TakeNewCycle().has_value();
    acquisitions += 3;
  }
  if (cycles != 0) state.SkipWithError("a consistent order reported a cycle");
  state.SetItemsProcessed(acquisitions);
}
BENCHMARK(BM_LockOrder_SteadyState);

// Reference: an uncontended std::mutex lock/unlock, the operation the detector is attached to.
void BM_Reference_StdMutexLockUnlock(benchmark::State& state) {
  std::mutex mu;
  for (auto _ : state) {
    mu.lock();
    benchmark::ClobberMemory();
    mu.unlock();
  }
  state.SetItemsProcessed(state.iterations());
}
BENCHMARK(BM_Reference_StdMutexLockUnlock);

// Graph growth as a lock graph grows: locks have a hidden intended order (a random permutation
// of their ids, unrelated to creation order) and most new orders follow it; 1 in 50 goes against
// it, as an inversion would. Each edge is checked for a cycle before being added.
std::vector<std::pair<int, int>> RandomEdges(int n, int count) {
  std::mt19937 rng(3);
  std::vector<int> order(n);
  for (int i = 0; i < n; ++i) order[i] = i;
  std::shuffle(order.begin(), order.end(), rng);
  std::vector<std::pair<int, int>> edges;
  while (static_cast<int>(edges.size()) < count) {
    int a = static_cast<int>(rng() % n), b = static_cast<int>(rng() % n);
    if (a == b) continue;
    if (a > b) std::swap(a, b);
    if (rng() % 50 == 0) std::swap(a, b);
    edges.emplace_back(order[a], order[b]);
  }
  return edges;
}

void BM_Graph_PearceKelly(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto edges = RandomEdges(n, 4 * n);
  std::size_t accepted = 0;
  for (auto _ : state) {
    GraphCycles g;
    for (int i = 0; i < n; ++i) g.NewNode();
    for (auto [a, b] : edges) accepted += g.InsertEdge(a, b);
  }
  benchmark::DoNotOptimize(accepted);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(edges.size()));
}

// The peer: an adjacency list and a full depth-first search from `to` for every new edge.
void BM_Graph_BruteForceDfs(benchmark::State& state) {
  const int n = static_cast<int>(state.range(0));
  const auto edges = RandomEdges(n, 4 * n);
  std::size_t accepted = 0;
  std::vector<int> stack;
  std::vector<char> seen;
  for (auto _ : state) {
    std::vector<std::vector<int>> out(n);
    for (auto [a, b] : edges) {
      seen.assign(n, 0);
      stack.assign(1, b);
      bool cycle = false;
      while (!stack.empty() && !cycle) {
        int c = stack.back();
        stack.pop_back();
        if (c == a) cycle = true;
        if (seen[c]) continue;
        seen[c] = 1;
        for (int w : out[c]) stack.push_back(w);
      }
      if (cycle) continue;
      bool present = false;
      for (int w : out[a]) present |= w == b;
      if (!present) out[a].push_back(b);
      ++accepted;
    }
  }
  benchmark::DoNotOptimize(accepted);
  state.SetItemsProcessed(state.iterations() * static_cast<std::int64_t>(edges.size()));
}
BENCHMARK(BM_Graph_PearceKelly)->Arg(64)->Arg(1024)->Arg(8192);
BENCHMARK(BM_Graph_BruteForceDfs)->Arg(64)->Arg(1024)->Arg(8192);

}  // namespace
}  // namespace lab

BENCHMARK_MAIN();
