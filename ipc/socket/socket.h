// ipc/socket: Unix domain and loopback sockets, built for partial transfers, signals and dead peers.
//
// Unix sockets come in three kinds (Kind): stream (a byte stream: frame it with ipc/wire and read
// it with FrameReader), seqpacket (connected, message boundaries kept, reliable) and datagram.
// They are made by MakePair (socketpair) or by Listen/Connect on a UnixAddress:
//   - UnixAddress::InDir(dir, "name"): a socket file in a PrivateDir (removed with it). sun_path
//     holds only 107 characters and Bazel's TEST_TMPDIR can be longer; a longer path is reached as
//     /proc/self/fd/<fd of its directory>/<name>, which the kernel resolves for bind and connect.
//   - UnixAddress::Abstract("purpose"): Linux's abstract namespace ("\0ipclab.<pid>.<rand>.<purpose>"),
//     no file at all, gone with the last socket.
// Every socket is SOCK_CLOEXEC. Access checks use the peer's credentials (SO_PEERCRED, taken by
// the kernel at connect time, so they cannot be forged); file descriptors travel with SCM_RIGHTS.
//
// Loopback TCP and UDP bind port 0 (the kernel picks a free port; tests run in parallel).
//
// I/O: SendAll/ReceiveExact (stream) loop over partial transfers; SendMessage/ReceiveMessage keep
// message boundaries (seqpacket, datagram) and report a truncated message as EMSGSIZE. All of them
// take a deadline (ETIMEDOUT), retry after EINTR, never raise SIGPIPE (MSG_NOSIGNAL: a closed peer
// is EPIPE), and a peer that died gives EPIPE / ECONNRESET / end of file, never a hang.
//
// Clean shutdown protocol (stream and seqpacket), so no reply is lost and no RST is provoked:
//   1. the side that is done sending calls HalfClose (shutdown(SHUT_WR)): the peer reads EOF after
//      the last byte it was sent;
//   2. the peer finishes what it owes (e.g. echoes the requests it has read), then half-closes too;
//   3. each side reads until EOF and only then closes (DrainAndClose does 3 with a deadline).
// Datagram sockets have no connection: their protocol is a frame with wire::kFlagShutdown.
//
// Chaos points (ipc/chaos/chaos.h; compiled in only in the `socket_chaos` variant, which sends a
// frame's header and body in two writes so a death can fall between them):
//   socket.frame.between_header_and_body  crash  SendFrame: header written, body not yet
//   socket.frame.mid_frame                crash  FrameReader::Next: part of a frame read (a frame's
//                                                header without all of its body, or less)
//   socket.accept.accepted                crash  Accept: connection taken, not yet returned
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <atomic>
#include <memory>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include "ipc/audit/names.h"
#include "ipc/chaos/chaos.h"
#include "ipc/sync/thread_annotations.h"
#include "ipc/sys/deadline.h"
#include "ipc/sys/fd.h"
#include "ipc/sys/sys.h"
#include "ipc/wire/wire.h"

namespace ipc::socket {
IPCLAB_CHAOS_NAMESPACE_BEGIN

enum class Kind { kStream, kSeqPacket, kDatagram };
int SocketType(Kind kind);

struct SocketPair {
  sys::Fd a, b;
};
sys::Result<SocketPair> MakePair(Kind kind);

class UnixAddress {
 public:
  static sys::Result<UnixAddress> InDir(const audit::PrivateDir& dir, std::string_view name);
  // Any absolute path; longer than sun_path allows goes through /proc/self/fd (see above).
  static sys::Result<UnixAddress> Path(const std::string& path);
  static sys::Result<UnixAddress> Abstract(std::string_view purpose);

  const sockaddr* sockaddr_ptr() const { return reinterpret_cast<const sockaddr*>(&addr_); }
  socklen_t length() const { return len_; }
  // The path or "@name" for abstract addresses, for messages.
  const std::string& describe() const { return describe_; }

 private:
  UnixAddress() = default;
  sockaddr_un addr_{};
  socklen_t len_ = 0;
  std::string describe_;
  std::shared_ptr<sys::Fd> dir_;  // keeps /proc/self/fd/<n> valid for long paths
};

// A listening (stream, seqpacket) or bound (datagram) socket.
sys::Result<sys::Fd> Listen(const UnixAddress& addr, Kind kind, int backlog = 64);
sys::Result<sys::Fd> Connect(const UnixAddress& addr, Kind kind,
                             sys::Deadline deadline = sys::Deadline::After(std::chrono::seconds(10)));
// Waits for a connection until the deadline (ETIMEDOUT); EINTR retried.
sys::Result<sys::Fd> Accept(int listen_fd, sys::Deadline deadline = sys::Deadline::Never());

// Peer credentials and the access check built on them.
sys::Result<ucred> PeerCredentials(int fd);
// EACCES unless the peer runs as `uid` (default: our effective uid).
sys::Status RequirePeerUid(int fd, std::optional<uid_t> uid = std::nullopt);

// SCM_RIGHTS. At least one byte of `data` must go along (a zero-byte stream message carries no
// control data); the descriptors are duplicated into the receiver, which owns them (close-on-exec).
sys::Status SendFds(int fd, std::span<const int> fds, std::span<const std::byte> data,
                    sys::Deadline deadline = sys::Deadline::Never());
struct ReceivedFds {
  size_t bytes = 0;
  std::vector<sys::Fd> fds;
};
// More than `max_fds` descriptors (MSG_CTRUNC) is EMSGSIZE; those that arrived are closed.
sys::Result<ReceivedFds> ReceiveFds(int fd, std::span<std::byte> data, size_t max_fds,
                                    sys::Deadline deadline = sys::Deadline::Never());

// Byte streams (sockets only; pipe::WriteAll takes either).
sys::Status SendAll(int fd, std::span<const std::byte> data,
                    sys::Deadline deadline = sys::Deadline::Never());
sys::Result<bool> ReceiveExact(int fd, std::span<std::byte> buf,
                               sys::Deadline deadline = sys::Deadline::Never());

// Message sockets (seqpacket, datagram; optional destination for unconnected datagrams).
sys::Status SendMessage(int fd, std::span<const std::byte> data,
                        sys::Deadline deadline = sys::Deadline::Never(),
                        const sockaddr* to = nullptr, socklen_t to_len = 0);
struct Datagram {
  size_t bytes = 0;  // 0 with eof=true: the peer closed (seqpacket)
  bool eof = false;
  sockaddr_storage from{};
  socklen_t from_len = 0;
};
sys::Result<Datagram> ReceiveMessage(int fd, std::span<std::byte> buf,
                                     sys::Deadline deadline = sys::Deadline::Never());

// Reads wire frames from a stream socket (or a pipe): std::nullopt at a clean end of stream;
// a stream that ends inside a frame is ECONNRESET.
class FrameReader {
 public:
  explicit FrameReader(int fd, size_t max_payload = wire::kMaxPayload)
      : fd_(fd), decoder_(max_payload) {}
  sys::Result<std::optional<wire::Frame>> Next(sys::Deadline deadline = sys::Deadline::Never());

 private:
  int fd_;
  wire::FrameDecoder decoder_;
  std::vector<std::byte> buf_ = std::vector<std::byte>(65536);
};
sys::Status SendFrame(int fd, uint16_t type, std::span<const std::byte> payload, uint8_t flags = 0,
                      sys::Deadline deadline = sys::Deadline::Never());

// The shutdown protocol above.
sys::Status HalfClose(int fd);
// Reads and discards until EOF (ETIMEDOUT at the deadline), then closes `fd` in any case.
sys::Status DrainAndClose(sys::Fd& fd, sys::Deadline deadline);

// Loopback TCP and UDP on port 0.
struct BoundPort {
  sys::Fd fd;
  uint16_t port = 0;
};
sys::Result<BoundPort> TcpListenLoopback(int backlog = 64);
sys::Result<sys::Fd> TcpConnectLoopback(uint16_t port,
                                        sys::Deadline deadline = sys::Deadline::After(std::chrono::seconds(10)));
sys::Result<BoundPort> UdpBindLoopback();
sockaddr_in LoopbackAddress(uint16_t port);

// An echo server on a listening stream socket (TCP or Unix): every connection gets a thread that
// sends each wire frame back with kFlagReply and follows the shutdown protocol at EOF. Stop()
// (or the destructor) stops accepting, half-closes every open connection and joins.
// std::mutex carries no thread-safety annotations in libstdc++; this one does, so the compiler
// checks that the server's shared state is touched only under its lock.
class IPC_CAPABILITY("mutex") AnnotatedMutex {
 public:
  void lock() IPC_ACQUIRE() { m_.lock(); }
  void unlock() IPC_RELEASE() { m_.unlock(); }

 private:
  std::mutex m_;
};
class IPC_SCOPED_CAPABILITY AnnotatedLock {
 public:
  explicit AnnotatedLock(AnnotatedMutex& m) IPC_ACQUIRE(m) : m_(m) { m_.lock(); }
  ~AnnotatedLock() IPC_RELEASE() { m_.unlock(); }
  AnnotatedLock(const AnnotatedLock&) = delete;
  AnnotatedLock& operator=(const AnnotatedLock&) = delete;

 private:
  AnnotatedMutex& m_;
};

class EchoServer {
 public:
  static sys::Result<std::unique_ptr<EchoServer>> Start(sys::Fd listen_fd);
  ~EchoServer();
  void Stop();
  uint64_t frames_echoed() const { return echoed_.load(); }

 private:
  explicit EchoServer(sys::Fd listen_fd, sys::PipeEnds stop)
      : listen_(std::move(listen_fd)), stop_(std::move(stop)) {}
  void AcceptLoop();
  void Serve(int fd);
  sys::Fd listen_;
  sys::PipeEnds stop_;
  std::thread acceptor_;
  AnnotatedMutex mu_;
  // Joined by Stop() after the acceptor, the only thread that adds to it, has ended.
  std::vector<std::thread> workers_ IPC_GUARDED_BY(mu_);
  std::vector<int> conns_ IPC_GUARDED_BY(mu_);  // open connections, shut down by Stop()
  std::atomic<uint64_t> echoed_{0};
  bool stopped_ IPC_GUARDED_BY(mu_) = false;
};

// A UDP echo server on a loopback port: each datagram goes back to its sender until a datagram
// that is a wire frame with kFlagShutdown.
class UdpEchoServer {
 public:
  static sys::Result<std::unique_ptr<UdpEchoServer>> Start();
  ~UdpEchoServer();
  uint16_t port() const { return port_; }
  void Stop();

 private:
  UdpEchoServer(sys::Fd fd, uint16_t port) : fd_(std::move(fd)), port_(port) {}
  sys::Fd fd_;
  uint16_t port_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

IPCLAB_CHAOS_NAMESPACE_END
}  // namespace ipc::socket
