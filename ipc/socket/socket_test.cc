#include "ipc/socket/socket.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <thread>

#include <gtest/gtest.h>

#include "ipc/signal/signal.h"

namespace ipc::socket {
namespace {

using namespace std::chrono_literals;
using signal::Child;
using signal::ScopedAlarm;

std::span<const std::byte> Bytes(std::string_view s) { return std::as_bytes(std::span(s)); }

TEST(SocketPair, StreamSeqpacketAndDatagramKeepTheirSemantics) {
  auto seq = MakePair(Kind::kSeqPacket);
  ASSERT_TRUE(seq);
  ASSERT_TRUE(SendMessage(seq->a.get(), Bytes("one")));
  ASSERT_TRUE(SendMessage(seq->a.get(), Bytes("two!")));
  std::byte buf[64];
  auto m1 = ReceiveMessage(seq->b.get(), buf, sys::Deadline::After(5s));
  ASSERT_TRUE(m1);
  EXPECT_EQ(m1->bytes, 3u);  // boundaries kept
  auto m2 = ReceiveMessage(seq->b.get(), buf, sys::Deadline::After(5s));
  EXPECT_EQ(m2->bytes, 4u);
  seq->a.reset();
  auto eof = ReceiveMessage(seq->b.get(), buf, sys::Deadline::After(5s));
  ASSERT_TRUE(eof);
  EXPECT_TRUE(eof->eof);

  auto dg = MakePair(Kind::kDatagram);
  ASSERT_TRUE(dg);
  ASSERT_TRUE(SendMessage(dg->a.get(), {}));
  auto empty = ReceiveMessage(dg->b.get(), buf, sys::Deadline::After(5s));
  ASSERT_TRUE(empty);
  EXPECT_EQ(empty->bytes, 0u);
  EXPECT_FALSE(empty->eof);  // an empty datagram is a message, not an end

  auto st = MakePair(Kind::kStream);
  ASSERT_TRUE(st);
  EXPECT_TRUE(::fcntl(st->a.get(), F_GETFD) & FD_CLOEXEC);
}

TEST(SocketPair, TruncatedMessageIsEmsgsize) {
  auto seq = MakePair(Kind::kSeqPacket);
  ASSERT_TRUE(seq);
  ASSERT_TRUE(SendMessage(seq->a.get(), std::vector<std::byte>(100)));
  std::byte small[10];
  auto m = ReceiveMessage(seq->b.get(), small, sys::Deadline::After(5s));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, EMSGSIZE);
}

TEST(SocketPair, ReceiveTimesOut) {
  auto seq = MakePair(Kind::kSeqPacket);
  ASSERT_TRUE(seq);
  std::byte buf[8];
  auto t0 = std::chrono::steady_clock::now();
  auto m = ReceiveMessage(seq->b.get(), buf, sys::Deadline::After(50ms));
  ASSERT_FALSE(m);
  EXPECT_EQ(m.error().err, ETIMEDOUT);
  EXPECT_GE(std::chrono::steady_clock::now() - t0, 45ms);
}

// Listen on `addr`, connect from a forked child that sends a message, check it and the peer's
// credentials.
void ExchangeVia(const UnixAddress& addr, Kind kind) {
  ScopedAlarm watchdog(30s, "unix socket exchange");
  auto l = Listen(addr, kind);
  ASSERT_TRUE(l) << l.error().message();
  auto c = Child::Fork([&] {
    auto fd = Connect(addr, kind);
    if (!fd) return 1;
    return SendMessage(fd->get(), Bytes("hello from child")) ? 0 : 2;
  });
  ASSERT_TRUE(c);
  auto conn = Accept(l->get(), sys::Deadline::After(10s));
  ASSERT_TRUE(conn) << conn.error().message();
  auto cred = PeerCredentials(conn->get());
  ASSERT_TRUE(cred);
  EXPECT_EQ(cred->pid, c->pid());
  EXPECT_EQ(cred->uid, ::geteuid());
  EXPECT_TRUE(RequirePeerUid(conn->get()));
  auto denied = RequirePeerUid(conn->get(), ::geteuid() + 1);
  ASSERT_FALSE(denied);
  EXPECT_EQ(denied.error().err, EACCES);
  std::byte buf[64];
  auto m = ReceiveMessage(conn->get(), buf, sys::Deadline::After(10s));
  ASSERT_TRUE(m) << m.error().message();
  EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), m->bytes), "hello from child");
  EXPECT_TRUE(c->WaitFor(10s)->ok());
}

TEST(UnixSocket, BoundPathInAPrivateDir) {
  auto dir = audit::PrivateDir::Create("sock");
  ASSERT_TRUE(dir);
  auto addr = UnixAddress::InDir(*dir, "s");
  ASSERT_TRUE(addr);
  ExchangeVia(*addr, Kind::kSeqPacket);
  struct stat st {};
  ASSERT_EQ(::stat(dir->file("s").c_str(), &st), 0);
  EXPECT_TRUE(S_ISSOCK(st.st_mode));
}

TEST(UnixSocket, PathLongerThanSunPathWorksThroughTheDirectoryFd) {
  auto dir = audit::PrivateDir::Create("sock");
  ASSERT_TRUE(dir);
  std::string deep = dir->path();
  while (deep.size() < 150) {
    deep += "/a-rather-long-directory-name";
    ASSERT_EQ(::mkdir(deep.c_str(), 0700), 0);
  }
  std::string path = deep + "/stream.sock";
  ASSERT_GT(path.size(), sizeof(sockaddr_un{}.sun_path));
  auto addr = UnixAddress::Path(path);
  ASSERT_TRUE(addr) << addr.error().message();
  ExchangeVia(*addr, Kind::kStream);
  struct stat st {};
  EXPECT_EQ(::stat(path.c_str(), &st), 0) << "the socket file is at the long path itself";
}

TEST(UnixSocket, AbstractNamespaceLeavesNoFile) {
  auto addr = UnixAddress::Abstract("sock");
  ASSERT_TRUE(addr);
  EXPECT_TRUE(addr->describe().starts_with("@ipclab."));
  ExchangeVia(*addr, Kind::kSeqPacket);
}

TEST(UnixSocket, AcceptTimesOutWithoutAClient) {
  auto addr = UnixAddress::Abstract("sock");
  ASSERT_TRUE(addr);
  auto l = Listen(*addr, Kind::kStream);
  ASSERT_TRUE(l);
  auto c = Accept(l->get(), sys::Deadline::After(30ms));
  ASSERT_FALSE(c);
  EXPECT_EQ(c.error().err, ETIMEDOUT);
  auto nobody = UnixAddress::Abstract("nobody");
  auto refused = Connect(*nobody, Kind::kStream, sys::Deadline::After(1s));
  ASSERT_FALSE(refused);
  EXPECT_EQ(refused.error().err, ECONNREFUSED);
}

TEST(ScmRights, PassesDescriptorsToAnotherProcess) {
  ScopedAlarm watchdog(30s, "SCM_RIGHTS");
  auto pair = MakePair(Kind::kStream);
  ASSERT_TRUE(pair);
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  auto c = Child::Fork([&] {
    pair->a.reset();
    p->read.reset();
    p->write.reset();  // the child's only way to the pipe is the descriptor it is sent
    std::byte b[1];
    auto got = ReceiveFds(pair->b.get(), b, 4, sys::Deadline::After(10s));
    if (!got || got->fds.size() != 1) return 1;
    if (!(::fcntl(got->fds[0].get(), F_GETFD) & FD_CLOEXEC)) return 2;
    return ::write(got->fds[0].get(), "via fd", 6) == 6 ? 0 : 3;
  });
  ASSERT_TRUE(c);
  int fds[] = {p->write.get()};
  ASSERT_TRUE(SendFds(pair->a.get(), fds, Bytes("f")));
  p->write.reset();
  char buf[16];
  auto n = sys::Retry("read", "pipe", [&] { return ::read(p->read.get(), buf, sizeof buf); });
  ASSERT_TRUE(n);
  EXPECT_EQ(std::string(buf, *n), "via fd");
  EXPECT_TRUE(c->WaitFor(10s)->ok());
}

TEST(ScmRights, TooManyDescriptorsIsAnErrorAndNothingLeaks) {
  auto pair = MakePair(Kind::kStream);
  ASSERT_TRUE(pair);
  auto p = sys::MakePipe();
  ASSERT_TRUE(p);
  int fds[] = {p->read.get(), p->write.get(), p->read.get()};
  ASSERT_TRUE(SendFds(pair->a.get(), fds, Bytes("x")));
  std::byte b[1];
  auto got = ReceiveFds(pair->b.get(), b, 1, sys::Deadline::After(5s));
  ASSERT_FALSE(got);
  EXPECT_EQ(got.error().err, EMSGSIZE);
}

TEST(StreamSocket, PartialTransfersUnderASignalStormLoseNothing) {
  ScopedAlarm watchdog(60s, "stream socket storm");
  auto h = signal::ScopedHandler::Noop(SIGUSR1, signal::Restart::kNo);
  ASSERT_TRUE(h);
  auto pair = MakePair(Kind::kStream);
  ASSERT_TRUE(pair);
  constexpr size_t kBytes = 4 << 20;
  auto c = Child::Fork([&] {
    pair->b.reset();
    std::vector<std::byte> data(kBytes);
    for (size_t i = 0; i < kBytes; ++i) data[i] = std::byte((i * 131) >> 3);
    return SendAll(pair->a.get(), data) ? 0 : 1;
  });
  ASSERT_TRUE(c);
  pair->a.reset();
  auto at_child = signal::SignalStorm::AtProcess(c->pid(), SIGUSR1, 3000);
  auto at_me = signal::SignalStorm::AtThread(pthread_self(), SIGUSR1, 3000);
  std::vector<std::byte> got(kBytes);
  auto ok = ReceiveExact(pair->b.get(), got, sys::Deadline::After(40s));
  at_me.Stop();
  at_child.Stop();
  ASSERT_TRUE(ok && *ok) << (ok ? "early EOF" : ok.error().message());
  for (size_t i = 0; i < kBytes; ++i) {
    ASSERT_EQ(got[i], std::byte((i * 131) >> 3)) << "byte " << i;
  }
  std::byte extra;
  auto eof = ReceiveExact(pair->b.get(), std::span(&extra, 1), sys::Deadline::After(10s));
  ASSERT_TRUE(eof);
  EXPECT_FALSE(*eof) << "a byte was duplicated";
  EXPECT_TRUE(c->WaitFor(10s)->ok());
}

TEST(StreamSocket, KilledPeerGivesEofAndEpipeNotAHang) {
  ScopedAlarm watchdog(30s, "killed socket peer");
  auto pair = MakePair(Kind::kStream);
  ASSERT_TRUE(pair);
  auto c = Child::Fork([&] {
    ::raise(SIGKILL);
    return 0;
  });
  ASSERT_TRUE(c);
  pair->b.reset();
  (void)c->WaitFor(10s);
  std::byte b[4];
  auto r = ReceiveExact(pair->a.get(), b, sys::Deadline::After(10s));
  ASSERT_TRUE(r);
  EXPECT_FALSE(*r);  // EOF
  auto w = SendAll(pair->a.get(), b);
  ASSERT_FALSE(w);
  EXPECT_EQ(w.error().err, EPIPE);
}

TEST(StreamSocket, FramesCutByADyingWriterAreECONNRESET) {
  auto pair = MakePair(Kind::kStream);
  ASSERT_TRUE(pair);
  auto f = wire::Encode(3, Bytes("a frame that will not finish"));
  ASSERT_TRUE(SendAll(pair->a.get(), std::span(*f).first(10)));
  pair->a.reset();
  FrameReader r(pair->b.get());
  auto n = r.Next(sys::Deadline::After(5s));
  ASSERT_FALSE(n);
  EXPECT_EQ(n.error().err, ECONNRESET);
}

// The seed's echo server and client over loopback TCP, with the shutdown protocol: the client
// half-closes after its requests and still receives every reply, then EOF.
TEST(TcpEcho, ClientsGetEveryReplyThenEofAfterHalfClose) {
  ScopedAlarm watchdog(60s, "tcp echo");
  auto l = TcpListenLoopback();
  ASSERT_TRUE(l) << l.error().message();
  EXPECT_NE(l->port, 0);
  uint16_t port = l->port;
  auto server = EchoServer::Start(std::move(l->fd));
  ASSERT_TRUE(server);
  constexpr int kClients = 3, kFrames = 200;
  std::vector<Child> clients;
  for (int c = 0; c < kClients; ++c) {
    auto k = Child::Fork([&, c] {
      auto fd = TcpConnectLoopback(port);
      if (!fd) return 1;
      for (int i = 0; i < kFrames; ++i) {
        std::string s = std::to_string(c) + ":" + std::to_string(i) + std::string(i * 37 % 3000, 'z');
        if (!SendFrame(fd->get(), uint16_t(1 + i), Bytes(s))) return 2;
      }
      if (!HalfClose(fd->get())) return 3;
      FrameReader r(fd->get());
      for (int i = 0; i < kFrames; ++i) {
        auto f = r.Next(sys::Deadline::After(20s));
        if (!f || !*f) return 4;
        if ((*f)->header.type != 1 + i || !((*f)->header.flags & wire::kFlagReply)) return 5;
        std::string want = std::to_string(c) + ":" + std::to_string(i) + std::string(i * 37 % 3000, 'z');
        if (std::string(reinterpret_cast<char*>((*f)->payload.data()), (*f)->payload.size()) != want) return 6;
      }
      auto end = r.Next(sys::Deadline::After(20s));
      if (!end || *end) return 7;  // EOF after the last reply
      return 0;
    });
    ASSERT_TRUE(k);
    clients.push_back(std::move(*k));
  }
  for (auto& k : clients) {
    auto st = k.WaitFor(40s);
    ASSERT_TRUE(st);
    EXPECT_TRUE(st->ok()) << st->Describe();
  }
  EXPECT_EQ((*server)->frames_echoed(), uint64_t(kClients * kFrames));
  (*server)->Stop();
}

TEST(TcpEcho, StopWithAnOpenConnectionDoesNotHang) {
  ScopedAlarm watchdog(30s, "echo server stop");
  auto l = TcpListenLoopback();
  ASSERT_TRUE(l);
  uint16_t port = l->port;
  auto server = EchoServer::Start(std::move(l->fd));
  ASSERT_TRUE(server);
  auto fd = TcpConnectLoopback(port);
  ASSERT_TRUE(fd);
  ASSERT_TRUE(SendFrame(fd->get(), 1, Bytes("ping")));
  FrameReader r(fd->get());
  auto f = r.Next(sys::Deadline::After(10s));
  ASSERT_TRUE(f && *f);
  (*server)->Stop();
  auto end = r.Next(sys::Deadline::After(10s));
  ASSERT_TRUE(end || end.error().err == ECONNRESET);
  if (end) EXPECT_FALSE(*end);
  EXPECT_TRUE(DrainAndClose(*fd, sys::Deadline::After(5s)));
}

TEST(TcpEcho, ConnectToAClosedPortIsRefused) {
  auto l = TcpListenLoopback();
  ASSERT_TRUE(l);
  uint16_t port = l->port;
  l->fd.reset();
  auto fd = TcpConnectLoopback(port, sys::Deadline::After(5s));
  ASSERT_FALSE(fd);
  EXPECT_EQ(fd.error().err, ECONNREFUSED);
}

TEST(UdpEcho, EchoesDatagramsUntilAShutdownFrame) {
  auto server = UdpEchoServer::Start();
  ASSERT_TRUE(server) << server.error().message();
  auto me = UdpBindLoopback();
  ASSERT_TRUE(me);
  sockaddr_in to = LoopbackAddress((*server)->port());
  std::byte buf[256];
  for (int i = 0; i < 20; ++i) {
    std::string s = "datagram " + std::to_string(i);
    ASSERT_TRUE(SendMessage(me->fd.get(), Bytes(s), sys::Deadline::After(5s),
                            reinterpret_cast<sockaddr*>(&to), sizeof to));
    auto d = ReceiveMessage(me->fd.get(), buf, sys::Deadline::After(5s));
    ASSERT_TRUE(d) << d.error().message();  // loopback UDP does not drop at this rate
    EXPECT_EQ(std::string(reinterpret_cast<char*>(buf), d->bytes), s);
  }
  auto bye = wire::Encode(1, {}, wire::kFlagShutdown);
  ASSERT_TRUE(SendMessage(me->fd.get(), *bye, sys::Deadline::After(5s),
                          reinterpret_cast<sockaddr*>(&to), sizeof to));
  (*server)->Stop();
}

}  // namespace
}  // namespace ipc::socket
