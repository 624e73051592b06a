// Model-based (rc::state) property of the framed Unix stream socket (ipc/socket: SendFrame on one
// end of a socketpair, FrameReader on the other, ipc/wire framing) against a queue of whole
// messages with boundaries. Payload sizes favour the edges: 0, 1, around the reader's 64 KiB read
// buffer (a frame split across reads), the reader's payload limit (70000) and one past it.
//
// Commands: Send (type and payload), SendOversized (one byte past the reader's limit: the reader
// delivers every frame before it, then EMSGSIZE for good: the stream lost frame sync), Receive
// (the front message; an empty open stream times out instead of inventing one), CloseWriter
// (after the rest: end of stream, or ECONNRESET if a frame was torn).
//
// Multi-process command: a forked peer writes the first bytes of a frame (1 byte up to all but the
// last byte, header included or not) through the inherited socket and is SIGKILLed by the parent.
// The torn frame is never delivered as a whole one: receives give the whole frames before it,
// then time out while the stream is open, then ECONNRESET after CloseWriter. The planted twin
// (properties/planted/planted_socket.h: a torn frame reported as a clean end of stream) must be
// caught and shrunk to a short sequence. On failure rapidcheck prints the shrunk commands and an
// RC_PARAMS="reproduce=..." line.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/socket.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <deque>
#include <new>
#include <optional>
#include <stdexcept>
#include <thread>
#include <vector>

#include "ipc/socket/socket.h"
#include "ipc/sys/deadline.h"
#include "ipc/testing/process.h"
#include "ipc/wire/wire.h"
#include "properties/planted/planted_socket.h"
#include "properties/stateful.h"

namespace {

using namespace std::chrono_literals;
using ipc::testing::ExitCode;
using ipc::testing::ForkChild;
using Payload = std::vector<std::byte>;

constexpr std::size_t kReaderLimit = 70000;        // FrameReader's max payload here
constexpr std::size_t kReadBuffer = 65536;         // FrameReader's read buffer
constexpr std::size_t kStreamBudget = 96 * 1024;   // unread bytes at most: a send never blocks

Payload PayloadOf(std::size_t len, std::uint32_t salt) {
  Payload p(len);
  for (std::size_t i = 0; i < len; ++i) p[i] = std::byte(static_cast<std::uint8_t>(salt * 29 + i * 3 + i / 253));
  return p;
}

rc::Gen<std::size_t> PayloadSize() {
  using ipc::wire::kHeaderSize;
  return rc::gen::oneOf(
      rc::gen::element<std::size_t>(0, 1, kReadBuffer - kHeaderSize - 1, kReadBuffer - kHeaderSize,
                                    kReadBuffer - kHeaderSize + 1, kReadBuffer, kReaderLimit - 1,
                                    kReaderLimit),
      rc::gen::inRange<std::size_t>(0, 2000));
}

struct Entry {
  std::uint16_t type = 0;
  Payload payload;
  bool oversized = false;  // the reader refuses it (and everything after it)
};

struct SocketModel {
  std::deque<Entry> queue;
  std::size_t unread = 0;  // bytes in the socket, upper bound
  bool torn = false;       // a peer died inside a frame: nothing whole can follow it
  bool closed = false;     // every write end closed
  std::uint16_t next_type = 1;
};

class SocketSut {
 public:
  SocketSut() {
    auto p = ipc::socket::MakePair(ipc::socket::Kind::kStream);
    if (!p) throw std::runtime_error(p.error().message());
    writer_ = std::move(p->a);
    reader_fd_ = std::move(p->b);
    // A Unix stream socket counts the kernel's buffer overhead (skb truesize) against SO_SNDBUF,
    // a few times the payload: with the default (208 KiB) 96 KiB unread can already block a send.
    int sndbuf = 1 << 20;
    auto set = ipc::sys::Call("setsockopt(SO_SNDBUF)", "writer", [&] {
      return ::setsockopt(writer_.get(), SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof sndbuf);
    });
    if (!set) throw std::runtime_error(set.error().message());
    void* m = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("mmap of the peer flag failed");
    peer_wrote_ = new (m) std::atomic<bool>(false);
  }
  virtual ~SocketSut() { ::munmap(peer_wrote_, 4096); }
  virtual ipc::sys::Result<std::optional<ipc::wire::Frame>> Receive(ipc::sys::Deadline deadline) = 0;

  ipc::sys::Status Send(std::uint16_t type, const Payload& p) {
    return ipc::socket::SendFrame(writer_.get(), type, p, 0, ipc::sys::Deadline::After(5s));
  }
  void CloseWriter() { writer_.reset(); }

  // Forks a peer that writes `cut` bytes of `frame` through the inherited socket, raises a flag and
  // waits; the parent SIGKILLs it once the bytes are written.
  void KillPeerMidFrame(const std::vector<std::byte>& frame, std::size_t cut) {
    ipc::testing::Watchdog dog(std::chrono::seconds(20), "socket: peer killed mid-frame");
    peer_wrote_->store(false);
    int fd = writer_.get();
    auto child = ForkChild([&] {
      // Async-signal-safe only.
      std::size_t done = 0;
      while (done < cut) {
        ssize_t n = ::send(fd, frame.data() + done, cut - done, MSG_NOSIGNAL);
        if (n <= 0) return 3;
        done += static_cast<std::size_t>(n);
      }
      peer_wrote_->store(true);
      for (;;) ::pause();
    });
    RC_ASSERT(child.has_value());
    auto deadline = ipc::sys::Deadline::After(10s);
    while (!peer_wrote_->load() && !deadline.expired()) std::this_thread::sleep_for(std::chrono::microseconds(200));
    auto st = child->Kill();
    RC_ASSERT(peer_wrote_->load());  // the peer wrote its bytes before it died
    RC_ASSERT(st.has_value());
    RC_ASSERT(ExitCode(*st) == -SIGKILL);
  }

 protected:
  ipc::sys::Fd writer_, reader_fd_;

 private:
  std::atomic<bool>* peer_wrote_ = nullptr;
};

// `Reader` is ipc::socket::FrameReader or the planted twin that takes a torn frame for an end.
template <class Reader>
class SocketSutOf : public SocketSut {
 public:
  ipc::sys::Result<std::optional<ipc::wire::Frame>> Receive(ipc::sys::Deadline deadline) override {
    return reader_.Next(deadline);
  }

 private:
  Reader reader_{reader_fd_.get(), kReaderLimit};
};
using RealSocket = SocketSutOf<ipc::socket::FrameReader>;
using PlantedSocket = SocketSutOf<properties::planted::TornFrameAsEofReader>;

using Cmd = rc::state::Command<SocketModel, SocketSut>;

bool CanWrite(const SocketModel& m, std::size_t bytes) {
  return !m.closed && !m.torn && m.unread + bytes <= kStreamBudget;
}

struct Send : Cmd {
  std::size_t size = *PayloadSize();
  void checkPreconditions(const SocketModel& m) const override {
    RC_PRE(CanWrite(m, ipc::wire::kHeaderSize + size));
  }
  void apply(SocketModel& m) const override {
    m.queue.push_back({m.next_type, PayloadOf(size, m.next_type), false});
    ++m.next_type;
    m.unread += ipc::wire::kHeaderSize + size;
  }
  void run(const SocketModel& m, SocketSut& sut) const override {
    RC_ASSERT(sut.Send(m.next_type, PayloadOf(size, m.next_type)).has_value());
  }
  void show(std::ostream& os) const override { os << "Send(" << size << " bytes)"; }
};

struct SendOversized : Cmd {
  void checkPreconditions(const SocketModel& m) const override {
    RC_PRE(CanWrite(m, ipc::wire::kHeaderSize + kReaderLimit + 1));
  }
  void apply(SocketModel& m) const override {
    m.queue.push_back({m.next_type, {}, true});
    ++m.next_type;
    m.unread += ipc::wire::kHeaderSize + kReaderLimit + 1;
  }
  void run(const SocketModel& m, SocketSut& sut) const override {
    RC_ASSERT(sut.Send(m.next_type, PayloadOf(kReaderLimit + 1, m.next_type)).has_value());
  }
  void show(std::ostream& os) const override { os << "SendOversized(" << kReaderLimit + 1 << " bytes)"; }
};

struct Receive : Cmd {
  void apply(SocketModel& m) const override {
    if (!m.queue.empty() && !m.queue.front().oversized) {
      m.unread -= ipc::wire::kHeaderSize + m.queue.front().payload.size();
      m.queue.pop_front();
    }
  }
  void run(const SocketModel& m, SocketSut& sut) const override {
    bool immediate = !m.queue.empty() || m.closed;
    auto r = sut.Receive(ipc::sys::Deadline::After(immediate ? 2s : 2ms));
    if (!m.queue.empty() && m.queue.front().oversized) {
      RC_ASSERT(!r.has_value());  // refused, and for good
      RC_ASSERT(r.error().err == EMSGSIZE);
    } else if (!m.queue.empty()) {
      RC_ASSERT(r.has_value());
      RC_ASSERT(r->has_value());
      RC_ASSERT((*r)->header.type == m.queue.front().type);
      RC_ASSERT((*r)->payload == m.queue.front().payload);
    } else if (!m.closed) {
      RC_ASSERT(!r.has_value());  // never a partial frame as if it were whole
      RC_ASSERT(r.error().err == ETIMEDOUT);
    } else if (m.torn) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == ECONNRESET);
    } else {
      RC_ASSERT(r.has_value());
      RC_ASSERT(!r->has_value());  // clean end of stream
    }
  }
  void show(std::ostream& os) const override { os << "Receive"; }
};

struct CloseWriter : Cmd {
  void checkPreconditions(const SocketModel& m) const override { RC_PRE(!m.closed); }
  void apply(SocketModel& m) const override { m.closed = true; }
  void run(const SocketModel&, SocketSut& sut) const override { sut.CloseWriter(); }
  void show(std::ostream& os) const override { os << "CloseWriter"; }
};

struct KillPeerMidFrame : Cmd {
  std::size_t size = *PayloadSize();
  // 1 byte up to all but the last byte of header + payload.
  std::size_t cut = *rc::gen::inRange<std::size_t>(1, ipc::wire::kHeaderSize + size);
  void checkPreconditions(const SocketModel& m) const override { RC_PRE(CanWrite(m, cut)); }
  void apply(SocketModel& m) const override {
    m.torn = true;
    m.unread += cut;
  }
  void run(const SocketModel&, SocketSut& sut) const override {
    auto frame = ipc::wire::Encode(999, PayloadOf(size, 999));
    RC_ASSERT(frame.has_value());
    RC_ASSERT(cut < frame->size());
    sut.KillPeerMidFrame(*frame, cut);
  }
  void show(std::ostream& os) const override {
    os << "KillPeerMidFrame(" << size << " byte payload, killed after " << cut << " bytes)";
  }
};

template <class SutT, class... Cmds>
void RunSequence() {
  properties::RunCommands<Cmds...>(SocketModel{}, [] { return SutT(); });
}

RC_GTEST_PROP(SocketModel, FramedStreamIsAMessageQueueWithBoundaries, ()) {
  RunSequence<RealSocket, Send, Send, Send, Receive, Receive, SendOversized, CloseWriter>();
}

RC_GTEST_PROP(SocketModel, PeerKilledMidFrameIsNeverDeliveredWhole, ()) {
  RunSequence<RealSocket, Send, Send, Receive, Receive, KillPeerMidFrame, CloseWriter>();
}

TEST(SocketModel, FindsPlantedTornFrameTakenForEndOfStreamAndShrinksIt) {
  // The smallest failure is KillPeerMidFrame, CloseWriter, Receive: three commands.
  properties::ExpectCaughtAndShrunk("planted: torn frame reported as end of stream", 3, [] {
    RunSequence<PlantedSocket, Send, Send, Receive, Receive, KillPeerMidFrame, CloseWriter>();
  });
}

}  // namespace
