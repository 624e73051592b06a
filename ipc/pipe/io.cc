#include "ipc/pipe/io.h"

#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>

#include <fmt/format.h>

namespace ipc::pipe {
namespace {

sys::Result<bool> WaitFor(int fd, short events, sys::Deadline deadline) {
  for (;;) {
    pollfd p{.fd = fd, .events = events, .revents = 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n > 0) return true;  // includes POLLHUP/POLLERR: the next call reports them
    if (n == 0) {
      if (deadline.expired()) return false;
      continue;
    }
    if (errno != EINTR) return sys::Fail("poll", sys::FdName(fd));
    if (deadline.expired()) return false;
  }
}

}  // namespace

ScopedSigpipeSuppressor::ScopedSigpipeSuppressor() {
  sigset_t pipe_set, old;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
  was_blocked_ = sigismember(&old, SIGPIPE);
  // Only a thread that blocked SIGPIPE already can have one pending that is not ours.
  if (was_blocked_) {
    sigset_t pending;
    sigpending(&pending);
    was_pending_ = sigismember(&pending, SIGPIPE);
  }
}

ScopedSigpipeSuppressor::~ScopedSigpipeSuppressor() {
  sigset_t pipe_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  if (epipe_ && !was_pending_) {
    sigset_t pending;
    sigpending(&pending);
    if (sigismember(&pending, SIGPIPE)) {
      timespec zero{0, 0};
      while (sigtimedwait(&pipe_set, nullptr, &zero) < 0 && errno == EINTR) {
      }
    }
  }
  if (!was_blocked_) pthread_sigmask(SIG_UNBLOCK, &pipe_set, nullptr);
}

FdKind KindOf(int fd) {
  struct stat st {};
  return ::fstat(fd, &st) == 0 && S_ISSOCK(st.st_mode) ? FdKind::kSocket : FdKind::kPipe;
}

sys::Result<bool> WaitReadable(int fd, sys::Deadline deadline) {
  return WaitFor(fd, POLLIN, deadline);
}

sys::Status WriteAll(int fd, std::span<const std::byte> data, sys::Deadline deadline,
                     FdKind kind) {
  const bool sock = (kind == FdKind::kAuto ? KindOf(fd) : kind) == FdKind::kSocket;
  const std::string what = sys::FdName(fd);
  size_t done = 0;
  std::optional<ScopedSigpipeSuppressor> quiet;
  if (!sock) quiet.emplace();
  while (done < data.size()) {
    size_t want = data.size() - done;
    if (!deadline.is_never()) {
      auto ready = WaitFor(fd, POLLOUT, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) {
        return sys::Fail(sock ? "send" : "write", what, ETIMEDOUT,
                         fmt::format("{} of {} bytes written", done, data.size()));
      }
      if (!sock) want = std::min<size_t>(want, PIPE_BUF);
    }
    ssize_t n = sock ? ::send(fd, data.data() + done, want,
                              MSG_NOSIGNAL | (deadline.is_never() ? 0 : MSG_DONTWAIT))
                     : ::write(fd, data.data() + done, want);
    if (n >= 0) {
      done += static_cast<size_t>(n);
      continue;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && !deadline.is_never()) continue;  // raced with another writer
    if (errno == EPIPE && quiet) quiet->saw_epipe();
    return sys::Fail(sock ? "send" : "write", what, errno,
                     fmt::format("{} of {} bytes written", done, data.size()));
  }
  return {};
}

sys::Result<size_t> ReadSome(int fd, std::span<std::byte> buf, sys::Deadline deadline) {
  for (;;) {
    if (!deadline.is_never()) {
      auto ready = WaitFor(fd, POLLIN, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) return sys::Fail("read", sys::FdName(fd), ETIMEDOUT);
    }
    ssize_t n = ::read(fd, buf.data(), buf.size());
    if (n >= 0) return static_cast<size_t>(n);
    if (errno == EINTR) continue;  // a signal is not the end of the file
    if (errno == EAGAIN && !deadline.is_never()) continue;
    return sys::Fail("read", sys::FdName(fd));
  }
}

sys::Result<bool> ReadExact(int fd, std::span<std::byte> buf, sys::Deadline deadline) {
  size_t done = 0;
  while (done < buf.size()) {
    auto n = ReadSome(fd, buf.subspan(done), deadline);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) {
      if (done == 0) return false;
      return sys::Fail("read", sys::FdName(fd), ECONNRESET,
                       fmt::format("end of stream after {} of {} bytes", done, buf.size()));
    }
    done += *n;
  }
  return true;
}

}  // namespace ipc::pipe
