// lab/interpose/calls_sync2.cc: rwlocks, spinlocks, barriers, named semaphores and the clocks of
// libipclab_interpose.so (see core.h for the pattern every interposed call follows).
//
// - rwlocks, spinlocks and barriers are modelled here (who holds what, who waits for what); a
//   thread only calls the real try-operation once the model says it succeeds, so it never blocks
//   in the OS. A waiter is State::kWait with a `ready` predicate over the model, which also
//   refreshes the text a hang report shows for it (holders and where they locked).
// - rwlocks follow the lock's preference: glibc's default prefers readers (a reader gets in while a
//   writer waits); PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP makes readers queue behind a
//   waiting writer. A waiting writer overtaken by more than IPCLAB_EXPLORE_BYPASS_BOUND (default
//   32) read acquisitions that joined readers still holding the lock (so the writer could not
//   have had it) ends the run as `starvation`. Upgrading (wrlock while holding the read
//   lock) waits for the thread itself: a deadlock, reported as such.
// - barriers are emulated entirely (the real barrier is only initialised and destroyed): the
//   count-th arrival releases the generation and returns PTHREAD_BARRIER_SERIAL_THREAD.
// - named semaphores: sem_close is a scheduling point here; sem_open and sem_unlink are in
//   calls_process.cc (sem_open names the semaphore by its /dev/shm file, so every process of a
//   tree keys it alike), and waits and posts on it are the modelled semaphore of calls_pthread.cc.
// - rwlocks, spinlocks and barriers are keyed by ObjectKey, their models in one MAP_SHARED
//   segment of the tree (see Models): process-shared ones in shared memory are one object for
//   every process, so a wait on one in another process is known to the scheduler (a cross-process
//   rwlock deadlock is reported at once naming /dev/shm/x+0x40) and gives happens-before.
// - clocks: under exploration clock_gettime (REALTIME, MONOTONIC and their variants),
//   gettimeofday and time return virtual time (the real time at start plus the scheduler's
//   virtual nanoseconds), and each read moves virtual time on by 1 us, so a program that measures
//   elapsed time or spins on the clock sees time pass deterministically; sleeps and timed waits
//   already run on the same virtual clock.
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdarg.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <unistd.h>
#include <time.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <new>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

using RwFn = int (*)(pthread_rwlock_t*);
using SpinFn = int (*)(pthread_spinlock_t*);
using BarrierInitFn = int (*)(pthread_barrier_t*, const pthread_barrierattr_t*, unsigned);
using BarrierFn = int (*)(pthread_barrier_t*);
using SemCloseFn = int (*)(sem_t*);
using ClockGettimeFn = int (*)(clockid_t, struct timespec*);
using GettimeofdayFn = int (*)(struct timeval*, void*);
using TimeFn = time_t (*)(time_t*);

struct Real2 {
  RwFn rw_tryrdlock, rw_trywrlock, rw_unlock, rw_rdlock, rw_wrlock;
  SpinFn spin_lock, spin_trylock, spin_unlock;
  BarrierInitFn barrier_init;
  BarrierFn barrier_wait, barrier_destroy;
  SemCloseFn sem_close;
  ClockGettimeFn clock_gettime;
  GettimeofdayFn gettimeofday;
  TimeFn time;
};
Real2 real2;

void ResolveSync2() {
  static std::atomic<bool> done{false};
  if (done.load(std::memory_order_acquire)) return;
  ResolveAll();
  Resolve(real2.rw_tryrdlock, "pthread_rwlock_tryrdlock");
  Resolve(real2.rw_trywrlock, "pthread_rwlock_trywrlock");
  Resolve(real2.rw_unlock, "pthread_rwlock_unlock");
  Resolve(real2.rw_rdlock, "pthread_rwlock_rdlock");
  Resolve(real2.rw_wrlock, "pthread_rwlock_wrlock");
  Resolve(real2.spin_lock, "pthread_spin_lock");
  Resolve(real2.spin_trylock, "pthread_spin_trylock");
  Resolve(real2.spin_unlock, "pthread_spin_unlock");
  Resolve(real2.barrier_init, "pthread_barrier_init");
  Resolve(real2.barrier_wait, "pthread_barrier_wait");
  Resolve(real2.barrier_destroy, "pthread_barrier_destroy");
  Resolve(real2.sem_close, "sem_close");
  Resolve(real2.clock_gettime, "clock_gettime");
  Resolve(real2.gettimeofday, "gettimeofday");
  Resolve(real2.time, "time");
  done.store(true, std::memory_order_release);
}

Thread* Controlled() {
  ResolveSync2();
  return Me();
}

// What each waiter of this file waits for, and the text its hang report shows.
enum class Want : std::uint8_t { kRead, kWrite, kSpin, kBarrier };
struct Waiting {
  Want want = Want::kRead;
  std::uint64_t generation = 0;  // kBarrier: the generation it arrived in
  char text[256] = {};
};

// ---- the models -------------------------------------------------------------------------------
// rwlocks, spinlocks and barriers are keyed by ObjectKey and their models live in one MAP_SHARED
// segment mapped at load (before any fork), so a process-shared one placed in shared memory is
// one model for every process of the tree ("/dev/shm/x+0x40" in reports), and a private one is
// its process's own object. The tables are fixed: kRwLocks rwlocks, kSpins spinlocks, kBarriers
// barriers and kRwThreads threads holding or waiting to write-lock one rwlock at a time; beyond
// them the run ends (too many objects for the tables, as for mutexes).
constexpr std::uint32_t kRwThreads = 32;
constexpr std::uint32_t kRwLocks = 256;
constexpr std::uint32_t kSpins = 256;
constexpr std::uint32_t kBarriers = 128;

struct RwThread {
  std::uint32_t thread = kNone;
  std::uint32_t reads = 0;        // read holds
  Caller read_where{0, 0};        // where it last read-locked
  std::uint64_t overtaken = 0;    // while it waits to write: read acquisitions since it waits
};

struct RwInfo {
  std::uint32_t writer = kNone;
  Caller writer_where{0, 0};
  std::uint32_t readers = 0;
  bool prefers_writers = false;
  RwThread threads[kRwThreads];

  const RwThread* Find(std::uint32_t thread) const {
    for (const RwThread& r : threads) {
      if (r.thread == thread) return &r;
    }
    return nullptr;
  }
  // The entry of `thread`, taking a free one (none held, none waited) when it has none.
  RwThread& Of(std::uint32_t thread) {
    if (const RwThread* r = Find(thread)) return const_cast<RwThread&>(*r);
    for (RwThread& r : threads) {
      if (r.thread == kNone || (r.reads == 0 && r.overtaken == 0)) {
        r = RwThread{thread, 0, {0, 0}, 0};
        return r;
      }
    }
    TableFull();
    __builtin_unreachable();
  }
};

struct SpinInfo {
  std::uint32_t owner = kNone;
  Caller where{0, 0};
};

struct BarrierInfo {
  bool live = false;  // initialised and not destroyed
  unsigned count = 0;
  unsigned arrived = 0;
  std::uint64_t generation = 0;
};

struct Models {
  Waiting waiting[kMaxThreads];
  KeyTable<RwInfo, kRwLocks> rwlocks;
  KeyTable<SpinInfo, kSpins> spins;
  KeyTable<BarrierInfo, kBarriers> barriers;
};
Models* models = nullptr;

// The shared models, mapped at load under exploration (resolve_at_load below), so before any
// fork; a run that cannot map them ends with status 2 (an environment error).
Models& M() {
  if (models == nullptr) {
    void* p = RawMapShared(sizeof(Models));
    if (p == nullptr) {
      static const char msg[] = "ipclab interpose: cannot map the rwlock/spinlock/barrier models\n";
      RawWrite(2, msg, sizeof msg - 1);
      syscall(SYS_exit_group, 2);
    }
    models = new (p) Models();
  }
  return *models;
}

Waiting& WaitingOf(const Thread* t) { return M().waiting[t->id]; }

std::uint64_t BypassBound() {
  static std::uint64_t bound = [] {
    const char* v = getenv("IPCLAB_EXPLORE_BYPASS_BOUND");
    return v != nullptr && *v != '\0' ? strtoull(v, nullptr, 0) : 32;
  }();
  return bound;
}

const char* NameOf(std::uint32_t id, char (&buf)[24]) {
  if (id < sched.thread_count) return ThreadName(sched.threads[id], buf);
  snprintf(buf, sizeof buf, "T%u", id);
  return buf;
}

// ---- rwlocks ----------------------------------------------------------------------------------
bool WritersWaiting(std::uintptr_t key) {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    const Thread* t = sched.threads[i];
    if (t->state == State::kWait && t->object == key && WaitingOf(t).want == Want::kWrite) return true;
  }
  return false;
}

bool RwCanAcquire(std::uintptr_t key, const RwInfo& rw, bool write) {
  if (rw.writer != kNone) return false;
  if (write) return rw.readers == 0;
  return !(rw.prefers_writers && WritersWaiting(key));
}

void Add(Waiting& w, int& n, const char* fmt, ...) __attribute__((format(printf, 3, 4)));
void Add(Waiting& w, int& n, const char* fmt, ...) {
  if (n < 0 || static_cast<std::size_t>(n) >= sizeof w.text) return;
  va_list ap;
  va_start(ap, fmt);
  n += vsnprintf(w.text + n, sizeof w.text - static_cast<std::size_t>(n), fmt, ap);
  va_end(ap);
}

void DescribeRw(const Thread* t, const RwInfo& rw) {
  Waiting& w = WaitingOf(t);
  int n = 0;
  char name[24];
  Add(w, n, "rwlock (to %s;", w.want == Want::kWrite ? "write" : "read");
  if (rw.writer != kNone) {
    Add(w, n, " write-held by %s, locked @%s:%lx", NameOf(rw.writer, name), rw.writer_where.in_exe ? "exe" : "abs",
        static_cast<unsigned long>(rw.writer_where.offset));
  }
  for (const RwThread& r : rw.threads) {
    if (r.thread == kNone || r.reads == 0) continue;
    Add(w, n, " read-held by %s%s, locked @%s:%lx", NameOf(r.thread, name),
        r.thread == t->id ? " (itself: an upgrade never succeeds)" : "", r.read_where.in_exe ? "exe" : "abs",
        static_cast<unsigned long>(r.read_where.offset));
  }
  Add(w, n, ")");
}

bool RwReady(const Thread* t) {
  TsanQuiet quiet;  // runs in whichever thread schedules
  const RwInfo* rw = M().rwlocks.find(t->object);
  if (rw == nullptr) return true;
  DescribeRw(t, *rw);
  return RwCanAcquire(t->object, *rw, WaitingOf(t).want == Want::kWrite);
}

bool SpinReady(const Thread* t);
bool BarrierReady(const Thread* t);

// A model changed: answer the readiness of `key`'s waiters in every process now (the core asks
// a waiter's `ready` only in the waiter's own process and otherwise uses its last answer). The
// predicates read only the shared models, so any process of the tree can answer them.
void RefreshWaiters(std::uintptr_t key) {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state != State::kWait || t->object != key) continue;
    if (t->ready == RwReady || t->ready == SpinReady || t->ready == BarrierReady) t->wait_ready = t->ready(t);
  }
}

[[noreturn]] void ReportStarvation(const Thread* writer, std::uintptr_t key, const RwInfo& rw,
                                   std::uint32_t reader, Caller reader_where) {
  char* buf = sched.file->header.diagnosis;
  char writer_name[24], reader_name[24], object[96];
  snprintf(buf, kDiagnosisBytes,
           "%s waits to write-lock rwlock %s @%s:%lx and was overtaken by %lu read acquisitions "
           "(bound %lu; IPCLAB_EXPLORE_BYPASS_BOUND)\n"
           "the last by %s @%s:%lx -- the rwlock prefers readers, so while readers overlap a writer "
           "never gets in\n",
           ThreadName(writer, writer_name), DescribeObject(key, object), writer->blocked_caller_in_exe ? "exe" : "abs",
           static_cast<unsigned long>(writer->blocked_caller),
           static_cast<unsigned long>(rw.Find(writer->id)->overtaken), static_cast<unsigned long>(BypassBound()),
           NameOf(reader, reader_name), reader_where.in_exe ? "exe" : "abs",
           static_cast<unsigned long>(reader_where.offset));
  sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kStarvation);
  ExitRun();
}

void ResetOvertaken(RwInfo& rw, std::uint32_t thread) {
  if (const RwThread* r = rw.Find(thread)) const_cast<RwThread*>(r)->overtaken = 0;
}

int RwLock(Thread* me, pthread_rwlock_t* rwp, bool write, Call call, Caller where,
           std::uint64_t deadline, bool try_only) {
  const std::uintptr_t key = ObjectKey(rwp);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    RwInfo& rw = M().rwlocks[key];
    rw.prefers_writers = rwp->__data.__flags == PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP;
    if (rw.writer == me->id && write) return EDEADLK;  // what glibc says for a relock by the writer
    if (RwCanAcquire(key, rw, write)) {
      int rc = write ? real2.rw_trywrlock(rwp) : real2.rw_tryrdlock(rwp);
      if (rc == 0) {
        if (write) {
          rw.writer = me->id;
          rw.writer_where = where;
          ResetOvertaken(rw, me->id);
        } else {
          RwThread& mine = rw.Of(me->id);
          ++mine.reads;
          mine.read_where = where;
          // Joining readers who still hold it overtakes every waiting writer once more. (When no
          // reader held it the writer could have run: the scheduler's choice, not the lock's.)
          const bool overtakes = rw.readers > 0;
          ++rw.readers;
          for (std::uint32_t i = 0; overtakes && i < sched.thread_count; ++i) {
            const Thread* t = sched.threads[i];
            if (t->state != State::kWait || t->object != key || WaitingOf(t).want != Want::kWrite) continue;
            if (++rw.Of(t->id).overtaken > BypassBound()) ReportStarvation(t, key, rw, me->id, where);
          }
        }
        HbAcquire(me, key);
        return 0;
      }
      if (rc != EBUSY) return rc;
    }
    if (try_only) return EBUSY;
    WaitingOf(me).want = write ? Want::kWrite : Want::kRead;
    me->ready = RwReady;
    me->wait_what = WaitingOf(me).text;
    me->deadline = deadline;
    me->timed_out = false;
    Block(me, State::kWait, key, call, where);
    if (me->timed_out) {
      me->timed_out = false;
      if (write) ResetOvertaken(M().rwlocks[key], me->id);
      return ETIMEDOUT;
    }
  }
}

int RwUnlock(Thread* me, pthread_rwlock_t* rwp, Caller where) {
  const std::uintptr_t key = ObjectKey(rwp);
  RwInfo& rw = M().rwlocks[key];
  HbRelease(me, key);
  int rc = real2.rw_unlock(rwp);
  if (rc == 0) {
    if (rw.writer == me->id) {
      rw.writer = kNone;
    } else if (const RwThread* r = rw.Find(me->id); r != nullptr && r->reads > 0) {
      --const_cast<RwThread*>(r)->reads;
      --rw.readers;
    }
  }
  RefreshWaiters(key);
  RecordStep(me, Call::kRwUnlock, key, where, rc);
  Schedule(me);
  return rc;
}

// ---- spinlocks --------------------------------------------------------------------------------
std::uintptr_t SpinKey(pthread_spinlock_t* s) {
  return ObjectKey(const_cast<const void*>(static_cast<const volatile void*>(s)));
}

bool SpinReady(const Thread* t) {
  TsanQuiet quiet;  // runs in whichever thread schedules
  const SpinInfo* info = M().spins.find(t->object);
  if (info == nullptr || info->owner == kNone) return true;
  char name[24];
  snprintf(WaitingOf(t).text, sizeof WaitingOf(t).text, "spinlock (held by %s, locked @%s:%lx)",
           NameOf(info->owner, name), info->where.in_exe ? "exe" : "abs", static_cast<unsigned long>(info->where.offset));
  return false;
}

int SpinLock(Thread* me, pthread_spinlock_t* s, Call call, Caller where, bool try_only) {
  const std::uintptr_t key = SpinKey(s);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    SpinInfo& info = M().spins[key];
    if (info.owner == kNone && real2.spin_trylock(s) == 0) {
      info.owner = me->id;
      info.where = where;
      HbAcquire(me, key);
      return 0;
    }
    if (try_only) return EBUSY;
    if (info.owner == me->id) {
      // Relocking a held spinlock spins forever: a deadlock of the thread with itself.
      char name[24];
      snprintf(WaitingOf(me).text, sizeof WaitingOf(me).text, "spinlock (held by %s itself, locked @%s:%lx)",
               ThreadName(me, name), info.where.in_exe ? "exe" : "abs", static_cast<unsigned long>(info.where.offset));
    }
    WaitingOf(me).want = Want::kSpin;
    me->ready = SpinReady;
    me->wait_what = WaitingOf(me).text;
    Block(me, State::kWait, key, call, where);
  }
}

// ---- barriers ---------------------------------------------------------------------------------
bool BarrierReady(const Thread* t) {
  TsanQuiet quiet;  // runs in whichever thread schedules
  const BarrierInfo* info = M().barriers.find(t->object);
  if (info == nullptr || !info->live) return true;
  snprintf(WaitingOf(t).text, sizeof WaitingOf(t).text,
           "barrier (%u of its count %u threads arrived; nobody else will)", info->arrived, info->count);
  return info->generation != WaitingOf(t).generation;
}

// ---- clocks -----------------------------------------------------------------------------------
// The real clocks. Before this library's constructor has run (a sanitizer's runtime initialising
// itself reads the clock) nothing is resolved: dlsym then would allocate inside the sanitizer's own
// initialisation. The raw system calls answer instead.
struct ResolveAtLoad {
  ResolveAtLoad() {
    ResolveSync2();
    if (getenv("IPCLAB_EXPLORE_RESULT") != nullptr) M();  // before any fork: one model for the tree
  }
} resolve_at_load;

int RealClockGettime(clockid_t clock, struct timespec* ts) {
  if (real2.clock_gettime == nullptr) return static_cast<int>(syscall(SYS_clock_gettime, clock, ts));
  return real2.clock_gettime(clock, ts);
}

struct VirtualClock {
  bool started = false;
  std::uint64_t realtime_base = 0, monotonic_base = 0;
};
VirtualClock vclock;

// Virtual ns for `clock` (REALTIME-like or MONOTONIC-like), or false for other clocks.
bool VirtualNow(clockid_t clock, std::uint64_t& ns) {
  bool realtime = clock == CLOCK_REALTIME || clock == CLOCK_REALTIME_COARSE;
  bool monotonic = clock == CLOCK_MONOTONIC || clock == CLOCK_MONOTONIC_COARSE ||
                   clock == CLOCK_MONOTONIC_RAW || clock == CLOCK_BOOTTIME;
  if (!realtime && !monotonic) return false;
  if (!vclock.started) {
    struct timespec r, m;
    RealClockGettime(CLOCK_REALTIME, &r);
    RealClockGettime(CLOCK_MONOTONIC, &m);
    vclock.realtime_base = ToNs(r);
    vclock.monotonic_base = ToNs(m);
    vclock.started = true;
  }
  sched.now += 1000;  // reading the clock takes a virtual microsecond
  ns = (realtime ? vclock.realtime_base : vclock.monotonic_base) + sched.now;
  return true;
}

// Clock reads are not scheduling points; only the baton holder (a controlled, live thread) sees
// virtual time, without the naive baseline's jitter.
bool VirtualClockApplies() {
  return sched.active && self != nullptr && self->state != State::kDone &&
         !self->pending_start.load(std::memory_order_relaxed);
}

}  // namespace
}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

#pragma GCC visibility push(default)
extern "C" {

int pthread_rwlock_rdlock(pthread_rwlock_t* rw) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.rw_rdlock(rw);
  TsanQuiet quiet;
  return RwLock(me, rw, false, Call::kRwRdlock, Here(__builtin_return_address(0)), 0, false);
}

int pthread_rwlock_tryrdlock(pthread_rwlock_t* rw) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.rw_tryrdlock(rw);
  TsanQuiet quiet;
  return RwLock(me, rw, false, Call::kRwTryrdlock, Here(__builtin_return_address(0)), 0, true);
}

int pthread_rwlock_timedrdlock(pthread_rwlock_t* rw, const struct timespec* abstime) {
  Thread* me = Controlled();
  if (me == nullptr) {
    using Fn = int (*)(pthread_rwlock_t*, const struct timespec*);
    static Fn fn = reinterpret_cast<Fn>(ResolveSymbol("pthread_rwlock_timedrdlock"));
    return fn(rw, abstime);
  }
  TsanQuiet quiet;
  return RwLock(me, rw, false, Call::kRwTimedrdlock, Here(__builtin_return_address(0)),
                VirtualDeadline(abstime), false);
}

int pthread_rwlock_wrlock(pthread_rwlock_t* rw) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.rw_wrlock(rw);
  TsanQuiet quiet;
  return RwLock(me, rw, true, Call::kRwWrlock, Here(__builtin_return_address(0)), 0, false);
}

int pthread_rwlock_trywrlock(pthread_rwlock_t* rw) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.rw_trywrlock(rw);
  TsanQuiet quiet;
  return RwLock(me, rw, true, Call::kRwTrywrlock, Here(__builtin_return_address(0)), 0, true);
}

int pthread_rwlock_timedwrlock(pthread_rwlock_t* rw, const struct timespec* abstime) {
  Thread* me = Controlled();
  if (me == nullptr) {
    using Fn = int (*)(pthread_rwlock_t*, const struct timespec*);
    static Fn fn = reinterpret_cast<Fn>(ResolveSymbol("pthread_rwlock_timedwrlock"));
    return fn(rw, abstime);
  }
  TsanQuiet quiet;
  return RwLock(me, rw, true, Call::kRwTimedwrlock, Here(__builtin_return_address(0)),
                VirtualDeadline(abstime), false);
}

int pthread_rwlock_unlock(pthread_rwlock_t* rw) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.rw_unlock(rw);
  TsanQuiet quiet;
  return RwUnlock(me, rw, Here(__builtin_return_address(0)));
}

int pthread_spin_lock(pthread_spinlock_t* s) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.spin_lock(s);
  TsanQuiet quiet;
  return SpinLock(me, s, Call::kSpinLock, Here(__builtin_return_address(0)), false);
}

int pthread_spin_trylock(pthread_spinlock_t* s) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.spin_trylock(s);
  TsanQuiet quiet;
  return SpinLock(me, s, Call::kSpinTrylock, Here(__builtin_return_address(0)), true);
}

int pthread_spin_unlock(pthread_spinlock_t* s) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.spin_unlock(s);
  TsanQuiet quiet;
  const std::uintptr_t key = SpinKey(s);
  HbRelease(me, key);
  if (SpinInfo* info = M().spins.find(key)) info->owner = kNone;
  int rc = real2.spin_unlock(s);
  RefreshWaiters(key);
  RecordStep(me, Call::kSpinUnlock, key, Here(__builtin_return_address(0)), rc);
  Schedule(me);
  return rc;
}

int pthread_barrier_init(pthread_barrier_t* b, const pthread_barrierattr_t* attr, unsigned count) {
  ResolveSync2();
  int rc = real2.barrier_init(b, attr, count);
  if (rc == 0 && sched.active && self != nullptr) {
    TsanQuiet quiet;
    M().barriers[ObjectKey(b)] = BarrierInfo{true, count, 0, 0};
  }
  return rc;
}

int pthread_barrier_destroy(pthread_barrier_t* b) {
  ResolveSync2();
  if (sched.active && self != nullptr) {
    TsanQuiet quiet;
    if (BarrierInfo* info = M().barriers.find(ObjectKey(b))) info->live = false;
  }
  return real2.barrier_destroy(b);
}

int pthread_barrier_wait(pthread_barrier_t* b) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.barrier_wait(b);
  const std::uintptr_t key = ObjectKey(b);
  BarrierInfo* found = M().barriers.find(key);
  if (found == nullptr || !found->live) return real2.barrier_wait(b);
  TsanQuiet quiet;
  Caller where = Here(__builtin_return_address(0));
  BarrierInfo& info = *found;
  RecordStep(me, Call::kBarrierWait, key, where, info.arrived + 1);
  HbRelease(me, key);
  if (++info.arrived >= info.count) {
    info.arrived = 0;
    ++info.generation;  // every waiter of the generation becomes ready
    RefreshWaiters(key);
    Schedule(me);
    HbAcquire(me, key);
    return PTHREAD_BARRIER_SERIAL_THREAD;
  }
  WaitingOf(me).want = Want::kBarrier;
  WaitingOf(me).generation = info.generation;
  me->ready = BarrierReady;
  me->wait_what = WaitingOf(me).text;
  Block(me, State::kWait, key, Call::kBarrierWait, where);
  HbAcquire(me, key);
  return 0;
}

int sem_close(sem_t* s) {
  Thread* me = Controlled();
  if (me == nullptr) return real2.sem_close(s);
  TsanQuiet quiet;
  Point(me, Call::kSemClose, ObjectKey(s), Here(__builtin_return_address(0)));
  int rc = real2.sem_close(s);
  // glibc unmapped /dev/shm/sem.NAME (calls_process.cc's sem_open noted the mapping).
  if (rc == 0) ForgetMapping(s, sizeof(sem_t));
  return rc;
}

int clock_gettime(clockid_t clock, struct timespec* ts) {
  std::uint64_t ns = 0;
  if (!VirtualClockApplies() || !VirtualNow(clock, ns)) return RealClockGettime(clock, ts);
  ts->tv_sec = static_cast<time_t>(ns / 1000000000ull);
  ts->tv_nsec = static_cast<long>(ns % 1000000000ull);
  return 0;
}

int gettimeofday(struct timeval* tv, void* tz) {
  std::uint64_t ns = 0;
  if (!VirtualClockApplies() || !VirtualNow(CLOCK_REALTIME, ns)) {
    if (real2.gettimeofday == nullptr) return static_cast<int>(syscall(SYS_gettimeofday, tv, tz));
    return real2.gettimeofday(tv, tz);
  }
  tv->tv_sec = static_cast<time_t>(ns / 1000000000ull);
  tv->tv_usec = static_cast<suseconds_t>((ns % 1000000000ull) / 1000);
  return 0;
}

time_t time(time_t* out) {
  std::uint64_t ns = 0;
  if (!VirtualClockApplies() || !VirtualNow(CLOCK_REALTIME, ns)) {
    if (real2.time == nullptr) return static_cast<time_t>(syscall(SYS_time, out));
    return real2.time(out);
  }
  auto t = static_cast<time_t>(ns / 1000000000ull);
  if (out != nullptr) *out = t;
  return t;
}

}  // extern "C"
#pragma GCC visibility pop
