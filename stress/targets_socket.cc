// Socket target: ipc/socket stream framing (wire frames over a Unix stream socket) between
// processes, every message delivered exactly once across kills of either side, thread-aimed
// signal storms on a multi-threaded receiver.
//
// Protocol (stop and wait, so a sender has at most one message in flight):
//   - each sender connects to the receiver's listening socket; every connection gets a new epoch
//     (a per-sender counter in shared memory that survives respawns);
//   - it sends frame {sender, epoch, seq, checksum, payload} and waits for the ack {epoch, seq};
//     then it records `acked[sender] = seq` and sends seq + 1;
//   - when the connection breaks (receiver killed: EPIPE, ECONNRESET, end of file) or the sender is
//     killed and respawned, the sender reconnects (new epoch) and resends acked + 1;
//   - the receiver (one process, a thread per connection) accepts, per sender, seq == delivered + 1
//     (new), or seq == delivered as the first frame of a newer epoch (a retransmission whose ack
//     was lost: acked again, not delivered again); frames of an older epoch than the newest seen
//     are stale (a dead connection's leftovers, resent in the newer one) and dropped unacked.
// Exactly once: at the end delivered[s] is acked[s] or acked[s] + 1 (sent, delivered, ack not yet
// recorded) for every sender; any gap, stale duplicate or corrupt frame is a finding.
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstring>
#include <list>
#include <mutex>
#include <new>
#include <optional>
#include <thread>

#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/shm/segment.h"
#include "ipc/socket/socket.h"
#include "stress/chaos_point.h"
#include "stress/targets.h"

namespace stress {
namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;

constexpr int kSenders = 3;
constexpr std::uint16_t kDataFrame = 1;
constexpr std::uint16_t kAckFrame = 2;

struct SocketState {
  std::atomic<std::uint64_t> epoch_counter[kSenders];  // next epoch of each sender
  std::atomic<std::uint64_t> acked[kSenders];          // sender side: last seq acked
  std::atomic<std::uint64_t> delivered[kSenders];      // receiver side: last seq accepted
  std::atomic<std::uint64_t> newest_epoch[kSenders];   // receiver side
  std::atomic<std::uint64_t> retransmits;              // duplicates the receiver acked again
  std::atomic<std::uint64_t> stale;                    // stale frames dropped
  std::atomic<std::uint64_t> broken_connections;       // reconnects by senders
};

struct DataRecord {
  std::uint64_t sender;
  std::uint64_t epoch;
  std::uint64_t seq;
  std::uint64_t sum;
  std::byte payload[96];
};

struct AckRecord {
  std::uint64_t epoch;
  std::uint64_t seq;
};

std::uint64_t RecordSum(const DataRecord& r) {
  return Checksum(r.payload, sizeof r.payload) ^ (r.seq * 0x9e3779b97f4a7c15ull) ^ (r.sender << 48);
}

bool ConnectionBroken(int err) {
  return err == EPIPE || err == ECONNRESET || err == ENOTCONN || err == ECONNREFUSED;
}

// The receiver's per-connection thread. Returns "" at a clean or broken end of the connection,
// else why the stream broke an invariant.
std::string ServeConnection(ipc::sys::Fd conn, SocketState& st, std::mutex* per_sender,
                            Participant& p, const std::atomic<bool>& stop) {
  ipc::socket::FrameReader reader(conn.get());
  while (!stop.load()) {
    auto f = reader.Next(ipc::sys::Deadline::After(50ms));
    if (!f) {
      if (f.error().err == ETIMEDOUT) continue;
      if (ConnectionBroken(f.error().err)) return {};  // a sender died mid-frame
      return "receive: " + f.error().message();
    }
    if (!*f) return {};  // end of stream: the sender closed or died between frames
    const auto& frame = **f;
    if (frame.header.type != kDataFrame || frame.payload.size() != sizeof(DataRecord)) {
      return fmt::format("unexpected frame type {} of {} bytes", frame.header.type, frame.payload.size());
    }
    DataRecord r;
    std::memcpy(&r, frame.payload.data(), sizeof r);
    if (r.sender >= kSenders) return fmt::format("frame from unknown sender {}", r.sender);
    if (RecordSum(r) != r.sum) return fmt::format("checksum mismatch on seq {} of sender {}", r.seq, r.sender);
    bool ack = true;
    {
      std::lock_guard<std::mutex> lock(per_sender[r.sender]);
      std::uint64_t newest = st.newest_epoch[r.sender].load();
      std::uint64_t delivered = st.delivered[r.sender].load();
      if (r.epoch < newest) {
        st.stale.fetch_add(1);
        ack = false;
      } else if (r.seq == delivered + 1) {
        st.newest_epoch[r.sender].store(r.epoch);
        IPCLAB_CRASH_POINT("socket.receiver.before_deliver");
        st.delivered[r.sender].store(r.seq);
        p.Done();
      } else if (r.seq == delivered && r.epoch > newest) {
        st.newest_epoch[r.sender].store(r.epoch);
        st.retransmits.fetch_add(1);
      } else {
        return fmt::format("sender {} epoch {} (newest {}): seq {} after {} delivered ({})", r.sender, r.epoch,
                           newest, r.seq, delivered, r.seq > delivered ? "lost messages" : "duplicate");
      }
    }
    if (!ack) continue;
    // Delivered, not yet acknowledged: a receiver killed here makes the sender retransmit.
    IPCLAB_CRASH_POINT("socket.receiver.before_ack");
    AckRecord a{r.epoch, r.seq};
    auto s = ipc::socket::SendFrame(conn.get(), kAckFrame, std::as_bytes(std::span(&a, 1)), 0,
                                    ipc::sys::Deadline::After(1s));
    if (!s) {
      if (ConnectionBroken(s.error().err) || s.error().err == ETIMEDOUT) return {};
      return "ack: " + s.error().message();
    }
  }
  return {};
}

int Receiver(Participant& p, int listen_fd, SocketState& st) {
  std::mutex per_sender[kSenders];
  std::atomic<bool> stop{false};
  std::mutex failure_mu;
  std::string failure;
  struct Worker {
    std::thread thread;
    std::atomic<bool> done{false};
  };
  std::list<Worker> workers;
  auto reap = [&](bool all) {
    for (auto it = workers.begin(); it != workers.end();) {
      if (all || it->done.load()) {
        it->thread.join();
        it = workers.erase(it);
      } else {
        ++it;
      }
    }
  };
  while (!p.stopping()) {
    {
      std::lock_guard<std::mutex> lock(failure_mu);
      if (!failure.empty()) break;
    }
    auto conn = ipc::socket::Accept(listen_fd, ipc::sys::Deadline::After(50ms));
    reap(false);
    if (!conn) {
      if (conn.error().err == ETIMEDOUT) continue;
      stop.store(true);
      reap(true);
      return p.Fail("accept: " + conn.error().message());
    }
    Worker& w = workers.emplace_back();
    w.thread = std::thread([&, fd = std::move(*conn), done = &w.done]() mutable {
      std::string bad = ServeConnection(std::move(fd), st, per_sender, p, stop);
      if (!bad.empty()) {
        std::lock_guard<std::mutex> lock(failure_mu);
        if (failure.empty()) failure = bad;
      }
      done->store(true);
    });
  }
  stop.store(true);
  reap(true);
  if (!failure.empty()) return p.Fail(failure);
  return 0;
}

int Sender(Participant& p, int index, const ipc::socket::UnixAddress& addr, SocketState& st) {
  ::signal(SIGPIPE, SIG_IGN);  // (MSG_NOSIGNAL already; belt and braces for a raw write)
  std::optional<ipc::sys::Fd> conn;
  std::optional<ipc::socket::FrameReader> reader;
  std::uint64_t epoch = 0;
  auto t0 = Clock::now();
  while (!p.stopping()) {
    if (!conn) {
      auto c = ipc::socket::Connect(addr, ipc::socket::Kind::kStream, ipc::sys::Deadline::After(200ms));
      if (!c) {
        if (c.error().err == ETIMEDOUT || c.error().err == EAGAIN || ConnectionBroken(c.error().err)) continue;
        return p.Fail("connect: " + c.error().message());
      }
      conn.emplace(std::move(*c));
      reader.emplace(conn->get());
      epoch = st.epoch_counter[index].fetch_add(1) + 1;
    }
    DataRecord r{};
    r.sender = static_cast<std::uint64_t>(index);
    r.epoch = epoch;
    r.seq = st.acked[index].load() + 1;
    for (auto& b : r.payload) b = static_cast<std::byte>(p.rng()());
    r.sum = RecordSum(r);
    auto drop = [&] {
      st.broken_connections.fetch_add(1);
      reader.reset();
      conn.reset();
    };
    auto s = ipc::socket::SendFrame(conn->get(), kDataFrame, std::as_bytes(std::span(&r, 1)), 0,
                                    ipc::sys::Deadline::After(1s));
    if (!s) {
      if (ConnectionBroken(s.error().err) || s.error().err == ETIMEDOUT) {
        drop();
        continue;
      }
      return p.Fail("send: " + s.error().message());
    }
    // Sent, not acknowledged: a sender killed here makes its next incarnation resend this seq.
    IPCLAB_CRASH_POINT("socket.sender.before_ack");
    std::optional<AckRecord> ack;
    while (!ack && !p.stopping()) {
      auto f = reader->Next(ipc::sys::Deadline::After(50ms));
      if (!f) {
        if (f.error().err == ETIMEDOUT) continue;
        if (ConnectionBroken(f.error().err)) break;
        return p.Fail("ack: " + f.error().message());
      }
      if (!*f) break;  // the receiver died
      if ((*f)->header.type != kAckFrame || (*f)->payload.size() != sizeof(AckRecord)) {
        return p.Fail(fmt::format("unexpected frame type {} instead of an ack", (*f)->header.type));
      }
      AckRecord a;
      std::memcpy(&a, (*f)->payload.data(), sizeof a);
      if (a.epoch != epoch || a.seq != r.seq) {
        return p.Fail(fmt::format("ack for epoch {} seq {}, expected epoch {} seq {}", a.epoch, a.seq, epoch, r.seq));
      }
      ack = a;
    }
    if (!ack) {
      if (!p.stopping()) drop();
      continue;
    }
    st.acked[index].store(r.seq);
    auto now = Clock::now();
    p.Done(now - t0);
    t0 = now;
  }
  return 0;
}

RunReport RunSockets(Chaos& chaos) {
  auto seg = ipc::shm::Segment::CreatePosix("sockstate", sizeof(SocketState));
  auto dir = ipc::audit::PrivateDir::Create("stress-sock");
  if (!seg || !dir) {
    chaos.AddFinding("invariant-violation", "setup failed");
    return chaos.Finish();
  }
  auto* st = new (seg->payload().data()) SocketState{};
  auto addr = ipc::socket::UnixAddress::InDir(*dir, "rx");
  std::optional<ipc::sys::Fd> listener;
  if (addr) {
    auto l = ipc::socket::Listen(*addr, ipc::socket::Kind::kStream);
    if (l) listener.emplace(std::move(*l));
    else chaos.AddFinding("invariant-violation", "listen: " + l.error().message());
  } else {
    chaos.AddFinding("invariant-violation", "address: " + addr.error().message());
  }
  if (listener) {
    int lfd = listener->get();
    chaos.Spawn("receiver", [&, lfd](Participant& p) { return Receiver(p, lfd, *st); }, {.killable = true});
    for (int s = 0; s < kSenders; ++s) {
      chaos.Spawn("sender", [&, s](Participant& p) { return Sender(p, s, *addr, *st); }, {.killable = true});
    }
    chaos.Run();
    for (int s = 0; s < kSenders; ++s) {
      std::uint64_t acked = st->acked[s].load(), delivered = st->delivered[s].load();
      if (delivered != acked && delivered != acked + 1) {
        chaos.AddFinding("invariant-violation",
                         fmt::format("sender {}: {} messages acknowledged but {} delivered (exactly once broken)", s,
                                     acked, delivered));
      }
    }
    chaos.AddRecoveries(st->broken_connections.load());
  }
  listener.reset();
  (void)seg->Remove();
  { ipc::audit::PrivateDir gone(std::move(*dir)); }
  return chaos.Finish();
}

}  // namespace

void AddSocketTargets(std::vector<Target>& out) {
  out.push_back({.name = "socket_stream",
                 .description = "ipc/socket wire frames over a Unix stream socket, 3 senders + a threaded receiver, "
                                "both sides SIGKILLed and respawned, thread-aimed signal storms; every message "
                                "exactly once (acks, epochs, retransmission), checksums",
                 .configure = [](ChaosConfig& c) {
                   c.signals_per_second = 3000;
                   c.thread_signal_share = 0.7;
                   c.kills_per_second = 3;
                   c.plan.crash_ppm = 1000;
                 },
                 .run = RunSockets});
}

}  // namespace stress
