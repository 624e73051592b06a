// Lock targets: the robust mutex with kills inside its critical section (and the plain
// non-robust mutex as the planted bug), the System V semaphore with SEM_UNDO (and without it), and
// the dining philosophers as processes, SIGKILLed anywhere (resource ordering with dead holders'
// forks and tickets released, and the planted left-fork-first deadlock the watchdog reports as a
// wait-for cycle).
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
//
// Philosophers are SIGKILLed anywhere (and respawned), so each fork records who holds which
// ticket: one seat per philosopher (only its two neighbours ever use a fork), naming the pid of
// the incarnation in line. Only the holder of ticket `serving` holds the fork. Dead seats are
// dealt with under the mutex:
//   - a respawned philosopher finds its predecessor's seat (one incarnation of a slot lives at a
//     time, so a seat with another pid is a dead one) and takes it over: its place in line, or
//     the fork it held;
//   - a neighbour waiting behind a dead seat (checked after each 50 ms without a turn: /proc
//     state and flags, so an unreaped zombie or a process still tearing down counts as dead)
//     clears it and moves `serving` on;
//   - a death inside the mutex (EOWNERDEAD) leaves at most one step half done; Reconcile() is the
//     repair, and every step is ordered so that it can finish it.
struct Seat {
  std::int32_t pid;  // incarnation holding `ticket`; 0 none
  bool holds;        // its turn came and it took the fork
  std::uint64_t ticket;
};

// How a fork deals with dead philosophers: the correct seats, or one of two planted bugs.
enum class DeathHandling : std::uint8_t {
  kSeats,    // take-over by the respawn, /proc liveness checks by waiters (above)
  kBlind,    // planted: a respawn queues anew, nobody checks the seats ahead (dead ones wedge)
  kTimeout,  // planted: a seat ahead that kept a waiter waiting 2 ms is taken for dead
};

struct Fork {
  DeathHandling handling;
  ipc::sync::RobustMutex m;
  ipc::sync::SharedCondVar cv;
  std::uint64_t next IPC_GUARDED_BY(m);
  std::uint64_t serving IPC_GUARDED_BY(m);
  Seat seats[kPhilosophers] IPC_GUARDED_BY(m);
};

struct Table {
  Fork forks[kPhilosophers];
  // The pid of each philosopher while it eats (0 otherwise): neighbours must never eat at once.
  std::atomic<std::int32_t> eating[kPhilosophers];
};

// Restores the ticket invariants after a death: a ticket taken but not counted in `next` is
// counted; tickets at the head of the line whose seat is empty (given up) or, with
// `check_liveness`, whose owner died are skipped. Returns the dead seats it cleared.
int Reconcile(Fork& f, bool check_liveness) IPC_REQUIRES(f.m) {
  check_liveness = check_liveness && f.handling != DeathHandling::kBlind;
  for (const Seat& s : f.seats) {
    if (s.pid != 0 && s.ticket >= f.next) f.next = s.ticket + 1;
  }
  int cleared = 0;
  while (f.serving != f.next) {
    Seat* head = nullptr;
    for (Seat& s : f.seats) {
      if (s.pid != 0 && s.ticket == f.serving) head = &s;
    }
    if (head != nullptr) {
      if (!check_liveness || (f.handling == DeathHandling::kSeats && Alive(head->pid))) break;
      head->holds = false;
      head->pid = 0;
      ++cleared;
    }
    ++f.serving;
  }
  return cleared;
}

// After EOWNERDEAD on the fork's mutex (held now): finishes the dead holder's step. "" when done.
std::string Repair(Fork& f, Participant& p) IPC_REQUIRES(f.m) {
  (void)Reconcile(f, true);
  p.Recovered();
  if (auto m = f.m.MarkConsistent(); !m) return "MarkConsistent: " + m.error().message();
  return {};
}

// Locks the fork's mutex, repairing after a holder died inside it. "" when held.
std::string LockFork(Fork& f, Participant& p) IPC_NO_THREAD_SAFETY_ANALYSIS {
  ipc::sync::LockOutcome out;
  if (!f.m.Lock(out)) return "lock fork: " + (out.error ? out.error->message() : std::string("?"));
  return out.owner_died ? Repair(f, p) : std::string();
}

// Waits for the fork in line (a philosopher holding one fork waits for the other as long as it
// takes); false when stopping or on an error (`error` set).
bool TakeFork(Fork& f, int seat, Participant& p, std::string* error) IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (*error = LockFork(f, p); !error->empty()) return false;
  std::int32_t me = ::getpid();
  Seat& s = f.seats[seat];
  bool mine = s.pid == me;
  if (!mine && s.pid != 0 && f.handling != DeathHandling::kBlind) {
    s.pid = me;  // my dead predecessor's place in line (or its fork)
    mine = true;
    p.Recovered();
  }
  if (!mine) {
    // In this order a death at any step leaves a state Reconcile() completes.
    s.ticket = f.next;
    s.holds = false;
    s.pid = me;
    IPCLAB_CRASH_POINT("philosopher.ticket_taken");
    ++f.next;
  }
  // Whether the seats ahead are alive is read from /proc every 50 ms of waiting (by the clock:
  // the signal storm wakes waiters far more often than that).
  const auto check_every = f.handling == DeathHandling::kTimeout ? 2ms : 50ms;
  auto next_check = Clock::now() + check_every;
  ipc::sync::LockOutcome out;
  while (f.serving != s.ticket) {
    if (p.stopping()) {
      s.pid = 0;  // the ticket is given up: everyone is leaving
      f.m.Unlock();
      return false;
    }
    out = {};
    if (!f.cv.WaitFor(f.m, 50ms, out) && !(out.error && out.error->err == ETIMEDOUT)) {
      *error = "wait for fork: " + (out.error ? out.error->message() : std::string("?"));
      return false;  // (the mutex is not held: the relock failed)
    }
    if (s.pid != me) {  // only a dead seat may be cleared
      *error = fmt::format("seat {} lost its ticket {} while alive and waiting (serving {})", seat, s.ticket, f.serving);
      f.m.Unlock();
      return false;
    }
    if (out.owner_died) {
      if (*error = Repair(f, p); !error->empty()) {
        f.m.Unlock();
        return false;
      }
    } else if (auto now = Clock::now(); f.handling != DeathHandling::kBlind && now >= next_check) {
      next_check = now + check_every;
      for (int n = Reconcile(f, true); n > 0; --n) p.Recovered();
    }
  }
  for (int k = 0; k < kPhilosophers; ++k) {
    if (k != seat && f.seats[k].pid != 0 && f.seats[k].holds) {
      *error = fmt::format("fork given to seat {} while seat {} (pid {}) holds it", seat, k, f.seats[k].pid);
      f.m.Unlock();
      return false;
    }
  }
  s.holds = true;
  f.m.Unlock();
  return true;
}

// "" when put down; else why not (the caller is not its holder, or the mutex failed).
std::string PutFork(Fork& f, int seat, Participant& p) IPC_NO_THREAD_SAFETY_ANALYSIS {
  if (auto e = LockFork(f, p); !e.empty()) return e;
  Seat& s = f.seats[seat];
  if (s.pid != ::getpid() || !s.holds || s.ticket != f.serving) {
    auto why = fmt::format("put down a fork not held: seat pid {} holds {} ticket {} serving {}", s.pid, s.holds,
                           s.ticket, f.serving);
    f.m.Unlock();
    return why;
  }
  s.holds = false;
  s.pid = 0;
  IPCLAB_CRASH_POINT("philosopher.fork_put");
  ++f.serving;
  (void)Reconcile(f, false);  // skip given-up tickets
  f.cv.NotifyAll();
  f.m.Unlock();
  return {};
}

// Eating: neither neighbour may be eating (a record of a dead neighbour is stale, not a
// violation: its forks went on only after it died). Called after announcing my own meal (both
// seq_cst: of two neighbours eating at once, at least one sees the other). "" when fine.
std::string CheckNeighbours(Table& t, int i) {
  for (int n : {(i + kPhilosophers - 1) % kPhilosophers, (i + 1) % kPhilosophers}) {
    if (std::int32_t pid = t.eating[n].load(); pid != 0 && Alive(pid)) {
      return fmt::format("philosophers {} and {} (pid {}) eat at once", i, n, pid);
    }
  }
  return {};
}

// One philosopher's life: the forks are chosen at run time.
int Dine(Table& t, int i, int first, int second, const int* ids, Participant& p) {
  while (!p.stopping()) {
    auto t0 = Clock::now();
    std::string error;
    p.Waiting(ids[first]);
    if (!TakeFork(t.forks[first], i, p, &error)) return error.empty() ? 0 : p.Fail(error);
    p.Acquired(ids[first]);
    IPCLAB_CRASH_POINT("philosopher.one_fork");
    IPCLAB_CHAOS_POINT("philosopher.one_fork");
    p.Waiting(ids[second]);
    if (!TakeFork(t.forks[second], i, p, &error)) return error.empty() ? 0 : p.Fail(error);
    p.Acquired(ids[second]);
    t.eating[i].store(::getpid());
    if (auto bad = CheckNeighbours(t, i); !bad.empty()) return p.Fail(bad);
    IPCLAB_CRASH_POINT("philosopher.eating");
    IPCLAB_CHAOS_POINT("philosopher.eating");
    t.eating[i].store(0);
    p.Released(ids[second]);
    if (auto e = PutFork(t.forks[second], i, p); !e.empty()) return p.Fail(e);
    IPCLAB_CRASH_POINT("philosopher.between_forks");
    p.Released(ids[first]);
    if (auto e = PutFork(t.forks[first], i, p); !e.empty()) return p.Fail(e);
    p.Done(Clock::now() - t0);
    IPCLAB_CHAOS_POINT("philosopher.thinking");
  }
  return 0;
}

RunReport RunPhilosophers(Chaos& chaos, bool left_first, DeathHandling handling = DeathHandling::kSeats) {
  auto seg = ipc::shm::Segment::CreatePosix("table", sizeof(Table));
  if (!seg) {
    chaos.AddFinding("invariant-violation", "setup: " + seg.error().message());
    return chaos.Finish();
  }
  auto* t = new (seg->payload().data()) Table{};
  int ids[kPhilosophers];
  for (int i = 0; i < kPhilosophers; ++i) {
    t->forks[i].handling = handling;
    (void)t->forks[i].m.Init();
    (void)t->forks[i].cv.Init();
    ids[i] = chaos.RegisterLock(fmt::format("fork{}", i));
  }
  for (int i = 0; i < kPhilosophers; ++i) {
    chaos.Spawn("philosopher", [&, i](Participant& p) -> int {
      int left = i, right = (i + 1) % kPhilosophers;
      int first = left_first ? left : std::min(left, right);   // BUG when left_first: a cycle
      int second = left_first ? right : std::max(left, right);
      return Dine(*t, i, first, second, ids, p);
    }, {.killable = true});  // (the planted twin's configuration kills nobody: a kill breaks a deadlock)
  }
  chaos.Run();
  (void)seg->Remove();
  return chaos.Finish();
}

void ConfigurePhilosopherKills(ChaosConfig& c) {
  c.signals_per_second = 500;
  c.kills_per_second = 3;
  c.plan.crash_ppm = 100;
  c.min_share = 0.1;
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
                                "taken in global order, SIGKILLed anywhere and respawned (dead holders' forks and "
                                "tickets are released); no deadlock, neighbours never eat at once, everyone eats "
                                "(starvation bound 10% of the mean)",
                 .configure = ConfigurePhilosopherKills,
                 .run = [](Chaos& c) { return RunPhilosophers(c, false); }});
  out.push_back({.name = "planted/philosophers_kill_unaware",
                 .description = "planted bug: the same ticket forks blind to deaths (a respawned philosopher queues "
                                "anew, nobody checks whether the holder ahead is alive); a philosopher killed "
                                "holding a fork or a ticket wedges the table (watchdog: hang, fork held by a dead pid)",
                 .planted = true,
                 .expected_kind = "hang|starvation",
                 .twin = "philosophers",
                 .test_duration = kHangPlantedTestDuration,
                 .configure = [](ChaosConfig& c) {
                   ConfigurePhilosopherKills(c);
                   c.hang_after = std::chrono::milliseconds(1000);
                 },
                 .run = [](Chaos& c) { return RunPhilosophers(c, false, DeathHandling::kBlind); }});
  out.push_back({.name = "planted/philosophers_timeout_as_death",
                 .description = "planted bug: a waiter takes a fork holder (or ticket) that kept it waiting 2 ms for "
                                "dead instead of asking /proc (invariant-violation: a live waiter's ticket skipped, a "
                                "live holder's fork handed on)",
                 .planted = true,
                 .expected_kind = "invariant-violation",
                 .twin = "philosophers",
                 .configure = ConfigurePhilosopherKills,
                 .run = [](Chaos& c) { return RunPhilosophers(c, false, DeathHandling::kTimeout); }});
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
