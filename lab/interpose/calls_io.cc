// lab/interpose/calls_io.cc: sockets and descriptor multiplexing as waits the scheduler knows
// (see core.h and calls_ipc.cc, which does the same for read/write).
//
// - recv/recvfrom/recvmsg, send/sendto/sendmsg, accept/accept4 and connect on sockets are
//   scheduling points. A call that would block never blocks in the OS: under the baton it tries
//   the call with MSG_DONTWAIT (a non-blocking connect, accept4 on a readable listener), and
//   while that says EAGAIN the thread waits in State::kPipe; any event on a pipe or socket
//   anywhere in the tree (a send, a recv, a close, a connect, a process ending) wakes it to try
//   again. MSG_DONTWAIT and O_NONBLOCK descriptors keep their meaning: the call is only a point.
//   A blocking send on a stream socket sends everything, as the real call does.
// - poll/ppoll/select/pselect/epoll_wait/epoll_pwait: a zero timeout is a point; otherwise the
//   call probes its descriptors with a zero timeout and waits as above until one is ready, or
//   until its timeout passes on virtual time. A wait on descriptors that are all pipes, sockets
//   or files (whose events are interposed) that nobody will make ready is a `hang`, reported at
//   once naming each descriptor, the object behind it and who holds its other end (a Unix
//   socket's peer, from sock_diag). Other descriptors (eventfd, timerfd, terminals) change state
//   outside our view: such a wait probes again every millisecond of virtual time instead, and is
//   never reported as a hang.
//
// Limits: the signal mask of ppoll/pselect/epoll_pwait applies to the probes only; MSG_WAITALL
// is honoured by recv/recvfrom (recvmsg returns what is there); epoll_pwait2 and recvmmsg /
// sendmmsg are not interposed.
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdarg>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <vector>

#include "lab/interpose/core.h"

namespace lab::interpose::core {
namespace {

using RecvFn = ssize_t (*)(int, void*, std::size_t, int);
using SendFn = ssize_t (*)(int, const void*, std::size_t, int);
using RecvfromFn = ssize_t (*)(int, void*, std::size_t, int, struct sockaddr*, socklen_t*);
using SendtoFn = ssize_t (*)(int, const void*, std::size_t, int, const struct sockaddr*, socklen_t);
using RecvmsgFn = ssize_t (*)(int, struct msghdr*, int);
using SendmsgFn = ssize_t (*)(int, const struct msghdr*, int);
using Accept4Fn = int (*)(int, struct sockaddr*, socklen_t*, int);
using ConnectFn = int (*)(int, const struct sockaddr*, socklen_t);
using PollFn = int (*)(struct pollfd*, nfds_t, int);
using PpollFn = int (*)(struct pollfd*, nfds_t, const struct timespec*, const sigset_t*);
using SelectFn = int (*)(int, fd_set*, fd_set*, fd_set*, struct timeval*);
using PselectFn = int (*)(int, fd_set*, fd_set*, fd_set*, const struct timespec*, const sigset_t*);
using EpollWaitFn = int (*)(int, struct epoll_event*, int, int);
using EpollPwaitFn = int (*)(int, struct epoll_event*, int, int, const sigset_t*);

struct RealIo {
  RecvFn recv;
  SendFn send;
  RecvfromFn recvfrom;
  SendtoFn sendto;
  RecvmsgFn recvmsg;
  SendmsgFn sendmsg;
  Accept4Fn accept4;
  ConnectFn connect;
  PollFn poll;
  PpollFn ppoll;
  SelectFn select;
  PselectFn pselect;
  EpollWaitFn epoll_wait;
  EpollPwaitFn epoll_pwait;
} rio;

void ResolveIo() {
  static std::atomic<bool> done{false};
  ResolveAll();
  if (done.load(std::memory_order_acquire)) return;
  Resolve(rio.recv, "recv");
  Resolve(rio.send, "send");
  Resolve(rio.recvfrom, "recvfrom");
  Resolve(rio.sendto, "sendto");
  Resolve(rio.recvmsg, "recvmsg");
  Resolve(rio.sendmsg, "sendmsg");
  Resolve(rio.accept4, "accept4");
  Resolve(rio.connect, "connect");
  Resolve(rio.poll, "poll");
  Resolve(rio.ppoll, "ppoll");
  Resolve(rio.select, "select");
  Resolve(rio.pselect, "pselect");
  Resolve(rio.epoll_wait, "epoll_wait");
  Resolve(rio.epoll_pwait, "epoll_pwait");
  done.store(true, std::memory_order_release);
}

constexpr std::uint64_t kMillisecond = 1000 * 1000;
constexpr std::uint64_t kNoDeadline = 0;

enum class FdKind { kClosed, kWatched, kFile, kOther };

// What is behind `fd`: a pipe or socket (whose events are interposed; `key` set as calls_ipc.cc
// names them), a regular file (always ready), or something else.
FdKind Classify(int fd, std::uintptr_t* key = nullptr) {
  struct stat st;
  if (fd < 0 || syscall(SYS_fstat, fd, &st) != 0) return FdKind::kClosed;
  if (S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode)) {
    if (key != nullptr) {
      *key = (std::uintptr_t{1} << 62) | (S_ISSOCK(st.st_mode) ? std::uintptr_t{1} << 61 : 0) |
             (st.st_ino & 0xffffffffffffu);
    }
    return FdKind::kWatched;
  }
  return S_ISREG(st.st_mode) || S_ISDIR(st.st_mode) ? FdKind::kFile : FdKind::kOther;
}

bool IsSocket(int fd, std::uintptr_t* key) {
  return Classify(fd, key) == FdKind::kWatched && (*key >> 61) == 3;
}

bool NonBlocking(int fd) { return (syscall(SYS_fcntl, fd, F_GETFL) & O_NONBLOCK) != 0; }

bool WouldBlock(long r) { return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK); }

// Something happened on a socket: every descriptor waiter tries again.
void WakeAll() { WakePipeWaiters(0); }

// The descriptor wait: `attempt` tries the call without blocking and returns false while it
// would block; between attempts `me` waits (State::kPipe) for an event on any pipe or socket,
// or for `deadline` (virtual ns; kNoDeadline: none). With `tick`, it also tries again every
// millisecond of virtual time (descriptors whose events we do not see). Returns false when the
// deadline passed first. `me->io` names the descriptors for a hang report meanwhile.
template <typename Attempt>
bool WaitFor(Thread* me, Call call, std::uintptr_t key, Caller where, std::uint64_t deadline, bool tick,
             Attempt attempt) {
  bool done = false;
  for (;;) {
    int saved = errno;
    if (attempt()) {
      done = true;
      break;
    }
    errno = saved;
    if (deadline != kNoDeadline && sched.now >= deadline) break;
    me->woken = false;
    me->timed_out = false;
    std::uint64_t wake_at = tick ? sched.now + kMillisecond : kNoDeadline;
    if (deadline != kNoDeadline && (wake_at == kNoDeadline || deadline < wake_at)) wake_at = deadline;
    me->deadline = wake_at;
    Block(me, State::kPipe, key, call, where);
    me->deadline = 0;
    me->timed_out = false;
  }
  me->io.count = 0;
  return done;
}

void WatchFd(Thread* me, int fd, short events) {
  me->io.epoll = false;
  me->io.count = 1;
  me->io.fd[0] = fd;
  me->io.events[0] = events;
}

// ---- sockets -----------------------------------------------------------------------------------

// A socket call that would block: tries `call(flags | MSG_DONTWAIT)` until it does not say EAGAIN.
template <typename Try>
ssize_t SocketWait(Thread* me, int fd, int flags, short events, Call call, std::uintptr_t key, Caller where,
                   Try try_call) {
  Point(me, call, key, where);
  ssize_t r = -1;
  if ((flags & MSG_DONTWAIT) || NonBlocking(fd)) {
    r = try_call(flags);
  } else {
    WatchFd(me, fd, events);
    WaitFor(me, call, key, where, kNoDeadline, false, [&] {
      r = try_call(flags | MSG_DONTWAIT);
      return !WouldBlock(r);
    });
  }
  if (r >= 0) WakeAll();  // data for a reader, or room for a writer
  return r;
}

bool IsStream(int fd) {
  int type = 0;
  socklen_t len = sizeof type;
  return syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_TYPE, &type, &len) == 0 && type == SOCK_STREAM;
}

// recv/recvfrom with MSG_WAITALL on a blocking stream socket: the waits repeat until `n` bytes,
// end of file or an error.
template <typename Recv>
ssize_t ReceiveAll(Thread* me, int fd, std::size_t n, int flags, Call call, std::uintptr_t key, Caller where,
                   Recv recv_at) {
  if (!(flags & MSG_WAITALL) || (flags & MSG_DONTWAIT) || !IsStream(fd) || NonBlocking(fd)) {
    return SocketWait(me, fd, flags, POLLIN, call, key, where, [&](int f) { return recv_at(0, f); });
  }
  std::size_t got = 0;
  for (;;) {
    ssize_t r = SocketWait(me, fd, flags & ~MSG_WAITALL, POLLIN, call, key, where,
                           [&](int f) { return recv_at(got, f); });
    if (r <= 0) return got > 0 ? static_cast<ssize_t>(got) : r;
    got += static_cast<std::size_t>(r);
    if (got >= n) return static_cast<ssize_t>(got);
  }
}

// A blocking send on a stream socket sends all `n` bytes (the waits repeat); a datagram goes
// whole or not at all.
template <typename Send>
ssize_t SendAll(Thread* me, int fd, std::size_t n, int flags, Call call, std::uintptr_t key, Caller where,
                Send send_at) {
  if ((flags & MSG_DONTWAIT) || NonBlocking(fd)) {
    return SocketWait(me, fd, flags, POLLOUT, call, key, where, [&](int f) { return send_at(0, f); });
  }
  std::size_t sent = 0;
  for (;;) {
    ssize_t r = SocketWait(me, fd, flags, POLLOUT, call, key, where, [&](int f) { return send_at(sent, f); });
    if (r < 0) return sent > 0 ? static_cast<ssize_t>(sent) : r;
    sent += static_cast<std::size_t>(r);
    if (sent >= n || n == 0) return static_cast<ssize_t>(sent);
  }
}

// `msg` with its first `skip` bytes dropped, in `iov` (for a partial sendmsg).
struct msghdr SkipBytes(const struct msghdr& msg, std::size_t skip, std::vector<struct iovec>& iov) {
  iov.assign(msg.msg_iov, msg.msg_iov + msg.msg_iovlen);
  std::size_t i = 0;
  while (i < iov.size() && skip >= iov[i].iov_len) skip -= iov[i++].iov_len;
  iov.erase(iov.begin(), iov.begin() + static_cast<std::ptrdiff_t>(i));
  if (!iov.empty()) {
    iov[0].iov_base = static_cast<char*>(iov[0].iov_base) + skip;
    iov[0].iov_len -= skip;
  }
  struct msghdr rest = msg;
  rest.msg_iov = iov.data();
  rest.msg_iovlen = iov.size();
  if (skip > 0 || i > 0) {
    rest.msg_control = nullptr;  // ancillary data went with the first part
    rest.msg_controllen = 0;
  }
  return rest;
}

std::size_t MessageBytes(const struct msghdr* msg) {
  std::size_t n = 0;
  for (std::size_t i = 0; i < msg->msg_iovlen; ++i) n += msg->msg_iov[i].iov_len;
  return n;
}

// accept4 has no MSG_DONTWAIT: a blocking listener is probed for a pending connection first.
int Accept(Thread* me, int fd, struct sockaddr* addr, socklen_t* len, int flags, std::uintptr_t key, Caller where) {
  return static_cast<int>(SocketWait(me, fd, 0, POLLIN, Call::kAccept, key, where, [&](int f) -> ssize_t {
    struct pollfd p = {fd, POLLIN, 0};
    if ((f & MSG_DONTWAIT) && syscall(SYS_poll, &p, 1, 0) == 0) {
      errno = EAGAIN;
      return -1;
    }
    return rio.accept4(fd, addr, len, flags);
  }));
}

int ConnectWait(Thread* me, int fd, const struct sockaddr* addr, socklen_t len, std::uintptr_t key, Caller where) {
  Point(me, Call::kConnect, key, where);
  const long fl = syscall(SYS_fcntl, fd, F_GETFL);
  if (fl < 0 || (fl & O_NONBLOCK)) return rio.connect(fd, addr, len);
  // A non-blocking attempt under the baton: a Unix socket whose listener's backlog is full says
  // EAGAIN (try again after any event); a TCP connect is in progress until the socket is
  // writable, then SO_ERROR tells how it went.
  syscall(SYS_fcntl, fd, F_SETFL, fl | O_NONBLOCK);
  int rc = rio.connect(fd, addr, len);
  int err = rc == 0 ? 0 : errno;
  WatchFd(me, fd, POLLOUT);
  if (err == EAGAIN) {
    WaitFor(me, Call::kConnect, key, where, kNoDeadline, false, [&] {
      rc = rio.connect(fd, addr, len);
      err = rc == 0 ? 0 : errno;
      return err != EAGAIN;
    });
  } else if (err == EINPROGRESS) {
    WaitFor(me, Call::kConnect, key, where, kNoDeadline, true, [&] {
      struct pollfd p = {fd, POLLOUT, 0};
      return syscall(SYS_poll, &p, 1, 0) != 0;
    });
    socklen_t elen = sizeof err;
    if (syscall(SYS_getsockopt, fd, SOL_SOCKET, SO_ERROR, &err, &elen) != 0) err = errno;
    rc = err == 0 ? 0 : -1;
  }
  me->io.count = 0;
  syscall(SYS_fcntl, fd, F_SETFL, fl);
  if (rc == 0) WakeAll();  // a listener is readable now
  errno = err;
  return rc;
}

// ---- poll, select, epoll -----------------------------------------------------------------------

// A virtual deadline `ns` from now (kNoDeadline when `ns` < 0: no timeout).
std::uint64_t DeadlineIn(std::int64_t ns) {
  return ns < 0 ? kNoDeadline : sched.now + static_cast<std::uint64_t>(ns) + 1;
}

std::int64_t TimespecNs(const struct timespec* ts) {
  return ts == nullptr ? -1 : static_cast<std::int64_t>(ToNs(*ts));
}

// Records the descriptors of a multiplexing wait; true when one of them is of a kind whose
// events we do not see (the wait then ticks).
bool WatchFds(Thread* me, const int* fds, const short* events, std::size_t n) {
  bool unseen = false;
  me->io.epoll = false;
  me->io.count = 0;
  for (std::size_t i = 0; i < n; ++i) {
    if (fds[i] < 0) continue;
    if (Classify(fds[i]) == FdKind::kOther) unseen = true;
    if (me->io.count < Thread::IoWait::kMaxFds) {
      me->io.fd[me->io.count] = fds[i];
      me->io.events[me->io.count++] = events[i];
    }
  }
  if (me->io.count == 0) {  // a poll on no descriptors: a timed sleep, or a wait for ever
    me->io.fd[0] = -1;
    me->io.events[0] = 0;
    me->io.count = 1;
  }
  return unseen;
}

template <typename Probe>
int PollWait(Thread* me, Call call, const int* fds, const short* events, std::size_t n, std::int64_t timeout_ns,
             Caller where, Probe probe) {
  std::uintptr_t key = 0;  // the first descriptor's object names the wait
  for (std::size_t i = 0; i < n && key == 0; ++i) Classify(fds[i], &key);
  Point(me, call, key, where);
  int r = 0;
  if (timeout_ns == 0) return probe();
  const bool tick = WatchFds(me, fds, events, n);
  const bool ready = WaitFor(me, call, key, where, DeadlineIn(timeout_ns), tick, [&] {
    r = probe();
    return r != 0;
  });
  return ready ? r : 0;
}

int Poll(Thread* me, Call call, struct pollfd* fds, nfds_t n, std::int64_t timeout_ns, Caller where,
         const sigset_t* mask) {
  std::vector<int> fd(n);
  std::vector<short> ev(n);
  for (nfds_t i = 0; i < n; ++i) fd[i] = fds[i].fd, ev[i] = fds[i].events;
  const struct timespec zero = {0, 0};
  return PollWait(me, call, fd.data(), ev.data(), n, timeout_ns, where,
                  [&] { return rio.ppoll(fds, n, &zero, mask); });
}

int Select(Thread* me, Call call, int nfds, fd_set* rd, fd_set* wr, fd_set* ex, std::int64_t timeout_ns,
           Caller where, const sigset_t* mask) {
  std::vector<int> fd;
  std::vector<short> ev;
  for (int i = 0; i < nfds && i < FD_SETSIZE; ++i) {
    short e = static_cast<short>(((rd != nullptr && FD_ISSET(i, rd)) ? POLLIN : 0) |
                                 ((wr != nullptr && FD_ISSET(i, wr)) ? POLLOUT : 0) |
                                 ((ex != nullptr && FD_ISSET(i, ex)) ? POLLPRI : 0));
    if (e != 0) fd.push_back(i), ev.push_back(e);
  }
  // The probe works on copies: the caller's sets change only when select returns.
  fd_set r0, w0, e0;
  if (rd != nullptr) r0 = *rd;
  if (wr != nullptr) w0 = *wr;
  if (ex != nullptr) e0 = *ex;
  int r = PollWait(me, call, fd.data(), ev.data(), fd.size(), timeout_ns, where, [&] {
    fd_set r1 = r0, w1 = w0, e1 = e0;
    const struct timespec zero = {0, 0};
    int got = rio.pselect(nfds, rd != nullptr ? &r1 : nullptr, wr != nullptr ? &w1 : nullptr,
                          ex != nullptr ? &e1 : nullptr, &zero, mask);
    if (got != 0) {
      if (rd != nullptr) *rd = r1;
      if (wr != nullptr) *wr = w1;
      if (ex != nullptr) *ex = e1;
    }
    return got;
  });
  if (r == 0) {  // timed out: nothing is ready
    if (rd != nullptr) FD_ZERO(rd);
    if (wr != nullptr) FD_ZERO(wr);
    if (ex != nullptr) FD_ZERO(ex);
  }
  return r;
}

// The descriptors registered in epoll instance `epfd` and their events, from fdinfo.
void EpollMembers(pid_t pid, int epfd, std::vector<int>& fds, std::vector<short>& events) {
  char path[64], info[4096];
  snprintf(path, sizeof path, "/proc/%d/fdinfo/%d", pid, epfd);
  int f = static_cast<int>(syscall(SYS_openat, AT_FDCWD, path, O_RDONLY | O_CLOEXEC));
  if (f < 0) return;
  long n = syscall(SYS_read, f, info, sizeof info - 1);
  syscall(SYS_close, f);
  info[n > 0 ? n : 0] = '\0';
  for (const char* at = strstr(info, "tfd:"); at != nullptr; at = strstr(at + 4, "tfd:")) {
    int fd = 0;
    unsigned ev = 0;
    if (sscanf(at, "tfd: %d events: %x", &fd, &ev) == 2) {
      fds.push_back(fd);
      events.push_back(static_cast<short>(ev & 0xffff));
    }
  }
}

int EpollWait(Thread* me, Call call, int epfd, struct epoll_event* out, int max, int timeout_ms, Caller where,
              const sigset_t* mask) {
  std::vector<int> fds;
  std::vector<short> events;
  EpollMembers(getpid(), epfd, fds, events);
  const std::int64_t ns = timeout_ms < 0 ? -1 : static_cast<std::int64_t>(timeout_ms) * static_cast<std::int64_t>(kMillisecond);
  std::uintptr_t key = 0;  // the first member's object names the wait
  for (std::size_t i = 0; i < fds.size() && key == 0; ++i) Classify(fds[i], &key);
  Point(me, call, key, where);
  auto probe = [&] { return rio.epoll_pwait(epfd, out, max, 0, mask); };
  if (ns == 0) return probe();
  // The epoll fd itself comes first, then as many of its members as fit.
  constexpr std::size_t kRoom = Thread::IoWait::kMaxFds - 1;
  const std::size_t shown = std::min(fds.size(), kRoom);
  bool tick = WatchFds(me, fds.data(), events.data(), shown);
  const std::uint8_t members = shown == 0 ? 0 : me->io.count;
  for (std::size_t i = shown; i < fds.size(); ++i) tick = tick || Classify(fds[i]) == FdKind::kOther;
  std::copy_backward(me->io.fd, me->io.fd + members, me->io.fd + members + 1);
  std::copy_backward(me->io.events, me->io.events + members, me->io.events + members + 1);
  me->io.fd[0] = epfd;
  me->io.events[0] = POLLIN;
  me->io.epoll = true;
  me->io.count = static_cast<std::uint8_t>(members + 1);
  int r = 0;
  const bool ready = WaitFor(me, call, key, where, DeadlineIn(ns), tick, [&] {
    r = probe();
    return r != 0;
  });
  return ready ? r : 0;
}

// ---- the hang report -----------------------------------------------------------------------------

struct Out {
  char* buf;
  std::size_t room, used = 0;
  void operator()(const char* fmt, ...) __attribute__((format(printf, 2, 3))) {
    if (used + 1 >= room) return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + used, room - used, fmt, ap);
    va_end(ap);
    if (n > 0) used = std::min(room - 1, used + static_cast<std::size_t>(n));
  }
};

// What /proc/<pid>/fd/<fd> points to ("socket:[123]", "pipe:[45]", a path), or "".
void FdTarget(pid_t pid, int fd, char (&target)[128]) {
  char path[64];
  snprintf(path, sizeof path, "/proc/%d/fd/%d", pid, fd);
  long n = syscall(SYS_readlinkat, AT_FDCWD, path, target, sizeof target - 1);
  target[n > 0 ? n : 0] = '\0';
}

// The inode of the peer of Unix socket `ino` (0: none, or not a Unix socket), from sock_diag.
std::uint64_t UnixPeer(std::uint64_t ino) {
  int nl = static_cast<int>(syscall(SYS_socket, AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (nl < 0) return 0;
  struct {
    struct nlmsghdr nlh;
    struct unix_diag_req req;
  } q = {};
  q.nlh.nlmsg_len = sizeof q;
  q.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  q.nlh.nlmsg_flags = NLM_F_REQUEST;
  q.req.sdiag_family = AF_UNIX;
  q.req.udiag_states = ~0u;
  q.req.udiag_ino = static_cast<std::uint32_t>(ino);
  q.req.udiag_show = UDIAG_SHOW_PEER;
  q.req.udiag_cookie[0] = q.req.udiag_cookie[1] = ~0u;
  struct sockaddr_nl kernel = {};
  kernel.nl_family = AF_NETLINK;
  std::uint64_t peer = 0;
  alignas(struct nlmsghdr) char reply[1024];
  if (syscall(SYS_sendto, nl, &q, sizeof q, 0L, &kernel, static_cast<long>(sizeof kernel)) == sizeof q) {
    long n = syscall(SYS_recvfrom, nl, reply, sizeof reply, 0L, nullptr, nullptr);
    auto* h = reinterpret_cast<struct nlmsghdr*>(reply);
    if (n > 0 && NLMSG_OK(h, static_cast<unsigned>(n)) && h->nlmsg_type == SOCK_DIAG_BY_FAMILY) {
      auto* msg = static_cast<struct unix_diag_msg*>(NLMSG_DATA(h));
      int len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof *msg));
      for (auto* a = reinterpret_cast<struct rtattr*>(msg + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
        if (a->rta_type == UNIX_DIAG_PEER) peer = *static_cast<std::uint32_t*>(RTA_DATA(a));
      }
    }
  }
  syscall(SYS_close, nl);
  return peer;
}

// " p1 (pid 42) fd 4, p0 (pid 41) fd 5": the processes of the tree holding `target` open,
// except (skip_pid, skip_fd).
void AppendHolders(Out& out, const char* target, pid_t skip_pid, int skip_fd) {
  bool any = false;
  for (std::uint32_t i = 0; i < sched.proc_count; ++i) {
    const Proc& p = sched.procs[i];
    if (p.exited || p.pid <= 0) continue;
    for (int fd = 0; fd < 256; ++fd) {
      if (p.pid == skip_pid && fd == skip_fd) continue;
      char t[128];
      FdTarget(p.pid, fd, t);
      if (strcmp(t, target) != 0) continue;
      out("%s p%u (pid %d) fd %d", any ? "," : "", i, p.pid, fd);
      any = true;
    }
  }
  if (!any) out(" nobody in the tree");
}

void DescribeFd(Out& out, pid_t pid, int fd, short events) {
  char target[128];
  FdTarget(pid, fd, target);
  const bool in = (events & (POLLIN | POLLPRI)) != 0, outw = (events & POLLOUT) != 0;
  out("fd %d (%s) for %s%s%s", fd, target[0] != '\0' ? target : "closed", in ? "reading" : "",
      in && outw ? "/" : "", outw ? "writing" : "");
  unsigned long ino = 0;
  if (sscanf(target, "socket:[%lu]", &ino) == 1) {
    if (std::uint64_t peer = UnixPeer(ino); peer != 0) {
      char peer_target[48];
      snprintf(peer_target, sizeof peer_target, "socket:[%lu]", static_cast<unsigned long>(peer));
      out(": %s; its peer %s is open in", in ? "no data" : "no room", peer_target);
      AppendHolders(out, peer_target, 0, -1);
    } else {
      out(": nothing to accept or no peer");
    }
  } else if (sscanf(target, "pipe:[%lu]", &ino) == 1) {
    out(": %s; the pipe is also open in", in ? "empty" : "full");
    AppendHolders(out, target, pid, fd);
  }
}

}  // namespace

void DescribeIoWait(const Thread* t, char* buf, std::size_t room) {
  Out out{buf, room};
  buf[0] = '\0';
  const pid_t pid = sched.procs[t->proc].pid;
  const Thread::IoWait& io = t->io;
  if (io.count == 1 && io.fd[0] < 0) {
    out(" -- waits on no descriptors and without a timeout: nothing can end it");
    return;
  }
  out(" -- nothing will make %s ready:", io.count > 1 ? "any of its descriptors" : "its descriptor");
  for (int i = 0; i < io.count; ++i) {
    if (io.epoll && i == 0) {
      out(" epoll fd %d watching%s", io.fd[0], io.count == 1 ? " no descriptors" : "");
      continue;
    }
    out(i > (io.epoll ? 1 : 0) ? "; " : " ");
    DescribeFd(out, pid, io.fd[i], io.events[i]);
  }
}

}  // namespace lab::interpose::core

using namespace lab::interpose::core;  // NOLINT: the C entry points below use the core throughout
using lab::interpose::Call;

// Built with -fvisibility=hidden: only the interposed functions are exported.
#pragma GCC visibility push(default)
extern "C" {

ssize_t recv(int fd, void* buf, size_t n, int flags) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.recv(fd, buf, n, flags);
  return ReceiveAll(me, fd, n, flags, Call::kRecv, key, Here(__builtin_return_address(0)),
                    [&](std::size_t at, int f) { return rio.recv(fd, static_cast<char*>(buf) + at, n - at, f); });
}

ssize_t recvfrom(int fd, void* buf, size_t n, int flags, struct sockaddr* from, socklen_t* len) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.recvfrom(fd, buf, n, flags, from, len);
  return ReceiveAll(me, fd, n, flags, Call::kRecvfrom, key, Here(__builtin_return_address(0)),
                    [&](std::size_t at, int f) {
                      return rio.recvfrom(fd, static_cast<char*>(buf) + at, n - at, f, from, len);
                    });
}

ssize_t recvmsg(int fd, struct msghdr* msg, int flags) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.recvmsg(fd, msg, flags);
  return SocketWait(me, fd, flags & ~MSG_WAITALL, POLLIN, Call::kRecvmsg, key, Here(__builtin_return_address(0)),
                    [&](int f) { return rio.recvmsg(fd, msg, f); });
}

ssize_t send(int fd, const void* buf, size_t n, int flags) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.send(fd, buf, n, flags);
  return SendAll(me, fd, n, flags, Call::kSend, key, Here(__builtin_return_address(0)),
                 [&](std::size_t at, int f) { return rio.send(fd, static_cast<const char*>(buf) + at, n - at, f); });
}

ssize_t sendto(int fd, const void* buf, size_t n, int flags, const struct sockaddr* to, socklen_t len) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.sendto(fd, buf, n, flags, to, len);
  return SendAll(me, fd, n, flags, Call::kSendto, key, Here(__builtin_return_address(0)),
                 [&](std::size_t at, int f) {
                   return rio.sendto(fd, static_cast<const char*>(buf) + at, n - at, f, to, len);
                 });
}

ssize_t sendmsg(int fd, const struct msghdr* msg, int flags) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.sendmsg(fd, msg, flags);
  std::vector<struct iovec> iov;
  return SendAll(me, fd, MessageBytes(msg), flags, Call::kSendmsg, key, Here(__builtin_return_address(0)),
                 [&](std::size_t at, int f) {
                   struct msghdr rest = SkipBytes(*msg, at, iov);
                   return rio.sendmsg(fd, &rest, f);
                 });
}

int accept4(int fd, struct sockaddr* addr, socklen_t* len, int flags) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.accept4(fd, addr, len, flags);
  return Accept(me, fd, addr, len, flags, key, Here(__builtin_return_address(0)));
}

int accept(int fd, struct sockaddr* addr, socklen_t* len) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.accept4(fd, addr, len, 0);
  return Accept(me, fd, addr, len, 0, key, Here(__builtin_return_address(0)));
}

int connect(int fd, const struct sockaddr* addr, socklen_t len) {
  ResolveIo();
  Thread* me = Me();
  std::uintptr_t key = 0;
  if (me == nullptr || !IsSocket(fd, &key)) return rio.connect(fd, addr, len);
  return ConnectWait(me, fd, addr, len, key, Here(__builtin_return_address(0)));
}

int poll(struct pollfd* fds, nfds_t n, int timeout_ms) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.poll(fds, n, timeout_ms);
  return Poll(me, Call::kPoll, fds, n, timeout_ms < 0 ? -1 : std::int64_t{timeout_ms} * 1000000,
              Here(__builtin_return_address(0)), nullptr);
}

int ppoll(struct pollfd* fds, nfds_t n, const struct timespec* timeout, const sigset_t* mask) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.ppoll(fds, n, timeout, mask);
  return Poll(me, Call::kPpoll, fds, n, TimespecNs(timeout), Here(__builtin_return_address(0)), mask);
}

int select(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, struct timeval* timeout) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.select(nfds, rd, wr, ex, timeout);
  std::int64_t ns = timeout == nullptr ? -1 : std::int64_t{timeout->tv_sec} * 1000000000 + std::int64_t{timeout->tv_usec} * 1000;
  const std::uint64_t start = sched.now;
  int r = Select(me, Call::kSelect, nfds, rd, wr, ex, ns, Here(__builtin_return_address(0)), nullptr);
  if (timeout != nullptr) {  // Linux leaves the time not slept in *timeout
    std::int64_t left = std::max<std::int64_t>(0, ns - static_cast<std::int64_t>(sched.now - start));
    timeout->tv_sec = left / 1000000000;
    timeout->tv_usec = (left % 1000000000) / 1000;
  }
  return r;
}

int pselect(int nfds, fd_set* rd, fd_set* wr, fd_set* ex, const struct timespec* timeout, const sigset_t* mask) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.pselect(nfds, rd, wr, ex, timeout, mask);
  return Select(me, Call::kPselect, nfds, rd, wr, ex, TimespecNs(timeout), Here(__builtin_return_address(0)), mask);
}

int epoll_wait(int epfd, struct epoll_event* events, int max, int timeout_ms) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.epoll_wait(epfd, events, max, timeout_ms);
  return EpollWait(me, Call::kEpollWait, epfd, events, max, timeout_ms, Here(__builtin_return_address(0)), nullptr);
}

int epoll_pwait(int epfd, struct epoll_event* events, int max, int timeout_ms, const sigset_t* mask) {
  ResolveIo();
  Thread* me = Me();
  if (me == nullptr) return rio.epoll_pwait(epfd, events, max, timeout_ms, mask);
  return EpollWait(me, Call::kEpollPwait, epfd, events, max, timeout_ms, Here(__builtin_return_address(0)), mask);
}

}  // extern "C"
#pragma GCC visibility pop
