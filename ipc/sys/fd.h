// ipc/sys/fd.h: an owned file descriptor.
//
// `Fd` closes what it owns exactly once. close() is never retried after EINTR (on Linux the fd is
// released even then, and a retry could close a descriptor another thread just opened).
#pragma once

#include <utility>

#include "ipc/sys/sys.h"

namespace ipc::sys {

class Fd {
 public:
  Fd() = default;
  explicit Fd(int fd) : fd_(fd) {}
  Fd(Fd&& o) noexcept : fd_(std::exchange(o.fd_, -1)) {}
  Fd& operator=(Fd&& o) noexcept {
    if (this != &o) reset(std::exchange(o.fd_, -1));
    return *this;
  }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  ~Fd() { reset(); }

  int get() const { return fd_; }
  bool valid() const { return fd_ >= 0; }
  explicit operator bool() const { return valid(); }
  // Gives up ownership without closing.
  int release() { return std::exchange(fd_, -1); }
  // Closes the current fd (if any) and owns `fd`.
  void reset(int fd = -1);
  // Closes now and reports the error close() gave (EIO on some files), which reset() drops.
  Status close();

 private:
  int fd_ = -1;
};

// pipe2(O_CLOEXEC | flags) as two owned ends.
struct PipeEnds {
  Fd read;
  Fd write;
};
Result<PipeEnds> MakePipe(int flags = 0);

// Sets or clears O_NONBLOCK / FD_CLOEXEC.
Status SetNonBlocking(int fd, bool on);
Status SetCloseOnExec(int fd, bool on);

}  // namespace ipc::sys
