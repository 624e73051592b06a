// lab/interpose/calls_pthread.cc: the interposed pthread, semaphore, yield and sleep calls
// (see core.h).
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

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

void* Trampoline(void* raw) {
  StartArgs args = *static_cast<StartArgs*>(raw);
  delete static_cast<StartArgs*>(raw);
  self = args.thread;
  if (image.deferred_start) {
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

int LockMutex(Thread* me, pthread_mutex_t* m, Call call, Caller where, std::uint64_t deadline,
              bool try_only) {
  auto key = ObjectKey(m);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    int rc = real.trylock(m);
    if (rc == EBUSY) {
      // Its owner's process was killed: wait until the kernel has released the robust mutex
      // (the owner is really gone), then the trylock says EOWNERDEAD.
      if (MutexInfo* info = sched.mutexes.find(key); info != nullptr && info->dead_owner_pid != 0 &&
                                                     info->owner == kNone) {
        WaitDead(info->dead_owner_pid);
        info->dead_owner_pid = 0;
        rc = real.trylock(m);
      }
    }
    if (rc == 0 || rc == EOWNERDEAD) {
      NoteMutexAcquired(me, key, where);
      return rc;
    }
    if (rc != EBUSY || try_only) return rc;
    if (MutexInfo& info = sched.mutexes[key]; info.owner == kNone) info.owner = kUnknownOwner;
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
  auto key = ObjectKey(m);
  int rc = real.unlock(m);
  if (rc == 0) {
    NoteMutexReleased(key);
  }
  RecordStep(me, Call::kMutexUnlock, key, where, rc);
  Schedule(me);
  return rc;
}

int CondWait(Thread* me, pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* abstime,
             Caller where) {
  auto key = ObjectKey(c);
  Call call = abstime != nullptr ? Call::kCondTimedwait : Call::kCondWait;
  RecordStep(me, call, key, where, 0);
  // Atomically (we hold the baton) release the mutex and start waiting.
  auto mkey = ObjectKey(m);
  if (real.unlock(m) == 0) {
    NoteMutexReleased(mkey);
  }
  me->cond_mutex = m;
  me->cond_mutex_key = mkey;
  me->woken = false;
  me->timed_out = false;
  me->deadline = abstime != nullptr ? VirtualDeadline(abstime) : 0;
  Block(me, State::kCond, key, call, where);
  // Woken (or timed out): the state is now kMutex on `m`; take it.
  bool timed_out = me->timed_out;
  if (!timed_out) HbAcquire(me, key);
  me->deadline = 0;
  for (;;) {
    int rc = real.trylock(m);
    if (rc == 0 || rc == EOWNERDEAD) {
      NoteMutexAcquired(me, mkey, where);
      break;
    }
    Block(me, State::kMutex, mkey, call, where);
  }
  return timed_out ? ETIMEDOUT : 0;
}

void WakeCondWaiters(Thread* me, pthread_cond_t* c, bool all, Caller where) {
  auto key = ObjectKey(c);
  int woken = 0;
  // Wake the longest waiter first (lowest id as a stand-in: waiters are not queued by time).
  for (std::uint32_t i = 0; i < sched.thread_count; ++i) {
    Thread* t = sched.threads[i];
    if (t->state == State::kCond && t->object == key) {
      t->state = State::kMutex;
      t->object = t->cond_mutex_key;
      t->woken = true;
      t->deadline = 0;
      ++woken;
      if (!all) break;
    }
  }
  if (woken == 0) ++sched.lost_signals[key];
  HbRelease(me, key);
  RecordStep(me, all ? Call::kCondBroadcast : Call::kCondSignal, key, where, woken);
  Schedule(me);
}

int SemWait(Thread* me, sem_t* s, Call call, Caller where, std::uint64_t deadline, bool try_only) {
  auto key = ObjectKey(s);
  RecordStep(me, call, key, where, 0);
  Schedule(me);
  for (;;) {
    if (real.sem_trywait(s) == 0) {
      HbAcquire(me, key);
      return 0;
    }
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
}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

// ---- the interposed functions ------------------------------------------------------------------
// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

int pthread_create(pthread_t* thread, const pthread_attr_t* attr, void* (*start)(void*), void* arg) {
  ResolveAll();
  Thread* me = Me();
  // Under TSan only the program's threads (started through TSan's trampoline) are controlled.
  if (me == nullptr || (image.tsan && (image.tsan_start != nullptr
                                            ? reinterpret_cast<void*>(start) != image.tsan_start
                                            : CreatedBySanitizer()))) {
    return real.create(thread, attr, start, arg);
  }
  Caller where = Here(__builtin_return_address(0));
  Thread* child = NewThread();
  RecordStep(me, Call::kCreate, child->id, where, 0);
  HbSpawn(me, child);
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
  if (!image.deferred_start) Schedule(me);
  return rc;
}

int pthread_join(pthread_t thread, void** result) {
  ResolveAll();
  Thread* me = Me();
  if (me != nullptr) {
    Caller where = Here(__builtin_return_address(0));
    std::uint32_t id = kNone;
    for (std::uint32_t i = 1; i < sched.thread_count; ++i) {
      if (sched.threads[i]->has_handle && sched.threads[i]->proc == me->proc &&
          pthread_equal(sched.threads[i]->handle, thread)) {
        id = i;
      }
    }
    RecordStep(me, Call::kJoin, id, where, 0);
    Schedule(me);
    if (id != kNone) {
      Block(me, State::kJoin, id, Call::kJoin, where);
      HbJoin(me, id);
    }
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
  auto key = ObjectKey(s);
  HbRelease(me, key);
  int rc = real.sem_post(s);
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
#pragma GCC visibility pop
