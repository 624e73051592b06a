// lab/interpose/core.cc: the scheduler of libipclab_interpose.so (see core.h).
#include "lab/interpose/core.h"

#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <sys/mman.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <vector>

#include "lab/strategy/pct.h"
#include "lab/strategy/random.h"

namespace lab::interpose::core {

Real real;
Scheduler sched;
thread_local Thread* self = nullptr;

namespace {
std::uint64_t naive_seed = 0;  // see Jitter()
}  // namespace

void* ResolveSymbol(const char* name, const char* version) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (p == nullptr) p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "ipclab interpose: cannot find %s\n", name);
    (void)!write(2, msg, static_cast<size_t>(n));
    _exit(127);
  }
  return p;
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

Caller Here(void* ret) {
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
    case State::kWait: return t->ready != nullptr && t->ready(t);
    case State::kCond:
    case State::kSem:
    case State::kSleep:
    case State::kDone: return false;
  }
  return false;
}

namespace {

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
    } else if (t->state == State::kWait) {
      Appendf(used, " -- nobody will release %s %#lx", t->wait_what != nullptr ? t->wait_what : "object",
              static_cast<unsigned long>(t->object));
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
  ExitRun();
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

}  // namespace

// The scheduling point: `me` (the baton holder) has updated its own state; pick who runs next.
void Schedule(Thread* me) {
  TsanQuiet quiet;  // the strategy and the ready predicates run in whichever thread schedules
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

namespace {

std::uint64_t EnvU64(const char* name, std::uint64_t fallback) {
  const char* v = getenv(name);
  if (v == nullptr || *v == '\0') return fallback;
  return strtoull(v, nullptr, 0);
}

}  // namespace

Thread* NewThread() {
  if (sched.thread_count >= kMaxThreads) {
    sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kTooManyThreads);
    ExitRun();
  }
  auto* t = new Thread;
  t->id = sched.thread_count;
  sched.threads[sched.thread_count++] = t;
  sched.file->header.threads = sched.thread_count;
  return t;
}

namespace {

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

}  // namespace

void FinishThread(Thread* me) {
  RecordStep(me, Call::kThreadEnd, 0, {0, 0}, 0);
  me->state = State::kDone;
  self = nullptr;
  Schedule(me);  // never returns to `me`: it is not enabled any more
}

namespace {

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

}  // namespace

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

std::uint64_t VirtualDeadline(const struct timespec* abstime) {
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  std::uint64_t a = ToNs(*abstime), b = ToNs(now);
  return sched.now + (a > b ? a - b : 0) + 1;
}

void NoteMutexAcquired(Thread* me, std::uintptr_t key, Caller where) {
  auto& info = sched.mutexes[key];
  info.owner = me->id;
  ++info.depth;
  info.caller = where.offset;
  info.caller_in_exe = where.in_exe;
  HbAcquire(me, key);
}

void NoteMutexReleased(std::uintptr_t key) {
  if (self != nullptr) HbRelease(self, key);
  auto it = sched.mutexes.find(key);
  if (it != sched.mutexes.end() && it->second.depth > 0 && --it->second.depth == 0) {
    it->second.owner = kNone;
  }
}

}  // namespace lab::interpose::core
