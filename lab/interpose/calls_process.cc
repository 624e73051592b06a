// lab/interpose/calls_process.cc: process trees under one scheduler (see core.h) -- the
// interposed fork, wait/waitpid, _exit/_Exit (and exit through an atexit handler), the mmap
// bookkeeping that names objects in shared memory by (segment, offset), and the calls that create
// named IPC objects (recorded for the leak check after the run) or race on the file system
// (open with O_CREAT, access, unlink: scheduling points).
//
// - fork(): the child's thread is a new controlled thread of a new process entry; it waits for
//   its baton before returning 0, so only one thread of the whole tree runs at a time.
// - waitpid()/wait(): a wait the scheduler knows (State::kChild) until a controlled child has
//   ended; only then the real waitpid reaps it (it returns at once, or after the kernel finished
//   the child's exit).
// - A child ends through exit (our atexit handler, registered before the program's), _exit or
//   _Exit: it flushes stdio, closes its pipe and socket descriptors (so a reader sees EOF
//   deterministically, before the next thread runs), marks its threads done and hands the baton
//   on; the rest of its exit runs uncontrolled. The program's first process ends the run.
// - A child that dies of a signal nobody chose while holding the baton is noticed by a waiting
//   thread (core.cc) and reported as a crash unless the run fails otherwise.
//
// Not interposed (documented limits): exec (the new image runs uncontrolled and its baton is
// lost: a fork+exec child must not be waited for under control), wait3/wait4/waitid, clone,
// posix_spawn, vfork.
#include <fcntl.h>
#include <mqueue.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/ipc.h>
#include <sys/mman.h>
#include <sys/msg.h>
#include <sys/sem.h>
#include <sys/shm.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

using ForkFn = pid_t (*)();
using WaitpidFn = pid_t (*)(pid_t, int*, int);
using ExitCodeFn = void (*)(int);
using MmapFn = void* (*)(void*, std::size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, std::size_t);
using ShmOpenFn = int (*)(const char*, int, mode_t);
using NameFn = int (*)(const char*);
using SemOpenFn = sem_t* (*)(const char*, int, ...);
using MqOpenFn = mqd_t (*)(const char*, int, ...);
using ShmgetFn = int (*)(key_t, std::size_t, int);
using SemgetFn = int (*)(key_t, int, int);
using MsggetFn = int (*)(key_t, int);
using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using AccessFn = int (*)(const char*, int);
using ShmatFn = void* (*)(int, const void*, int);
using ShmdtFn = int (*)(const void*);

struct RealProcess {
  ForkFn fork;
  WaitpidFn waitpid;
  ExitCodeFn exit_now, exit_upper;
  MmapFn mmap, mmap64;
  MunmapFn munmap;
  ShmOpenFn shm_open;
  NameFn shm_unlink, sem_unlink, mq_unlink, unlink;
  SemOpenFn sem_open;
  MqOpenFn mq_open;
  ShmgetFn shmget;
  SemgetFn semget;
  MsggetFn msgget;
  OpenFn open, open64;
  OpenatFn openat;
  AccessFn access;
  ShmatFn shmat;
  ShmdtFn shmdt;
} rp;

void ResolveProcess() {
  static std::atomic<bool> done{false};
  ResolveAll();
  if (done.load(std::memory_order_acquire)) return;
  Resolve(rp.fork, "fork");
  Resolve(rp.waitpid, "waitpid");
  Resolve(rp.exit_now, "_exit");
  Resolve(rp.exit_upper, "_Exit");
  Resolve(rp.mmap, "mmap");
  Resolve(rp.mmap64, "mmap64");
  Resolve(rp.munmap, "munmap");
  Resolve(rp.shm_open, "shm_open");
  Resolve(rp.shm_unlink, "shm_unlink");
  Resolve(rp.sem_unlink, "sem_unlink");
  Resolve(rp.mq_unlink, "mq_unlink");
  Resolve(rp.unlink, "unlink");
  Resolve(rp.sem_open, "sem_open");
  Resolve(rp.mq_open, "mq_open");
  Resolve(rp.shmget, "shmget");
  Resolve(rp.semget, "semget");
  Resolve(rp.msgget, "msgget");
  Resolve(rp.open, "open");
  Resolve(rp.open64, "open64");
  Resolve(rp.openat, "openat");
  Resolve(rp.access, "access");
  Resolve(rp.shmat, "shmat");
  Resolve(rp.shmdt, "shmdt");
  done.store(true, std::memory_order_release);
}

// The calling process ends (exit, _exit): see the file comment.
void EndProcess(int status, bool flush) {
  if (!sched.active) return;
  Proc& p = sched.procs[my_proc];
  if (p.exiting) return;
  Thread* me = self;
  if (my_proc == 0 || me == nullptr || me->baton.load(std::memory_order_acquire) == 0) {
    p.exiting = true;  // the first process ends the run; an uncontrolled thread changes nothing
    return;
  }
  if (flush) fflush(nullptr);
  ClosePipeDescriptors();
  RecordStep(me, Call::kProcessExit, static_cast<std::uintptr_t>(p.pid), {0, 0}, status);
  p.exiting = true;
  FinishProcess(my_proc, false);
  self = nullptr;
  Schedule(me);  // `me` is done: hands the baton on and returns
}

void AtExit() { EndProcess(0, true); }

struct RegisterAtExit {
  RegisterAtExit() { atexit(AtExit); }
} register_at_exit;

bool WaitMatches(const Proc& p, std::uint32_t parent, pid_t pid) {
  return p.parent == parent && !p.reaped && p.pid > 0 && (pid <= 0 || p.pid == pid);
}

pid_t ControlledWaitpid(Thread* me, pid_t pid, int* status, int options, Caller where) {
  Point(me, Call::kWaitpid, static_cast<std::uintptr_t>(static_cast<std::intptr_t>(pid)), where);
  bool any = false;
  for (std::uint32_t i = 1; i < sched.proc_count; ++i) any = any || WaitMatches(sched.procs[i], me->proc, pid);
  if (!any) return rp.waitpid(pid, status, options);  // not a controlled child: ECHILD or as is
  auto ended = [&]() -> std::uint32_t {
    for (std::uint32_t i = 1; i < sched.proc_count; ++i) {
      if (WaitMatches(sched.procs[i], me->proc, pid) && sched.procs[i].exited) return i;
    }
    return kNone;
  };
  std::uint32_t child = ended();
  if (child == kNone) {
    if (options & WNOHANG) return 0;
    Block(me, State::kChild, static_cast<std::uintptr_t>(static_cast<std::intptr_t>(pid <= 0 ? -1 : pid)),
          Call::kWaitpid, where);
    child = ended();
    if (child == kNone) return rp.waitpid(pid, status, options);
  }
  Proc& c = sched.procs[child];
  int local_status = 0;
  pid_t rc;
  do {
    rc = rp.waitpid(c.pid, &local_status, options & ~WNOHANG);
  } while (rc < 0 && errno == EINTR);
  if (rc == c.pid) {
    c.reaped = true;
    // The race detector: everything the child's threads did happened before wait returns.
    for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
      if (sched.threads[i]->proc == child) HbJoin(me, sched.threads[i]->id);
    }
    if (WIFSIGNALED(local_status) && !c.killed && sched.file->header.crashed_proc == child) {
      sched.file->header.crashed_signal = WTERMSIG(local_status);
    }
  }
  if (status != nullptr) *status = local_status;
  return rc;
}

bool Created(int oflag) { return (oflag & O_CREAT) != 0; }

}  // namespace
}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;
using lab::interpose::ObjectType;

// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

pid_t fork() {
  ResolveProcess();
  Thread* me = Me();
  if (me == nullptr) return rp.fork();
  Caller where = Here(__builtin_return_address(0));
  Point(me, Call::kFork, 0, where);
  Thread* child = NewProcess(me->proc);
  const std::uint32_t child_proc = child->proc;
  // The race detector (access.cc) is per process: the child's copy must know that everything
  // its parent did before fork happened before the child's first access.
  HbSpawn(me, child);
  pid_t pid = rp.fork();
  if (pid == 0) {
    my_proc = child_proc;
    self = child;
    WaitBaton(child);
    return 0;
  }
  if (pid < 0) {
    int saved = errno;
    child->state = State::kDone;
    sched.procs[child_proc].exited = true;
    sched.procs[child_proc].reaped = true;
    errno = saved;
    return pid;
  }
  sched.procs[child_proc].pid = pid;
  RecordStep(me, Call::kFork, child_proc, where, pid);
  Schedule(me);
  return pid;
}

pid_t waitpid(pid_t pid, int* status, int options) {
  ResolveProcess();
  Thread* me = Me();
  if (me == nullptr) return rp.waitpid(pid, status, options);
  return ControlledWaitpid(me, pid, status, options, Here(__builtin_return_address(0)));
}

pid_t wait(int* status) {
  ResolveProcess();
  Thread* me = Me();
  if (me == nullptr) return rp.waitpid(-1, status, 0);
  return ControlledWaitpid(me, -1, status, 0, Here(__builtin_return_address(0)));
}

void _exit(int status) {
  ResolveProcess();
  EndProcess(status, false);
  rp.exit_now(status);
  __builtin_unreachable();
}

void _Exit(int status) {
  ResolveProcess();
  EndProcess(status, false);
  rp.exit_upper(status);
  __builtin_unreachable();
}

void* mmap(void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
  ResolveProcess();
  void* p = rp.mmap(addr, len, prot, flags, fd, offset);
  if (p != MAP_FAILED && (flags & MAP_SHARED) && sched.active) NoteSharedMapping(p, len, fd, offset);
  return p;
}

void* mmap64(void* addr, size_t len, int prot, int flags, int fd, off_t offset) {
  ResolveProcess();
  void* p = rp.mmap64(addr, len, prot, flags, fd, offset);
  if (p != MAP_FAILED && (flags & MAP_SHARED) && sched.active) NoteSharedMapping(p, len, fd, offset);
  return p;
}

int munmap(void* addr, size_t len) {
  ResolveProcess();
  int rc = rp.munmap(addr, len);
  if (rc == 0 && sched.active) ForgetMapping(addr, len);
  return rc;
}

int shm_open(const char* name, int oflag, mode_t mode) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kShmOpen, 0, Here(__builtin_return_address(0)));
  int fd = rp.shm_open(name, oflag, mode);
  if (fd >= 0 && Created(oflag) && sched.active) NoteCreated(ObjectType::kShm, name, 0);
  return fd;
}

int shm_unlink(const char* name) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kUnlink, 0, Here(__builtin_return_address(0)));
  return rp.shm_unlink(name);
}

sem_t* sem_open(const char* name, int oflag, ...) {
  ResolveProcess();
  mode_t mode = 0;
  unsigned value = 0;
  if (Created(oflag)) {
    va_list ap;
    va_start(ap, oflag);
    mode = static_cast<mode_t>(va_arg(ap, unsigned));
    value = va_arg(ap, unsigned);
    va_end(ap);
  }
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kSemOpen, 0, Here(__builtin_return_address(0)));
  sem_t* s = Created(oflag) ? rp.sem_open(name, oflag, mode, value) : rp.sem_open(name, oflag);
  if (s != SEM_FAILED && sched.active) {
    if (Created(oflag)) NoteCreated(ObjectType::kSem, name, 0);
    // Every process that opens the name must call the semaphore by the same key.
    char path[300];
    snprintf(path, sizeof path, "/dev/shm/sem.%s", name[0] == '/' ? name + 1 : name);
    NoteSharedFile(s, sizeof(sem_t), path);
  }
  return s;
}

int sem_unlink(const char* name) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kSemUnlink, 0, Here(__builtin_return_address(0)));
  return rp.sem_unlink(name);
}

mqd_t mq_open(const char* name, int oflag, ...) {
  ResolveProcess();
  mode_t mode = 0;
  struct mq_attr* attr = nullptr;
  if (Created(oflag)) {
    va_list ap;
    va_start(ap, oflag);
    mode = static_cast<mode_t>(va_arg(ap, unsigned));
    attr = va_arg(ap, struct mq_attr*);
    va_end(ap);
  }
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kMqOpen, 0, Here(__builtin_return_address(0)));
  mqd_t q = Created(oflag) ? rp.mq_open(name, oflag, mode, attr) : rp.mq_open(name, oflag);
  if (q != static_cast<mqd_t>(-1) && Created(oflag) && sched.active) NoteCreated(ObjectType::kMq, name, 0);
  return q;
}

int mq_unlink(const char* name) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kUnlink, 0, Here(__builtin_return_address(0)));
  return rp.mq_unlink(name);
}

void* shmat(int shmid, const void* addr, int flags) {
  ResolveProcess();
  void* p = rp.shmat(shmid, addr, flags);
  struct shmid_ds ds;
  if (p != reinterpret_cast<void*>(-1) && sched.active && syscall(SYS_shmctl, shmid, IPC_STAT, &ds) == 0) {
    NoteSysvSegment(p, ds.shm_segsz, shmid);
  }
  return p;
}

int shmdt(const void* addr) {
  ResolveProcess();
  int rc = rp.shmdt(addr);
  if (rc == 0 && sched.active) ForgetMapping(const_cast<void*>(addr), 0);
  return rc;
}

int shmget(key_t key, size_t size, int flags) {
  ResolveProcess();
  int id = rp.shmget(key, size, flags);
  if (id >= 0 && (flags & IPC_CREAT) && sched.active) NoteCreated(ObjectType::kSysvShm, "", id);
  return id;
}

int semget(key_t key, int n, int flags) {
  ResolveProcess();
  int id = rp.semget(key, n, flags);
  if (id >= 0 && (flags & IPC_CREAT) && sched.active) NoteCreated(ObjectType::kSysvSem, "", id);
  return id;
}

int msgget(key_t key, int flags) {
  ResolveProcess();
  int id = rp.msgget(key, flags);
  if (id >= 0 && (flags & IPC_CREAT) && sched.active) NoteCreated(ObjectType::kSysvMsg, "", id);
  return id;
}

}  // extern "C"

namespace {
// The scheduling point before an open that may create the file (see below).
void OpenPoint(int oflag, void* caller) {
  Thread* me = Me();
  if (me != nullptr && Created(oflag)) Point(me, Call::kOpen, 0, Here(caller));
}
}  // namespace

extern "C" {

// open with O_CREAT, access and unlink are scheduling points: "check, then create" races between
// processes (a lock file without O_EXCL) need a point between the check and the create.
int open(const char* path, int oflag, ...) {
  ResolveProcess();
  mode_t mode = 0;
  if (oflag & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, oflag);
    mode = static_cast<mode_t>(va_arg(ap, unsigned));
    va_end(ap);
  }
  OpenPoint(oflag, __builtin_return_address(0));
  return rp.open(path, oflag, mode);
}

int open64(const char* path, int oflag, ...) {
  ResolveProcess();
  mode_t mode = 0;
  if (oflag & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, oflag);
    mode = static_cast<mode_t>(va_arg(ap, unsigned));
    va_end(ap);
  }
  OpenPoint(oflag, __builtin_return_address(0));
  return rp.open64(path, oflag, mode);
}

int openat(int dirfd, const char* path, int oflag, ...) {
  ResolveProcess();
  mode_t mode = 0;
  if (oflag & (O_CREAT | __O_TMPFILE)) {
    va_list ap;
    va_start(ap, oflag);
    mode = static_cast<mode_t>(va_arg(ap, unsigned));
    va_end(ap);
  }
  OpenPoint(oflag, __builtin_return_address(0));
  return rp.openat(dirfd, path, oflag, mode);
}

int access(const char* path, int how) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kAccess, 0, Here(__builtin_return_address(0)));
  return rp.access(path, how);
}

int unlink(const char* path) {
  ResolveProcess();
  Thread* me = Me();
  if (me != nullptr) Point(me, Call::kUnlink, 0, Here(__builtin_return_address(0)));
  return rp.unlink(path);
}

}  // extern "C"
#pragma GCC visibility pop
