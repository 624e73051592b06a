// lab/interpose/interpose.cc: libipclab_interpose.so, preloaded into an unmodified pthread program
// by `ipclab explore`. It turns the program's synchronization calls into scheduling points of one
// controlled execution:
//
// - Every thread the program creates (and its main thread) is a controlled thread with a baton
//   (a futex word). Exactly one controlled thread holds its baton at a time; at each interposed
//   call the holder asks the lab strategy (random, pct, replay) which enabled thread runs next and
//   hands the baton over. These are real OS threads, not fibers.
// - Blocking calls never block in the OS: a mutex is taken with the real trylock once our
//   bookkeeping says it is free; condition variables, semaphores and joins are emulated as waits
//   the scheduler knows about; sleeps and timed waits run on virtual time (advanced only when no
//   thread is enabled, to the earliest deadline).
// - When no thread is enabled and none sleeps, the run is a hang: the wait-for state (who holds
//   which mutex, who waits for what, where) is written to the result file and the process exits
//   with kHangExitCode at once (`deadlock`, or `lost-wakeup` when a waiter sleeps on a condition
//   variable that was signalled while nobody waited).
// - Every choice and step is appended to the shared result file (result_file.h) as it happens.
//
// Without IPCLAB_EXPLORE_RESULT in the environment every call passes straight through.
// Under TSan, TSan's background thread (started with pthread_create from TSan's own interceptor)
// is left uncontrolled: only threads whose start routine is TSan's `__tsan_thread_start_func`
// trampoline, or any thread without TSan, become controlled.
//
// The library uses raw system calls (not ipc/sys) on purpose: it must not depend on code that
// could itself call the functions it interposes.
#include <dlfcn.h>
#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <unordered_map>
#include <vector>

#include "lab/interpose/result_file.h"
#include "lab/strategy/pct.h"
#include "lab/strategy/random.h"
#include "lab/strategy/replay.h"
#include "lab/strategy/strategy.h"

namespace {

using lab::interpose::Call;
using lab::interpose::ResultFile;
using lab::interpose::RunKind;

// ---- the real functions ----------------------------------------------------------------------
using CreateFn = int (*)(pthread_t*, const pthread_attr_t*, void* (*)(void*), void*);
using JoinFn = int (*)(pthread_t, void**);
using DetachFn = int (*)(pthread_t);
using ExitFn = void (*)(void*);
using MutexFn = int (*)(pthread_mutex_t*);
using CondWaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*);
using CondTimedwaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
using CondFn = int (*)(pthread_cond_t*);
using SemFn = int (*)(sem_t*);
using SemTimedFn = int (*)(sem_t*, const struct timespec*);
using YieldFn = int (*)();
using NanosleepFn = int (*)(const struct timespec*, struct timespec*);
using UsleepFn = int (*)(useconds_t);
using SleepFn = unsigned (*)(unsigned);
using MutexTimedFn = int (*)(pthread_mutex_t*, const struct timespec*);

struct Real {
  CreateFn create;
  JoinFn join;
  DetachFn detach;
  ExitFn exit;
  MutexFn lock, trylock, unlock;
  MutexTimedFn timedlock;
  CondWaitFn cond_wait;
  CondTimedwaitFn cond_timedwait;
  CondFn cond_signal, cond_broadcast;
  SemFn sem_wait, sem_trywait, sem_post;
  SemTimedFn sem_timedwait;
  YieldFn yield;
  NanosleepFn nanosleep;
  UsleepFn usleep;
  SleepFn sleep;
};
Real real;

template <typename F>
void Resolve(F& fn, const char* name, const char* version = nullptr) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (p == nullptr) p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "ipclab interpose: cannot find %s\n", name);
    (void)!write(2, msg, static_cast<size_t>(n));
    _exit(127);
  }
  fn = reinterpret_cast<F>(p);
}

void ResolveAll() {
  static std::atomic<bool> done{false};
  if (done.load(std::memory_order_acquire)) return;
  Resolve(real.create, "pthread_create");
  Resolve(real.join, "pthread_join");
  Resolve(real.detach, "pthread_detach");
  Resolve(real.exit, "pthread_exit");
  Resolve(real.lock, "pthread_mutex_lock");
  Resolve(real.trylock, "pthread_mutex_trylock");
  Resolve(real.unlock, "pthread_mutex_unlock");
  Resolve(real.timedlock, "pthread_mutex_timedlock");
  Resolve(real.cond_wait, "pthread_cond_wait", "GLIBC_2.3.2");
  Resolve(real.cond_timedwait, "pthread_cond_timedwait", "GLIBC_2.3.2");
  Resolve(real.cond_signal, "pthread_cond_signal", "GLIBC_2.3.2");
  Resolve(real.cond_broadcast, "pthread_cond_broadcast", "GLIBC_2.3.2");
  Resolve(real.sem_wait, "sem_wait");
  Resolve(real.sem_trywait, "sem_trywait");
  Resolve(real.sem_post, "sem_post");
  Resolve(real.sem_timedwait, "sem_timedwait");
  Resolve(real.yield, "sched_yield");
  Resolve(real.nanosleep, "nanosleep");
  Resolve(real.usleep, "usleep");
  Resolve(real.sleep, "sleep");
  done.store(true, std::memory_order_release);
}

// ---- threads and the baton -------------------------------------------------------------------
enum class State { kRunnable, kMutex, kCond, kSem, kJoin, kSleep, kDone };

struct Thread {
  std::uint32_t id = 0;
  std::atomic<std::uint32_t> baton{0};
  State state = State::kRunnable;
  std::uintptr_t object = 0;       // what it waits for (mutex, cond, sem, Thread id for join)
  std::uint64_t deadline = 0;      // virtual ns; 0 = none
  bool timed_out = false;
  bool woken = false;              // a cond/sem waiter that was signalled
  pthread_mutex_t* cond_mutex = nullptr;  // the mutex a cond waiter re-acquires
  Call blocked_call = Call::kStart;
  std::uint64_t blocked_caller = 0;
  std::uint16_t blocked_caller_in_exe = 0;
  void* (*start)(void*) = nullptr;
  void* arg = nullptr;
  pthread_t handle{};
  bool has_handle = false;
  // Under TSan the thread starts without the baton (TSan's interceptor makes the creator wait
  // until the new thread has started) and takes it at its first interposed call.
  std::atomic<bool> pending_start{false};
};

struct MutexInfo {
  std::uint32_t owner = ~0u;
  std::uint32_t depth = 0;
  std::uint64_t caller = 0;        // where the owner locked it
  std::uint16_t caller_in_exe = 0;
};

constexpr std::uint32_t kMaxThreads = 512;
constexpr std::uint32_t kNone = ~0u;

struct Scheduler {
  bool active = false;
  ResultFile* file = nullptr;
  std::unique_ptr<lab::Strategy> strategy;
  lab::ReplayStrategy* replay = nullptr;
  std::uint64_t seed = 0;
  Thread* threads[kMaxThreads] = {};
  std::uint32_t thread_count = 0;
  std::uint64_t now = 0;           // virtual time, ns
  std::uint64_t choices = 0;
  std::uint64_t steps = 0;
  std::unordered_map<std::uintptr_t, MutexInfo> mutexes;
  std::unordered_map<std::uintptr_t, std::uint32_t> lost_signals;  // cond -> signals nobody got
  std::uintptr_t exe_base = 0;
  void* tsan_start = nullptr;      // TSan's thread trampoline, when TSan is present
  bool tsan = false;
  bool deferred_start = false;     // TSan/ASan: the creator and the child hand-shake at creation
};
Scheduler sched;
std::uint64_t naive_seed = 0;  // see Jitter()
thread_local Thread* self = nullptr;

long Futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, nullptr, nullptr, 0);
}

void WaitBaton(Thread* t) {
  while (t->baton.load(std::memory_order_acquire) == 0) {
    Futex(&t->baton, FUTEX_WAIT_PRIVATE, 0);
  }
}

void GiveBaton(Thread* t) {
  t->baton.store(1, std::memory_order_release);
  Futex(&t->baton, FUTEX_WAKE_PRIVATE, 1);
}

struct Caller {
  std::uint64_t offset;
  std::uint16_t in_exe;
};

Caller Locate(void* ret) {
  auto a = reinterpret_cast<std::uintptr_t>(ret);
  Dl_info info;
  if (sched.exe_base != 0 && dladdr(ret, &info) != 0 &&
      reinterpret_cast<std::uintptr_t>(info.dli_fbase) == sched.exe_base) {
    return {a - sched.exe_base, 1};
  }
  return {a, 0};
}

void RecordStep(Thread* t, Call call, std::uintptr_t object, Caller where, std::int64_t value) {
  auto& s = sched.file->steps[sched.steps % lab::interpose::kMaxSteps];
  s.thread = t->id;
  s.call = static_cast<std::uint16_t>(call);
  s.caller_in_exe = where.in_exe;
  s.object = object;
  s.caller_offset = where.offset;
  s.value = value;
  ++sched.steps;
  sched.file->header.step_count = static_cast<std::uint32_t>(sched.steps);
}

bool Enabled(const Thread* t) {
  switch (t->state) {
    case State::kRunnable: return true;
    case State::kMutex: {
      auto it = sched.mutexes.find(reinterpret_cast<std::uintptr_t>(t->object));
      return it == sched.mutexes.end() || it->second.owner == kNone || it->second.owner == t->id;
    }
    case State::kJoin: return sched.threads[t->object]->state == State::kDone;
    case State::kCond:
    case State::kSem:
    case State::kSleep:
    case State::kDone: return false;
  }
  return false;
}

void Appendf(std::size_t& used, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void Appendf(std::size_t& used, const char* fmt, ...) {
  char* buf = sched.file->header.diagnosis;
  if (used + 1 >= lab::interpose::kDiagnosisBytes) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + used, lab::interpose::kDiagnosisBytes - used, fmt, ap);
  va_end(ap);
  if (n > 0) used = std::min<std::size_t>(used + static_cast<std::size_t>(n),
                                          lab::interpose::kDiagnosisBytes - 1);
}

// No thread can run and none sleeps: write the wait-for state and end the run at once.
[[noreturn]] void ReportHang() {
  std::size_t used = 0;
  bool lost = false;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kCond && sched.lost_signals.contains(t->object)) lost = true;
  }
  // Lines the explorer turns into file:line: "@exe:<hex offset>" or "@abs:<hex address>".
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kDone) continue;
    const char* where = t->blocked_caller_in_exe ? "exe" : "abs";
    Appendf(used, "thread T%u blocked in %s(%#lx) @%s:%lx", t->id,
            lab::interpose::kCallNames[static_cast<int>(t->blocked_call)],
            static_cast<unsigned long>(t->object), where,
            static_cast<unsigned long>(t->blocked_caller));
    if (t->state == State::kMutex) {
      auto& m = sched.mutexes[t->object];
      Appendf(used, " -- mutex %#lx is held by T%u, locked @%s:%lx", static_cast<unsigned long>(t->object),
              m.owner, m.caller_in_exe ? "exe" : "abs", static_cast<unsigned long>(m.caller));
    } else if (t->state == State::kCond) {
      auto it = sched.lost_signals.find(t->object);
      if (it != sched.lost_signals.end()) {
        Appendf(used, " -- condvar %#lx was signalled %u time(s) while nobody waited on it",
                static_cast<unsigned long>(t->object), it->second);
      } else {
        Appendf(used, " -- nobody will signal condvar %#lx", static_cast<unsigned long>(t->object));
      }
    } else if (t->state == State::kSem) {
      Appendf(used, " -- nobody will post semaphore %#lx", static_cast<unsigned long>(t->object));
    } else if (t->state == State::kJoin) {
      Appendf(used, " -- waits for thread T%lu to end", static_cast<unsigned long>(t->object));
    }
    for (auto& [addr, m] : sched.mutexes) {
      if (m.owner == t->id && m.depth > 0) {
        Appendf(used, "; holds mutex %#lx", static_cast<unsigned long>(addr));
      }
    }
    Appendf(used, "\n");
  }
  // The wait-for cycle among mutex waiters, if any.
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    std::uint32_t seen[kMaxThreads] = {};
    std::uint32_t cur = i;
    std::uint32_t path[kMaxThreads];
    std::uint32_t len = 0;
    while (cur != kNone && sched.threads[cur]->state == State::kMutex && seen[cur] == 0) {
      seen[cur] = 1;
      path[len++] = cur;
      cur = sched.mutexes[sched.threads[cur]->object].owner;
    }
    if (cur == i && len > 1) {
      Appendf(used, "cycle:");
      for (std::uint32_t k = 0; k < len; ++k) {
        Appendf(used, " T%u -[%#lx]->", path[k],
                static_cast<unsigned long>(sched.threads[path[k]]->object));
      }
      Appendf(used, " T%u\n", i);
      break;
    }
  }
  sched.file->header.kind = static_cast<std::uint32_t>(lost ? RunKind::kLostWakeup : RunKind::kDeadlock);
  _exit(lab::interpose::kHangExitCode);
}

// Advances virtual time to the earliest deadline among sleepers and timed waiters and wakes them.
bool AdvanceTime() {
  std::uint64_t earliest = ~std::uint64_t{0};
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state != State::kDone && !Enabled(t) && t->deadline != 0) {
      earliest = std::min(earliest, t->deadline);
    }
  }
  if (earliest == ~std::uint64_t{0}) return false;
  sched.now = std::max(sched.now, earliest);
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kDone || Enabled(t) || t->deadline == 0 || t->deadline > sched.now) continue;
    t->timed_out = t->state != State::kSleep;
    t->deadline = 0;
    if (t->state == State::kCond) {
      t->state = State::kMutex;  // re-acquire the mutex before returning ETIMEDOUT
      t->object = reinterpret_cast<std::uintptr_t>(t->cond_mutex);
    } else {
      t->state = State::kRunnable;
    }
  }
  return true;
}

// The scheduling point: `me` (the baton holder) has updated its own state; pick who runs next.
void Schedule(Thread* me) {
  Thread* enabled[kMaxThreads];
  lab::ThreadId ids[kMaxThreads];
  std::uint32_t n = 0;
  for (;;) {
    n = 0;
    for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
      if (Enabled(sched.threads[i])) {
        ids[n] = sched.threads[i]->id;
        enabled[n++] = sched.threads[i];
      }
    }
    if (n > 0) break;
    if (!AdvanceTime()) ReportHang();
  }
  std::size_t pick = 0;
  if (n > 1) {
    lab::Choices c;
    c.kind = lab::Choices::Kind::kThread;
    c.count = n;
    c.threads = std::span<const lab::ThreadId>(ids, n);
    c.current = me->id;
    c.current_enabled = Enabled(me);
    c.index = sched.choices;
    c.step = sched.steps;
    pick = sched.strategy->Pick(c) % n;
    if (sched.choices < lab::interpose::kMaxChoices) {
      sched.file->choices[sched.choices] = static_cast<std::uint32_t>(pick);
    }
    ++sched.choices;
    sched.file->header.choice_count = static_cast<std::uint32_t>(sched.choices);
  }
  Thread* next = enabled[pick];
  if (next == me) return;
  me->baton.store(0, std::memory_order_relaxed);
  GiveBaton(next);
  if (me->state == State::kDone) return;  // an ending thread leaves without the baton
  WaitBaton(me);
}

// A scheduling point before the call (the thread stays runnable).
void Point(Thread* me, Call call, std::uintptr_t object, Caller where) {
  RecordStep(me, call, object, where, 0);
  Schedule(me);
}

// Blocks `me` in `state` on `object` until the scheduler makes it enabled and picks it.
void Block(Thread* me, State state, std::uintptr_t object, Call call, Caller where) {
  me->state = state;
  me->object = object;
  me->blocked_call = call;
  me->blocked_caller = where.offset;
  me->blocked_caller_in_exe = where.in_exe;
  Schedule(me);
  if (me->state != State::kRunnable && Enabled(me)) me->state = State::kRunnable;
}

std::uint64_t EnvU64(const char* name, std::uint64_t fallback) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return strtoull(v, nullptr, 0);
}

Thread* NewThread() {
  if (sched.thread_count >= kMaxThreads) {
    sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kTooManyThreads);
    _exit(lab::interpose::kHangExitCode);
  }
  auto* t = new Thread;
  t->id = sched.thread_count;
  sched.threads[sched.thread_count++] = t;
  sched.file->header.threads = sched.thread_count;
  return t;
}

void Init() {
  ResolveAll();
  naive_seed = EnvU64("IPCLAB_NAIVE_JITTER", 0);
  const char* path = getenv("IPCLAB_EXPLORE_RESULT");
  if (path == nullptr || *path == '\0') return;
  // Children (a sanitizer's symbolizer, fork+exec by the program) run without the library: they
  // are not controlled, and under a sanitizer config the library needs the program's runtime.
  unsetenv("LD_PRELOAD");
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) return;
  void* p = mmap(nullptr, lab::interpose::kResultFileSize, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
  close(fd);
  if (p == MAP_FAILED) return;
  sched.file = static_cast<ResultFile*>(p);
  if (sched.file->header.magic != lab::interpose::kResultMagic) return;
  // The executable's load base, to turn return addresses into offsets addr2line understands.
  dl_iterate_phdr(
      [](struct dl_phdr_info* info, size_t, void*) {
        sched.exe_base = info->dlpi_addr;  // the first object is the executable
        return 1;
      },
      nullptr);
  sched.tsan = dlsym(RTLD_DEFAULT, "__tsan_init") != nullptr;
  sched.tsan_start = dlsym(RTLD_DEFAULT, "__tsan_thread_start_func");
  sched.deferred_start = sched.tsan || dlsym(RTLD_DEFAULT, "__asan_init") != nullptr;
  sched.seed = EnvU64("IPCLAB_EXPLORE_SEED", 1);
  const char* strategy = getenv("IPCLAB_EXPLORE_STRATEGY");
  std::string_view name = strategy != nullptr ? strategy : "random";
  if (name == "replay") {
    std::uint32_t n = std::min(sched.file->header.replay_count, lab::interpose::kMaxChoices);
    auto r = std::make_unique<lab::ReplayStrategy>(
        std::vector<std::uint32_t>(sched.file->choices, sched.file->choices + n));
    sched.replay = r.get();
    sched.strategy = std::move(r);
  } else if (name == "pct") {
    auto pct = std::make_unique<lab::PctStrategy>(static_cast<int>(EnvU64("IPCLAB_EXPLORE_PCT_DEPTH", 3)));
    // Each run is a fresh process: the explorer passes the longest schedule seen so far.
    if (std::uint64_t k = EnvU64("IPCLAB_EXPLORE_PCT_K", 0); k > 0) pct->EndExecution(k);
    sched.strategy = std::move(pct);
  } else {
    sched.strategy = std::make_unique<lab::RandomStrategy>();
  }
  sched.strategy->NewExecution(sched.seed);
  Thread* main_thread = NewThread();
  main_thread->baton.store(1, std::memory_order_relaxed);
  self = main_thread;
  sched.active = true;
  sched.file->header.started = 1;
}

// Runs Init after the globals above are constructed (a constructor attribute could run first).
struct Starter {
  Starter() { Init(); }
} starter;

// TSan starts its background thread through internal_start_thread, which blocks every signal
// around pthread_create; the program's own threads are created with the program's mask. A
// program that itself blocks all these signals before creating a thread under TSan would have
// that thread run uncontrolled (a documented limitation).
bool CreatedBySanitizer() {
  std::uint64_t mask = 0;
  if (syscall(SYS_rt_sigprocmask, SIG_BLOCK, nullptr, &mask, sizeof mask) != 0) return false;
  auto blocked = [&](int sig) { return (mask >> (sig - 1)) & 1; };
  return blocked(SIGINT) && blocked(SIGTERM) && blocked(SIGUSR1) && blocked(SIGUSR2) &&
         blocked(SIGCHLD) && blocked(SIGHUP) && blocked(SIGALRM);
}

struct StartArgs {
  Thread* thread;
  void* (*start)(void*);
  void* arg;
};

void FinishThread(Thread* me) {
  RecordStep(me, Call::kThreadEnd, 0, {0, 0}, 0);
  me->state = State::kDone;
  self = nullptr;
  Schedule(me);  // never returns to `me`: it is not enabled any more
}

void* Trampoline(void* raw) {
  StartArgs args = *static_cast<StartArgs*>(raw);
  delete static_cast<StartArgs*>(raw);
  self = args.thread;
  if (sched.deferred_start) {
    args.thread->pending_start.store(true, std::memory_order_relaxed);
    void* result = args.start(args.arg);
    if (args.thread->pending_start.exchange(false)) WaitBaton(args.thread);
    RecordStep(args.thread, Call::kStart, 0, {reinterpret_cast<std::uint64_t>(args.start), 0}, 0);
    FinishThread(args.thread);
    return result;
  }
  WaitBaton(args.thread);
  RecordStep(args.thread, Call::kStart, 0, {reinterpret_cast<std::uint64_t>(args.start), 0}, 0);
  void* result = args.start(args.arg);
  FinishThread(args.thread);
  return result;
}

// The naive baseline (IPCLAB_NAIVE_JITTER=<seed>): no control, a random real sleep of 0-100us
// before each interposed call.
thread_local lab::Rng jitter_rng;
thread_local bool jitter_seeded = false;

void Jitter() {
  if (!jitter_seeded) {
    jitter_rng = lab::Rng(naive_seed ^ reinterpret_cast<std::uintptr_t>(&jitter_seeded));
    jitter_seeded = true;
  }
  struct timespec ts = {0, static_cast<long>(jitter_rng.Below(100001))};
  real.nanosleep(&ts, nullptr);
}

Thread* Me() {
  if (sched.active) {
    if (self != nullptr && self->pending_start.load(std::memory_order_relaxed)) {
      self->pending_start.store(false, std::memory_order_relaxed);
      WaitBaton(self);
    }
    return self;
  }
  if (naive_seed != 0) Jitter();
  return nullptr;
}

std::uint64_t ToNs(const struct timespec& ts) {
  return static_cast<std::uint64_t>(ts.tv_sec) * 1000000000ull + static_cast<std::uint64_t>(ts.tv_nsec);
}

// An absolute CLOCK_REALTIME deadline as a virtual deadline.
std::uint64_t VirtualDeadline(const struct timespec* abstime) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  std::uint64_t a = ToNs(*abstime), b = ToNs(now);
  return sched.now + (a > b ? a - b : 0) + 1;
}

Caller Here(void* ret) { return Locate(ret); }

int LockMutex(Thread* me, pthread_mutex_t* m, Call call, Caller where, std::uint64_t deadline,
              bool try_only) {
  auto key = reinterpret_cast<std::uintptr_t>(m);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    int rc = real.trylock(m);
    if (rc == 0) {
      auto& info = sched.mutexes[key];
      info.owner = me->id;
      ++info.depth;
      info.caller = where.offset;
      info.caller_in_exe = where.in_exe;
      return 0;
    }
    if (rc != EBUSY || try_only) return rc;
    me->deadline = deadline;
    me->timed_out = false;
    Block(me, State::kMutex, key, call, where);
    if (me->timed_out) {
      me->timed_out = false;
      return ETIMEDOUT;
    }
  }
}

int UnlockMutex(Thread* me, pthread_mutex_t* m, Caller where) {
  auto key = reinterpret_cast<std::uintptr_t>(m);
  int rc = real.unlock(m);
  if (rc == 0) {
    auto it = sched.mutexes.find(key);
    if (it != sched.mutexes.end() && it->second.depth > 0 && --it->second.depth == 0) {
      it->second.owner = kNone;
    }
  }
  RecordStep(me, Call::kMutexUnlock, key, where, rc);
  Schedule(me);
  return rc;
}

int CondWait(Thread* me, pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime,
             Caller where) {
  auto key = reinterpret_cast<std::uintptr_t>(c);
  Call call = abstime != nullptr ? Call::kCondTimedwait : Call::kCondWait;
  RecordStep(me, call, key, where, 0);
  // Atomically (we hold the baton) release the mutex and start waiting.
  auto mkey = reinterpret_cast<std::uintptr_t>(m);
  if (real.unlock(m) == 0) {
    auto it = sched.mutexes.find(mkey);
    if (it != sched.mutexes.end() && it->second.depth > 0 && --it->second.depth == 0) {
      it->second.owner = kNone;
    }
  }
  me->cond_mutex = m;
  me->woken = false;
  me->timed_out = false;
  me->deadline = abstime != nullptr ? VirtualDeadline(abstime) : 0;
  Block(me, State::kCond, key, call, where);
  // Woken (or timed out): the state is now kMutex on `m`; take it.
  bool timed_out = me->timed_out;
  me->deadline = 0;
  for (;;) {
    int rc = real.trylock(m);
    if (rc == 0) {
      auto& info = sched.mutexes[mkey];
      info.owner = me->id;
      ++info.depth;
      info.caller = where.offset;
      info.caller_in_exe = where.in_exe;
      break;
    }
    Block(me, State::kMutex, mkey, call, where);
  }
  return timed_out ? ETIMEDOUT : 0;
}

void WakeCondWaiters(Thread* me, pthread_cond_t* c, bool all, Caller where) {
  auto key = reinterpret_cast<std::uintptr_t>(c);
  int woken = 0;
  // Wake the longest waiter first (lowest id as a stand-in: waiters are not queued by time).
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kCond && t->object == key) {
      t->state = State::kMutex;
      t->object = reinterpret_cast<std::uintptr_t>(t->cond_mutex);
      t->woken = true;
      t->deadline = 0;
      ++woken;
      if (!all) break;
    }
  }
  if (woken == 0) ++sched.lost_signals[key];
  RecordStep(me, all ? Call::kCondBroadcast : Call::kCondSignal, key, where, woken);
  Schedule(me);
}

int SemWait(Thread* me, sem_t* s, Call call, Caller where, std::uint64_t deadline, bool try_only) {
  auto key = reinterpret_cast<std::uintptr_t>(s);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    if (real.sem_trywait(s) == 0) return 0;
    if (errno != EAGAIN || try_only) return -1;
    me->deadline = deadline;
    me->timed_out = false;
    Block(me, State::kSem, key, call, where);
    if (me->timed_out) {
      me->timed_out = false;
      errno = ETIMEDOUT;
      return -1;
    }
  }
}

void SleepFor(Thread* me, std::uint64_t ns, Caller where) {
  RecordStep(me, Call::kSleep, 0, where, static_cast<std::int64_t>(ns));
  me->deadline = sched.now + ns + 1;
  Block(me, State::kSleep, 0, Call::kSleep, where);
  me->deadline = 0;
}

}  // namespace

// ---- the interposed functions ------------------------------------------------------------------
extern "C" {

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  ResolveAll();
  Thread* me = Me();
  // Under TSan only the program's threads (started through TSan's trampoline) are controlled.
  if (me == nullptr || (sched.tsan && (sched.tsan_start != nullptr
                                            ? reinterpret_cast<void*>(start) != sched.tsan_start
                                            : CreatedBySanitizer()))) {
    return real.create(thread, attr, start, arg);
  }
  Caller where = Here(__builtin_return_address(0));
  Thread* child = NewThread();
  RecordStep(me, Call::kCreate, child->id, where, 0);
  auto* args = new StartArgs{child, start, arg};
  int rc = real.create(thread, attr, Trampoline, args);
  if (rc != 0) {
    delete args;
    child->state = State::kDone;
    return rc;
  }
  child->handle = *thread;
  child->has_handle = true;
  // Under TSan the child waits (in TSan's start routine) until the creator is back in TSan's
  // interceptor: no hand-off here; the creator's next interposed call is the point.
  if (!sched.deferred_start) Schedule(me);
  return rc;
}

int pthread_join(pthread_t thread, void** result) {
  ResolveAll();
  Thread* me = Me();
  if (me != nullptr) {
    Caller where = Here(__builtin_return_address(0));
    std::uint32_t id = kNone;
    for (std::uint32_t i = 1; i < sched.thread_count; ++i) {
      if (sched.threads[i]->has_handle && pthread_equal(sched.threads[i]->handle, thread)) id = i;
    }
    RecordStep(me, Call::kJoin, id, where, 0);
    Schedule(me);
    if (id != kNone) Block(me, State::kJoin, id, Call::kJoin, where);
  }
  return real.join(thread, result);
}

int pthread_detach(pthread_t thread) {
  ResolveAll();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kDetach, 0, Here(__builtin_return_address(0)));
  return real.detach(thread);
}

void pthread_exit(void* value) {
  ResolveAll();
  Thread* me = Me();
  if (me != nullptr && me->id != 0) FinishThread(me);
  real.exit(value);
  __builtin_unreachable();
}

int pthread_mutex_lock(pthread_mutex_t* m) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.lock(m);
  return LockMutex(me, m, Call::kMutexLock, Here(__builtin_return_address(0)), 0, false);
}

int pthread_mutex_trylock(pthread_mutex_t* m) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.trylock(m);
  return LockMutex(me, m, Call::kMutexTrylock, Here(__builtin_return_address(0)), 0, true);
}

int pthread_mutex_timedlock(pthread_mutex_t* m, const struct timespec* abstime) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.timedlock(m, abstime);
  return LockMutex(me, m, Call::kMutexTimedlock, Here(__builtin_return_address(0)),
                   VirtualDeadline(abstime), false);
}

int pthread_mutex_unlock(pthread_mutex_t* m) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.unlock(m);
  return UnlockMutex(me, m, Here(__builtin_return_address(0)));
}


int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.cond_wait(c, m);
  return CondWait(me, c, m, nullptr, Here(__builtin_return_address(0)));
}

int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.cond_timedwait(c, m, abstime);
  return CondWait(me, c, m, abstime, Here(__builtin_return_address(0)));
}

int pthread_cond_signal(pthread_cond_t* c) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.cond_signal(c);
  WakeCondWaiters(me, c, false, Here(__builtin_return_address(0)));
  return 0;
}

int pthread_cond_broadcast(pthread_cond_t* c) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.cond_broadcast(c);
  WakeCondWaiters(me, c, true, Here(__builtin_return_address(0)));
  return 0;
}

int sem_wait(sem_t* s) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.sem_wait(s);
  return SemWait(me, s, Call::kSemWait, Here(__builtin_return_address(0)), 0, false);
}

int sem_trywait(sem_t* s) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.sem_trywait(s);
  return SemWait(me, s, Call::kSemTrywait, Here(__builtin_return_address(0)), 0, true);
}

int sem_timedwait(sem_t* s, const struct timespec* abstime) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.sem_timedwait(s, abstime);
  return SemWait(me, s, Call::kSemTimedwait, Here(__builtin_return_address(0)),
                 VirtualDeadline(abstime), false);
}

int sem_post(sem_t* s) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.sem_post(s);
  int rc = real.sem_post(s);
  auto key = reinterpret_cast<std::uintptr_t>(s);
  int woken = 0;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kSem && t->object == key) {
      t->state = State::kRunnable;  // retries sem_trywait when it runs
      t->deadline = 0;
      ++woken;
    }
  }
  RecordStep(me, Call::kSemPost, key, Here(__builtin_return_address(0)), woken);
  Schedule(me);
  return rc;
}

int sched_yield() {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.yield();
  Point(me, Call::kYield, 0, Here(__builtin_return_address(0)));
  return 0;
}

int nanosleep(const struct timespec* req, struct timespec* rem) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.nanosleep(req, rem);
  if (req == nullptr || req->tv_nsec < 0 || req->tv_nsec >= 1000000000) {
    errno = EINVAL;
    return -1;
  }
  SleepFor(me, ToNs(*req), Here(__builtin_return_address(0)));
  if (rem != nullptr) *rem = {0, 0};
  return 0;
}

int usleep(useconds_t us) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.usleep(us);
  SleepFor(me, static_cast<std::uint64_t>(us) * 1000, Here(__builtin_return_address(0)));
  return 0;
}

unsigned sleep(unsigned s) {
  ResolveAll();
  Thread* me = Me();
  if (me == nullptr) return real.sleep(s);
  SleepFor(me, static_cast<std::uint64_t>(s) * 1000000000ull, Here(__builtin_return_address(0)));
  return 0;
}

}  // extern "C"
