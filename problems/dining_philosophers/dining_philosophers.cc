#include "problems/dining_philosophers/dining_philosophers.h"

#include <array>
#include <chrono>
#include <functional>
#include <utility>
#include <vector>

#include "lab/sync/sync.h"

namespace problems {
namespace {

using std::chrono::microseconds;

constexpr int kPhilosophers = 5;  // the names below (fork 0..4) assume five
constexpr int kMeals = 2;
constexpr microseconds kThinkTime{1000};
constexpr microseconds kEatTime{1000};
constexpr microseconds kReachTime{100};  // between the first and the second fork

int LeftFork(int p) { return p; }
int RightFork(int p) { return (p + 1) % kPhilosophers; }

// Who is using each fork; a neighbour writing it while we eat is a data race the lab reports.
struct Table {
  std::array<lab::Shared<int>, kPhilosophers> used_by{
      lab::Shared<int>(-1, "fork 0 user"), lab::Shared<int>(-1, "fork 1 user"),
      lab::Shared<int>(-1, "fork 2 user"), lab::Shared<int>(-1, "fork 3 user"),
      lab::Shared<int>(-1, "fork 4 user")};

  void Eat(int p) {
    used_by[LeftFork(p)].write(p);
    used_by[RightFork(p)].write(p);
    lab::sleep_for(kEatTime);
    LAB_ASSERT_MSG(used_by[LeftFork(p)].read() == p && used_by[RightFork(p)].read() == p,
               "a neighbour used my fork while I was eating");
    lab::progress();  // a meal is progress: the livelock and starvation bounds count from here
  }
};

// Runs the table: `pick_up(p)` and `put_down(p)` are the protocol.
template <class PickUp, class PutDown>
void Dine(Table& table, const PickUp& pick_up, const PutDown& put_down) {
  std::vector<lab::Thread> philosophers;
  for (int p = 0; p < kPhilosophers; ++p) {
    philosophers.push_back(lab::Thread([&, p] {
      for (int meal = 0; meal < kMeals; ++meal) {
        lab::sleep_for(kThinkTime);
        pick_up(p);
        table.Eat(p);
        put_down(p);
      }
    }));
  }
  for (lab::Thread& t : philosophers) t.join();
}

// ---- forks as mutexes: naive and resource ordering ----
void ForkMutexes(bool ordered) {
  // The forks are taken in one callback and released in another: beyond the static analysis.
  Table table;
  std::array<lab::Mutex, kPhilosophers> forks{lab::Mutex("fork 0"), lab::Mutex("fork 1"),
                                               lab::Mutex("fork 2"), lab::Mutex("fork 3"),
                                               lab::Mutex("fork 4")};
  // The lab numbers objects in the order of first use, per execution, and its lock-order graph
  // spans executions; touching the forks once in order keeps "fork i" the same node in every
  // execution (otherwise orders from different executions mix into phantom cycles).
  for (lab::Mutex& f : forks) {
    f.lock();
    f.unlock();
  }
  Dine(
      table,
      [&](int p) LAB_NO_THREAD_SAFETY_ANALYSIS {
        int first = LeftFork(p), second = RightFork(p);
        if (ordered && first > second) std::swap(first, second);  // lower number first
        forks[first].lock();
        lab::sleep_for(kReachTime);
        forks[second].lock();  // naive: all five hold their left fork and wait here
      },
      [&](int p) LAB_NO_THREAD_SAFETY_ANALYSIS {
        forks[RightFork(p)].unlock();
        forks[LeftFork(p)].unlock();
      });
}

// ---- waiter: an arbitrator grants both forks at once ----
void Waiter() {
  Table table;
  lab::Mutex waiter{"waiter"};
  lab::CondVar fork_freed{"fork_freed"};
  std::array<lab::Shared<bool>, kPhilosophers> in_use{};
  Dine(
      table,
      [&](int p) {
        waiter.lock();
        while (in_use[LeftFork(p)].read() || in_use[RightFork(p)].read()) fork_freed.wait(waiter);
        in_use[LeftFork(p)].write(true);
        in_use[RightFork(p)].write(true);
        waiter.unlock();
      },
      [&](int p) {
        waiter.lock();
        in_use[LeftFork(p)].write(false);
        in_use[RightFork(p)].write(false);
        fork_freed.notify_all();
        waiter.unlock();
      });
}

// ---- Chandy–Misra: each fork has an owner and is clean or dirty ----
// Forks start dirty, with the lower-numbered neighbour, which makes the precedence graph acyclic.
// A hungry philosopher asks for a fork it lacks; the owner must hand over a dirty fork (cleaning
// it) unless it is eating, and keeps a clean one. Eating dirties both forks. The protocol is
// message passing; here the table's state sits in one monitor and a request is served by the
// requester on the owner's behalf, which is what the owner would do on receiving it.
void ChandyMisra() {
  Table table;
  lab::Mutex m;
  lab::CondVar changed;
  std::array<lab::Shared<int>, kPhilosophers> owner{};
  std::array<lab::Shared<bool>, kPhilosophers> dirty{};
  std::array<lab::Shared<bool>, kPhilosophers> eating{};
  for (int f = 0; f < kPhilosophers; ++f) {
    // Fork f lies between philosophers f-1 and f; the lower-numbered one holds it.
    const int a = (f + kPhilosophers - 1) % kPhilosophers, b = f;
    owner[f].write(a < b ? a : b);
    dirty[f].write(true);
  }
  auto request = [&](int p, int fork) {
    if (owner[fork].read() == p) return;
    const int holder = owner[fork].read();
    if (dirty[fork].read() && !eating[holder].read()) {
      owner[fork].write(p);  // the holder cleans it and sends it over
      dirty[fork].write(false);
      changed.notify_all();
    }
  };
  Dine(
      table,
      [&](int p) {
        m.lock();
        for (;;) {
          request(p, LeftFork(p));
          request(p, RightFork(p));
          if (owner[LeftFork(p)].read() == p && owner[RightFork(p)].read() == p) break;
          changed.wait(m);
        }
        eating[p].write(true);
        m.unlock();
      },
      [&](int p) {
        m.lock();
        eating[p].write(false);
        dirty[LeftFork(p)].write(true);
        dirty[RightFork(p)].write(true);
        changed.notify_all();  // pending requests may now be granted
        m.unlock();
      });
}

// ---- polite_retry: forks are flags on the table; back off when the second one is taken ----
void PoliteRetry() {
  Table table;
  std::array<lab::Atomic<bool>, kPhilosophers> taken{};
  auto try_take = [&](int fork) {
    bool expected = false;
    return taken[fork].compare_exchange_strong(expected, true);
  };
  Dine(
      table,
      [&](int p) {
        for (;;) {
          while (!try_take(LeftFork(p))) lab::sleep_for(kReachTime);
          lab::sleep_for(kReachTime);
          if (try_take(RightFork(p))) return;
          // BUG: every philosopher backs off for the same time and tries again in the same
          // order, so if they started together they collide together, forever.
          lab::sleep_for(kReachTime);
          taken[LeftFork(p)].store(false);
          lab::sleep_for(kReachTime);
        }
      },
      [&](int p) {
        taken[RightFork(p)].store(false);
        taken[LeftFork(p)].store(false);
      });
}

}  // namespace

void RegisterDiningPhilosophers(Catalogue& catalogue) {
  const std::string doc = "docs/problems/dining_philosophers.md";
  const Exploration budget = {.strategy = "pct", .iterations = 500, .depth = 3};
  catalogue.Add({
      .name = "dining_philosophers/naive",
      .expected = "deadlock",
      .description = "each philosopher takes the left fork, then the right one",
      .explanation =
          "If all five pick up their left fork before anyone picks up a right one, each waits "
          "for a fork its right neighbour holds: a cycle in the wait-for graph, and nobody "
          "eats again. Fix: break the symmetry (take the lower-numbered fork first), or limit "
          "the table to four, or let a waiter grant both forks.",
      .doc = doc,
      .exploration = budget,
      .body = [] { ForkMutexes(/*ordered=*/false); },
  });
  catalogue.Add({
      .name = "dining_philosophers/resource_ordering",
      .expected = "clean",
      .description = "forks numbered; everyone takes the lower-numbered fork first",
      .explanation =
          "A global order on locks makes a wait-for cycle impossible: a cycle would need someone "
          "to hold a higher fork while waiting for a lower one. Philosopher 4 takes fork 0 first.",
      .doc = doc,
      .exploration = budget,
      .body = [] { ForkMutexes(/*ordered=*/true); },
  });
  catalogue.Add({
      .name = "dining_philosophers/waiter",
      .expected = "clean",
      .description = "an arbitrator hands out both forks at once, or makes you wait",
      .explanation =
          "Nobody ever holds one fork while waiting for another, so there is no hold-and-wait "
          "and no deadlock; the price is one lock every philosopher passes through.",
      .doc = doc,
      .exploration = budget,
      .body = Waiter,
  });
  catalogue.Add({
      .name = "dining_philosophers/chandy_misra",
      .expected = "clean",
      .description = "Chandy–Misra: dirty forks are handed over on request, clean ones kept",
      .explanation =
          "Forks start dirty with the lower-numbered neighbour, so the 'who goes first' graph is "
          "acyclic; eating dirties a fork and a dirty fork must be given up on request, so every "
          "hungry philosopher eventually eats.",
      .doc = doc,
      .exploration = budget,
      .body = ChandyMisra,
  });
  catalogue.Add({
      .name = "dining_philosophers/polite_retry",
      .expected = "livelock",
      .description = "put the left fork back if the right one is taken, wait, retry (all in step)",
      .explanation =
          "Nobody blocks, everyone keeps moving, and nobody eats: all five take the left fork, "
          "find the right one taken, put theirs back after the same pause and start again "
          "together. Fix: break the symmetry (resource ordering) or back off for a random time.",
      .doc = doc,
      .exploration = {.strategy = "pct", .iterations = 50, .depth = 3, .starvation_bound = 300},
      .body = PoliteRetry,
  });
}

}  // namespace problems
