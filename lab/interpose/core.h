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
#include <array>
#include <sys/types.h>

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

// ---- threads, processes and the baton ---------------------------------------------------------
// The whole scheduler state below lives in one MAP_SHARED segment (mapped over `sched` at Init),
// so a forked child shares it with its parent: one thread table, one baton per thread (a futex
// word, waited on with shared futexes), one mutex table, one choice log for the whole tree.
// Pointers in it (Thread*, the strategy) stay valid after fork: the child has the same layout.
//
// kWait: a wait defined by the calling family (Thread::ready says when it is over).
// kChild: waitpid for a child process (object: the pid wanted, or -1 for any).
// kPipe: read/write on a pipe or socket that would block (object: PipeKey); woken by any event on
// the same pipe (a read, write or close) or by a process ending, then it probes again.
// kKernel: a blocking call on a kernel object of calls_wait.cc (message queue, System V semaphore
// set or queue, file lock, signal set) that would block; like kPipe it is woken by an event on the
// same object (WakePipeWaiters) or a process ending, then tries again (object: a key of
// calls_wait.cc, see KernelWaitKey).
enum class State { kRunnable, kMutex, kCond, kSem, kJoin, kSleep, kDone, kWait, kChild, kPipe, kKernel };

struct Thread {
  std::uint32_t id = 0;            // global across the process tree (the strategy's ThreadId)
  std::uint32_t proc = 0;          // process index (0: the program's first process)
  std::uint32_t local = 0;         // index among its process's threads (the "t" of "p1.t0")
  std::atomic<std::uint32_t> baton{0};
  State state = State::kRunnable;
  std::uintptr_t object = 0;       // what it waits for (mutex, cond, sem, Thread id for join)
  std::uint64_t deadline = 0;      // virtual ns; 0 = none
  bool timed_out = false;
  bool woken = false;              // a cond/sem/pipe waiter that was signalled
  bool interrupted = false;        // a signal fault hit its blocking call
  int interrupt_signo = 0;         // ... that signal (0: the fault's SIGUSR1; else a program's kill)
  bool last_try = false;           // kKernel: given its one extra try before a hang (calls_wait.cc)
  pthread_mutex_t* cond_mutex = nullptr;  // the mutex a cond waiter re-acquires (its process)
  std::uintptr_t cond_mutex_key = 0;      // ... and its ObjectKey
  // State::kWait: true once the wait is over (evaluated by the baton holder when it is in the
  // waiter's process, which owns the model; other processes use `wait_ready`, its last answer
  // there); `wait_what` names the object kind in a hang report
  // ("rwlock", "barrier", ...).
  bool (*ready)(const Thread*) = nullptr;
  mutable bool wait_ready = false;  // `ready`'s last answer in the waiter's own process
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
  // A wait on descriptors (calls_io.cc: poll/select/epoll, recv/send/accept/connect): the fds in
  // the waiter's process and the events wanted (an epoll: its epoll fd), for the hang report.
  // Such a waiter (State::kPipe) is woken by an event on any pipe or socket.
  struct IoWait {
    static constexpr int kMaxFds = 8;
    std::uint8_t count = 0;        // 0: not a descriptor wait
    bool epoll = false;            // fd[0] is an epoll instance
    std::int32_t fd[kMaxFds] = {};
    std::int16_t events[kMaxFds] = {};
  } io;
};

struct Proc {
  pid_t pid = 0;
  std::uint32_t parent = ~0u;      // process index of the parent
  std::uint32_t threads = 0;       // threads created in it (for local indices)
  bool exited = false;             // all its threads are done (exit, _exit, kill, crash)
  bool reaped = false;             // its parent's waitpid returned it
  bool killed = false;             // by a kill fault
  bool exiting = false;            // in its exit path (calls pass through)
};

struct MutexInfo {
  std::uint32_t owner = ~0u;
  std::uint32_t depth = 0;
  std::uint64_t caller = 0;        // where the owner locked it
  std::uint16_t caller_in_exe = 0;
  pid_t dead_owner_pid = 0;        // the owner's process died holding it (robust mutexes)
};

// A fixed-size map from object keys to values, placed in the shared segment (no allocation).
template <typename V, std::uint32_t N>
class KeyTable {
 public:
  struct Entry {
    std::uintptr_t key;
    bool used;
    V value;
  };
  V* find(std::uintptr_t key) {
    for (std::uint32_t i = 0; i < count_; ++i) {
      if (entries_[i].used && entries_[i].key == key) return &entries_[i].value;
    }
    return nullptr;
  }
  const V* find(std::uintptr_t key) const { return const_cast<KeyTable*>(this)->find(key); }
  bool contains(std::uintptr_t key) const { return find(key) != nullptr; }
  // The value for `key`, default-constructed when new; ends the run when the table is full.
  V& operator[](std::uintptr_t key);
  Entry* begin() { return entries_; }
  Entry* end() { return entries_ + count_; }

 private:
  std::uint32_t count_ = 0;
  Entry entries_[N];
};

void TableFull();  // the run ends (kTooManyThreads, with a message)

template <typename V, std::uint32_t N>
V& KeyTable<V, N>::operator[](std::uintptr_t key) {
  if (V* v = find(key)) return *v;
  if (count_ >= N) TableFull();
  entries_[count_] = Entry{key, true, V{}};
  return entries_[count_++].value;
}

constexpr std::uint32_t kMaxThreads = lab::interpose::kMaxThreadRecords;
constexpr std::uint32_t kMaxProcs = 64;
constexpr std::uint32_t kNone = ~0u;
// MutexInfo::owner when the real mutex is taken but by no controlled thread: its owner died
// (a not-recoverable robust mutex stays "busy") or is a thread outside the exploration.
constexpr std::uint32_t kUnknownOwner = ~0u - 1;

// Fault injection (IPCLAB_EXPLORE_FAULTS=kill,signal): at most one fault per run, at a point the
// strategy chooses (a countdown chosen at the first point where a fault is possible).
constexpr std::uint32_t kFaultKill = 1;
constexpr std::uint32_t kFaultSignal = 2;
constexpr std::uint32_t kFaultHorizon = 48;

// Process-local state of the program image (an exec'd process has its own; see calls_exec.cc).
struct Image {
  ResultFile* file = nullptr;          // the result file, mapped in this image
  lab::Strategy* strategy = nullptr;   // pct: in strategy_storage (exec'd images: a copy); replay: here
  std::uintptr_t exe_base = 0;         // 0: steps of this image are not offsets into the program
  void* tsan_start = nullptr;          // TSan's thread trampoline, when TSan is present
  bool tsan = false;
  bool deferred_start = false;         // TSan/ASan: the creator and the child hand-shake at creation
  int sched_fd = -1;                   // the memfd behind the shared segment (for exec, spawn)
};
extern Image image;

// The shared segment holds no pointers, so an exec'd image can map it at another address:
// `sched.threads[i]` and `sched.file` are computed in each process.
struct ThreadSlots {
  Thread* operator[](std::uint32_t i) const;
};
struct FileRef {
  ResultFile* operator->() const { return image.file; }
  operator ResultFile*() const { return image.file; }  // NOLINT: `sched.file != nullptr`
};

struct alignas(4096) Scheduler {
  bool active = false;
  [[no_unique_address]] FileRef file;
  std::uint64_t seed = 0;
  bool shared_random = false;      // the random strategy is in strategy_storage (whole tree)
  [[no_unique_address]] ThreadSlots threads;
  std::uint32_t thread_count = 0;
  std::uint64_t now = 0;           // virtual time, ns
  std::uint64_t choices = 0;
  std::uint64_t steps = 0;
  KeyTable<MutexInfo, 2048> mutexes;
  KeyTable<std::uint32_t, 512> lost_signals;  // cond -> signals nobody got
  // Process trees.
  Proc procs[kMaxProcs];
  std::uint32_t proc_count = 0;
  std::atomic<std::uint32_t> holder{0};  // the thread holding the baton
  std::uint64_t anon_segments = 0;       // ids of MAP_SHARED|MAP_ANONYMOUS mappings
  KeyTable<std::array<char, 80>, 256> object_names;  // shared object key -> "name+offset"
  // Faults.
  std::uint32_t fault_kinds = 0;   // kFaultKill | kFaultSignal
  std::uint32_t faults_done = 0;
  std::int64_t fault_countdown = -1;  // -1: not chosen yet
  bool fault_each_point = false;   // dfs: a fault choice at every point where one is possible
  // The random or PCT strategy object, and the memory PCT's containers allocate from (a bump
  // arena; core.cc), so the whole tree draws from one state: PCT's priorities are global.
  alignas(64) unsigned char strategy_storage[256];
  alignas(64) unsigned char strategy_arena[128];
  alignas(64) unsigned char strategy_memory[1 << 17];
  Thread thread_storage[kMaxThreads];
  // The program's executable (the first process's image), to tell an exec'd image apart.
  std::uint64_t program_dev = 0, program_ino = 0;
};
extern Scheduler sched;
inline Thread* ThreadSlots::operator[](std::uint32_t i) const { return &sched.thread_storage[i]; }
extern thread_local Thread* self;
extern std::uint32_t my_proc;  // this process's index (process-local)

// "T3" in a single-process run, "p1.t0" once the program forked.
const char* ThreadName(const Thread* t, char (&buf)[24]);

// The identity of a synchronization object at `addr`: inside a MAP_SHARED mapping, (segment
// dev/inode or anonymous id, offset) so every process of the tree names it alike; elsewhere
// (process, address), since a forked child's private copy at the same address is another object.
std::uintptr_t ObjectKey(const void* addr);
// ObjectKey of `addr` when it is inside a MAP_SHARED mapping, else 0 (for memory accesses: it
// does not record a name, see ObjectKey).
std::uintptr_t SharedKey(const void* addr);
// "/dev/shm/x+0x40" for a shared object, "0x7f..." otherwise (into `buf`).
const char* DescribeObject(std::uintptr_t key, char (&buf)[96]);

// mmap/munmap bookkeeping of shared mappings (calls_process.cc interposes them).
void NoteSharedMapping(void* addr, std::size_t len, int fd, off_t offset);
// len == 0: the mapping that starts at `addr` (shmdt).
void ForgetMapping(void* addr, std::size_t len);
// A mapping made where we do not see it (sem_open maps /dev/shm/sem.NAME inside glibc): `addr`
// .. +len is file `path` from offset 0.
void NoteSharedFile(void* addr, std::size_t len, const char* path);

// A System V segment `shmid` attached at `addr` .. +len (shmat).
void NoteSysvSegment(void* addr, std::size_t len, int shmid);

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

// ---- processes (core.cc; the interposed fork/wait/exit are in calls_process.cc) ----------------
// A new process entry for a child about to be forked by `parent` (its first thread is returned
// with the entry); FinishProcess marks every thread of `proc` done, releases its mutexes in the
// bookkeeping (a robust mutex's next owner gets EOWNERDEAD), and wakes pipe waiters.
Thread* NewProcess(std::uint32_t parent);
void FinishProcess(std::uint32_t proc, bool killed);
// Blocks (really, briefly) until process `pid` is gone or a zombie, so the kernel has closed its
// files and released its robust mutexes.
void WaitDead(pid_t pid);
// Closes every pipe and socket descriptor of this process (it is about to end: readers of its
// pipes see EOF before the next thread runs, not whenever the kernel gets to it).
void ClosePipeDescriptors();
// Wakes the threads waiting (State::kPipe or kKernel) on `key`, or all of them when key == 0.
void WakePipeWaiters(std::uintptr_t key);
// A signal hit `me` blocked in an interposed call (me->interrupted; the fault's SIGUSR1 or a
// program's kill): delivers it for real on this thread (the program's handler runs now) and says
// what the interrupted call does: EINTR, or 0 to go on waiting (SA_RESTART or an ignored signal).
// A default action kills the process, as the kernel would.
int DeliverInterruption(Thread* me);

// ---- kernel-object waits (calls_wait.cc) -------------------------------------------------------
// Appends to the hang report what `t` (State::kKernel) waits for and who could end the wait;
// returns true when it is a lock-like wait (file lock, semaphore set: the run is a deadlock)
// rather than a channel (message queue, signal set: a hang).
bool AppendKernelWait(const Thread* t, std::size_t& used);
// The key of the file behind `fd` for file-lock waits (0 when fstat fails): closing a file
// releases the process's fcntl locks on it, so close() wakes its waiters.
std::uintptr_t FileLockKey(int fd);
// Before a hang is reported: wakes the kernel-object waiters that have not had their one extra
// try in their current wait (a lock released by a call the library does not see, e.g. fclose),
// returning whether it woke any.
bool RetryKernelWaiters();
// Appends "cycle: ..." when file-lock waiters form a wait-for cycle across processes.
bool AppendKernelCycle(std::size_t& used);
// printf into the hang report's diagnosis at `used` (for the families' explanations).
void AppendDiagnosis(std::size_t& used, const char* fmt, ...) __attribute__((format(printf, 2, 3)));

// calls_io.cc: describes `t`'s descriptor wait (Thread::io) for the hang report into `buf`: each
// fd, the pipe or socket behind it and who holds its other end.
void DescribeIoWait(const Thread* t, char* buf, std::size_t room);

// ---- exec (calls_exec.cc) ----------------------------------------------------------------------
// An exec'd image or a posix_spawn'd child joins the exploration through this environment
// variable, "<fd of the scheduler segment>:<thread id>": its Init maps the segment instead of
// creating one and continues as that thread (an exec'd one holds the baton already, a spawned
// one waits for it).
inline constexpr const char kJoinEnv[] = "IPCLAB_EXPLORE_JOIN";

// Records a named IPC object the program created, for the leak check after the run.
void NoteCreated(lab::interpose::ObjectType type, const char* name, int sysv_id);

// Syscall-level helpers that never go through the interposed functions.
long RawWrite(int fd, const void* buf, std::size_t n);
// A MAP_SHARED anonymous segment of `bytes` (zeroed, pages allocated when touched) that forked
// children inherit, mapped without the interposed mmap (it is the library's, not the program's);
// nullptr when it cannot be mapped.
void* RawMapShared(std::size_t bytes);

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
