// ipc/filelock: file locks between processes.
//
//   OfdLock   fcntl open-file-description locks (F_OFD_SETLK/F_OFD_SETLKW) on a byte range. They
//             belong to the open file description, not the process: two opens of one file in the
//             same process conflict (classic F_SETLK locks would silently merge), closing another
//             descriptor of the file does not drop them, and threads can use them. Released when
//             the last descriptor of that open file description closes (also when the process
//             dies).
//   FlockLock flock(2): whole-file, also per open file description.
//   LockFile  a lock that is a file: created atomically, carrying the holder's pid, with stale
//             locks (holder dead) detected and broken safely. See below.
//
// Waiting: with Deadline::Never() the blocking call (F_OFD_SETLKW, flock without LOCK_NB) waits in
// the kernel and is restarted after EINTR. With a deadline the non-blocking call is retried with a
// backoff from 20 us to 5 ms (neither call has a timeout of its own), then ETIMEDOUT. TryLock
// fails at once with EAGAIN ("would block").
//
// LockFile protocol. Acquire writes its pid to a temporary file in the same directory, takes an
// exclusive flock on it, and link()s it to the lock path: link is atomic and fails with EEXIST if
// the path exists, and the lock file is complete (pid written, flock held) the instant it appears.
// If the path exists, the recorded pid names the holder (in errors: "held by pid N"); the holder
// is dead exactly when the file's flock can be taken (the kernel releases it when the holder's
// last descriptor closes, also when it is killed). The pid alone is not trusted: pids are reused,
// so "no such pid" would say stale too late and "pid exists" would wedge the lock forever. A stale lock is broken by whoever gets its flock, and
// only after checking the path still names that same file (so two breakers cannot remove a fresh
// lock). A forked child inherits the flock: a holder's child that outlives it keeps the lock alive.
// The racy "wait while the lock file exists, then create it" pattern is the buggy variant that
// belongs in problems/, not here.
#pragma once

#include <sys/types.h>
#include <unistd.h>

#include <string>

#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"

namespace ipc::filelock {

enum class LockType { kShared, kExclusive };

// An OFD lock on [start, start + length) of `fd` (length 0: to the end of the file, growing with
// it). Unlocks on destruction. Does not own `fd`.
class OfdLock {
 public:
  static sys::Result<OfdLock> TryLock(int fd, LockType type, off_t start = 0, off_t length = 0);
  static sys::Result<OfdLock> Lock(int fd, LockType type, sys::Deadline deadline,
                                   off_t start = 0, off_t length = 0);
  OfdLock(OfdLock&& o) noexcept;
  OfdLock& operator=(OfdLock&&) = delete;
  ~OfdLock();
  sys::Status Unlock();

 private:
  OfdLock(int fd, off_t start, off_t length) : fd_(fd), start_(start), length_(length) {}
  int fd_ = -1;
  off_t start_ = 0, length_ = 0;
};

// Whether a lock of `type` on the range would conflict with one held through another open file
// description (F_OFD_GETLK).
sys::Result<bool> WouldConflict(int fd, LockType type, off_t start = 0, off_t length = 0);

// flock(2). Unlocks on destruction. Does not own `fd`.
class FlockLock {
 public:
  static sys::Result<FlockLock> TryLock(int fd, LockType type);
  static sys::Result<FlockLock> Lock(int fd, LockType type, sys::Deadline deadline);
  FlockLock(FlockLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  FlockLock& operator=(FlockLock&&) = delete;
  ~FlockLock();
  sys::Status Unlock();

 private:
  explicit FlockLock(int fd) : fd_(fd) {}
  int fd_ = -1;
};

class LockFile {
 public:
  // Waits for the lock until `deadline`: ETIMEDOUT naming the holder's pid.
  static sys::Result<LockFile> Acquire(const std::string& path,
                                       sys::Deadline deadline = sys::Deadline::Never());
  static sys::Result<LockFile> TryAcquire(const std::string& path) {
    return Acquire(path, sys::Deadline::After(std::chrono::seconds(0)));
  }
  // The pid recorded in an existing lock file.
  static sys::Result<pid_t> Holder(const std::string& path);

  LockFile(LockFile&& o) noexcept
      : path_(std::move(o.path_)), fd_(std::move(o.fd_)), owner_pid_(std::exchange(o.owner_pid_, 0)) {}
  LockFile& operator=(LockFile&&) = delete;
  ~LockFile();
  // Removes the lock file (if it is still ours) and drops the flock.
  sys::Status Release();
  const std::string& path() const { return path_; }

 private:
  LockFile(std::string path, sys::Fd fd) : path_(std::move(path)), fd_(std::move(fd)), owner_pid_(::getpid()) {}
  std::string path_;
  sys::Fd fd_;
  pid_t owner_pid_ = 0;  // a forked child's copy never releases
};

}  // namespace ipc::filelock
