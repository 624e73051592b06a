// lab/interpose/calls_wait.cc: blocking calls on kernel objects as waits the scheduler knows (see
// core.h): POSIX message queues (mq_send, mq_receive, mq_timedsend, mq_timedreceive), System V
// queues and semaphore sets (msgsnd, msgrcv, semop, semtimedop), file locks (flock, fcntl
// F_SETLKW / F_OFD_SETLKW; F_SETLK / F_OFD_SETLK and unlocks are points), kill, and sigwait,
// sigwaitinfo, sigtimedwait.
//
// Each call is a scheduling point. It never blocks in the OS: under the baton it tries the call's
// non-blocking form (IPC_NOWAIT, LOCK_NB, F_SETLK, an expired timeout); when that says "would
// block", the thread waits in State::kKernel on the object's key (the same in every process of
// the tree) until an event on that object (a successful call on it, a close of a locked file, a
// semctl/msgctl that changes or removes it, a kill for a signal set) or a process ending wakes
// it, then tries again. Before trying, processes that ended under control are waited for until
// the kernel has really finished them (so their file locks and SEM_UNDO adjustments are gone).
// When nothing can run, each waiter first gets one extra try in its wait (a lock released by a
// call the library does not see, e.g. glibc's own close inside fclose), then the run ends at
// once: a wait on a file lock or a semaphore set is a
// `deadlock` (with the wait-for cycle across processes of file locks, from /proc/locks), a wait on
// a queue or a signal set a `hang`; the report names the object and who holds it (the lock's
// holders, the processes that have the queue open for the other direction, the semaphore values).
//
// Calls the program made non-blocking (O_NONBLOCK queues, IPC_NOWAIT, LOCK_NB) are only points.
// Timed calls time out on virtual time. A signal sent with kill() to a process of the tree whose
// handler catches it, while one of its threads is blocked in one of these calls or in a pipe
// read/write, is delivered on that thread when it next runs: its handler runs and the call fails
// with EINTR (or goes on, under SA_RESTART), as the real call would; otherwise the signal is sent
// for real (a process it kills is finished in the bookkeeping at once).
//
// Limits: fcntl F_SETLKW never fails with EDEADLK here (the kernel's own deadlock detection for
// POSIX locks); the cycle is reported as a deadlock instead. A semop mixing IPC_NOWAIT and
// blocking operations waits as a whole. Signals from raise, pthread_kill, sigqueue and tgkill
// pass through; threads blocked in other interposed waits (mutexes, semaphores, sleeps) are not
// interrupted by a kill.
#include <errno.h>
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ipc.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#include <array>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

using MqTimedsendFn = int (*)(mqd_t, const char*, std::size_t, unsigned, const struct timespec*);
using MqTimedreceiveFn = ssize_t (*)(mqd_t, char*, std::size_t, unsigned*, const struct timespec*);
using MsgsndFn = int (*)(int, const void*, std::size_t, int);
using MsgrcvFn = ssize_t (*)(int, void*, std::size_t, long, int);
using SemopFn = int (*)(int, struct sembuf*, std::size_t);
using SemtimedopFn = int (*)(int, struct sembuf*, std::size_t, const struct timespec*);
using SemctlFn = int (*)(int, int, int, ...);
using MsgctlFn = int (*)(int, int, struct msqid_ds*);
using FlockFn = int (*)(int, int);
using FcntlFn = int (*)(int, int, ...);
using KillFn = int (*)(pid_t, int);
using SigtimedwaitFn = int (*)(const sigset_t*, siginfo_t*, const struct timespec*);
using SigwaitFn = int (*)(const sigset_t*, int*);
using SigwaitinfoFn = int (*)(const sigset_t*, siginfo_t*);

struct RealWait {
  MqTimedsendFn mq_timedsend;
  MqTimedreceiveFn mq_timedreceive;
  MsgsndFn msgsnd;
  MsgrcvFn msgrcv;
  SemopFn semop;
  SemtimedopFn semtimedop;
  SemctlFn semctl;
  MsgctlFn msgctl;
  FlockFn flock;
  FcntlFn fcntl, fcntl64;
  KillFn kill;
  SigtimedwaitFn sigtimedwait;
  SigwaitFn sigwait;
  SigwaitinfoFn sigwaitinfo;
} rw;

void ResolveWait() {
  static std::atomic<bool> done{false};
  ResolveAll();
  if (done.load(std::memory_order_acquire)) return;
  Resolve(rw.mq_timedsend, "mq_timedsend");
  Resolve(rw.mq_timedreceive, "mq_timedreceive");
  Resolve(rw.msgsnd, "msgsnd");
  Resolve(rw.msgrcv, "msgrcv");
  Resolve(rw.semop, "semop");
  Resolve(rw.semtimedop, "semtimedop");
  Resolve(rw.semctl, "semctl");
  Resolve(rw.msgctl, "msgctl");
  Resolve(rw.flock, "flock");
  Resolve(rw.fcntl, "fcntl");
  Resolve(rw.fcntl64, "fcntl64");
  Resolve(rw.kill, "kill");
  Resolve(rw.sigtimedwait, "sigtimedwait");
  Resolve(rw.sigwait, "sigwait");
  Resolve(rw.sigwaitinfo, "sigwaitinfo");
  done.store(true, std::memory_order_release);
}

Thread* Controlled() {
  ResolveWait();
  return Me();
}

// ---- object keys and names ---------------------------------------------------------------------
// A kernel object's key: bit 61 (clear in every other kind of key, see ObjectKey and pipes), the
// kind in bits 56..60, the identity below.
enum class Kind : std::uintptr_t { kFile = 1, kMq = 2, kSysvSem = 3, kSysvMsg = 4, kSignals = 5 };
constexpr std::uintptr_t kKernelTag = std::uintptr_t{1} << 61;
constexpr std::uintptr_t kIdentityMask = (std::uintptr_t{1} << 56) - 1;

std::uintptr_t KernelKey(Kind kind, std::uint64_t identity) {
  return kKernelTag | (static_cast<std::uintptr_t>(kind) << 56) | (identity & kIdentityMask);
}
Kind KindOf(std::uintptr_t key) {
  if ((key >> 61) != 1) return Kind{0};
  return static_cast<Kind>((key >> 56) & 0x1f);
}
// Files and queues: the low 8 bits of the device and 48 bits of the inode.
std::uint64_t InodeIdentity(const struct stat& st) {
  return ((static_cast<std::uint64_t>(st.st_dev) & 0xff) << 48) | (st.st_ino & 0xffffffffffffu);
}
bool SameInode(std::uintptr_t key, const struct stat& st) {
  return (key & kIdentityMask) == InodeIdentity(st);
}

void NameObject(std::uintptr_t key, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
void NameObject(std::uintptr_t key, const char* fmt, ...) {
  if (sched.object_names.contains(key)) return;
  auto& name = sched.object_names[key];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(name.data(), name.size(), fmt, ap);
  va_end(ap);
}

// The path behind `fd` ("/tmp/x/a.lock", or "/name" for a message queue).
void FdPath(int fd, char (&path)[64]) {
  char link[48];
  snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
  long n = syscall(SYS_readlinkat, AT_FDCWD, link, path, sizeof path - 1);
  path[n > 0 ? n : 0] = '\0';
}

std::uintptr_t FdKey(Kind kind, int fd, const char* what) {
  struct stat st;
  if (syscall(SYS_fstat, fd, &st) != 0) return 0;
  std::uintptr_t key = KernelKey(kind, InodeIdentity(st));
  char path[64];
  FdPath(fd, path);
  NameObject(key, "%s %s", what, path);
  return key;
}

std::uintptr_t SysvKey(Kind kind, int id) {
  std::uintptr_t key = KernelKey(kind, static_cast<std::uint32_t>(id));
  NameObject(key, "System V %s %d", kind == Kind::kSysvSem ? "semaphore set" : "message queue", id);
  return key;
}

std::uintptr_t SignalsKey(const Thread* me, const sigset_t* set) {
  std::uint64_t bits = 0;
  for (int s = 1; s <= 48; ++s) {
    if (sigismember(set, s) == 1) bits |= std::uint64_t{1} << (s - 1);
  }
  std::uintptr_t key = KernelKey(Kind::kSignals, (static_cast<std::uint64_t>(me->proc) << 48) | bits);
  char text[80];
  int n = snprintf(text, sizeof text, "signal set {");
  for (int s = 1; s <= 48 && n < static_cast<int>(sizeof text); ++s) {
    if (bits & (std::uint64_t{1} << (s - 1))) {
      const char* abbrev = sigabbrev_np(s);
      n += snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "%sSIG%s", n > 12 ? "," : "",
                    abbrev != nullptr ? abbrev : "?");
    }
  }
  if (n < static_cast<int>(sizeof text)) snprintf(text + n, sizeof text - static_cast<std::size_t>(n), "}");
  NameObject(key, "%s", text);
  return key;
}

const char* ProcName(pid_t pid, char (&buf)[48]) {
  for (std::uint32_t i = 0; i < sched.proc_count; ++i) {
    if (sched.procs[i].pid == pid) {
      snprintf(buf, sizeof buf, "p%u (pid %d)", i, pid);
      return buf;
    }
  }
  snprintf(buf, sizeof buf, "pid %d (outside the tree)", pid);
  return buf;
}

// ---- the wait ------------------------------------------------------------------------------
// Processes that ended under control may still be finishing in the kernel (releasing their file
// locks, applying their SEM_UNDO adjustments): wait until they are gone before trying.
void SettleEndedProcesses() {
  static std::array<bool, kMaxProcs> settled{};  // process-local: which ones this process waited for
  for (std::uint32_t i = 1; i < sched.proc_count; ++i) {
    const Proc& p = sched.procs[i];
    if (!p.exited || p.pid <= 0 || settled[i]) continue;
    WaitDead(p.pid);
    settled[i] = true;
  }
}

// Tries `attempt` (the call's non-blocking form) until it does not fail with errno `busy`, waiting
// in State::kKernel on `key` between tries (see the file comment). A success wakes the object's
// other waiters. At `deadline` (virtual ns; 0 = none) it fails with `timeout_errno`; a signal's
// handler makes it fail with EINTR.
template <typename Attempt>
long WaitFor(Thread* me, Call call, std::uintptr_t key, Caller where, std::uint64_t deadline, int busy,
             int timeout_errno, Attempt attempt) {
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    SettleEndedProcesses();
    long r = attempt();
    if (r >= 0 || errno != busy) {
      int saved = errno;
      me->last_try = false;
      if (r >= 0) WakePipeWaiters(key);
      errno = saved;
      return r;
    }
    me->woken = false;
    me->timed_out = false;
    me->deadline = deadline;
    Block(me, State::kKernel, key, call, where);
    me->deadline = 0;
    if (me->timed_out || me->interrupted) me->last_try = false;
    if (me->timed_out) {
      me->timed_out = false;
      errno = timeout_errno;
      return -1;
    }
    if (me->interrupted && DeliverInterruption(me) == EINTR) {
      RecordStep(me, call, key, where, -EINTR);
      errno = EINTR;
      return -1;
    }
  }
}

// A point before a call that cannot block (a non-blocking form, an unlock), then the call; a
// success wakes the object's waiters.
template <typename Call_>
long PointThen(Thread* me, Call call, std::uintptr_t key, Caller where, Call_ real_call) {
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  long r = real_call();
  int saved = errno;
  if (r >= 0) WakePipeWaiters(key);
  errno = saved;
  return r;
}

bool ValidTimespec(const struct timespec* ts) {
  return ts != nullptr && ts->tv_nsec >= 0 && ts->tv_nsec < 1000000000;
}

std::uint64_t RelativeDeadline(const struct timespec* timeout) {
  return timeout != nullptr ? sched.now + ToNs(*timeout) + 1 : 0;
}

const struct timespec kExpired = {0, 0};

// ---- POSIX message queues ------------------------------------------------------------------
bool MqNonBlocking(mqd_t q) {
  struct mq_attr a;
  return mq_getattr(q, &a) == 0 && (a.mq_flags & O_NONBLOCK) != 0;
}

int MqSend(Thread* me, Call call, mqd_t q, const char* msg, std::size_t len, unsigned prio,
           const struct timespec* abs, Caller where) {
  std::uintptr_t key = FdKey(Kind::kMq, q, "message queue");
  auto attempt = [&] { return static_cast<long>(rw.mq_timedsend(q, msg, len, prio, &kExpired)); };
  if (key == 0 || MqNonBlocking(q)) {
    return static_cast<int>(PointThen(me, call, key, where, [&] { return static_cast<long>(rw.mq_timedsend(q, msg, len, prio, abs)); }));
  }
  if (abs != nullptr && !ValidTimespec(abs)) {
    long r = PointThen(me, call, key, where, attempt);
    if (r < 0 && errno == ETIMEDOUT) errno = EINVAL;
    return static_cast<int>(r);
  }
  return static_cast<int>(WaitFor(me, call, key, where, abs != nullptr ? VirtualDeadline(abs) : 0, ETIMEDOUT,
                                  ETIMEDOUT, attempt));
}

ssize_t MqReceive(Thread* me, Call call, mqd_t q, char* msg, std::size_t len, unsigned* prio,
                  const struct timespec* abs, Caller where) {
  std::uintptr_t key = FdKey(Kind::kMq, q, "message queue");
  auto attempt = [&] { return static_cast<long>(rw.mq_timedreceive(q, msg, len, prio, &kExpired)); };
  if (key == 0 || MqNonBlocking(q)) {
    return PointThen(me, call, key, where, [&] { return static_cast<long>(rw.mq_timedreceive(q, msg, len, prio, abs)); });
  }
  if (abs != nullptr && !ValidTimespec(abs)) {
    long r = PointThen(me, call, key, where, attempt);
    if (r < 0 && errno == ETIMEDOUT) errno = EINVAL;
    return r;
  }
  return WaitFor(me, call, key, where, abs != nullptr ? VirtualDeadline(abs) : 0, ETIMEDOUT, ETIMEDOUT, attempt);
}

// ---- System V semaphores -------------------------------------------------------------------
constexpr std::size_t kMaxSemops = 64;

int Semop(Thread* me, Call call, int id, struct sembuf* sops, std::size_t n, const struct timespec* timeout,
          Caller where) {
  std::uintptr_t key = SysvKey(Kind::kSysvSem, id);
  bool all_nowait = true;
  for (std::size_t i = 0; i < n; ++i) all_nowait = all_nowait && (sops[i].sem_flg & IPC_NOWAIT) != 0;
  if (all_nowait || n > kMaxSemops || (timeout != nullptr && !ValidTimespec(timeout))) {
    return static_cast<int>(PointThen(me, call, key, where, [&] { return static_cast<long>(rw.semtimedop(id, sops, n, timeout)); }));
  }
  std::array<struct sembuf, kMaxSemops> probe;
  for (std::size_t i = 0; i < n; ++i) {
    probe[i] = sops[i];
    probe[i].sem_flg = static_cast<short>(probe[i].sem_flg | IPC_NOWAIT);
  }
  // semtimedop's timeout ends in EAGAIN.
  return static_cast<int>(WaitFor(me, call, key, where, RelativeDeadline(timeout), EAGAIN, EAGAIN,
                                  [&] { return static_cast<long>(rw.semop(id, probe.data(), n)); }));
}

// ---- file locks ----------------------------------------------------------------------------
bool IsLockCommand(int cmd) {
  return cmd == F_SETLK || cmd == F_SETLKW || cmd == F_OFD_SETLK || cmd == F_OFD_SETLKW;
}

int FcntlLock(Thread* me, FcntlFn real_fcntl, int fd, int cmd, struct flock* fl, Caller where) {
  std::uintptr_t key = FdKey(Kind::kFile, fd, "file");
  const bool wait = cmd == F_SETLKW || cmd == F_OFD_SETLKW;
  if (key == 0 || !wait || fl == nullptr || fl->l_type == F_UNLCK) {
    return static_cast<int>(PointThen(me, Call::kFcntlLock, key, where, [&] { return static_cast<long>(real_fcntl(fd, cmd, fl)); }));
  }
  const int try_cmd = cmd == F_SETLKW ? F_SETLK : F_OFD_SETLK;
  return static_cast<int>(WaitFor(me, Call::kFcntlLock, key, where, 0, EAGAIN, EAGAIN, [&] {
    long r = real_fcntl(fd, try_cmd, fl);
    if (r < 0 && errno == EACCES) errno = EAGAIN;  // "held by another process", either spelling
    return r;
  }));
}

// `ret`: fcntl's return address.
int Fcntl(FcntlFn real_fcntl, int fd, int cmd, va_list ap, void* ret) {
  void* arg = va_arg(ap, void*);  // every fcntl argument is an int or a pointer: one register
  Thread* me = IsLockCommand(cmd) ? Controlled() : nullptr;
  if (me == nullptr) return real_fcntl(fd, cmd, arg);
  return FcntlLock(me, real_fcntl, fd, cmd, static_cast<struct flock*>(arg), Here(ret));
}

// ---- the hang report -----------------------------------------------------------------------
// Calls `on_fd(proc index, fd, fdinfo text)` for every descriptor of a live process of the tree
// that refers to the file or queue `key`.
template <typename OnFd>
void ForEachTreeFd(std::uintptr_t key, OnFd on_fd) {
  for (std::uint32_t i = 0; i < sched.proc_count; ++i) {
    const Proc& p = sched.procs[i];
    if (p.exited) continue;
    for (int fd = 0; fd < 256; ++fd) {
      char path[64];
      snprintf(path, sizeof path, "/proc/%d/fd/%d", p.pid, fd);
      struct stat st;
      if (syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0 || !SameInode(key, st)) continue;
      snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", p.pid, fd);
      char info[1024] = {};
      int f = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
      if (f >= 0) {
        (void)syscall(SYS_read, f, info, sizeof info - 1);
        syscall(SYS_close, f);
      }
      on_fd(i, fd, info);
    }
  }
}

// Calls `holder(pid, exclusive, type)` for each lock held on file `key`, from /proc/locks (not
// the "->" waiters). An OFD lock shows no pid there: its holders are the processes of the tree
// whose descriptors share the open file description holding it (their fdinfo lists the lock); -1
// when none is found.
template <typename OnHolder>
void ForEachLockHolder(std::uintptr_t key, OnHolder holder) {
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, "/proc/locks", O_RDONLY | O_CLOEXEC));
  if (fd < 0) return;
  static char text[65536];  // process-local scratch; only the reporting thread uses it
  long n = 0, r;
  while (n < static_cast<long>(sizeof text) - 1 && (r = syscall(SYS_read, fd, text + n, sizeof text - 1 - n)) > 0) n += r;
  syscall(SYS_close, fd);
  text[n > 0 ? n : 0] = '\0';
  for (char* line = text; line != nullptr && *line != '\0';) {
    char* next = strchr(line, '\n');
    if (next != nullptr) *next++ = '\0';
    // "1: FLOCK  ADVISORY  WRITE 12345 08:02:1234 0 EOF"
    char type[16], advisory[16], mode[16];
    int pid = 0;
    unsigned major = 0, minor = 0;
    unsigned long long ino = 0;
    if (strstr(line, "->") == nullptr &&
        sscanf(line, "%*d: %15s %15s %15s %d %x:%x:%llu", type, advisory, mode, &pid, &major, &minor, &ino) == 7) {
      struct stat st{};
      st.st_dev = makedev(major, minor);
      st.st_ino = ino;
      if (SameInode(key & kIdentityMask, st)) {
        const bool exclusive = strcmp(mode, "WRITE") == 0;
        bool found = pid > 0;
        if (!found) {
          // Every process that shares the open file description holding it.
          ForEachTreeFd(key, [&](std::uint32_t i, int, const char* info) {
            if (strstr(info, "OFDLCK") == nullptr) return;
            holder(sched.procs[i].pid, exclusive, type);
            found = true;
          });
        }
        if (!found || pid > 0) holder(static_cast<pid_t>(pid), exclusive, type);
      }
    }
    line = next;
  }
}

// Who has queue `key` open for sending (or receiving).
void AppendQueueHolders(std::size_t& used, std::uintptr_t key, bool senders) {
  bool any = false;
  char proc[48];
  ForEachTreeFd(key, [&](std::uint32_t i, int fd, const char* info) {
    const char* flags = strstr(info, "flags:");
    long mode = flags != nullptr ? strtol(flags + 6, nullptr, 8) & O_ACCMODE : O_RDWR;
    if (mode != O_RDWR && mode != (senders ? O_WRONLY : O_RDONLY)) return;
    AppendDiagnosis(used, "%s %s fd %d", any ? "," : "", ProcName(sched.procs[i].pid, proc), fd);
    any = true;
  });
  if (!any) AppendDiagnosis(used, " nobody");
}

void AppendLockHolders(std::size_t& used, std::uintptr_t key) {
  bool any = false;
  char proc[48];
  ForEachLockHolder(key, [&](pid_t pid, bool exclusive, const char* type) {
    AppendDiagnosis(used, "%s %s by %s (%s)", any ? "," : "", exclusive ? "exclusive" : "shared",
                    pid > 0 ? ProcName(pid, proc) : "an open file description", type);
    any = true;
  });
  if (!any) AppendDiagnosis(used, " nobody (released meanwhile?)");
}

void AppendSemValues(std::size_t& used, std::uintptr_t key) {
  int id = static_cast<int>(key & 0xffffffffu);
  struct semid_ds ds{};
  if (rw.semctl(id, 0, IPC_STAT, &ds) != 0) {
    AppendDiagnosis(used, " (removed)");
    return;
  }
  AppendDiagnosis(used, " values");
  for (unsigned long i = 0; i < ds.sem_nsems && i < 16; ++i) {
    AppendDiagnosis(used, " [%lu]=%d", i, rw.semctl(id, static_cast<int>(i), GETVAL));
  }
}

// The file-lock waiter threads of the processes holding the lock `waiter` waits for (for the
// cycle search; the holders are collected first: the search reads /proc/locks again for the next
// step). A lock held through a description `waiter`'s process shares with others is theirs.
template <typename OnThread>
void ForEachHolderThread(const Thread* waiter, OnThread on_thread) {
  pid_t holders[32];
  std::size_t n = 0;
  const pid_t own = sched.procs[waiter->proc].pid;
  bool others = false;
  ForEachLockHolder(waiter->object, [&](pid_t pid, bool, const char*) {
    if (n < std::size(holders)) holders[n++] = pid;
    others = others || pid != own;
  });
  for (std::size_t h = 0; h < n; ++h) {
    if (others && holders[h] == own) continue;
    for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
      Thread* t = sched.threads[i];
      if (t->state == State::kKernel && KindOf(t->object) == Kind::kFile && sched.procs[t->proc].pid == holders[h]) {
        on_thread(t);
      }
    }
  }
}

}  // namespace

std::uintptr_t FileLockKey(int fd) {
  if (!sched.active) return 0;
  struct stat st;
  if (syscall(SYS_fstat, fd, &st) != 0 || !S_ISREG(st.st_mode)) return 0;
  return KernelKey(Kind::kFile, InodeIdentity(st));
}

bool AppendKernelWait(const Thread* t, std::size_t& used) {
  ResolveWait();
  char obj[96];
  DescribeObject(t->object, obj);
  switch (KindOf(t->object)) {
    case Kind::kFile:
      AppendDiagnosis(used, " -- %s is locked:", obj);
      AppendLockHolders(used, t->object);
      return true;
    case Kind::kSysvSem:
      AppendDiagnosis(used, " -- nobody will raise %s:", obj);
      AppendSemValues(used, t->object);
      return true;
    case Kind::kMq: {
      const bool sending = t->blocked_call == Call::kMqSend || t->blocked_call == Call::kMqTimedsend;
      AppendDiagnosis(used, sending ? " -- %s is full and open for receiving in" : " -- %s is empty and open for sending in",
                      obj);
      AppendQueueHolders(used, t->object, !sending);
      return false;
    }
    case Kind::kSysvMsg:
      AppendDiagnosis(used, t->blocked_call == Call::kMsgsnd ? " -- %s is full and nobody will receive"
                                                           : " -- %s has no message for it and nobody will send one",
                      obj);
      return false;
    case Kind::kSignals:
      AppendDiagnosis(used, " -- no signal of %s is pending and nobody will send one", obj);
      return false;
  }
  return false;
}

bool RetryKernelWaiters() {
  bool any = false;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state != State::kKernel || t->woken || t->last_try) continue;
    t->last_try = true;
    t->woken = true;
    any = true;
  }
  return any;
}

bool AppendKernelCycle(std::size_t& used) {
  char name[24], obj[96];
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* start = sched.threads[i];
    if (start->state != State::kKernel || KindOf(start->object) != Kind::kFile) continue;
    // Depth-first over "waits for a lock held by a process whose thread waits for a lock".
    std::uint32_t path[kMaxThreads];
    std::uint32_t len = 0;
    bool on_path[kMaxThreads] = {};
    bool found = false;
    auto dfs = [&](auto& self_ref, Thread* t) -> void {
      path[len++] = t->id;
      on_path[t->id] = true;
      ForEachHolderThread(t, [&](Thread* next) {
        if (found) return;
        if (next == start) {
          found = true;
        } else if (!on_path[next->id] && len < kMaxThreads) {
          self_ref(self_ref, next);
        }
      });
      if (!found) {
        on_path[t->id] = false;
        --len;
      }
    };
    dfs(dfs, start);
    if (!found) continue;
    AppendDiagnosis(used, "cycle:");
    for (std::uint32_t k = 0; k < len; ++k) {
      Thread* t = sched.threads[path[k]];
      AppendDiagnosis(used, " %s -[%s]->", ThreadName(t, name), DescribeObject(t->object, obj));
    }
    AppendDiagnosis(used, " %s\n", ThreadName(start, name));
    return true;
  }
  return false;
}

}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

namespace {

// ---- kill --------------------------------------------------------------------------------------
// Bit `signo` of the "SigBlk:", "SigIgn:" or "SigCgt:" mask of /proc/<pid>/status.
struct Disposition {
  bool blocked = false, ignored = false, caught = false;
};
Disposition SignalDisposition(pid_t pid, int signo) {
  Disposition d;
  char path[48], text[4096];
  snprintf(path, sizeof path, "/proc/%d/status", pid);
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return d;
  long n = syscall(SYS_read, fd, text, sizeof text - 1);
  syscall(SYS_close, fd);
  text[n > 0 ? n : 0] = '\0';
  auto bit = [&](const char* field) {
    const char* at = strstr(text, field);
    return at != nullptr && ((strtoull(at + strlen(field), nullptr, 16) >> (signo - 1)) & 1) != 0;
  };
  d.blocked = bit("SigBlk:");
  d.ignored = bit("SigIgn:");
  d.caught = bit("SigCgt:");
  return d;
}

bool DefaultIgnores(int signo) {
  return signo == SIGCHLD || signo == SIGURG || signo == SIGWINCH || signo == SIGCONT;
}

void WakeSignalWaiters() {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kKernel && KindOf(t->object) == Kind::kSignals) t->woken = true;
  }
}

// A thread of process `proc` blocked in an interposed call a signal interrupts (a pipe read or
// write, a kernel-object wait other than a sigwait), or nullptr.
Thread* InterruptibleThread(std::uint32_t proc) {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->proc != proc || t->interrupted) continue;
    if (t->state == State::kPipe || (t->state == State::kKernel && KindOf(t->object) != Kind::kSignals)) return t;
  }
  return nullptr;
}

int ControlledKill(Thread* me, pid_t pid, int signo, Caller where) {
  RecordStep(me, Call::kKill, static_cast<std::uintptr_t>(static_cast<std::intptr_t>(pid)), where, signo);
  Schedule(me);
  std::uint32_t target = kNone;
  for (std::uint32_t i = 0; i < sched.proc_count && pid > 0; ++i) {
    if (sched.procs[i].pid == pid && !sched.procs[i].exited) target = i;
  }
  if (target == kNone || signo <= 0 || signo >= 32 || target == me->proc) {
    int r = rw.kill(pid, signo);
    WakeSignalWaiters();
    return r;
  }
  Disposition d = SignalDisposition(pid, signo);
  if (d.caught && !d.blocked) {
    if (Thread* t = InterruptibleThread(target)) {
      t->interrupted = true;  // it delivers the signal to itself when it runs (DeliverInterruption)
      t->interrupt_signo = signo;
      return 0;
    }
  }
  int r = rw.kill(pid, signo);
  int saved = errno;
  const bool fatal = signo == SIGKILL || (!d.blocked && !d.ignored && !d.caught && !DefaultIgnores(signo) &&
                                          signo != SIGSTOP && signo != SIGTSTP && signo != SIGTTIN && signo != SIGTTOU);
  if (r == 0 && fatal) {
    sched.procs[target].killed = true;  // the program's own doing, not a crash
    WaitDead(pid);
    FinishProcess(target, true);
  }
  WakeSignalWaiters();
  errno = saved;
  return r;
}

int SigWait(Thread* me, Call call, const sigset_t* set, siginfo_t* info, const struct timespec* timeout,
            Caller where) {
  std::uintptr_t key = SignalsKey(me, set);
  if (timeout != nullptr && !ValidTimespec(timeout)) {
    return static_cast<int>(PointThen(me, call, key, where, [&] { return static_cast<long>(rw.sigtimedwait(set, info, timeout)); }));
  }
  return static_cast<int>(WaitFor(me, call, key, where, RelativeDeadline(timeout), EAGAIN, EAGAIN, [&] {
    return static_cast<long>(rw.sigtimedwait(set, info, &kExpired));
  }));
}

}  // namespace

// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

int mq_send(mqd_t q, const char* msg, size_t len, unsigned prio) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.mq_timedsend(q, msg, len, prio, nullptr);
  return MqSend(me, Call::kMqSend, q, msg, len, prio, nullptr, Here(__builtin_return_address(0)));
}

int mq_timedsend(mqd_t q, const char* msg, size_t len, unsigned prio, const struct timespec* abs) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.mq_timedsend(q, msg, len, prio, abs);
  return MqSend(me, Call::kMqTimedsend, q, msg, len, prio, abs, Here(__builtin_return_address(0)));
}

ssize_t mq_receive(mqd_t q, char* msg, size_t len, unsigned* prio) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.mq_timedreceive(q, msg, len, prio, nullptr);
  return MqReceive(me, Call::kMqReceive, q, msg, len, prio, nullptr, Here(__builtin_return_address(0)));
}

ssize_t mq_timedreceive(mqd_t q, char* msg, size_t len, unsigned* prio, const struct timespec* abs) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.mq_timedreceive(q, msg, len, prio, abs);
  return MqReceive(me, Call::kMqTimedreceive, q, msg, len, prio, abs, Here(__builtin_return_address(0)));
}

int msgsnd(int id, const void* msg, size_t size, int flags) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.msgsnd(id, msg, size, flags);
  Caller where = Here(__builtin_return_address(0));
  std::uintptr_t key = SysvKey(Kind::kSysvMsg, id);
  if (flags & IPC_NOWAIT) {
    return static_cast<int>(PointThen(me, Call::kMsgsnd, key, where, [&] { return static_cast<long>(rw.msgsnd(id, msg, size, flags)); }));
  }
  return static_cast<int>(WaitFor(me, Call::kMsgsnd, key, where, 0, EAGAIN, EAGAIN, [&] {
    return static_cast<long>(rw.msgsnd(id, msg, size, flags | IPC_NOWAIT));
  }));
}

ssize_t msgrcv(int id, void* msg, size_t size, long type, int flags) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.msgrcv(id, msg, size, type, flags);
  Caller where = Here(__builtin_return_address(0));
  std::uintptr_t key = SysvKey(Kind::kSysvMsg, id);
  if (flags & IPC_NOWAIT) {
    return PointThen(me, Call::kMsgrcv, key, where, [&] { return static_cast<long>(rw.msgrcv(id, msg, size, type, flags)); });
  }
  return WaitFor(me, Call::kMsgrcv, key, where, 0, ENOMSG, ENOMSG, [&] {
    return static_cast<long>(rw.msgrcv(id, msg, size, type, flags | IPC_NOWAIT));
  });
}

int semop(int id, struct sembuf* sops, size_t n) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.semop(id, sops, n);
  return Semop(me, Call::kSemop, id, sops, n, nullptr, Here(__builtin_return_address(0)));
}

int semtimedop(int id, struct sembuf* sops, size_t n, const struct timespec* timeout) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.semtimedop(id, sops, n, timeout);
  return Semop(me, Call::kSemtimedop, id, sops, n, timeout, Here(__builtin_return_address(0)));
}

// semctl and msgctl change or remove what waiters wait for: they wake them (not points).
int semctl(int id, int num, int cmd, ...) {
  va_list ap;
  va_start(ap, cmd);
  void* arg = va_arg(ap, void*);  // union semun: one register
  va_end(ap);
  Thread* me = Controlled();
  int r = rw.semctl(id, num, cmd, arg);
  if (me != nullptr && (cmd == IPC_RMID || cmd == SETVAL || cmd == SETALL)) WakePipeWaiters(KernelKey(Kind::kSysvSem, static_cast<std::uint32_t>(id)));
  return r;
}

int msgctl(int id, int cmd, struct msqid_ds* buf) {
  Thread* me = Controlled();
  int r = rw.msgctl(id, cmd, buf);
  if (me != nullptr && (cmd == IPC_RMID || cmd == IPC_SET)) WakePipeWaiters(KernelKey(Kind::kSysvMsg, static_cast<std::uint32_t>(id)));
  return r;
}

int flock(int fd, int op) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.flock(fd, op);
  Caller where = Here(__builtin_return_address(0));
  std::uintptr_t key = FdKey(Kind::kFile, fd, "file");
  if ((op & LOCK_NB) || (op & LOCK_UN) || key == 0) {
    return static_cast<int>(PointThen(me, Call::kFlock, key, where, [&] { return static_cast<long>(rw.flock(fd, op)); }));
  }
  return static_cast<int>(WaitFor(me, Call::kFlock, key, where, 0, EWOULDBLOCK, EWOULDBLOCK,
                                  [&] { return static_cast<long>(rw.flock(fd, op | LOCK_NB)); }));
}

int fcntl(int fd, int cmd, ...) {
  ResolveWait();
  va_list ap;
  va_start(ap, cmd);
  int r = Fcntl(rw.fcntl, fd, cmd, ap, __builtin_return_address(0));
  va_end(ap);
  return r;
}

int fcntl64(int fd, int cmd, ...) {
  ResolveWait();
  va_list ap;
  va_start(ap, cmd);
  int r = Fcntl(rw.fcntl64, fd, cmd, ap, __builtin_return_address(0));
  va_end(ap);
  return r;
}

int kill(pid_t pid, int signo) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.kill(pid, signo);
  return ControlledKill(me, pid, signo, Here(__builtin_return_address(0)));
}

int sigwait(const sigset_t* set, int* signo) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.sigwait(set, signo);
  siginfo_t info;
  int r;
  do r = SigWait(me, Call::kSigwait, set, &info, nullptr, Here(__builtin_return_address(0)));
  while (r < 0 && errno == EINTR);  // sigwait never fails with EINTR
  if (r < 0) return errno;
  *signo = r;
  return 0;
}

int sigwaitinfo(const sigset_t* set, siginfo_t* info) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.sigwaitinfo(set, info);
  return SigWait(me, Call::kSigwaitinfo, set, info, nullptr, Here(__builtin_return_address(0)));
}

int sigtimedwait(const sigset_t* set, siginfo_t* info, const struct timespec* timeout) {
  Thread* me = Controlled();
  if (me == nullptr) return rw.sigtimedwait(set, info, timeout);
  return SigWait(me, Call::kSigtimedwait, set, info, timeout, Here(__builtin_return_address(0)));
}

}  // extern "C"
#pragma GCC visibility pop
