// lab/interpose/core.h: the core of libipclab_interpose.so, the library `ipclab explore` preloads
// into an unmodified program. It turns the program's synchronization calls into scheduling points
// of one controlled execution:
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
// The interposed functions live in calls_*.cc, one file per family; each follows the pattern
//
//   int pthread_foo(pthread_foo_t* x) {
//     ResolveAll();
//     Thread* me = Me();
//     if (me == nullptr) return real_foo(x);          // not controlled: pass straight through
//     Caller where = Here(__builtin_return_address(0));
//     ... Point(me, call, key, where) / Block(me, State::..., key, call, where) ...
//   }
//
// and a wait the core does not know can use State::kWait with a `ready` predicate (see Thread).
//
// Without IPCLAB_EXPLORE_RESULT in the environment every call passes straight through.
// Under TSan, TSan's background thread (started with pthread_create from TSan's own interceptor)
// is left uncontrolled: only threads whose start routine is TSan's `__tsan_thread_start_func`
// trampoline, or any thread without TSan, become controlled.
//
// The library uses raw system calls (not ipc/sys) on purpose: it must not depend on code that
// could itself call the functions it interposes. Everything here is internal to the library
// (hidden visibility); only the interposed C functions are exported.
#pragma once

#include <dlfcn.h>
#include <pthread.h>
#include <semaphore.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <unordered_map>

#include "lab/interpose/result_file.h"
#include "lab/strategy/replay.h"
#include "lab/strategy/strategy.h"

namespace lab::interpose::core {

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

// The next definitions (RTLD_NEXT) of the interposed functions the core itself needs. A calls_*.cc
// file resolves its own extra functions with Resolve() (e.g. from a ResolveAll-style guard).
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
extern Real real;

// Looks `name` up as the next definition after this library (with `version` first when given);
// exits 127 with a message when it does not exist.
void* ResolveSymbol(const char* name, const char* version = nullptr);
template <typename F>
void Resolve(F& fn, const char* name, const char* version = nullptr) {
  fn = reinterpret_cast<F>(ResolveSymbol(name, version));
}

// Fills `real` once (every interposed function calls it first: it may run before Init).
void ResolveAll();

// ---- threads and the baton -------------------------------------------------------------------
// kWait: a wait defined by the calling family (Thread::ready says when it is over).
enum class State { kRunnable, kMutex, kCond, kSem, kJoin, kSleep, kDone, kWait };

struct Thread {
  std::uint32_t id = 0;
  std::atomic<std::uint32_t> baton{0};
  State state = State::kRunnable;
  std::uintptr_t object = 0;       // what it waits for (mutex, cond, sem, Thread id for join)
  std::uint64_t deadline = 0;      // virtual ns; 0 = none
  bool timed_out = false;
  bool woken = false;              // a cond/sem waiter that was signalled
  pthread_mutex_t* cond_mutex = nullptr;  // the mutex a cond waiter re-acquires
  // State::kWait: true once the wait is over (evaluated by the baton holder); `wait_what` names
  // the object kind in a hang report ("rwlock", "barrier", ...).
  bool (*ready)(const Thread*) = nullptr;
  const char* wait_what = nullptr;
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
extern Scheduler sched;
extern thread_local Thread* self;

// Where an interposed call was made: an offset into the executable (in_exe = 1) or an address.
struct Caller {
  std::uint64_t offset;
  std::uint16_t in_exe;
};
Caller Here(void* return_address);

// The calling thread when the run is controlled, else nullptr (the call passes through; under
// the naive baseline with jitter it first sleeps a random 0-100us).
Thread* Me();

void WaitBaton(Thread* t);
void GiveBaton(Thread* t);

// Appends one step to the result file (the ring the report shows).
void RecordStep(Thread* t, Call call, std::uintptr_t object, Caller where, std::int64_t value);

// True when `t` could run now.
bool Enabled(const Thread* t);

// The scheduling point: `me` (the baton holder) has updated its own state; pick who runs next.
void Schedule(Thread* me);

// A scheduling point before the call (the thread stays runnable).
void Point(Thread* me, Call call, std::uintptr_t object, Caller where);

// Blocks `me` in `state` on `object` until the scheduler makes it enabled and picks it.
void Block(Thread* me, State state, std::uintptr_t object, Call call, Caller where);

// A new controlled thread (not yet running); ends the run when there are too many.
Thread* NewThread();

// `me` ends: records it and hands the baton on for good.
void FinishThread(Thread* me);

std::uint64_t ToNs(const struct timespec& ts);
// An absolute CLOCK_REALTIME deadline as a virtual deadline.
std::uint64_t VirtualDeadline(const struct timespec* abstime);

// Mutex bookkeeping shared by every family that takes or releases a pthread mutex.
void NoteMutexAcquired(Thread* me, std::uintptr_t key, Caller where);
void NoteMutexReleased(std::uintptr_t key);

// ---- happens-before, for the race detector of access.cc -----------------------------------
// Every family reports the synchronization it models (lock/unlock, post/wait, create/join, ...)
// as acquire/release on the object's address; each call also ends the thread's current
// access-point epoch (see access.cc). They return at once for programs without access points.
void HbAcquire(Thread* t, std::uintptr_t object);
void HbRelease(Thread* t, std::uintptr_t object);
void HbSpawn(Thread* parent, Thread* child);
void HbJoin(Thread* joiner, std::uint32_t joined);

// While alive, a TSan-built program's TSan ignores the calling thread's memory accesses (and
// the intercepted malloc/memcpy it makes): the library's bookkeeping, handed between threads by
// the baton TSan does not see, must not be reported as the program's races. No-op without TSan.
class TsanQuiet {
 public:
  TsanQuiet();
  ~TsanQuiet();
  TsanQuiet(const TsanQuiet&) = delete;
  TsanQuiet& operator=(const TsanQuiet&) = delete;
  // Ends the calling thread's open ignores (see ExitRun).
  static void EndAll();
};

// Ends the run at once with kHangExitCode after a finding was written to the result file. It
// bypasses the sanitizers' _exit interceptors: TSan's would report the program's still-running
// threads as leaked (and a thread inside TsanQuiet), and replace the exit status with its own.
[[noreturn]] void ExitRun();

}  // namespace lab::interpose::core
