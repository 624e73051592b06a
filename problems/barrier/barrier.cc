#include "problems/barrier/barrier.h"

#include <array>
#include <functional>
#include <string>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

constexpr int kThreads = 3;
constexpr int kPhases = 3;

void ReleaseN(lab::Semaphore& s, int n) {
  for (int i = 0; i < n; ++i) s.release();
}

// Each thread announces its arrival at phase p, crosses the barrier, then checks that all
// kThreads have arrived at phase p.
template <class Wait>
void RunPhases(const Wait& barrier_wait) {
  std::array<lab::Atomic<int>, kPhases> arrived{};
  std::vector<lab::Thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.push_back(lab::Thread([&] {
      for (int p = 0; p < kPhases; ++p) {
        arrived[p].fetch_add(1);
        barrier_wait();
        LAB_ASSERT_MSG(arrived[p].load() == kThreads,
                   "passed the barrier before every thread arrived (a thread lapped)");
      }
    }));
  }
  for (lab::Thread& t : threads) t.join();
}

void TwoTurnstile() {
  lab::Mutex mutex{"mutex"};
  lab::Shared<int> count{0, "count"};
  lab::Semaphore turnstile_in(0, "turnstile_in"), turnstile_out(0, "turnstile_out");
  RunPhases([&] {
    mutex.lock();
    count.write(count.read() + 1);
    if (count.read() == kThreads) ReleaseN(turnstile_in, kThreads);  // last in opens the door
    mutex.unlock();
    turnstile_in.acquire();
    mutex.lock();
    count.write(count.read() - 1);
    if (count.read() == 0) ReleaseN(turnstile_out, kThreads);  // last out lets all leave
    mutex.unlock();
    turnstile_out.acquire();  // nobody leaves (and laps) before everyone is past turnstile_in
  });
}

void OneTurnstile() {
  lab::Mutex mutex{"mutex"};
  lab::Shared<int> count{0, "count"};
  lab::Semaphore turnstile(0, "turnstile");
  RunPhases([&] {
    mutex.lock();
    count.write(count.read() + 1);
    if (count.read() == kThreads) {
      count.write(0);
      ReleaseN(turnstile, kThreads);
    }
    mutex.unlock();
    // BUG: the permits are not tied to a phase. A thread that gets through first can reach the
    // next barrier and take a permit that was left for a slower thread of this phase.
    turnstile.acquire();
  });
}

}  // namespace

void RegisterBarrier(Catalogue& catalogue) {
  const std::string doc = "docs/problems/barrier.md";
  catalogue.Add({
      .name = "barrier/two_turnstile",
      .expected = "clean",
      .description = "reusable barrier with two turnstiles (in, then out)",
      .explanation =
          "Nobody can reach the next phase's first turnstile before every thread has passed "
          "this phase's first turnstile, because the second turnstile opens only when the last "
          "thread has gone through the first.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 1000, .depth = 3},
      .body = TwoTurnstile,
  });
  catalogue.Add({
      .name = "barrier/one_turnstile",
      .expected = "assertion-failure",
      .description = "one turnstile reset by the last arrival: a fast thread laps a slow one",
      .explanation =
          "The last arrival posts one permit per thread and resets the count. A thread that gets "
          "its permit first runs its next phase, arrives at the barrier again and takes a permit "
          "that was posted for a slower thread still sleeping in the previous phase: it crosses "
          "a barrier that not everyone has reached. Fix: a second turnstile (two_turnstile).",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 300, .depth = 3},
      .body = OneTurnstile,
  });
}

}  // namespace problems
