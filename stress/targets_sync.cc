// Lock targets: the robust mutex with kills inside its critical section (and the plain
// non-robust mutex as the planted bug), the System V semaphore with SEM_UNDO (and without it), and
// the dining philosophers as processes (resource ordering, and the planted left-fork-first
// deadlock the watchdog reports as a wait-for cycle).
#include <pthread.h>
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <new>

#include <fmt/format.h>

#include "ipc/shm/segment.h"
#include "ipc/sync/robust_mutex.h"
#include "ipc/sync/semaphore.h"
#include "stress/chaos_point.h"
#include "stress/proc.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

// --- Counter under a mutex ---------------------------------------------------------------------
//
// The guarded state is two counters that must be equal outside the critical section and an intent
// record: an update writes intent = a + 1, then a, then b, then clears intent. A holder killed in
// between leaves a != b or intent set; the next owner (EOWNERDEAD) rolls the update forward.

struct CounterState {
  ipc::sync::RobustMutex robust;
  pthread_mutex_t plain;
  std::uint64_t a, b, intent;
  std::atomic<std::uint64_t> repairs;
};

std::string RepairCounter(CounterState& s) {
  if (s.intent != 0) {
    if (s.intent != s.b + 1 || (s.a != s.b && s.a != s.b + 1)) {
      return fmt::format("cannot repair: a {} b {} intent {}", s.a, s.b, s.intent);
    }
    s.a = s.b = s.intent;
    s.intent = 0;
  }
  return {};
}

// Lock and unlock either mutex. The robust path repairs after EOWNERDEAD. The analysis cannot
// follow a lock chosen at run time, so these two are exempt; the critical section between them is
// the caller's loop body.
// Returns "" when held, "timeout" when not held yet, or why it failed.
std::string LockCounter(CounterState& s, bool robust, Participant& p) IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (!robust) {
    ::pthread_mutex_lock(&s.plain);  // blocks forever once a holder died
    return {};
  }
  ipc::sync::LockOutcome out;
  if (!s.robust.LockFor(50ms, out)) {
    if (out.error && out.error->err == ETIMEDOUT) return "timeout";
    return "lock: " + (out.error ? out.error->message() : std::string("?"));
  }
  if (out.owner_died) {
    if (auto bad = RepairCounter(s); !bad.empty()) return bad;
    s.repairs.fetch_add(1);
    p.Recovered();
    if (auto m = s.robust.MarkConsistent(); !m) return "MarkConsistent: " + m.error().message();
  }
  return {};
}

void UnlockCounter(CounterState& s, bool robust) IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (robust) {
    s.robust.Unlock();
  } else {
    ::pthread_mutex_unlock(&s.plain);
  }
}

// 0 when the counters are consistent (repairing a dead holder's update first).
int FinalCounterCheck(CounterState& s) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!s.robust.LockFor(2s, out)) return 2;
  if (out.owner_died) {
    if (!RepairCounter(s).empty()) return 3;
    s.repairs.fetch_add(1);
    (void)s.robust.MarkConsistent();
  }
  bool ok = s.a == s.b && s.intent == 0;
  s.robust.Unlock();
  return ok ? 0 : 4;
}

RunReport RunCounter(Chaos& chaos, bool robust) {
  auto seg = ipc::shm::Segment::CreatePosix("counter", sizeof(CounterState));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* s = new (seg->payload().data()) CounterState{};
  if (robust) {
    (void)s->robust.Init();
  } else {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init(&attr);
    pthread_mutexattr_setpshared(&attr, PTHREAD_PROCESS_SHARED);  // BUG (planted): not robust
    pthread_mutex_init(&s->plain, &attr);
    pthread_mutexattr_destroy(&attr);
  }
  int lock = chaos.RegisterLock(robust ? "counter.robust_mutex" : "counter.plain_mutex");
  for (int i = 0; i < 4; ++i) {
    chaos.Spawn("worker", [&](Participant& p) -> int {
      while (!p.stopping()) {
        auto t0 = Clock::now();
        p.Waiting(lock);
        if (auto held = LockCounter(*s, robust, p); !held.empty()) {
          if (held == "timeout") continue;
          return p.Fail(held);
        }
        p.Acquired(lock);
        if (s->a != s->b || s->intent != 0) {
          return p.Fail(fmt::format("counters inconsistent on entry: a {} b {} intent {}", s->a, s->b, s->intent));
        }
        s->intent = s->a + 1;
        IPCLAB_CRASH_POINT("counter.after_intent");
        s->a++;
        IPCLAB_CRASH_POINT("counter.between_updates");
        IPCLAB_CHAOS_POINT("counter.between_updates");
        s->b++;
        s->intent = 0;
        p.Released(lock);
        UnlockCounter(*s, robust);
        p.Done(Clock::now() - t0);
        IPCLAB_CHAOS_POINT("counter.outside");
      }
      return 0;
    }, {.killable = true});
  }
  chaos.Run();
  if (robust) {
    int rc = chaos.RunBounded("counter check", [&]() -> int { return FinalCounterCheck(*s); });
    if (rc > 0) chaos.AddFinding("invariant-violation", fmt::format("final counter check failed (code {}): a {} b {} intent {}", rc, s->a, s->b, s->intent));
  }
  (void)seg->Remove();
  RunReport r = chaos.Finish();
  // Every completed update is counted by Done() after its unlock; a kill between the unlock and
  // Done() (or a rolled-forward update) adds one update per crash, never more, never fewer.
  if (robust && r.findings.empty() && (s->a < r.operations || s->a > r.operations + r.crashes_injected)) {
    r.findings.push_back({"invariant-violation",
                          fmt::format("counter {} but {} operations completed and {} crashes injected", s->a,
                                      r.operations, r.crashes_injected),
                          {}});
  }
  return r;
}

// --- System V semaphore as a lock ----------------------------------------------------------------

struct SemState {
  std::atomic<std::int32_t> holder;  // pid inside the critical section, 0 none
  std::atomic<std::uint64_t> entries;
};

RunReport RunSem(Chaos& chaos, bool undo) {
  auto seg = ipc::shm::Segment::CreatePosix("semstate", sizeof(SemState));
  auto sem = ipc::sync::SysvSemaphoreSet::Create("stress-sem", 1, 1);
  if (!seg || !sem) {
    chaos.AddFinding("invariant-violation", "setup failed");
    return chaos.Finish();
  }
  auto* s = new (seg->payload().data()) SemState{};
  int id = sem->id();
  int lock = chaos.RegisterLock(undo ? "sysv_sem(SEM_UNDO)" : "sysv_sem(no undo)");
  for (int i = 0; i < 4; ++i) {
    chaos.Spawn("worker", [&, id](Participant& p) -> int {
      auto set = ipc::sync::SysvSemaphoreSet::Attach(id);
      if (!set) return p.Fail("attach: " + set.error().message());
      while (!p.stopping()) {
        auto t0 = Clock::now();
        p.Waiting(lock);
        auto w = set->WaitFor(50ms, 0, undo);
        if (!w) {
          if (w.error().err == ETIMEDOUT) continue;
          return p.Fail("semop: " + w.error().message());
        }
        p.Acquired(lock);
        // A dead holder's SEM_UNDO runs early in its exit, while /proc still shows it running, so a
        // recorded holder is given up to 500 ms to finish dying. A live holder would leave (and
        // change `holder`) long before that: mutual exclusion is broken then.
        std::int32_t me = ::getpid(), prev = s->holder.load();
        if (prev != 0) {
          auto until = Clock::now() + 500ms;
          while (Running(prev) && s->holder.load() == prev && Clock::now() < until) ::usleep(200);
          if (s->holder.load() != prev || Running(prev)) {
            return p.Fail(fmt::format("mutual exclusion broken: pid {} was inside too", prev));
          }
          p.Recovered();
        }
        if (!s->holder.compare_exchange_strong(prev, me)) {
          return p.Fail(fmt::format("mutual exclusion broken: pid {} entered with me", prev));
        }
        s->entries.fetch_add(1);
        IPCLAB_CRASH_POINT("sem.inside");
        IPCLAB_CHAOS_POINT("sem.inside");
        if (std::int32_t cur = me; !s->holder.compare_exchange_strong(cur, 0)) {
          return p.Fail(fmt::format("mutual exclusion broken: pid {} replaced me inside", cur));
        }
        p.Released(lock);
        if (auto r = set->Post(0, undo); !r) return p.Fail("post: " + r.error().message());
        p.Done(Clock::now() - t0);
      }
      return 0;
    }, {.killable = true});
  }
  chaos.Run();
  auto value = sem->Value(0);
  if (!value || *value != 1) {
    chaos.AddFinding("invariant-violation",
                     fmt::format("semaphore value {} after every participant ended (expected 1)",
                                 value ? std::to_string(*value) : value.error().message()));
  }
  (void)sem->Remove();
  (void)seg->Remove();
  return chaos.Finish();
}

// --- Dining philosophers -------------------------------------------------------------------------

constexpr int kPhilosophers = 5;

// A fork handed out in arrival order (a ticket lock on a robust mutex and the futex condvar). Plain
// mutexes let a philosopher who just put a fork down take it again before a woken neighbour gets a
// CPU; with the forks in global order philosophers 0 and 4 both want fork 0 first, and on a busy
// machine they lost nearly every race (starvation findings at load 30). In arrival order nobody
// is overtaken, so everyone eats.
struct Fork {
  ipc::sync::RobustMutex m;
  ipc::sync::SharedCondVar cv;
  std::uint64_t next IPC_GUARDED_BY(m);
  std::uint64_t serving IPC_GUARDED_BY(m);
};

struct Table {
  Fork forks[kPhilosophers];
};

// Waits for the fork in line (a philosopher holding one fork waits for the other as long as it
// takes); false when stopping or on an error (`error` set).
bool TakeFork(Fork& f, Participant& p, std::string* error) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!f.m.Lock(out)) {
    *error = "lock fork";
    return false;
  }
  std::uint64_t ticket = f.next++;
  while (f.serving != ticket) {
    if (p.stopping()) {
      f.m.Unlock();  // (the ticket is abandoned: everyone is leaving)
      return false;
    }
    if (!f.cv.WaitFor(f.m, 50ms, out) && !(out.error && out.error->err == ETIMEDOUT)) {
      *error = "wait for fork";
      return false;
    }
  }
  f.m.Unlock();
  return true;
}

void PutFork(Fork& f) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!f.m.Lock(out)) return;
  ++f.serving;
  f.cv.NotifyAll();
  f.m.Unlock();
}

// One philosopher's life: the forks are chosen at run time.
int Dine(Table& t, int first, int second, const int* ids, Participant& p) {
  while (!p.stopping()) {
    auto t0 = Clock::now();
    std::string error;
    p.Waiting(ids[first]);
    if (!TakeFork(t.forks[first], p, &error)) return error.empty() ? 0 : p.Fail(error);
    p.Acquired(ids[first]);
    IPCLAB_CHAOS_POINT("philosopher.one_fork");
    p.Waiting(ids[second]);
    if (!TakeFork(t.forks[second], p, &error)) return error.empty() ? 0 : p.Fail(error);
    p.Acquired(ids[second]);
    IPCLAB_CHAOS_POINT("philosopher.eating");
    p.Released(ids[second]);
    PutFork(t.forks[second]);
    p.Released(ids[first]);
    PutFork(t.forks[first]);
    p.Done(Clock::now() - t0);
    IPCLAB_CHAOS_POINT("philosopher.thinking");
  }
  return 0;
}

RunReport RunPhilosophers(Chaos& chaos, bool left_first) {
  auto seg = ipc::shm::Segment::CreatePosix("table", sizeof(Table));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* t = new (seg->payload().data()) Table{};
  int ids[kPhilosophers];
  for (int i = 0; i < kPhilosophers; ++i) {
    (void)t->forks[i].m.Init();
    (void)t->forks[i].cv.Init();
    ids[i] = chaos.RegisterLock(fmt::format("fork{}", i));
  }
  for (int i = 0; i < kPhilosophers; ++i) {
    chaos.Spawn("philosopher", [&, i](Participant& p) -> int {
      int left = i, right = (i + 1) % kPhilosophers;
      int first = left_first ? left : std::min(left, right);   // BUG when left_first: a cycle
      int second = left_first ? right : std::max(left, right);
      return Dine(*t, first, second, ids, p);
    });
  }
  chaos.Run();
  (void)seg->Remove();
  return chaos.Finish();
}

}  // namespace

void AddSyncTargets(std::vector<Target>& out) {
  out.push_back({.name = "robust_mutex",
                 .description = "ipc/sync robust mutex: 4 workers SIGKILLed inside the critical section; "
                                "EOWNERDEAD repair keeps the counters equal and the count exact",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 1000;
                   c.kills_per_second = 5;
                   c.plan.crash_ppm = 2000;
                 },
                 .run = [](Chaos& c) { return RunCounter(c, true); }});
  out.push_back({.name = "planted/plain_mutex",
                 .description = "planted bug: a plain (non-robust) process-shared mutex; a worker killed in the "
                                "critical section leaves it locked forever (watchdog: hang, lock held by a dead pid)",
                 .planted = true,
                 .expected_kind = "hang",
                 .twin = "robust_mutex",
                 .test_duration = kHangPlantedTestDuration,
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 1000;
                   c.kills_per_second = 5;
                   c.plan.crash_ppm = 2000;
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunCounter(c, false); }});
  out.push_back({.name = "sysv_sem_undo",
                 .description = "ipc/sync System V semaphore as a lock with SEM_UNDO; holders SIGKILLed inside; "
                                "the kernel gives the count back, mutual exclusion holds, the value ends at 1",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 1000;
                   c.kills_per_second = 5;
                   c.plan.crash_ppm = 2000;
                 },
                 .run = [](Chaos& c) { return RunSem(c, true); }});
  out.push_back({.name = "planted/sem_no_undo",
                 .description = "planted bug: the same lock without SEM_UNDO; a holder killed inside never posts",
                 .planted = true,
                 .expected_kind = "hang|invariant-violation",
                 .twin = "sysv_sem_undo",
                 .test_duration = kHangPlantedTestDuration,
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 1000;
                   c.kills_per_second = 5;
                   c.plan.crash_ppm = 2000;
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunSem(c, false); }});
  out.push_back({.name = "philosophers",
                 .description = "dining philosophers as 5 processes with forks handed out in arrival order (ticket locks), "
                                "taken in global order; "
                                "no deadlock, everyone eats (starvation bound 10% of the mean)",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 500;
                   c.min_share = 0.1;
                 },
                 .run = [](Chaos& c) { return RunPhilosophers(c, false); }});
  out.push_back({.name = "planted/philosophers_left_first",
                 .description = "planted bug: every philosopher takes the left fork first; the watchdog reports "
                                "the deadlock with its wait-for cycle across the 5 processes",
                 .planted = true,
                 .expected_kind = "deadlock",
                 .twin = "philosophers",
                 .test_duration = kHangPlantedTestDuration,
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 500;
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunPhilosophers(c, true); }});
}

}  // namespace stress
