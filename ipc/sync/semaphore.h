// ipc/sync/semaphore.h: counting semaphores between processes, three back-ends, one shape.
//
//   UnnamedSemaphore   sem_init(pshared=1) on a sem_t that lives in shared memory (a segment).
//   NamedSemaphore     sem_open(O_CREAT|O_EXCL, 0600) under an ipclab name; the creator unlinks.
//   SysvSemaphoreSet   semget(IPC_PRIVATE) sets, registered with ipc/audit/registry.h; semop with
//                      SEM_UNDO on request, so the kernel gives back what a process holds when
//                      it dies (the one semaphore here that survives a crash of its holder).
//
// Every back-end offers, for semaphore `index` (always 0 for the POSIX ones):
//   Post()                       +1
//   Wait()                       -1, blocking; EINTR restarts
//   TryWait()                    -1 if it can without blocking: true, else false
//   WaitFor(d) / WaitUntil(dl)   -1 before the deadline, else ETIMEDOUT
//   Value()                      the current count
// Timeouts are durations at the API and absolute CLOCK_MONOTONIC deadlines inside; a wait
// interrupted by a signal resumes with what remains of the same deadline.
#pragma once

#include <semaphore.h>
#include <sys/sem.h>

#include <chrono>
#include <span>
#include <string>
#include <string_view>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::sync {

// A sem_t placed in shared memory. The creator constructs it in place and calls Init once.
class UnnamedSemaphore {
 public:
  UnnamedSemaphore() = default;
  UnnamedSemaphore(const UnnamedSemaphore&) = delete;
  UnnamedSemaphore& operator=(const UnnamedSemaphore&) = delete;

  sys::Status Init(unsigned value);
  sys::Status Destroy();

  sys::Status Post();
  sys::Status Wait();
  sys::Result<bool> TryWait();
  sys::Status WaitUntil(sys::Deadline deadline);
  template <class Rep, class Period>
  sys::Status WaitFor(std::chrono::duration<Rep, Period> d) {
    return WaitUntil(sys::Deadline::After(d));
  }
  sys::Result<int> Value();

 private:
  sem_t sem_;
};

// A named POSIX semaphore (visible in /dev/shm as sem.ipclab.<pid>.<random>.<purpose>).
class NamedSemaphore {
 public:
  // Creates it (O_EXCL); the returned object owns it and sem_unlinks it on destruction.
  static sys::Result<NamedSemaphore> Create(std::string_view purpose, unsigned value);
  // Opens an existing one by the name Create gave (name()).
  static sys::Result<NamedSemaphore> Open(const std::string& name);

  NamedSemaphore(NamedSemaphore&& o) noexcept;
  NamedSemaphore& operator=(NamedSemaphore&&) = delete;
  NamedSemaphore(const NamedSemaphore&) = delete;
  ~NamedSemaphore();

  const std::string& name() const { return name_; }
  bool owner() const { return owner_; }
  // The owner removes the name now (open handles keep working).
  sys::Status Unlink();

  sys::Status Post();
  sys::Status Wait();
  sys::Result<bool> TryWait();
  sys::Status WaitUntil(sys::Deadline deadline);
  template <class Rep, class Period>
  sys::Status WaitFor(std::chrono::duration<Rep, Period> d) {
    return WaitUntil(sys::Deadline::After(d));
  }
  sys::Result<int> Value();

 private:
  NamedSemaphore(sem_t* sem, std::string name, bool owner)
      : sem_(sem), name_(std::move(name)), owner_(owner) {}
  sem_t* sem_ = nullptr;
  std::string name_;
  bool owner_ = false;
};

// A System V semaphore set of `count` semaphores.
class SysvSemaphoreSet {
 public:
  // Creates a set with the given initial values (IPC_PRIVATE, mode 0600), registered under
  // `purpose`. The initial values are set with semop (which, unlike SETVAL, leaves sem_ctime,
  // the registry's key, alone). The returned object owns it: IPC_RMID + unregister on destruction.
  static sys::Result<SysvSemaphoreSet> Create(std::string_view purpose, int count,
                                              unsigned initial = 0);
  // Uses an existing set (from id()); does not own it.
  static sys::Result<SysvSemaphoreSet> Attach(int id);

  SysvSemaphoreSet(SysvSemaphoreSet&& o) noexcept;
  SysvSemaphoreSet& operator=(SysvSemaphoreSet&&) = delete;
  SysvSemaphoreSet(const SysvSemaphoreSet&) = delete;
  ~SysvSemaphoreSet();

  int id() const { return id_; }
  int count() const { return count_; }
  bool owner() const { return owner_; }
  sys::Status Remove();

  // `undo` (SEM_UNDO): the kernel reverses this process's operations when it exits. Pass true to
  // both the Wait and the Post of a hold (a lock-like use: a crash between them gives the count
  // back); leave it false for hand-offs (post here, wait there), which must outlive the poster.
  sys::Status Post(int index = 0, bool undo = false);
  sys::Status Wait(int index = 0, bool undo = false);
  sys::Result<bool> TryWait(int index = 0, bool undo = false);
  sys::Status WaitUntil(sys::Deadline deadline, int index = 0, bool undo = false);
  template <class Rep, class Period>
  sys::Status WaitFor(std::chrono::duration<Rep, Period> d, int index = 0, bool undo = false) {
    return WaitUntil(sys::Deadline::After(d), index, undo);
  }
  sys::Result<int> Value(int index = 0);

  // Several changes made atomically by one semop: all of them, when every decrement can go,
  // else none (it blocks until the deadline: ETIMEDOUT). A wait and a record of it in one step,
  // e.g. {free slots -1, "I hold a slot" +1}: no crash can fall between them, so whoever repairs
  // after a death knows exactly what the dead process held.
  struct Change {
    int index;
    short delta;
  };
  sys::Status ApplyUntil(std::span<const Change> changes, sys::Deadline deadline, bool undo = false);

 private:
  SysvSemaphoreSet(int id, int count, bool owner) : id_(id), count_(count), owner_(owner) {}
  sys::Status Op(int index, short delta, bool undo, bool nowait, sys::Deadline deadline);
  sys::Status Semop(std::span<sembuf> ops, sys::Deadline deadline);
  std::string Object() const;
  int id_ = -1;
  int count_ = 0;
  bool owner_ = false;
};

}  // namespace ipc::sync
