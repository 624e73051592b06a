// lab/interpose/calls_ipc.cc: blocking read/write on pipes, FIFOs and sockets as waits the
// scheduler knows (see core.h), and the signal fault that interrupts a blocked read().
//
// A read or write on a pipe or socket is a scheduling point. It never blocks in the OS: under the
// baton it probes with a zero-timeout poll (and, for a pipe write, FIONREAD against the pipe's
// capacity); when the call would block, the thread waits in State::kPipe on the pipe's identity
// (its inode, the same in every process of the tree) until something happens to that pipe (a
// read, a write or a close anywhere in the tree, or a process ending), then probes again. A reader
// on an empty pipe whose write end is still open somewhere is thereby a wait: when nothing else
// can run, the run ends at once as a `hang` naming the pipe and who holds its write end.
// Descriptors the program made non-blocking are left alone (the call is only a point).
//
// Regular files, terminals and everything else pass straight through. recv*/send*, accept,
// connect and poll/select/epoll are waits of the same kind (calls_io.cc). Not interposed: readv,
// writev, splice, stdio's own reads and writes (glibc calls them internally, not through the
// interposable symbol).
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

using ReadFn = ssize_t (*)(int, void*, std::size_t);
using WriteFn = ssize_t (*)(int, const void*, std::size_t);
using CloseFn = int (*)(int);

struct RealIpc {
  ReadFn read;
  WriteFn write;
  CloseFn close;
} ri;

void ResolveIpc() {
  static std::atomic<bool> done{false};
  ResolveAll();
  if (done.load(std::memory_order_acquire)) return;
  Resolve(ri.read, "read");
  Resolve(ri.write, "write");
  Resolve(ri.close, "close");
  done.store(true, std::memory_order_release);
}

enum class Kind { kOther, kPipe, kSocket };

// The pipe or socket behind `fd` and its key ((1 << 62) | inode, and 1 << 61 for a socket: see
// DescribeObject).
Kind Classify(int fd, std::uintptr_t* key) {
  struct stat st;
  if (syscall(SYS_fstat, fd, &st) != 0) return Kind::kOther;
  Kind kind = S_ISFIFO(st.st_mode) ? Kind::kPipe : S_ISSOCK(st.st_mode) ? Kind::kSocket : Kind::kOther;
  *key = (std::uintptr_t{1} << 62) | (kind == Kind::kSocket ? std::uintptr_t{1} << 61 : 0) |
         (st.st_ino & 0xffffffffffffu);
  return kind;
}

// The two ends of a socket pair have different inodes: an event on a socket wakes every waiter.
void Wake(Kind kind, std::uintptr_t key) { WakePipeWaiters(kind == Kind::kSocket ? 0 : key); }

bool NonBlocking(int fd) { return (syscall(SYS_fcntl, fd, F_GETFL) & O_NONBLOCK) != 0; }

short Probe(int fd, short events) {
  struct pollfd p = {fd, events, 0};
  if (syscall(SYS_poll, &p, 1, 0) <= 0) return 0;
  return p.revents;
}

ssize_t ControlledRead(Thread* me, int fd, void* buf, std::size_t n, Kind kind, std::uintptr_t key,
                       Caller where) {
  Point(me, Call::kRead, key, where);
  if (!NonBlocking(fd)) {
    while (Probe(fd, POLLIN) == 0) {
      me->woken = false;
      Block(me, State::kPipe, key, Call::kRead, where);
      if (me->interrupted) {
        if (DeliverInterruption(me) == EINTR) {
          RecordStep(me, Call::kRead, key, where, -EINTR);
          errno = EINTR;
          return -1;
        }
      }
    }
  }
  ssize_t r = ri.read(fd, buf, n);
  if (r > 0) Wake(kind, key);  // room for a blocked writer
  if (r > 0 && kind == Kind::kPipe) HbAcquire(me, key);  // the race detector: write before read
  return r;
}

// Bytes a write to pipe `fd` can put now without blocking (0: full; the pipe's capacity minus
// what is queued).
std::size_t PipeRoom(int fd) {
  long capacity = syscall(SYS_fcntl, fd, F_GETPIPE_SZ);
  int queued = 0;
  if (capacity <= 0 || syscall(SYS_ioctl, fd, FIONREAD, &queued) != 0) return PIPE_BUF;
  return capacity > queued ? static_cast<std::size_t>(capacity - queued) : 0;
}

ssize_t ControlledWrite(Thread* me, int fd, const void* buf, std::size_t n, Kind kind, std::uintptr_t key,
                        Caller where) {
  Point(me, Call::kWrite, key, where);
  if (kind == Kind::kPipe) HbRelease(me, key);  // the race detector: what a reader reads comes after
  if (NonBlocking(fd) || n == 0) return ri.write(fd, buf, n);
  std::size_t done = 0;
  const auto* bytes = static_cast<const char*>(buf);
  for (;;) {
    short ev = Probe(fd, POLLOUT);
    if (ev & (POLLERR | POLLHUP | POLLNVAL)) {
      ssize_t r = ri.write(fd, bytes + done, n - done);  // no reader: EPIPE (and SIGPIPE) as usual
      if (r > 0) done += static_cast<std::size_t>(r);
      return done > 0 ? static_cast<ssize_t>(done) : r;
    }
    ssize_t r = 0;
    if (kind == Kind::kPipe) {
      // Writes of up to PIPE_BUF bytes are atomic: wait until all of it fits.
      std::size_t left = n - done, room = (ev & POLLOUT) ? PipeRoom(fd) : 0;
      std::size_t need = left <= PIPE_BUF ? left : 1;
      if (room >= need) r = ri.write(fd, bytes + done, std::min(left, room));
    } else if (ev & POLLOUT) {
      // The raw call: send() is interposed too (calls_io.cc) and would add a point here.
      r = syscall(SYS_sendto, fd, bytes + done, n - done, long{MSG_DONTWAIT}, nullptr, 0L);
      if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) r = 0;
    }
    if (r < 0) return done > 0 ? static_cast<ssize_t>(done) : r;
    if (r > 0) {
      done += static_cast<std::size_t>(r);
      Wake(kind, key);  // data for a blocked reader
      if (done == n) return static_cast<ssize_t>(n);
      continue;
    }
    me->woken = false;
    Block(me, State::kPipe, key, Call::kWrite, where);
  }
}

}  // namespace
}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

ssize_t read(int fd, void* buf, size_t n) {
  ResolveIpc();
  Thread* me = Me();
  std::uintptr_t key = 0;
  Kind kind = me == nullptr ? Kind::kOther : Classify(fd, &key);
  if (kind == Kind::kOther) return ri.read(fd, buf, n);
  return ControlledRead(me, fd, buf, n, kind, key, Here(__builtin_return_address(0)));
}

ssize_t write(int fd, const void* buf, size_t n) {
  ResolveIpc();
  Thread* me = Me();
  std::uintptr_t key = 0;
  Kind kind = me == nullptr ? Kind::kOther : Classify(fd, &key);
  if (kind == Kind::kOther) return ri.write(fd, buf, n);
  return ControlledWrite(me, fd, buf, n, kind, key, Here(__builtin_return_address(0)));
}

int close(int fd) {
  ResolveIpc();
  Thread* me = Me();
  std::uintptr_t key = 0;
  Kind kind = me == nullptr ? Kind::kOther : Classify(fd, &key);
  if (kind == Kind::kOther) {
    // A closed file releases this process's fcntl locks on it (a flock lock with its last
    // descriptor): its lock waiters try again.
    std::uintptr_t file = me != nullptr ? FileLockKey(fd) : 0;
    int rc = ri.close(fd);
    if (file != 0) WakePipeWaiters(file);
    return rc;
  }
  int rc = ri.close(fd);
  Wake(kind, key);  // maybe the last write end: a blocked reader sees EOF
  Point(me, Call::kClose, key, Here(__builtin_return_address(0)));
  return rc;
}

}  // extern "C"
#pragma GCC visibility pop
