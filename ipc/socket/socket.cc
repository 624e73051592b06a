#include "ipc/socket/socket.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cstring>

#include <fmt/format.h>

#include "ipc/pipe/io.h"

namespace ipc::socket {
IPCLAB_CHAOS_NAMESPACE_BEGIN
namespace {

sys::Result<bool> WaitEvents(int fd, short events, sys::Deadline deadline) {
  for (;;) {
    pollfd p{.fd = fd, .events = events, .revents = 0};
    int n = ::poll(&p, 1, deadline.poll_timeout_ms());
    if (n > 0) return true;
    if (n == 0) {
      if (deadline.expired()) return false;
      continue;
    }
    if (errno != EINTR) return sys::Fail("poll", sys::FdName(fd));
    if (deadline.expired()) return false;
  }
}

// connect() with a deadline: non-blocking connect, then poll and SO_ERROR. A Unix socket whose
// listener's backlog is full answers EAGAIN: retried with backoff until the deadline.
sys::Status ConnectFd(int fd, const sockaddr* addr, socklen_t len, const std::string& what,
                      sys::Deadline deadline) {
  if (auto ok = sys::SetNonBlocking(fd, true); !ok) return ok;
  auto backoff = std::chrono::microseconds(100);
  for (;;) {
    if (::connect(fd, addr, len) == 0) break;
    if (errno == EINTR) continue;  // for a non-blocking connect, EINTR cannot leave it half-done
    if (errno == EAGAIN) {
      if (deadline.expired()) return sys::Fail("connect", what, ETIMEDOUT, "listener backlog full");
      std::this_thread::sleep_for(std::min<sys::Deadline::Clock::duration>(backoff, deadline.remaining()));
      backoff = std::min(backoff * 2, std::chrono::microseconds(10'000));
      continue;
    }
    if (errno != EINPROGRESS) return sys::Fail("connect", what);
    auto ready = WaitEvents(fd, POLLOUT, deadline);
    if (!ready) return std::unexpected(ready.error());
    if (!*ready) return sys::Fail("connect", what, ETIMEDOUT);
    int err = 0;
    socklen_t el = sizeof err;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el);
    if (err != 0) return sys::Fail("connect", what, err);
    break;
  }
  return sys::SetNonBlocking(fd, false);
}

sys::Result<sys::Fd> NewSocket(int domain, int type, std::string_view what) {
  auto fd = sys::Call("socket", what, [&] { return ::socket(domain, type | SOCK_CLOEXEC, 0); });
  if (!fd) return std::unexpected(fd.error());
  return sys::Fd(*fd);
}

}  // namespace

int SocketType(Kind kind) {
  switch (kind) {
    case Kind::kStream: return SOCK_STREAM;
    case Kind::kSeqPacket: return SOCK_SEQPACKET;
    case Kind::kDatagram: return SOCK_DGRAM;
  }
  return SOCK_STREAM;
}

sys::Result<SocketPair> MakePair(Kind kind) {
  int sv[2];
  auto r = sys::Call("socketpair", "AF_UNIX", [&] {
    return ::socketpair(AF_UNIX, SocketType(kind) | SOCK_CLOEXEC, 0, sv);
  });
  if (!r) return std::unexpected(r.error());
  return SocketPair{sys::Fd(sv[0]), sys::Fd(sv[1])};
}

sys::Result<UnixAddress> UnixAddress::InDir(const audit::PrivateDir& dir, std::string_view name) {
  if (name.empty() || name.find('/') != std::string_view::npos) {
    return sys::Fail("UnixAddress", name, EINVAL, "a file name without '/'");
  }
  return Path(dir.file(name));
}

sys::Result<UnixAddress> UnixAddress::Path(const std::string& path) {
  UnixAddress a;
  a.addr_.sun_family = AF_UNIX;
  a.describe_ = path;
  std::string use = path;
  if (path.size() >= sizeof(a.addr_.sun_path)) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos || slash == 0) {
      return sys::Fail("UnixAddress", path, ENAMETOOLONG, "no directory to shorten through");
    }
    std::string dir = path.substr(0, slash);
    auto fd = sys::Call("open(O_PATH)", dir,
                        [&] { return ::open(dir.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC); });
    if (!fd) return std::unexpected(fd.error());
    a.dir_ = std::make_shared<sys::Fd>(*fd);
    use = fmt::format("/proc/self/fd/{}/{}", *fd, path.substr(slash + 1));
    if (use.size() >= sizeof(a.addr_.sun_path)) {
      return sys::Fail("UnixAddress", path, ENAMETOOLONG,
                       fmt::format("file name too long even through {}", use));
    }
  }
  std::memcpy(a.addr_.sun_path, use.c_str(), use.size() + 1);
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + use.size() + 1);
  return a;
}

sys::Result<UnixAddress> UnixAddress::Abstract(std::string_view purpose) {
  auto name = audit::UniqueName(purpose);
  if (!name) return std::unexpected(name.error());
  UnixAddress a;
  a.addr_.sun_family = AF_UNIX;
  a.addr_.sun_path[0] = '\0';
  std::memcpy(a.addr_.sun_path + 1, name->data(), name->size());
  a.len_ = static_cast<socklen_t>(offsetof(sockaddr_un, sun_path) + 1 + name->size());
  a.describe_ = "@" + *name;
  return a;
}

sys::Result<sys::Fd> Listen(const UnixAddress& addr, Kind kind, int backlog) {
  auto fd = NewSocket(AF_UNIX, SocketType(kind), addr.describe());
  if (!fd) return fd;
  auto b = sys::Call("bind", addr.describe(),
                     [&] { return ::bind(fd->get(), addr.sockaddr_ptr(), addr.length()); });
  if (!b) return std::unexpected(b.error());
  if (kind != Kind::kDatagram) {
    auto l = sys::Call("listen", addr.describe(), [&] { return ::listen(fd->get(), backlog); });
    if (!l) return std::unexpected(l.error());
  }
  return fd;
}

sys::Result<sys::Fd> Connect(const UnixAddress& addr, Kind kind, sys::Deadline deadline) {
  auto fd = NewSocket(AF_UNIX, SocketType(kind), addr.describe());
  if (!fd) return fd;
  if (auto ok = ConnectFd(fd->get(), addr.sockaddr_ptr(), addr.length(), addr.describe(), deadline);
      !ok) {
    return std::unexpected(ok.error());
  }
  return fd;
}

sys::Result<sys::Fd> Accept(int listen_fd, sys::Deadline deadline) {
  for (;;) {
    auto ready = WaitEvents(listen_fd, POLLIN, deadline);
    if (!ready) return std::unexpected(ready.error());
    if (!*ready) return sys::Fail("accept", sys::FdName(listen_fd), ETIMEDOUT);
    int fd = ::accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (fd >= 0) {
      sys::Fd owned(fd);
      if (auto ok = sys::SetNonBlocking(fd, false); !ok) return std::unexpected(ok.error());
      IPCLAB_CRASH_POINT("socket.accept.accepted");
      return owned;
    }
    // EAGAIN: another acceptor took it; ECONNABORTED: the client gave up. Wait for the next one.
    if (errno == EINTR || errno == EAGAIN || errno == ECONNABORTED) continue;
    return sys::Fail("accept", sys::FdName(listen_fd));
  }
}

sys::Result<ucred> PeerCredentials(int fd) {
  ucred cred{};
  socklen_t len = sizeof cred;
  auto r = sys::Call("getsockopt(SO_PEERCRED)", sys::FdName(fd),
                     [&] { return ::getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len); });
  if (!r) return std::unexpected(r.error());
  return cred;
}

sys::Status RequirePeerUid(int fd, std::optional<uid_t> uid) {
  auto cred = PeerCredentials(fd);
  if (!cred) return std::unexpected(cred.error());
  uid_t want = uid.value_or(::geteuid());
  if (cred->uid != want) {
    return sys::Fail("access check", sys::FdName(fd), EACCES,
                     fmt::format("peer pid {} runs as uid {}, only uid {} is allowed", cred->pid,
                                 cred->uid, want));
  }
  return {};
}

sys::Status SendFds(int fd, std::span<const int> fds, std::span<const std::byte> data,
                    sys::Deadline deadline) {
  if (data.empty()) return sys::Fail("sendmsg", sys::FdName(fd), EINVAL, "SCM_RIGHTS needs data");
  if (fds.empty() || fds.size() > 253) {
    return sys::Fail("sendmsg", sys::FdName(fd), EINVAL, "1 to 253 descriptors per message");
  }
  std::vector<std::byte> control(CMSG_SPACE(sizeof(int) * fds.size()));
  iovec iov{const_cast<std::byte*>(data.data()), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  cmsghdr* c = CMSG_FIRSTHDR(&msg);
  c->cmsg_level = SOL_SOCKET;
  c->cmsg_type = SCM_RIGHTS;
  c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
  std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  for (;;) {
    if (!deadline.is_never()) {
      auto ready = WaitEvents(fd, POLLOUT, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) return sys::Fail("sendmsg", sys::FdName(fd), ETIMEDOUT);
    }
    ssize_t n = ::sendmsg(fd, &msg, MSG_NOSIGNAL);
    if (n >= 0) {
      // The descriptors went with the first byte; the rest of the data is an ordinary write.
      if (static_cast<size_t>(n) < data.size()) return SendAll(fd, data.subspan(n), deadline);
      return {};
    }
    if (errno == EINTR) continue;
    return sys::Fail("sendmsg", sys::FdName(fd));
  }
}

sys::Result<ReceivedFds> ReceiveFds(int fd, std::span<std::byte> data, size_t max_fds,
                                    sys::Deadline deadline) {
  std::vector<std::byte> control(CMSG_SPACE(sizeof(int) * std::max<size_t>(max_fds, 1)));
  iovec iov{data.data(), data.size()};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  msg.msg_control = control.data();
  msg.msg_controllen = control.size();
  ssize_t n;
  for (;;) {
    if (!deadline.is_never()) {
      auto ready = WaitEvents(fd, POLLIN, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) return sys::Fail("recvmsg", sys::FdName(fd), ETIMEDOUT);
    }
    n = ::recvmsg(fd, &msg, MSG_CMSG_CLOEXEC);
    if (n >= 0) break;
    if (errno == EINTR) continue;
    return sys::Fail("recvmsg", sys::FdName(fd));
  }
  ReceivedFds out;
  out.bytes = static_cast<size_t>(n);
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c != nullptr; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    for (size_t i = 0; i < count; ++i) {
      int got;
      std::memcpy(&got, CMSG_DATA(c) + i * sizeof(int), sizeof(int));
      out.fds.emplace_back(got);
    }
  }
  if (msg.msg_flags & MSG_CTRUNC) {
    return sys::Fail("recvmsg", sys::FdName(fd), EMSGSIZE,
                     fmt::format("more than {} descriptors sent; the extra ones were dropped by the "
                                 "kernel and the {} received are closed",
                                 max_fds, out.fds.size()));
  }
  return out;
}

sys::Status SendAll(int fd, std::span<const std::byte> data, sys::Deadline deadline) {
  return pipe::WriteAll(fd, data, deadline, pipe::FdKind::kSocket);
}

sys::Result<bool> ReceiveExact(int fd, std::span<std::byte> buf, sys::Deadline deadline) {
  return pipe::ReadExact(fd, buf, deadline);
}

sys::Status SendMessage(int fd, std::span<const std::byte> data, sys::Deadline deadline,
                        const sockaddr* to, socklen_t to_len) {
  for (;;) {
    if (!deadline.is_never()) {
      auto ready = WaitEvents(fd, POLLOUT, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) return sys::Fail("sendto", sys::FdName(fd), ETIMEDOUT);
    }
    int flags = MSG_NOSIGNAL | (deadline.is_never() ? 0 : MSG_DONTWAIT);
    ssize_t n = ::sendto(fd, data.data(), data.size(), flags, to, to_len);
    if (n >= 0) {
      if (static_cast<size_t>(n) != data.size()) {
        return sys::Fail("sendto", sys::FdName(fd), EMSGSIZE, "message sent short");
      }
      return {};
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && !deadline.is_never()) continue;
    return sys::Fail("sendto", sys::FdName(fd));
  }
}

sys::Result<Datagram> ReceiveMessage(int fd, std::span<std::byte> buf, sys::Deadline deadline) {
  for (;;) {
    if (!deadline.is_never()) {
      auto ready = WaitEvents(fd, POLLIN, deadline);
      if (!ready) return std::unexpected(ready.error());
      if (!*ready) return sys::Fail("recvmsg", sys::FdName(fd), ETIMEDOUT);
    }
    Datagram d;
    iovec iov{buf.data(), buf.size()};
    msghdr msg{};
    msg.msg_name = &d.from;
    msg.msg_namelen = sizeof d.from;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    ssize_t n = ::recvmsg(fd, &msg, deadline.is_never() ? 0 : MSG_DONTWAIT);
    if (n >= 0) {
      if (msg.msg_flags & MSG_TRUNC) {
        return sys::Fail("recvmsg", sys::FdName(fd), EMSGSIZE,
                         fmt::format("message longer than the {}-byte buffer was truncated",
                                     buf.size()));
      }
      d.bytes = static_cast<size_t>(n);
      d.from_len = msg.msg_namelen;
      int type = 0;
      socklen_t tl = sizeof type;
      // A zero-length read is the end only on connected sockets; a datagram may be empty.
      if (n == 0 && ::getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) == 0 && type != SOCK_DGRAM) {
        d.eof = true;
      }
      return d;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN && !deadline.is_never()) continue;
    return sys::Fail("recvmsg", sys::FdName(fd));
  }
}

sys::Result<std::optional<wire::Frame>> FrameReader::Next(sys::Deadline deadline) {
  for (;;) {
    auto f = decoder_.Next();
    if (!f) return std::unexpected(f.error());
    if (*f) return f;
    if (decoder_.buffered() > 0) IPCLAB_CRASH_POINT("socket.frame.mid_frame");
    auto n = pipe::ReadSome(fd_, buf_, deadline);
    if (!n) return std::unexpected(n.error());
    if (*n == 0) {
      if (auto ok = decoder_.Finish(); !ok) {
        auto e = ok.error();
        e.err = ECONNRESET;
        return std::unexpected(e);
      }
      return std::optional<wire::Frame>();
    }
    decoder_.Feed(std::span(buf_).first(*n));
  }
}

sys::Status SendFrame(int fd, uint16_t type, std::span<const std::byte> payload, uint8_t flags,
                      sys::Deadline deadline) {
  auto f = wire::Encode(type, payload, flags);
  if (!f) return std::unexpected(f.error());
#ifdef IPCLAB_CHAOS
  // Two writes, so that a death can fall between the header and the body.
  std::span<const std::byte> frame(*f);
  if (auto ok = SendAll(fd, frame.first(wire::kHeaderSize), deadline); !ok) return ok;
  IPCLAB_CRASH_POINT("socket.frame.between_header_and_body");
  return SendAll(fd, frame.subspan(wire::kHeaderSize), deadline);
#else
  return SendAll(fd, *f, deadline);
#endif
}

sys::Status HalfClose(int fd) {
  auto r = sys::Call("shutdown(SHUT_WR)", sys::FdName(fd), [&] { return ::shutdown(fd, SHUT_WR); });
  if (!r) return std::unexpected(r.error());
  return {};
}

sys::Status DrainAndClose(sys::Fd& fd, sys::Deadline deadline) {
  std::byte buf[4096];
  sys::Status result;
  for (;;) {
    auto n = pipe::ReadSome(fd.get(), buf, deadline);
    if (!n) {
      // ECONNRESET here means the peer closed without reading everything: nothing more to drain.
      if (n.error().err != ECONNRESET) result = std::unexpected(n.error());
      break;
    }
    if (*n == 0) break;
  }
  fd.reset();
  return result;
}

sockaddr_in LoopbackAddress(uint16_t port) {
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  return a;
}

namespace {
sys::Result<BoundPort> BindLoopback(int type, std::string_view what) {
  auto fd = NewSocket(AF_INET, type, what);
  if (!fd) return std::unexpected(fd.error());
  sockaddr_in a = LoopbackAddress(0);
  auto b = sys::Call("bind", what, [&] {
    return ::bind(fd->get(), reinterpret_cast<sockaddr*>(&a), sizeof a);
  });
  if (!b) return std::unexpected(b.error());
  socklen_t len = sizeof a;
  auto g = sys::Call("getsockname", what, [&] {
    return ::getsockname(fd->get(), reinterpret_cast<sockaddr*>(&a), &len);
  });
  if (!g) return std::unexpected(g.error());
  return BoundPort{std::move(*fd), ntohs(a.sin_port)};
}
}  // namespace

sys::Result<BoundPort> TcpListenLoopback(int backlog) {
  auto b = BindLoopback(SOCK_STREAM, "tcp 127.0.0.1:0");
  if (!b) return b;
  auto l = sys::Call("listen", "tcp 127.0.0.1", [&] { return ::listen(b->fd.get(), backlog); });
  if (!l) return std::unexpected(l.error());
  return b;
}

sys::Result<sys::Fd> TcpConnectLoopback(uint16_t port, sys::Deadline deadline) {
  std::string what = fmt::format("tcp 127.0.0.1:{}", port);
  auto fd = NewSocket(AF_INET, SOCK_STREAM, what);
  if (!fd) return fd;
  sockaddr_in a = LoopbackAddress(port);
  if (auto ok = ConnectFd(fd->get(), reinterpret_cast<sockaddr*>(&a), sizeof a, what, deadline); !ok) {
    return std::unexpected(ok.error());
  }
  return fd;
}

sys::Result<BoundPort> UdpBindLoopback() { return BindLoopback(SOCK_DGRAM, "udp 127.0.0.1:0"); }

sys::Result<std::unique_ptr<EchoServer>> EchoServer::Start(sys::Fd listen_fd) {
  auto stop = sys::MakePipe();
  if (!stop) return std::unexpected(stop.error());
  std::unique_ptr<EchoServer> s(new EchoServer(std::move(listen_fd), std::move(*stop)));
  s->acceptor_ = std::thread([p = s.get()] { p->AcceptLoop(); });
  return s;
}

EchoServer::~EchoServer() { Stop(); }

void EchoServer::Stop() {
  {
    AnnotatedLock lock(mu_);
    if (stopped_) return;
    stopped_ = true;
    for (int fd : conns_) ::shutdown(fd, SHUT_RDWR);  // wakes the workers' reads
  }
  [[maybe_unused]] ssize_t n = ::write(stop_.write.get(), "x", 1);
  acceptor_.join();
  std::vector<std::thread> workers;
  {
    AnnotatedLock lock(mu_);
    workers.swap(workers_);
  }
  for (auto& t : workers) t.join();  // not under mu_: each worker takes it to leave
}

void EchoServer::AcceptLoop() {
  for (;;) {
    pollfd p[2] = {{listen_.get(), POLLIN, 0}, {stop_.read.get(), POLLIN, 0}};
    int n = ::poll(p, 2, -1);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 || (p[1].revents & POLLIN)) return;
    auto c = Accept(listen_.get(), sys::Deadline::After(std::chrono::seconds(0)));
    if (!c) continue;
    AnnotatedLock lock(mu_);
    if (stopped_) return;
    int fd = c->release();
    conns_.push_back(fd);
    workers_.emplace_back([this, fd] { Serve(fd); });
  }
}

void EchoServer::Serve(int raw) {
  sys::Fd fd(raw);
  FrameReader reader(fd.get());
  for (;;) {
    auto f = reader.Next();
    if (!f || !*f) break;  // error or EOF: the client is done (or gone)
    if (!SendFrame(fd.get(), (*f)->header.type, (*f)->payload, wire::kFlagReply)) break;
    echoed_.fetch_add(1);
  }
  // Shutdown protocol, step 2: all replies are written; tell the client we are done too.
  ::shutdown(fd.get(), SHUT_WR);
  AnnotatedLock lock(mu_);
  conns_.erase(std::find(conns_.begin(), conns_.end(), fd.get()));
  fd.reset();
}

sys::Result<std::unique_ptr<UdpEchoServer>> UdpEchoServer::Start() {
  auto b = UdpBindLoopback();
  if (!b) return std::unexpected(b.error());
  std::unique_ptr<UdpEchoServer> s(new UdpEchoServer(std::move(b->fd), b->port));
  s->thread_ = std::thread([p = s.get()] {
    std::vector<std::byte> buf(65536);
    while (!p->stop_.load()) {
      auto d = ReceiveMessage(p->fd_.get(), buf, sys::Deadline::After(std::chrono::milliseconds(50)));
      if (!d) continue;  // timeout: look at stop_ again
      auto span = std::span(buf).first(d->bytes);
      if (auto h = wire::ParseHeader(span); h && (h->flags & wire::kFlagShutdown)) return;
      (void)SendMessage(p->fd_.get(), span, sys::Deadline::After(std::chrono::seconds(1)),
                        reinterpret_cast<const sockaddr*>(&d->from), d->from_len);
    }
  });
  return s;
}

UdpEchoServer::~UdpEchoServer() { Stop(); }

void UdpEchoServer::Stop() {
  stop_.store(true);
  if (thread_.joinable()) thread_.join();
}

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::socket
