// lab/interpose/core.cc: the scheduler of libipclab_interpose.so (see core.h).
#include "lab/interpose/core.h"

#include <fcntl.h>
#include <link.h>
#include <linux/futex.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>

#include <cerrno>
#include <cstdarg>
#include <cstdlib>
#include <cstring>
#include <memory_resource>
#include <new>
#include <string_view>
#include <vector>

#include "lab/strategy/dfs.h"
#include "lab/strategy/pct.h"
#include "lab/strategy/random.h"

namespace lab::interpose::core {

Real real;
Image image;
// Page-aligned and a whole number of pages: Init maps a MAP_SHARED segment over it (see core.h).
Scheduler sched;
static_assert(sizeof(Scheduler) % 4096 == 0);
thread_local Thread* self = nullptr;
std::uint32_t my_proc = 0;

namespace {
std::uint64_t naive_seed = 0;  // see Jitter()
}  // namespace

long RawWrite(int fd, const void* buf, std::size_t n) { return syscall(SYS_write, fd, buf, n); }

void* RawMapShared(std::size_t bytes) {
  // Every argument as a long: syscall() is variadic, and the kernel reads whole registers.
  long p = syscall(SYS_mmap, nullptr, static_cast<long>(bytes), long{PROT_READ | PROT_WRITE},
                   long{MAP_SHARED | MAP_ANONYMOUS | MAP_NORESERVE}, -1L, 0L);
  return p == -1 ? nullptr : reinterpret_cast<void*>(p);
}

void* ResolveSymbol(const char* name, const char* version) {
  void* p = version != nullptr ? dlvsym(RTLD_NEXT, name, version) : nullptr;
  if (p == nullptr) p = dlsym(RTLD_NEXT, name);
  if (p == nullptr) {
    char msg[160];
    int n = snprintf(msg, sizeof msg, "ipclab interpose: cannot find %s\n", name);
    RawWrite(2, msg, static_cast<size_t>(n));
    syscall(SYS_exit_group, 127);
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

void TableFull() {
  static const char msg[] = "ipclab interpose: too many synchronization objects for the tables\n";
  RawWrite(2, msg, sizeof msg - 1);
  sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kTooManyThreads);
  ExitRun();
}

namespace {

// Shared futexes: the baton words live in the MAP_SHARED segment and are waited on by threads of
// several processes.
long Futex(std::atomic<std::uint32_t>* word, int op, std::uint32_t value, const struct timespec* timeout) {
  return syscall(SYS_futex, reinterpret_cast<std::uint32_t*>(word), op, value, timeout, nullptr, 0);
}

bool ProcessGone(pid_t pid) {
  if (pid <= 0) return false;
  if (syscall(SYS_kill, pid, 0) != 0 && errno == ESRCH) return true;  // not the interposed kill
  char path[48], buf[256];
  snprintf(path, sizeof path, "/proc/%d/stat", pid);
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (fd < 0) return true;
  long n = syscall(SYS_read, fd, buf, sizeof buf - 1);
  syscall(SYS_close, fd);
  if (n <= 0) return true;
  buf[n] = '\0';
  const char* paren = strrchr(buf, ')');  // "pid (comm) S ..."
  return paren != nullptr && paren[1] == ' ' && (paren[2] == 'Z' || paren[2] == 'X');
}

// The baton holder's process died without handing the baton on (it crashed: a fatal signal
// nobody chose). The first waiter to notice takes over: it marks the process finished, records
// the crash and schedules from where the dead thread stopped.
void RecoverFromDeadHolder(Thread* me) {
  std::uint32_t h = sched.holder.load(std::memory_order_acquire);
  if (h >= sched.thread_count) return;
  Thread* dead = sched.threads[h];
  Proc& p = sched.procs[dead->proc];
  if (p.exited || dead->proc == my_proc || !ProcessGone(p.pid)) return;
  if (!sched.holder.compare_exchange_strong(h, me->id)) return;
  if (sched.file->header.crashed_proc == 0) {
    sched.file->header.crashed_proc = dead->proc;
    sched.file->header.crashed_signal = 0;  // the parent's waitpid learns the signal
  }
  RecordStep(dead, Call::kProcessExit, static_cast<std::uintptr_t>(p.pid), {0, 0}, -1);
  FinishProcess(dead->proc, false);
  dead->baton.store(0, std::memory_order_relaxed);
  me->baton.store(1, std::memory_order_relaxed);  // `me` schedules in the dead thread's place
  Schedule(me);
}

}  // namespace

void WaitBaton(Thread* t) {
  while (t->baton.load(std::memory_order_acquire) == 0) {
    struct timespec poll_every = {0, 100 * 1000 * 1000};
    long rc = Futex(&t->baton, FUTEX_WAIT, 0, &poll_every);
    if (rc != 0 && errno == ETIMEDOUT && sched.proc_count > 1) RecoverFromDeadHolder(t);
  }
}

void GiveBaton(Thread* t) {
  sched.holder.store(t->id, std::memory_order_release);
  t->baton.store(1, std::memory_order_release);
  Futex(&t->baton, FUTEX_WAKE, 1, nullptr);
}

Caller Here(void* ret) {
  auto a = reinterpret_cast<std::uintptr_t>(ret);
  Dl_info info;
  if (image.exe_base != 0 && dladdr(ret, &info) != 0 &&
      reinterpret_cast<std::uintptr_t>(info.dli_fbase) == image.exe_base) {
    return {a - image.exe_base, 1};
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

const char* ThreadName(const Thread* t, char (&buf)[24]) {
  if (sched.proc_count <= 1) {
    snprintf(buf, sizeof buf, "T%u", t->id);
  } else {
    snprintf(buf, sizeof buf, "p%u.t%u", t->proc, t->local);
  }
  return buf;
}

// ---- object identity ---------------------------------------------------------------------------
namespace {

// This process's MAP_SHARED mappings (process-local: a child inherits a copy at fork, as it
// inherits the mappings themselves).
struct Mapping {
  std::uintptr_t start, end;
  std::uint64_t dev, ino, offset;
  char name[64];
};
constexpr int kMaxMappings = 128;
Mapping mappings[kMaxMappings];
int mapping_count = 0;

}  // namespace

void NoteSharedMapping(void* addr, std::size_t len, int fd, off_t offset) {
  if (mapping_count >= kMaxMappings) return;
  Mapping m{};
  m.start = reinterpret_cast<std::uintptr_t>(addr);
  m.end = m.start + len;
  m.offset = static_cast<std::uint64_t>(offset);
  struct stat st;
  if (fd >= 0 && syscall(SYS_fstat, fd, &st) == 0) {
    m.dev = st.st_dev;
    m.ino = st.st_ino;
    char link[48];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    long n = syscall(SYS_readlinkat, AT_FDCWD, link, m.name, sizeof m.name - 1);
    m.name[n > 0 ? n : 0] = '\0';
  } else {
    m.dev = 0;
    m.ino = ++sched.anon_segments;
    snprintf(m.name, sizeof m.name, "anonymous-shared#%lu", static_cast<unsigned long>(m.ino));
  }
  mappings[mapping_count++] = m;
}

void NoteSharedFile(void* addr, std::size_t len, const char* path) {
  struct stat st;
  if (mapping_count >= kMaxMappings || syscall(SYS_newfstatat, AT_FDCWD, path, &st, 0) != 0) return;
  Mapping m{};
  m.start = reinterpret_cast<std::uintptr_t>(addr);
  m.end = m.start + len;
  m.dev = st.st_dev;
  m.ino = st.st_ino;
  snprintf(m.name, sizeof m.name, "%s", path);
  mappings[mapping_count++] = m;
}

void NoteSysvSegment(void* addr, std::size_t len, int shmid) {
  if (mapping_count >= kMaxMappings) return;
  Mapping m{};
  m.start = reinterpret_cast<std::uintptr_t>(addr);
  m.end = m.start + len;
  m.dev = 0x3ff;  // no file system has this device number: a SysV id, not an inode
  m.ino = static_cast<std::uint64_t>(shmid);
  snprintf(m.name, sizeof m.name, "sysv-shm:%d", shmid);
  mappings[mapping_count++] = m;
}

void ForgetMapping(void* addr, std::size_t len) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  for (int i = 0; i < mapping_count; ++i) {
    if (len == 0 ? mappings[i].start == a : mappings[i].start >= a && mappings[i].end <= a + len) {
      mappings[i] = mappings[--mapping_count];
      --i;
    }
  }
}

namespace {

// The mapping holding `a` and the key of `a` in it, or nullptr.
const Mapping* SharedMappingOf(std::uintptr_t a, std::uintptr_t& key, std::uint64_t& off) {
  for (int i = 0; i < mapping_count; ++i) {
    const Mapping& m = mappings[i];
    if (a < m.start || a >= m.end) continue;
    off = m.offset + (a - m.start);
    key = (std::uintptr_t{1} << 63) | ((m.dev & 0x3ff) << 52) | ((m.ino & 0xfffff) << 32) | (off & 0xffffffffu);
    return &m;
  }
  return nullptr;
}

}  // namespace

std::uintptr_t SharedKey(const void* addr) {
  std::uintptr_t key = 0;
  std::uint64_t off = 0;
  return SharedMappingOf(reinterpret_cast<std::uintptr_t>(addr), key, off) != nullptr ? key : 0;
}

std::uintptr_t ObjectKey(const void* addr) {
  auto a = reinterpret_cast<std::uintptr_t>(addr);
  std::uintptr_t key = 0;
  std::uint64_t off = 0;
  if (const Mapping* m = SharedMappingOf(a, key, off)) {
    if (sched.active && !sched.object_names.contains(key)) {
      auto& name = sched.object_names[key];
      snprintf(name.data(), name.size(), "%s+%#lx", m->name, static_cast<unsigned long>(off));
    }
    return key;
  }
  // Private memory: a forked child's copy at the same address is another object.
  return (static_cast<std::uintptr_t>(my_proc) << 48) | a;
}

const char* DescribeObject(std::uintptr_t key, char (&buf)[96]) {
  if (const auto* name = sched.object_names.find(key)) {
    snprintf(buf, sizeof buf, "%s", name->data());
  } else if ((key >> 61) == 3) {
    snprintf(buf, sizeof buf, "socket:[%lu]", static_cast<unsigned long>(key & 0xffffffffffffu));
  } else if ((key >> 62) == 1) {
    snprintf(buf, sizeof buf, "pipe:[%lu]", static_cast<unsigned long>(key & 0xffffffffffffu));
  } else if (sched.proc_count > 1) {
    snprintf(buf, sizeof buf, "p%lu:%#lx", static_cast<unsigned long>(key >> 48),
             static_cast<unsigned long>(key & 0xffffffffffffu));
  } else {
    snprintf(buf, sizeof buf, "%#lx", static_cast<unsigned long>(key));
  }
  return buf;
}

bool Enabled(const Thread* t) {
  switch (t->state) {
    case State::kRunnable: return true;
    case State::kMutex: {
      const MutexInfo* m = sched.mutexes.find(t->object);
      return m == nullptr || m->owner == kNone || m->owner == t->id;
    }
    case State::kJoin: return sched.threads[t->object]->state == State::kDone;
    case State::kWait:
      // The models behind these predicates (calls_sync2.cc) are process-local: only the waiter's
      // own process can evaluate it; another process uses the answer given there last (a model
      // changes only in its own process, and every change is followed by a Schedule there).
      if (t->ready == nullptr) return false;
      if (t->proc == my_proc) t->wait_ready = t->ready(t);
      return t->wait_ready;
    case State::kChild: {
      auto want = static_cast<pid_t>(static_cast<std::intptr_t>(t->object));
      for (std::uint32_t i = 1; i < sched.proc_count; ++i) {
        const Proc& p = sched.procs[i];
        if (p.parent == t->proc && !p.reaped && p.exited && (want == -1 || p.pid == want)) return true;
      }
      return false;
    }
    case State::kPipe:
    case State::kKernel: return t->woken || t->interrupted;
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

}  // namespace

void AppendDiagnosis(std::size_t& used, const char* fmt, ...) {
  char text[1024];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(text, sizeof text, fmt, ap);
  va_end(ap);
  Appendf(used, "%s", text);
}

namespace {

// Who holds `pipe:[ino]` open for writing (or reading, for a writer), from /proc/<pid>/fd of every
// live process of the tree.
void AppendPipeHolders(std::size_t& used, std::uint64_t ino, bool writers) {
  char want[48];
  snprintf(want, sizeof want, "pipe:[%lu]", static_cast<unsigned long>(ino));
  char want_sock[48];
  snprintf(want_sock, sizeof want_sock, "socket:[%lu]", static_cast<unsigned long>(ino));
  bool any = false;
  for (std::uint32_t i = 0; i < sched.proc_count; ++i) {
    const Proc& p = sched.procs[i];
    if (p.exited) continue;
    for (int fd = 0; fd < 256; ++fd) {
      char path[64], target[64];
      snprintf(path, sizeof path, "/proc/%d/fd/%d", p.pid, fd);
      long n = syscall(SYS_readlinkat, AT_FDCWD, path, target, sizeof target - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      if (strcmp(target, want) != 0 && strcmp(target, want_sock) != 0) continue;
      // The access mode from fdinfo ("flags:\t0100001").
      snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", p.pid, fd);
      char info[256] = {};
      int f = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
      if (f >= 0) {
        (void)syscall(SYS_read, f, info, sizeof info - 1);
        syscall(SYS_close, f);
      }
      const char* flags = strstr(info, "flags:");
      long mode = flags != nullptr ? strtol(flags + 6, nullptr, 8) & O_ACCMODE : O_RDWR;
      bool match = writers ? (mode == O_WRONLY || mode == O_RDWR) : (mode == O_RDONLY || mode == O_RDWR);
      if (!match) continue;
      Appendf(used, "%s p%u (pid %d) fd %d", any ? "," : "", i, p.pid, fd);
      any = true;
    }
  }
  if (!any) Appendf(used, " nobody (a process outside the tree?)");
}

// No thread can run and none sleeps: write the wait-for state and end the run (the whole tree)
// at once.
[[noreturn]] void ReportHang() {
  std::size_t used = 0;
  bool lost = false, pipe = false;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kCond && sched.lost_signals.contains(t->object)) lost = true;
    if (t->state == State::kPipe) pipe = true;
  }
  char name[24], name2[24], obj[96];
  // Lines the explorer turns into file:line: "@exe:<hex offset>" or "@abs:<hex address>".
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kDone) continue;
    const char* where = t->blocked_caller_in_exe ? "exe" : "abs";
    if (t->state == State::kChild) {
      Appendf(used, "thread %s blocked in %s(%ld) @%s:%lx", ThreadName(t, name),
              lab::interpose::kCallNames[static_cast<int>(t->blocked_call)],
              static_cast<long>(static_cast<std::intptr_t>(t->object)), where,
              static_cast<unsigned long>(t->blocked_caller));
    } else {
      Appendf(used, "thread %s blocked in %s(%s) @%s:%lx", ThreadName(t, name),
              lab::interpose::kCallNames[static_cast<int>(t->blocked_call)], DescribeObject(t->object, obj),
              where, static_cast<unsigned long>(t->blocked_caller));
    }
    if (t->state == State::kMutex) {
      auto& m = sched.mutexes[t->object];
      const char* owner = m.owner < sched.thread_count ? ThreadName(sched.threads[m.owner], name2)
                          : m.owner == kUnknownOwner
                              ? "no controlled thread (its owner died, or a robust mutex made not recoverable)"
                              : "?";
      Appendf(used, " -- mutex %s is held by %s, locked @%s:%lx", DescribeObject(t->object, obj), owner,
              m.caller_in_exe ? "exe" : "abs", static_cast<unsigned long>(m.caller));
    } else if (t->state == State::kCond) {
      if (const std::uint32_t* lost_count = sched.lost_signals.find(t->object)) {
        Appendf(used, " -- condvar %s was signalled %u time(s) while nobody waited on it",
                DescribeObject(t->object, obj), *lost_count);
      } else {
        Appendf(used, " -- nobody will signal condvar %s", DescribeObject(t->object, obj));
      }
    } else if (t->state == State::kSem) {
      Appendf(used, " -- nobody will post semaphore %s", DescribeObject(t->object, obj));
    } else if (t->state == State::kWait) {
      Appendf(used, " -- nobody will release %s %s", t->wait_what != nullptr ? t->wait_what : "object",
              DescribeObject(t->object, obj));
    } else if (t->state == State::kJoin) {
      Appendf(used, " -- waits for thread %s to end", ThreadName(sched.threads[t->object], name2));
    } else if (t->state == State::kChild) {
      Appendf(used, " -- waits for a child process to exit; live children:");
      for (std::uint32_t k = 1; k < sched.proc_count; ++k) {
        const Proc& p = sched.procs[k];
        if (p.parent == t->proc && !p.exited) Appendf(used, " p%u (pid %d)", k, p.pid);
      }
    } else if (t->state == State::kPipe && t->io.count > 0) {
      char io[1024];
      DescribeIoWait(t, io, sizeof io);
      AppendDiagnosis(used, "%s", io);
    } else if (t->state == State::kPipe) {
      bool reading = t->blocked_call == Call::kRead;
      Appendf(used, reading ? " -- %s is empty and its write end is still open in" :
                              " -- %s is full and its read end is open in",
              DescribeObject(t->object, obj));
      AppendPipeHolders(used, t->object & 0xffffffffffffu, reading);
    } else if (t->state == State::kKernel) {
      if (!AppendKernelWait(t, used)) pipe = true;
    }
    for (auto& e : sched.mutexes) {
      if (e.used && e.value.owner == t->id && e.value.depth > 0) {
        Appendf(used, "; holds mutex %s", DescribeObject(e.key, obj));
      }
    }
    Appendf(used, "\n");
  }
  // The wait-for cycle among mutex waiters, if any.
  bool cycle = false;
  for (std::uint32_t i = 0; i < sched.thread_count && !cycle; ++i) {
    std::uint32_t seen[kMaxThreads] = {};
    std::uint32_t cur = i;
    std::uint32_t path[kMaxThreads];
    std::uint32_t len = 0;
    while (cur < sched.thread_count && sched.threads[cur]->state == State::kMutex && seen[cur] == 0) {
      seen[cur] = 1;
      path[len++] = cur;
      cur = sched.mutexes[sched.threads[cur]->object].owner;
    }
    if (cur == i && len > 1) {
      Appendf(used, "cycle:");
      for (std::uint32_t k = 0; k < len; ++k) {
        Appendf(used, " %s -[%s]->", ThreadName(sched.threads[path[k]], name),
                DescribeObject(sched.threads[path[k]]->object, obj));
      }
      Appendf(used, " %s\n", ThreadName(sched.threads[i], name));
      cycle = true;
    }
  }
  if (!cycle) cycle = AppendKernelCycle(used);
  RunKind kind = lost ? RunKind::kLostWakeup : (pipe && !cycle ? RunKind::kHang : RunKind::kDeadlock);
  sched.file->header.kind = static_cast<std::uint32_t>(kind);
  ExitRun();  // it ends the other processes of the tree too: they wait for a baton nobody gives
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
      t->object = t->cond_mutex_key;
    } else {
      t->state = State::kRunnable;
    }
  }
  return true;
}

std::size_t Choose(lab::Choices& c) {
  c.index = sched.choices;
  c.step = sched.steps;
  // The shared random strategy is called non-virtually: its vtable pointer is the one of the
  // image that constructed it, which an exec'd image does not share.
  std::size_t pick = (sched.shared_random ? std::launder(reinterpret_cast<lab::RandomStrategy*>(sched.strategy_storage))
                                                ->lab::RandomStrategy::Pick(c)
                                          : image.strategy->Pick(c)) %
                     c.count;
  if (sched.choices < lab::interpose::kMaxChoices) {
    sched.file->choices[sched.choices] = static_cast<std::uint32_t>(pick);
    const lab::DfsPoint point = lab::DfsStrategy::PointOf(c);
    sched.file->choice_alternatives[sched.choices] = static_cast<std::uint16_t>(c.count);
    sched.file->choice_current[sched.choices] =
        point.current ? static_cast<std::uint16_t>(*point.current) : lab::interpose::kNoCurrent;
  }
  ++sched.choices;
  sched.file->header.choice_count = static_cast<std::uint32_t>(sched.choices);
  return pick;
}

// A fault the strategy may inject here: SIGKILL to a live child process (`me`'s own included),
// or SIGUSR1 to a thread blocked in read() on a pipe. At most one per run: a countdown over the
// points where a fault is possible is chosen at the first such point (kFaultHorizon: none).
// Returns true when `me`'s own process was chosen: it is finished in the bookkeeping, and
// Schedule hands the baton on and then kills it.
bool MaybeInjectFault(Thread* me) {
  if (sched.fault_kinds == 0 || sched.faults_done > 0) return false;
  std::uint32_t kill_targets[kMaxProcs];
  std::uint32_t signal_targets[kMaxThreads];
  std::uint32_t nk = 0, ns = 0;
  if (sched.fault_kinds & kFaultKill) {
    for (std::uint32_t i = 1; i < sched.proc_count; ++i) {
      if (!sched.procs[i].exited && sched.procs[i].pid > 0) kill_targets[nk++] = i;
    }
  }
  if (sched.fault_kinds & kFaultSignal) {
    for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
      Thread* t = sched.threads[i];
      if (t->state == State::kPipe && t->blocked_call == Call::kRead && !t->interrupted) signal_targets[ns++] = i;
    }
  }
  const std::uint32_t n = nk + ns;
  if (n == 0) return false;
  std::size_t pick = 0;
  if (sched.fault_each_point) {
    // dfs: one choice at every point where a fault is possible, 0 none and i target i-1, which
    // DFS enumerates exactly (many countdown values would give one schedule).
    lab::Choices c;
    c.kind = lab::Choices::Kind::kValue;
    c.count = n + 1;
    c.current = me->id;
    pick = Choose(c);
    if (pick-- == 0) return false;
  } else {
    if (sched.fault_countdown < 0) {
      lab::Choices c;
      c.kind = lab::Choices::Kind::kValue;
      c.count = kFaultHorizon + 1;
      c.current = me->id;
      c.current_enabled = true;
      sched.fault_countdown = static_cast<std::int64_t>(Choose(c));
      if (sched.fault_countdown == kFaultHorizon) sched.fault_countdown = 1 << 30;  // no fault this run
    }
    if (sched.fault_countdown-- > 0) return false;
    if (n > 1) {
      lab::Choices c;
      c.kind = lab::Choices::Kind::kValue;
      c.count = n;
      c.current = me->id;
      c.current_enabled = true;
      pick = Choose(c);
    }
  }
  ++sched.faults_done;
  sched.file->header.faults = sched.faults_done;
  if (pick < nk) {
    const std::uint32_t victim = kill_targets[pick];
    Proc& p = sched.procs[victim];
    RecordStep(me, Call::kKillFault, victim, {0, 0}, p.pid);
    p.killed = true;
    if (victim == me->proc) {
      ClosePipeDescriptors();  // as the kernel will, but before anyone else probes them
      FinishProcess(victim, true);
      return true;
    }
    syscall(SYS_kill, p.pid, SIGKILL);
    WaitDead(p.pid);  // its files are closed and its robust mutexes released when we go on
    FinishProcess(victim, true);
  } else {
    Thread* t = sched.threads[signal_targets[pick - nk]];
    RecordStep(me, Call::kSignalFault, t->id, {0, 0}, SIGUSR1);
    t->interrupted = true;
  }
  return false;
}

}  // namespace

// The scheduling point: `me` (the baton holder) has updated its own state; pick who runs next.
void Schedule(Thread* me) {
  TsanQuiet quiet;  // the strategy and the ready predicates run in whichever thread schedules
  Thread* enabled[kMaxThreads];
  lab::ThreadId ids[kMaxThreads];
  std::uint32_t n = 0;
  const bool killed_self = MaybeInjectFault(me);
  for (;;) {
    n = 0;
    for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
      if (Enabled(sched.threads[i])) {
        ids[n] = sched.threads[i]->id;
        enabled[n++] = sched.threads[i];
      }
    }
    if (n > 0) break;
    if (!AdvanceTime() && !RetryKernelWaiters()) ReportHang();
  }
  std::size_t pick = 0;
  if (n > 1) {
    lab::Choices c;
    c.kind = lab::Choices::Kind::kThread;
    c.count = n;
    c.threads = std::span<const lab::ThreadId>(ids, n);
    c.current = me->id;
    c.current_enabled = Enabled(me);
    pick = Choose(c);
  }
  Thread* next = enabled[pick];
  if (next == me) {
    sched.holder.store(me->id, std::memory_order_relaxed);
    return;
  }
  me->baton.store(0, std::memory_order_relaxed);
  GiveBaton(next);
  if (killed_self) {
    syscall(SYS_kill, getpid(), SIGKILL);
    for (;;) pause();
  }
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

Thread* AddThread(std::uint32_t proc) {
  if (sched.thread_count >= kMaxThreads) {
    sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kTooManyThreads);
    ExitRun();
  }
  Thread* t = &sched.thread_storage[sched.thread_count];
  t->id = sched.thread_count;
  t->proc = proc;
  t->local = sched.procs[proc].threads++;
  ++sched.thread_count;
  sched.file->header.threads = sched.thread_count;
  sched.file->header.thread_proc[t->id] = static_cast<std::uint16_t>(proc);
  sched.file->header.thread_local_index[t->id] = static_cast<std::uint16_t>(t->local);
  return t;
}

}  // namespace

Thread* NewThread() { return AddThread(self != nullptr ? self->proc : my_proc); }

Thread* NewProcess(std::uint32_t parent) {
  if (sched.proc_count >= kMaxProcs) {
    sched.file->header.kind = static_cast<std::uint32_t>(RunKind::kTooManyThreads);
    ExitRun();
  }
  std::uint32_t index = sched.proc_count++;
  sched.procs[index] = Proc{};
  sched.procs[index].parent = parent;
  sched.file->header.processes = sched.proc_count;
  return AddThread(index);
}

void FinishProcess(std::uint32_t proc, bool killed) {
  Proc& p = sched.procs[proc];
  p.exited = true;
  p.killed = p.killed || killed;
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->proc == proc) t->state = State::kDone;
  }
  for (auto& e : sched.mutexes) {
    if (!e.used || e.value.owner >= sched.thread_count || sched.threads[e.value.owner]->proc != proc) continue;
    // Released by the kernel for a robust mutex (EOWNERDEAD for the next owner); a plain mutex
    // in shared memory stays locked for ever, which the next locker finds out.
    e.value.owner = kNone;
    e.value.depth = 0;
    e.value.dead_owner_pid = p.pid;
  }
  WakePipeWaiters(0);
}

void ClosePipeDescriptors() {
  for (int fd = 0; fd < 1024; ++fd) {
    struct stat st;
    if (syscall(SYS_fstat, fd, &st) == 0 && (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode))) {
      syscall(SYS_close, fd);
    }
  }
}

void WaitDead(pid_t pid) {
  for (int i = 0; i < 20000 && !ProcessGone(pid); ++i) {
    struct timespec ts = {0, 100 * 1000};
    syscall(SYS_nanosleep, &ts, nullptr);
  }
}

void WakePipeWaiters(std::uintptr_t key) {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if ((t->state == State::kPipe && (key == 0 || t->object == key || t->io.count > 0)) ||
        (t->state == State::kKernel && (key == 0 || t->object == key))) {
      t->woken = true;
    }
  }
}

int DeliverInterruption(Thread* me) {
  const int signo = me->interrupt_signo != 0 ? me->interrupt_signo : SIGUSR1;
  me->interrupted = false;
  me->interrupt_signo = 0;
  struct sigaction sa;
  sigaction(signo, nullptr, &sa);
  if (sa.sa_handler == SIG_IGN) return 0;
  if (sa.sa_handler == SIG_DFL) {
    sched.procs[me->proc].killed = true;
    sched.procs[me->proc].exiting = true;
    ClosePipeDescriptors();
    FinishProcess(me->proc, true);
    self = nullptr;
    Schedule(me);
    syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), signo);
    syscall(SYS_exit_group, 128 + signo);
  }
  syscall(SYS_tgkill, getpid(), syscall(SYS_gettid), signo);  // the handler runs before this returns
  return (sa.sa_flags & SA_RESTART) ? 0 : EINTR;
}

void NoteCreated(lab::interpose::ObjectType type, const char* name, int sysv_id) {
  auto& h = sched.file->header;
  for (std::uint32_t i = 0; i < h.created_count; ++i) {
    if (h.created[i].type == static_cast<std::uint32_t>(type) && h.created[i].sysv_id == sysv_id &&
        strncmp(h.created[i].name, name != nullptr ? name : "", sizeof h.created[i].name) == 0) {
      return;
    }
  }
  if (h.created_count >= lab::interpose::kMaxCreated) return;
  auto& c = h.created[h.created_count++];
  c.type = static_cast<std::uint32_t>(type);
  c.sysv_id = sysv_id;
  snprintf(c.name, sizeof c.name, "%s", name != nullptr ? name : "");
}

namespace {

// Maps the segment behind `fd` over the pages of `sched` (MAP_FIXED), so every name stays the
// same, and keeps `fd` (close-on-exec, moved out of the program's way) for exec and spawn.
bool MapSchedulerSegment(int fd) {
  // Every argument as a long: syscall() is variadic, and the kernel reads whole registers.
  void* p = reinterpret_cast<void*>(syscall(SYS_mmap, &sched, sizeof(Scheduler), long{PROT_READ | PROT_WRITE},
                                            long{MAP_SHARED | MAP_FIXED}, long{fd}, 0L));
  if (p != &sched) return false;
  long high = syscall(SYS_fcntl, fd, F_DUPFD_CLOEXEC, 1000L);
  if (high >= 0) {
    syscall(SYS_close, fd);
    fd = static_cast<int>(high);
  } else {
    syscall(SYS_fcntl, fd, F_SETFD, long{FD_CLOEXEC});
  }
  image.sched_fd = fd;
  return true;
}

// The scheduler state becomes one MAP_SHARED segment (a memfd: nothing in /dev/shm), inherited
// by forked children and passed to exec'd images and spawned children (kJoinEnv).
bool ShareSchedulerState() {
  int fd = static_cast<int>(syscall(SYS_memfd_create, "ipclab-sched", long{MFD_CLOEXEC}));
  if (fd < 0) return false;
  if (syscall(SYS_ftruncate, fd, static_cast<long>(sizeof(Scheduler))) != 0 || !MapSchedulerSegment(fd)) {
    syscall(SYS_close, fd);
    return false;
  }
  new (&sched) Scheduler();
  return true;
}

// An exec'd image or a posix_spawn'd child (kJoinEnv = "<fd>:<thread id>"): maps the tree's
// segment and continues as that thread. Nothing shared is written before it holds the baton.
Thread* JoinTree(const char* join) {
  int fd = -1;
  unsigned id = 0;
  if (sscanf(join, "%d:%u", &fd, &id) != 2 || !MapSchedulerSegment(fd) || id >= sched.thread_count) return nullptr;
  Thread* t = sched.threads[id];
  my_proc = t->proc;
  return t;
}

// After an exec, under the baton: the image's other threads ended with the old image, and the
// kernel closed its close-on-exec descriptors (pipe readers elsewhere may see EOF).
void EndOldImage(Thread* t) {
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* other = sched.threads[i];
    if (other != t && other->proc == my_proc) other->state = State::kDone;
  }
  WakePipeWaiters(0);
}

// Whether this image runs the program's own executable (its return addresses are then offsets
// the explorer symbolizes with the program).
bool IsProgramImage() {
  struct stat st;
  if (syscall(SYS_newfstatat, AT_FDCWD, "/proc/self/exe", &st, 0) != 0) return false;
  if (sched.program_ino == 0) {
    sched.program_dev = st.st_dev;
    sched.program_ino = st.st_ino;
  }
  return st.st_dev == sched.program_dev && st.st_ino == sched.program_ino;
}

// The memory of the shared strategy's containers: a bump allocator over a buffer in the shared
// segment (never freed: one run allocates little). The run ends when it is used up.
class SharedArena final : public std::pmr::memory_resource {
 public:
  SharedArena(unsigned char* memory, std::size_t size) : next_(memory), end_(memory + size) {}

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    auto at = (reinterpret_cast<std::uintptr_t>(next_) + alignment - 1) & ~(alignment - 1);
    if (at + bytes > reinterpret_cast<std::uintptr_t>(end_)) TableFull();
    next_ = reinterpret_cast<unsigned char*>(at + bytes);
    return reinterpret_cast<void*>(at);
  }
  void do_deallocate(void*, std::size_t, std::size_t) override {}
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override { return this == &other; }

  unsigned char* next_;
  unsigned char* end_;
};

void Init() {
  ResolveAll();
  naive_seed = EnvU64("IPCLAB_NAIVE_JITTER", 0);
  const char* path = getenv("IPCLAB_EXPLORE_RESULT");
  if (path == nullptr || *path == '\0') return;
  // Children (a sanitizer's symbolizer, fork+exec by the program) run without the library: they
  // are not controlled, and under a sanitizer config the library needs the program's runtime.
  unsetenv("LD_PRELOAD");
  int fd = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDWR | O_CLOEXEC));
  if (fd < 0) return;
  void* p = reinterpret_cast<void*>(syscall(SYS_mmap, nullptr, lab::interpose::kResultFileSize,
                                            long{PROT_READ | PROT_WRITE}, long{MAP_SHARED}, long{fd}, 0L));
  syscall(SYS_close, fd);
  if (p == MAP_FAILED) return;
  if (static_cast<ResultFile*>(p)->header.magic != lab::interpose::kResultMagic) return;
  Thread* joined = nullptr;
  if (const char* join = getenv(kJoinEnv); join != nullptr) {
    joined = JoinTree(join);
    unsetenv(kJoinEnv);
    if (joined == nullptr) return;  // runs uncontrolled (the tree waits for it until --timeout)
  } else if (!ShareSchedulerState()) {
    return;
  }
  image.file = static_cast<ResultFile*>(p);
  // The executable's load base, to turn return addresses into offsets addr2line understands.
  if (IsProgramImage()) {
    dl_iterate_phdr(
        [](struct dl_phdr_info* info, size_t, void*) {
          image.exe_base = info->dlpi_addr;  // the first object is the executable
          return 1;
        },
        nullptr);
  }
  image.tsan = dlsym(RTLD_DEFAULT, "__tsan_init") != nullptr;
  image.tsan_start = dlsym(RTLD_DEFAULT, "__tsan_thread_start_func");
  image.deferred_start = image.tsan || dlsym(RTLD_DEFAULT, "__asan_init") != nullptr;
  if (joined == nullptr) sched.seed = EnvU64("IPCLAB_EXPLORE_SEED", 1);
  if (const char* faults = getenv("IPCLAB_EXPLORE_FAULTS"); faults != nullptr && joined == nullptr) {
    std::string_view f = faults;
    if (f.find("kill") != std::string_view::npos) sched.fault_kinds |= kFaultKill;
    if (f.find("signal") != std::string_view::npos) sched.fault_kinds |= kFaultSignal;
  }
  sched.fault_each_point = sched.fault_kinds != 0 && getenv("IPCLAB_EXPLORE_FAULTS_EACH_POINT") != nullptr;
  const char* strategy = getenv("IPCLAB_EXPLORE_STRATEGY");
  std::string_view name = strategy != nullptr ? strategy : "random";
  // Replay reads the shared choice log by index (its state is per process); the random and PCT
  // strategies live in the shared segment, so the whole tree draws from one state (PCT: forked
  // processes; an exec'd image has its own copy).
  // dfs: the explorer keeps the search tree; the run follows its prefix, then keeps running the
  // current thread (no preemption), and reports every choice point back (see Choose).
  if (name == "replay" || name == "dfs") {
    std::uint32_t n = std::min(sched.file->header.replay_count, lab::interpose::kMaxChoices);
    image.strategy = new lab::ReplayStrategy(
        std::vector<std::uint32_t>(sched.file->choices, sched.file->choices + n), name == "dfs");
  } else if (name == "pct") {
    const int depth = static_cast<int>(EnvU64("IPCLAB_EXPLORE_PCT_DEPTH", 3));
    lab::PctStrategy* pct;
    if (joined == nullptr) {
      static_assert(sizeof(lab::PctStrategy) <= sizeof(Scheduler::strategy_storage));
      static_assert(sizeof(SharedArena) <= sizeof(Scheduler::strategy_arena));
      auto* arena = new (sched.strategy_arena) SharedArena(sched.strategy_memory, sizeof sched.strategy_memory);
      pct = new (sched.strategy_storage) lab::PctStrategy(depth, arena);
    } else {
      // The tree's PCT holds pointers into the segment as the first image mapped it; an exec'd
      // image may map it elsewhere, so it draws from a copy of its own (a function of the seed).
      pct = new lab::PctStrategy(depth);
    }
    // Each run is a fresh process: the explorer passes the longest schedule seen so far.
    if (std::uint64_t k = EnvU64("IPCLAB_EXPLORE_PCT_K", 0); k > 0) pct->EndExecution(k);
    image.strategy = pct;
    pct->NewExecution(sched.seed);
  } else if (joined == nullptr) {
    static_assert(sizeof(lab::RandomStrategy) <= sizeof(Scheduler::strategy_storage));
    (new (sched.strategy_storage) lab::RandomStrategy())->NewExecution(sched.seed);
    sched.shared_random = true;
  }
  if (joined != nullptr) {
    self = joined;
    WaitBaton(joined);  // a spawned child waits for its turn; an exec'd thread holds the baton
    EndOldImage(joined);
    return;
  }
  sched.proc_count = 1;
  sched.procs[0].pid = getpid();
  sched.file->header.processes = 1;
  Thread* main_thread = AddThread(0);
  main_thread->baton.store(1, std::memory_order_relaxed);
  sched.holder.store(main_thread->id);
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
    jitter_rng = lab::Rng(naive_seed ^ reinterpret_cast<std::uintptr_t>(&jitter_seeded) ^
                          static_cast<std::uint64_t>(getpid()));
    jitter_seeded = true;
  }
  struct timespec ts = {0, static_cast<long>(jitter_rng.Below(100001))};
  real.nanosleep(&ts, nullptr);
}

}  // namespace

Thread* Me() {
  if (sched.active) {
    if (sched.procs[my_proc].exiting) return nullptr;  // its exit path runs uncontrolled
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
  info.dead_owner_pid = 0;
  HbAcquire(me, key);
}

void NoteMutexReleased(std::uintptr_t key) {
  if (self != nullptr) HbRelease(self, key);
  MutexInfo* m = sched.mutexes.find(key);
  if (m != nullptr && m->depth > 0 && --m->depth == 0) m->owner = kNone;
}

}  // namespace lab::interpose::core
