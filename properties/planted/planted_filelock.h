// properties/planted/planted_filelock.h: a TEST-ONLY whole-file lock with the interface of
// ipc::filelock::OfdLock and a planted ownership bug: it uses classic POSIX record locks
// (F_SETLK/F_GETLK), which belong to the PROCESS, not to the open file description. Two opens of
// the file in one process never conflict (the second lock silently replaces the first) and
// unlocking through one descriptor drops them all; between processes it behaves. Used by
// filelock_model_property_test to show the model-based property catches and shrinks it.
#pragma once

#include <fcntl.h>

#include <cerrno>
#include <chrono>
#include <thread>
#include <utility>

#include "ipc/filelock/filelock.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace properties::planted {

class ProcessOwnedLock {
 public:
  static ipc::sys::Result<ProcessOwnedLock> TryLock(int fd, ipc::filelock::LockType type) {
    if (auto s = Set(fd, type == ipc::filelock::LockType::kShared ? F_RDLCK : F_WRLCK); !s) {
      return std::unexpected(s.error());
    }
    return ProcessOwnedLock(fd);
  }
  static ipc::sys::Result<ProcessOwnedLock> Lock(int fd, ipc::filelock::LockType type, ipc::sys::Deadline deadline) {
    for (auto pause = std::chrono::microseconds(20);; pause = std::min(pause * 2, decltype(pause)(5000))) {
      auto l = TryLock(fd, type);
      if (l || l.error().err != EAGAIN) return l;
      if (deadline.expired()) return ipc::sys::Fail("fcntl(F_SETLK)", "planted lock", ETIMEDOUT);
      std::this_thread::sleep_for(pause);
    }
  }
  ProcessOwnedLock(ProcessOwnedLock&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  ProcessOwnedLock& operator=(ProcessOwnedLock&&) = delete;
  ~ProcessOwnedLock() { (void)Unlock(); }
  ipc::sys::Status Unlock() {
    if (fd_ < 0) return {};
    return Set(std::exchange(fd_, -1), F_UNLCK);
  }

 private:
  explicit ProcessOwnedLock(int fd) : fd_(fd) {}
  // PLANTED BUG: F_SETLK, not F_OFD_SETLK. (EACCES is the other "held" answer POSIX allows.)
  static ipc::sys::Status Set(int fd, short type) {
    struct flock fl{};
    fl.l_type = type;
    fl.l_whence = SEEK_SET;
    auto r = ipc::sys::Call("fcntl(F_SETLK)", "planted lock", [&] { return ::fcntl(fd, F_SETLK, &fl); });
    if (!r && r.error().err == EACCES) return ipc::sys::Fail("fcntl(F_SETLK)", "planted lock", EAGAIN);
    if (!r) return std::unexpected(r.error());
    return {};
  }
  int fd_ = -1;
};

}  // namespace properties::planted
