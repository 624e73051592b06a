// lab/interpose/access.cc: memory-access scheduling points and the happens-before race detector
// of libipclab_interpose.so, for programs built with tools/ipclab-cc / ipclab-c++.
//
// Such a program calls __ipclab_access(addr, size, flags, pc) before every load and store of its
// own code (tools/ipclab_access_rt.c forwards clang's -fsanitize-coverage=trace-loads,trace-stores
// callbacks; atomics arrive flagged with their memory order). Here each access:
//
// - is skipped when it is on the calling thread's own stack, or while the program has a single
//   controlled thread (nothing to interleave or race with);
// - may become a scheduling point (Call::kLoad / kStore / kAtomic) before it happens. To keep
//   the overhead sane, a plain access is a point only when it is the thread's first access to
//   that address since its last synchronization (the "epoch", up to kEpochSlots addresses), or
//   every kEveryNthAccess-th access (so that loops without synchronization still have points);
//   every atomic access is a point. A thread that makes kSpinPoints points without any
//   synchronization is taken for a spinner and sleeps one virtual nanosecond, which lets every
//   other enabled thread run first (the CHESS fairness idea: a spin loop cannot starve the
//   thread it waits for, whatever the strategy's priorities);
// - feeds lab::RaceDetector (FastTrack, lab/detect/race.h) with the thread and the address.
//   Synchronization comes from the interposed calls (HbAcquire/HbRelease/HbSpawn/HbJoin, called
//   by every family) and from atomics: an acquire (or stronger) atomic load is an acquire of its
//   address, a release store a release, an acq_rel/seq_cst read-modify-write both; relaxed
//   atomics order nothing. The first race ends the run with RunKind::kDataRace and a diagnosis
//   naming both accesses (@exe offsets the explorer turns into file:line) and both threads.
//
// Locations are addresses at the granularity the program uses: two accesses race only when they
// start at the same address (a 4-byte write and a 1-byte read of its second byte are not
// compared). Accesses inside libc (memcpy, ...) and uninstrumented libraries are not seen.
//
// Process trees: access points are scheduling points in every process (one scheduler). Private
// memory is checked by a process-local detector (a forked child starts from its parent's copy;
// fork() reports create -> child start). Accesses to MAP_SHARED memory (shm_open + mmap, a
// mapped file, MAP_SHARED|MAP_ANONYMOUS inherited over fork, shmat) are keyed by (segment,
// offset) (core's SharedKey) and checked by a second detector, lab::FixedRaceDetector, placed in
// a MAP_SHARED segment mapped when the program announces its access points (before any fork),
// so every process of the tree updates one state with the tree-global thread ids: a race between
// p1.t0 and p2.t0 on /dev/shm/x+0x10 is reported naming both. Every synchronization event goes
// to both detectors; across processes happens-before comes from process-shared mutexes,
// semaphores, condvars, rwlocks, spinlocks, barriers and atomics (all keyed by segment + offset),
// fork (parent before child), wait/waitpid (the child's threads before the waiter) and pipe
// write -> read. Its memory is fixed (sizeof(FixedRaceDetector), about 1 MB of which only the
// touched pages are used); at its bounds it misses races rather than inventing any (fixed_race.h).
#include <dlfcn.h>
#include <signal.h>
#include <pthread.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <new>
#include <optional>

#include "lab/detect/fixed_race.h"
#include "lab/detect/race.h"
#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

// Shared with tools/ipclab_access_rt.c.
enum : unsigned { kWrite = 1, kAtomic = 2, kReadModifyWrite = 4 };
enum : unsigned { kRelaxed = 0, kAcquire = 1, kRelease = 2, kAcqRel = 3, kSeqCst = 4 };

constexpr std::uint32_t kEpochSlots = 64;
constexpr std::uint32_t kEveryNthAccess = 64;
constexpr std::uint32_t kSpinPoints = 256;

struct ThreadAccess {
  std::uintptr_t stack_lo = 0, stack_hi = 0;
  bool stack_known = false;
  std::uintptr_t seen[kEpochSlots] = {};
  std::uint32_t seen_epoch[kEpochSlots] = {};
  std::uint32_t epoch = 1;
  std::uint32_t since_point = 0;
  std::uint32_t points_since_sync = 0;
};

struct AccessState {
  bool present = false;  // the program announced its callbacks
  lab::RaceDetector* detector = nullptr;   // private memory, this process
  lab::FixedRaceDetector* shared = nullptr;  // MAP_SHARED memory, the whole tree (shared segment)
  ThreadAccess* threads[kMaxThreads] = {};
  std::uint64_t accesses = 0, points = 0;
};
AccessState access_state;

ThreadAccess& Of(const Thread* t) {
  ThreadAccess*& a = access_state.threads[t->id];
  if (a == nullptr) a = new ThreadAccess;
  return *a;
}

lab::RaceDetector& Detector() {
  if (access_state.detector == nullptr) access_state.detector = new lab::RaceDetector;
  return *access_state.detector;
}

// Maps the tree's shared detector; called before main (so before any fork). Without it (the
// mapping failed) shared memory is checked like private memory, per process.
void MapSharedDetector() {
  if (void* p = RawMapShared(sizeof(lab::FixedRaceDetector))) access_state.shared = new (p) lab::FixedRaceDetector();
}

// Where an access was made, as the detectors' step (the exe offset stays valid in every process).
lab::StepIndex StepOf(Caller c) { return (std::uint64_t{c.in_exe} << 63) | c.offset; }
Caller CallerOf(lab::StepIndex step) {
  return Caller{step & ~(std::uint64_t{1} << 63), static_cast<std::uint16_t>(step >> 63)};
}

void KnowStack(ThreadAccess& a) {
  a.stack_known = true;
  pthread_attr_t attr;
  if (pthread_getattr_np(pthread_self(), &attr) != 0) return;
  void* base = nullptr;
  std::size_t size = 0;
  if (pthread_attr_getstack(&attr, &base, &size) == 0) {
    a.stack_lo = reinterpret_cast<std::uintptr_t>(base);
    a.stack_hi = a.stack_lo + size;
  }
  pthread_attr_destroy(&attr);
}

// True when `addr` was already accessed in the thread's current epoch; records it otherwise
// (when the epoch's table is full every further address counts as seen: the budget is spent).
bool SeenInEpoch(ThreadAccess& a, std::uintptr_t addr) {
  std::uint32_t h = static_cast<std::uint32_t>((addr >> 2) * 0x9E3779B1u) % kEpochSlots;
  for (std::uint32_t k = 0; k < kEpochSlots; ++k) {
    std::uint32_t i = (h + k) % kEpochSlots;
    if (a.seen_epoch[i] != a.epoch) {
      a.seen_epoch[i] = a.epoch;
      a.seen[i] = addr;
      return false;
    }
    if (a.seen[i] == addr) return true;
  }
  return true;
}

// ASan with detect_stack_use_after_return moves locals to a per-thread "fake stack" outside the
// thread's stack; a later thread's fake frames may reuse an ended thread's addresses. Such
// accesses are the thread's own stack too.
bool OnAsanFakeStack(void* addr) {
  using CurrentFn = void* (*)();
  using InFn = void* (*)(void*, void*, void**, void**);
  static CurrentFn current = reinterpret_cast<CurrentFn>(dlsym(RTLD_DEFAULT, "__asan_get_current_fake_stack"));
  static InFn in = reinterpret_cast<InFn>(dlsym(RTLD_DEFAULT, "__asan_addr_is_in_fake_stack"));
  if (current == nullptr || in == nullptr) return false;
  void* fake = current();
  return fake != nullptr && in(fake, addr, nullptr, nullptr) != nullptr;
}

void EndEpoch(const Thread* t) {
  ThreadAccess& a = Of(t);
  ++a.epoch;
  a.points_since_sync = 0;
}

std::uint32_t LiveThreads() {
  std::uint32_t n = 0;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) n += sched.threads[i]->state != State::kDone;
  return n;
}

void Write(std::size_t& used, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void Write(std::size_t& used, const char* fmt, ...) {
  char* buf = sched.file->header.diagnosis;
  if (used + 1 >= kDiagnosisBytes) return;
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf + used, kDiagnosisBytes - used, fmt, ap);
  va_end(ap);
  if (n > 0) used = std::min<std::size_t>(used + static_cast<std::size_t>(n), kDiagnosisBytes - 1);
}

const char* At(Caller c) { return c.in_exe ? "exe" : "abs"; }

// `location`: the address (private memory) or "/dev/shm/x+0x10" (shared); `object`: its key
// for the step; `earlier`: where the earlier access was made.
[[noreturn]] void ReportRace(Thread* me, std::uintptr_t object, const char* location, unsigned size,
                             const lab::Race& race, Caller where, Caller earlier) {
  RecordStep(me, race.later.is_write ? Call::kStore : Call::kLoad, object, where, size);
  std::size_t used = 0;
  // "T3", or "p1.t2" once the program forked (as the steps name threads).
  char later_name[24], earlier_name[24];
  ThreadName(me, later_name);
  if (race.earlier.thread < sched.thread_count) {
    ThreadName(sched.threads[race.earlier.thread], earlier_name);
  } else {
    snprintf(earlier_name, sizeof earlier_name, "T%u", race.earlier.thread);
  }
  Write(used, "%s %s %s (%u bytes) @%s:%lx\n", later_name, race.later.is_write ? "writes" : "reads", location,
        size, At(where), static_cast<unsigned long>(where.offset));
  Write(used,
        "%s %s it earlier @%s:%lx -- nothing orders the two accesses (no common mutex, join, "
        "post/wait, barrier or atomic release/acquire between them)\n",
        earlier_name, race.earlier.is_write ? "wrote" : "read", At(earlier),
        static_cast<unsigned long>(earlier.offset));
  sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kDataRace);
  ExitRun();
}

using AnnotateFn = void (*)(const char*, int);
struct TsanAnnotations {
  bool resolved = false;
  AnnotateFn reads_begin = nullptr, reads_end = nullptr, writes_begin = nullptr, writes_end = nullptr;
};
TsanAnnotations tsan_annotations;
thread_local int tsan_quiet_depth = 0;

}  // namespace

TsanQuiet::TsanQuiet() {
  if (!image.tsan) return;
  TsanAnnotations& a = tsan_annotations;
  if (!a.resolved) {
    a.reads_begin = reinterpret_cast<AnnotateFn>(dlsym(RTLD_DEFAULT, "AnnotateIgnoreReadsBegin"));
    a.reads_end = reinterpret_cast<AnnotateFn>(dlsym(RTLD_DEFAULT, "AnnotateIgnoreReadsEnd"));
    a.writes_begin = reinterpret_cast<AnnotateFn>(dlsym(RTLD_DEFAULT, "AnnotateIgnoreWritesBegin"));
    a.writes_end = reinterpret_cast<AnnotateFn>(dlsym(RTLD_DEFAULT, "AnnotateIgnoreWritesEnd"));
    a.resolved = true;
  }
  if (a.reads_begin != nullptr && a.writes_begin != nullptr) {
    a.reads_begin(__FILE__, __LINE__);
    a.writes_begin(__FILE__, __LINE__);
    ++tsan_quiet_depth;
  }
}

TsanQuiet::~TsanQuiet() {
  if (!image.tsan) return;
  TsanAnnotations& a = tsan_annotations;
  if (tsan_quiet_depth > 0 && a.reads_end != nullptr && a.writes_end != nullptr) {
    a.writes_end(__FILE__, __LINE__);
    a.reads_end(__FILE__, __LINE__);
    --tsan_quiet_depth;
  }
}

void ExitRun() {
  // End the whole tree: the other processes wait for a baton nobody will give.
  for (std::uint32_t i = 0; i < sched.proc_count; ++i) {
    if (i != my_proc && !sched.procs[i].exited && sched.procs[i].pid > 0) {
      syscall(SYS_kill, sched.procs[i].pid, SIGKILL);
    }
  }
  TsanQuiet::EndAll();
  syscall(SYS_exit_group, kHangExitCode);
  __builtin_unreachable();
}

void TsanQuiet::EndAll() {
  TsanAnnotations& a = tsan_annotations;
  for (; tsan_quiet_depth > 0; --tsan_quiet_depth) {
    a.writes_end(__FILE__, __LINE__);
    a.reads_end(__FILE__, __LINE__);
  }
}

void HbAcquire(Thread* t, std::uintptr_t object) {
  if (!access_state.present || t == nullptr) return;
  TsanQuiet quiet;
  Detector().OnAcquire(t->id, object);
  if (access_state.shared != nullptr) access_state.shared->OnAcquire(t->id, object);
  EndEpoch(t);
}

void HbRelease(Thread* t, std::uintptr_t object) {
  if (!access_state.present || t == nullptr) return;
  TsanQuiet quiet;
  Detector().OnRelease(t->id, object);
  if (access_state.shared != nullptr) access_state.shared->OnRelease(t->id, object);
  EndEpoch(t);
}

void HbSpawn(Thread* parent, Thread* child) {
  if (!access_state.present) return;
  TsanQuiet quiet;
  Detector().OnSpawn(parent->id, child->id);
  if (access_state.shared != nullptr) access_state.shared->OnSpawn(parent->id, child->id);
  EndEpoch(parent);
}

void HbJoin(Thread* joiner, std::uint32_t joined) {
  if (!access_state.present) return;
  TsanQuiet quiet;
  Detector().OnJoin(joiner->id, joined);
  if (access_state.shared != nullptr) access_state.shared->OnJoin(joiner->id, joined);
  EndEpoch(joiner);
}

}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

#pragma GCC visibility push(default)
extern "C" {

// Called by the program's runtime (tools/ipclab_access_rt.c) from its constructor.
void __ipclab_access_points_present() {
  access_state.present = true;
  if (sched.active && access_state.shared == nullptr) {
    TsanQuiet quiet;
    MapSharedDetector();
  }
  if (sched.file != nullptr) sched.file->header.access_points = 1;
}

void __ipclab_access(void* addr, unsigned size, unsigned flags, void* pc) {
  if (!sched.active || self == nullptr) return;
  Thread* me = Me();  // a thread started under TSan/ASan takes its baton here
  if (me == nullptr || me->state == State::kDone || sched.thread_count < 2) return;
  TsanQuiet quiet;
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  ThreadAccess& ta = Of(me);
  if (!ta.stack_known) KnowStack(ta);
  if (a >= ta.stack_lo && a < ta.stack_hi) return;
  if (OnAsanFakeStack(addr)) return;
  ++access_state.accesses;
  const bool atomic = (flags & kAtomic) != 0;
  const bool write = (flags & kWrite) != 0;
  const bool seen = !atomic && SeenInEpoch(ta, a);
  const bool point = atomic || !seen || ++ta.since_point >= kEveryNthAccess;
  Caller where = Here(pc);
  if (point && LiveThreads() > 1) {
    ta.since_point = 0;
    ++access_state.points;
    if (++ta.points_since_sync > kSpinPoints) {
      // A spinner: let everyone else run first (virtual time moves on only when nobody can).
      ta.points_since_sync = 0;
      RecordStep(me, Call::kSleep, a, where, 1);
      me->deadline = sched.now + 1;
      Block(me, State::kSleep, 0, Call::kSleep, where);
      me->deadline = 0;
    } else {
      RecordStep(me, atomic ? Call::kAtomic : write ? Call::kStore : Call::kLoad, a, where, size);
      Schedule(me);
    }
  }
  // Shared memory is one object in every process: keyed by segment and offset.
  const std::uintptr_t shared_key = access_state.shared != nullptr ? SharedKey(addr) : 0;
  if (atomic) {
    const unsigned order = flags >> 4;
    const bool reads = !write || (flags & kReadModifyWrite) != 0;
    const std::uintptr_t object = shared_key != 0 ? shared_key : a;
    if (reads && (order == kAcquire || order == kAcqRel || order == kSeqCst)) {
      Detector().OnAcquire(me->id, object);
      if (access_state.shared != nullptr) access_state.shared->OnAcquire(me->id, object);
    }
    if (write && (order == kRelease || order == kAcqRel || order == kSeqCst)) {
      Detector().OnRelease(me->id, object);
      if (access_state.shared != nullptr) access_state.shared->OnRelease(me->id, object);
    }
    return;
  }
  if (shared_key != 0) {
    std::optional<lab::Race> race = access_state.shared->OnAccess(me->id, shared_key, write, StepOf(where));
    if (race) {
      char name[96];
      ReportRace(me, ObjectKey(addr), DescribeObject(ObjectKey(addr), name), size, *race, where,
                 CallerOf(race->earlier.step));
    }
    return;
  }
  std::optional<lab::Race> race = Detector().OnAccess(me->id, a, write, StepOf(where));
  if (race) {
    char name[24];
    snprintf(name, sizeof name, "%#lx", static_cast<unsigned long>(a));
    ReportRace(me, a, name, size, *race, where, CallerOf(race->earlier.step));
  }
}

}  // extern "C"
#pragma GCC visibility pop
