// ipc/pipe/io.h: full read and write loops for pipes, FIFOs and stream sockets.
//
// read() and write() on a pipe or socket may move fewer bytes than asked (a signal, a full pipe,
// a small socket buffer); these loops finish the job or say exactly why they could not:
//
//   - EINTR is retried, never mistaken for end of file: a read returns 0 bytes only at EOF.
//   - SIGPIPE never kills the process: sockets are written with MSG_NOSIGNAL; for pipes SIGPIPE is
//     blocked in the calling thread around the write and a SIGPIPE the write raised is consumed,
//     so a reader that went away is the error EPIPE.
//   - A deadline bounds the whole transfer (ETIMEDOUT); Deadline::Never() waits as long as it
//     takes. With a deadline, pipes are written in pieces of at most PIPE_BUF after poll() said
//     the pipe is writable (such a write cannot block), sockets with MSG_DONTWAIT.
#pragma once

#include <cstddef>
#include <span>

#include "ipc/sys/deadline.h"
#include "ipc/sys/sys.h"

namespace ipc::pipe {

// What `fd` is, when the caller knows (kAuto asks fstat on every call: one more system call).
enum class FdKind { kAuto, kPipe, kSocket };
FdKind KindOf(int fd);

// Writes all of `data` (EPIPE when the reader is gone, ETIMEDOUT at the deadline).
sys::Status WriteAll(int fd, std::span<const std::byte> data,
                     sys::Deadline deadline = sys::Deadline::Never(), FdKind kind = FdKind::kAuto);

// One read of at most `buf.size()` bytes once data is there: the count, 0 only at end of file.
sys::Result<size_t> ReadSome(int fd, std::span<std::byte> buf,
                             sys::Deadline deadline = sys::Deadline::Never());

// Fills `buf` completely: true. False when end of file comes before the first byte (a clean end
// between messages). End of file after some bytes is ECONNRESET ("end of stream after n of m
// bytes"): the writer died or closed mid-message.
sys::Result<bool> ReadExact(int fd, std::span<std::byte> buf,
                            sys::Deadline deadline = sys::Deadline::Never());

// Waits until `fd` is readable (or has hung up): false when the deadline passed first.
sys::Result<bool> WaitReadable(int fd, sys::Deadline deadline);

// Blocks SIGPIPE in the calling thread for its lifetime. Call saw_epipe() when a write failed with
// EPIPE: the SIGPIPE that write raised is then consumed before the old mask returns (unless one
// was already pending before the scope). Without EPIPE it costs two pthread_sigmask calls.
class ScopedSigpipeSuppressor {
 public:
  ScopedSigpipeSuppressor();
  ~ScopedSigpipeSuppressor();
  ScopedSigpipeSuppressor(const ScopedSigpipeSuppressor&) = delete;
  ScopedSigpipeSuppressor& operator=(const ScopedSigpipeSuppressor&) = delete;
  void saw_epipe() { epipe_ = true; }

 private:
  bool was_pending_ = false;
  bool was_blocked_ = false;
  bool epipe_ = false;
};

}  // namespace ipc::pipe
