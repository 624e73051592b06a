#include "problems/exercises/exercise.h"

#include <algorithm>

#include <fmt/format.h>

#include "problems/exercises/bank_transfer.h"
#include "problems/exercises/barrier.h"
#include "problems/exercises/check_then_act.h"
#include "problems/exercises/dining_philosophers.h"
#include "problems/exercises/if_instead_of_while.h"
#include "problems/exercises/lazy_init.h"
#include "problems/exercises/lost_update.h"
#include "problems/exercises/lost_wakeup.h"
#include "problems/exercises/order_violation.h"
#include "problems/exercises/rendezvous.h"

namespace exercises {
namespace {

// An hour per step: any sleep or timeout a solution uses is over after the next step of anyone.
constexpr std::int64_t kAdversarialTickNs = 3'600'000'000'000;

std::vector<Exercise> MakeAll() {
  std::vector<Exercise> all;
  all.push_back({
      .name = "lost_update",
      .title = "a counter two threads increment",
      .teaches = "mutual exclusion (critical sections)",
      .kind = "data-race",
      .also_accepted = {"assertion-failure"},
      .entry_point = "std::unique_ptr<Counter> exercises::lost_update::MakeCounter()",
      .harness = lost_update::Harness,
      .implemented = lost_update::Implemented,
  });
  all.push_back({
      .name = "check_then_act",
      .title = "a bank account whose withdrawals never overdraw it",
      .teaches = "atomicity of check-then-act (compare-and-swap or a lock)",
      .kind = "assertion-failure",
      .entry_point = "std::unique_ptr<Account> exercises::check_then_act::MakeAccount(int)",
      .harness = check_then_act::Harness,
      .implemented = check_then_act::Implemented,
  });
  all.push_back({
      .name = "lazy_init",
      .title = "a resource created once, on first use, by whichever thread comes first",
      .teaches = "safe publication (double-checked locking, happens-before)",
      .kind = "data-race",
      .also_accepted = {"assertion-failure"},
      .entry_point = "std::unique_ptr<Lazy> exercises::lazy_init::MakeLazy()",
      .harness = lazy_init::Harness,
      .implemented = lazy_init::Implemented,
  });
  all.push_back({
      .name = "order_violation",
      .title = "a configuration slot: readers wait until it has been published",
      .teaches = "ordering (waiting for an event with a condition variable)",
      .kind = "assertion-failure",
      .entry_point = "std::unique_ptr<ConfigSlot> exercises::order_violation::MakeConfigSlot()",
      .budget = {.dfs_preemptions = 1, .dfs_iterations = 10000},
      .harness = order_violation::Harness,
      .implemented = order_violation::Implemented,
  });
  all.push_back({
      .name = "lost_wakeup",
      .title = "a one-shot event: Wait() returns once Signal() has been called",
      .teaches = "condition variables: the predicate, under the mutex, in a loop",
      .kind = "lost-wakeup",
      .also_accepted = {"deadlock", "assertion-failure"},
      .entry_point = "std::unique_ptr<Event> exercises::lost_wakeup::MakeEvent()",
      .harness = lost_wakeup::Harness,
      .implemented = lost_wakeup::Implemented,
  });
  all.push_back({
      .name = "if_instead_of_while",
      .title = "a bounded buffer shared by a producer and two consumers",
      .teaches = "monitors: re-checking the condition after every wakeup",
      .kind = "assertion-failure",
      .also_accepted = {"deadlock", "lost-wakeup"},
      .entry_point = "std::unique_ptr<BoundedBuffer> exercises::if_instead_of_while::MakeBuffer()",
      .budget = {.dfs_preemptions = 1, .dfs_iterations = 10000},
      .harness = if_instead_of_while::Harness,
      .implemented = if_instead_of_while::Implemented,
  });
  all.push_back({
      .name = "bank_transfer",
      .title = "transfers between two accounts, each with its own lock",
      .teaches = "lock ordering (the AB-BA deadlock)",
      .kind = "deadlock",
      .entry_point = "std::unique_ptr<Bank> exercises::bank_transfer::MakeBank()",
      .budget = {.dfs_preemptions = 1, .dfs_iterations = 10000},
      .harness = bank_transfer::Harness,
      .implemented = bank_transfer::Implemented,
  });
  all.push_back({
      .name = "dining_philosophers",
      .title = "three philosophers, three forks, nobody eats with a fork in use",
      .teaches = "deadlock: breaking the circular wait",
      .kind = "deadlock",
      .entry_point = "std::unique_ptr<Table> exercises::dining_philosophers::MakeTable()",
      .harness = dining_philosophers::Harness,
      .implemented = dining_philosophers::Implemented,
  });
  all.push_back({
      .name = "rendezvous",
      .title = "two threads meet: neither leaves before the other arrived",
      .teaches = "semaphores: signal first, then wait",
      .kind = "deadlock",
      .entry_point = "std::unique_ptr<Rendezvous> exercises::rendezvous::MakeRendezvous()",
      .harness = rendezvous::Harness,
      .implemented = rendezvous::Implemented,
  });
  all.push_back({
      .name = "barrier",
      .title = "a reusable barrier for three threads and several phases",
      .teaches = "semaphores: turnstiles and reusable barriers",
      .kind = "assertion-failure",
      .also_accepted = {"deadlock"},
      .entry_point = "std::unique_ptr<Barrier> exercises::barrier::MakeBarrier(int)",
      .budget = {.dfs_preemptions = 1, .dfs_iterations = 3000},
      .harness = barrier::Harness,
      .implemented = barrier::Implemented,
  });
  return all;
}

}  // namespace

bool Exercise::Accepts(std::string_view verdict) const {
  return verdict == kind ||
         std::find(also_accepted.begin(), also_accepted.end(), verdict) != also_accepted.end();
}

std::span<const Exercise> All() {
  static const std::vector<Exercise>* all = new std::vector<Exercise>(MakeAll());
  return *all;
}

const Exercise* Find(std::string_view name) {
  for (const Exercise& e : All()) {
    if (e.name == name) return &e;
  }
  return nullptr;
}

bool Grade::passed() const {
  return std::all_of(phases.begin(), phases.end(),
                     [](const Phase& p) { return p.result.clean(); });
}

const lab::Report* Grade::report() const {
  for (const Phase& p : phases) {
    if (!p.result.clean()) return &p.result.findings.front();
  }
  return nullptr;
}

std::uint64_t Grade::schedules() const {
  std::uint64_t n = 0;
  for (const Phase& p : phases) n += p.result.executions;
  return n;
}

lab::Options PhaseOptions(const Exercise& e, int phase, std::uint64_t seed) {
  lab::Options o;
  if (phase == 0) {
    o.strategy = lab::Pct{.depth = e.budget.pct_depth};
    o.iterations = e.budget.pct_iterations;
  } else {
    o.strategy = lab::Dfs{.max_preemptions = e.budget.dfs_preemptions};
    o.iterations = e.budget.dfs_iterations;
  }
  o.seed = seed;
  o.tick_ns = kAdversarialTickNs;
  o.spurious_wakeups = true;   // POSIX allows them; a correct wait loops
  o.max_steps = 20000;
  o.starvation_bound = 2000;
  // No real-time watchdog: a grade must not depend on the machine's speed (a TSan build of a
  // correct solution can take minutes). A solution that spins without a scheduling point is
  // caught by ipclab check's --timeout, which kills the program and reports a hang.
  o.watchdog_seconds = 0;
  o.name = e.name;
  o.read_env = false;
  o.quiet = true;
  return o;
}

namespace {

// Lock-order inversions are left out of grading: the lab's detector keeps its lock graph across
// executions by object number, and objects are numbered in first-use order, which differs from
// schedule to schedule, so a correct resource-ordering solution could be flagged. A real
// inversion is graded by its consequence: the deadlock the exploration reaches.
lab::ExploreResult ExploreGraded(const lab::Options& o, void (*harness)()) {
  lab::ExploreResult r = lab::Explore(o, harness);
  std::erase_if(r.findings, [](const lab::Report& f) { return f.kind == "lock-order-inversion"; });
  return r;
}

}  // namespace

Grade GradeSolution(const Exercise& e, std::uint64_t seed) {
  Grade g;
  g.phases.push_back({fmt::format("pct, depth {}", e.budget.pct_depth),
                      ExploreGraded(PhaseOptions(e, 0, seed), e.harness)});
  if (!g.phases.back().result.clean()) return g;
  g.phases.push_back({fmt::format("dfs, at most {} preemption{}", e.budget.dfs_preemptions,
                                  e.budget.dfs_preemptions == 1 ? "" : "s"),
                      ExploreGraded(PhaseOptions(e, 1, seed), e.harness)});
  return g;
}

lab::ExploreResult ReplaySolution(const Exercise& e, std::string_view token) {
  lab::ExploreResult r = lab::Replay(token, e.harness, PhaseOptions(e, 0));
  std::erase_if(r.findings, [](const lab::Report& f) { return f.kind == "lock-order-inversion"; });
  return r;
}

std::string BudgetText(const Exercise& e) {
  return fmt::format(
      "pct (depth {}) for {} schedules, then dfs over every schedule with at most {} "
      "preemptions (up to {} schedules); spurious wakeups on; time adversarial (a sleep ends "
      "after any other thread's next step)",
      e.budget.pct_depth, e.budget.pct_iterations, e.budget.dfs_preemptions,
      e.budget.dfs_iterations);
}

}  // namespace exercises
