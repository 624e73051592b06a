// The race detector against a brute-force happens-before model. Random executions (spawns,
// joins, acquires and releases of a few synchronization objects, reads and writes of a few
// locations) are checked against an explicit event graph: program order, release -> every later
// acquire of the same object, spawn -> the child's first event, the child's last event -> join;
// happens-before is reachability in it. The detector must be sound (every race it reports is a
// conflicting pair unordered in the model) and precise up to each location's first race (it
// reports at exactly the first access that races with an earlier one).
// rapidcheck/gtest.h needs GoogleTest declared first.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <set>
#include <vector>

#include "lab/detect/race.h"

namespace lab {
namespace {

enum class Kind { kSpawn, kJoin, kAcquire, kRelease, kRead, kWrite };

struct Event {
  ThreadId thread;
  Kind kind;
  ThreadId other = kNoThread;   // spawned / joined thread
  ObjectId object = kNoObject;  // sync object or location
};

constexpr ThreadId kMaxThreads = 4;

std::vector<Event> RandomExecution() {
  const int steps = *rc::gen::inRange(1, 60);
  std::vector<bool> live{true};
  std::vector<Event> events;
  for (int i = 0; i < steps; ++i) {
    std::vector<ThreadId> running;
    for (ThreadId t = 0; t < live.size(); ++t) {
      if (live[t]) running.push_back(t);
    }
    const ThreadId t = *rc::gen::elementOf(running);
    if (t == 0) {
      const int control = *rc::gen::inRange(0, 4);
      if (control == 0 && live.size() < kMaxThreads) {
        ThreadId child = static_cast<ThreadId>(live.size());
        live.push_back(true);
        events.push_back({0, Kind::kSpawn, child});
        continue;
      }
      if (control == 1 && running.size() > 1) {
        ThreadId child = running[1 + *rc::gen::inRange<std::size_t>(0, running.size() - 1)];
        live[child] = false;
        events.push_back({0, Kind::kJoin, child});
        continue;
      }
    }
    // Accesses outnumber synchronization, so unordered pairs are common.
    const int action = *rc::gen::inRange(0, 10);
    const ObjectId which = *rc::gen::inRange<ObjectId>(0, 2);
    if (action <= 1) {
      events.push_back({t, Kind::kAcquire, kNoThread, 1 + which});
    } else if (action <= 3) {
      events.push_back({t, Kind::kRelease, kNoThread, 1 + which});
    } else {
      events.push_back({t, action <= 6 ? Kind::kRead : Kind::kWrite, kNoThread, 100 + which});
    }
  }
  return events;
}

// hb[i][j]: event i happens before event j (i < j).
std::vector<std::vector<bool>> HappensBefore(const std::vector<Event>& events) {
  const std::size_t n = events.size();
  std::vector<std::vector<std::size_t>> succ(n);
  std::vector<std::size_t> last_of(kMaxThreads, n);
  for (std::size_t j = 0; j < n; ++j) {
    const Event& e = events[j];
    if (last_of[e.thread] != n) succ[last_of[e.thread]].push_back(j);  // program order
    last_of[e.thread] = j;
    for (std::size_t i = 0; i < j; ++i) {
      const Event& p = events[i];
      if (e.kind == Kind::kAcquire && p.kind == Kind::kRelease && p.object == e.object) {
        succ[i].push_back(j);
      }
      if (p.kind == Kind::kSpawn && p.other == e.thread) succ[i].push_back(j);
    }
    if (e.kind == Kind::kJoin && last_of[e.other] != n) succ[last_of[e.other]].push_back(j);
    if (e.kind == Kind::kSpawn) last_of[e.other] = n;  // a fresh thread
  }
  std::vector<std::vector<bool>> hb(n, std::vector<bool>(n, false));
  for (std::size_t i = 0; i < n; ++i) {
    std::vector<std::size_t> stack(succ[i].begin(), succ[i].end());
    while (!stack.empty()) {
      std::size_t k = stack.back();
      stack.pop_back();
      if (hb[i][k]) continue;
      hb[i][k] = true;
      stack.insert(stack.end(), succ[k].begin(), succ[k].end());
    }
  }
  return hb;
}

RC_GTEST_PROP(LabRaceProperty, SoundAndPreciseUpToTheFirstRace, ()) {
  const std::vector<Event> events = RandomExecution();
  const auto hb = HappensBefore(events);
  RaceDetector detector;
  std::set<ObjectId> raced;
  for (std::size_t j = 0; j < events.size(); ++j) {
    const Event& e = events[j];
    switch (e.kind) {
      case Kind::kSpawn:
        detector.OnSpawn(e.thread, e.other);
        break;
      case Kind::kJoin:
        detector.OnJoin(e.thread, e.other);
        break;
      case Kind::kAcquire:
        detector.OnAcquire(e.thread, e.object);
        break;
      case Kind::kRelease:
        detector.OnRelease(e.thread, e.object);
        break;
      case Kind::kRead:
      case Kind::kWrite: {
        const bool is_write = e.kind == Kind::kWrite;
        std::set<StepIndex> racing;
        for (std::size_t i = 0; i < j; ++i) {
          const Event& p = events[i];
          if ((p.kind == Kind::kRead || p.kind == Kind::kWrite) && p.object == e.object &&
              (is_write || p.kind == Kind::kWrite) && !hb[i][j]) {
            racing.insert(i);
          }
        }
        auto race = detector.OnAccess(e.thread, e.object, is_write, j);
        if (race) {
          RC_ASSERT(race->location == e.object);
          RC_ASSERT(race->later == (Access{e.thread, is_write, j}));
          RC_ASSERT(racing.contains(race->earlier.step));
          const Event& p = events[race->earlier.step];
          RC_ASSERT(race->earlier.thread == p.thread);
          RC_ASSERT(race->earlier.is_write == (p.kind == Kind::kWrite));
        }
        if (!raced.contains(e.object)) RC_ASSERT(race.has_value() == !racing.empty());
        if (race || !racing.empty()) raced.insert(e.object);
        break;
      }
    }
  }
}

}  // namespace
}  // namespace lab
