// Every message-passing transport of ipc/ between two processes, 64-byte messages, in one run:
//   /pingpong  round trip: send, the child echoes, receive (latency; two cross-process wakeups)
//   /stream    one way: the parent sends as fast as the transport takes them, the child consumes
//              (throughput; the transport's buffering lets both sides run)
// Each figure is also given as a ratio to the raw pipe (bare write/read) of the same mode, measured
// in the same run.
//
//   bazel run -c opt //ipc/bench:msg_bench
//   bazel run -c opt //ipc/bench:msg_bench -- --benchmark_min_time=2   (steadier figures)
//
// Real time is reported: the cost is the other process and the wakeups, not the parent's CPU.
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <cstdio>
#include <cstring>
#include <optional>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>

#include "ipc/audit/names.h"
#include "ipc/mailbox/posix_mq.h"
#include "ipc/mailbox/sysv_msg.h"
#include "ipc/pipe/io.h"
#include "ipc/pipe/pipe.h"
#include "ipc/signal/signal.h"
#include "ipc/socket/socket.h"

namespace {

constexpr size_t kMessage = 64;

enum class Mode { kPingPong, kStream };

using ipc::signal::Child;

// One transport seen from both sides. The child loop: receive; on the stop signal (EOF or an empty
// message) send one acknowledgement and exit; otherwise echo in ping-pong mode.
struct Transport {
  std::function<bool(std::span<const std::byte>)> parent_send, child_send;
  // Receive one message into the buffer: its size, 0 for the stop signal, -1 on error.
  std::function<ssize_t(std::span<std::byte>)> parent_receive, child_receive;
  std::function<void()> child_setup = [] {};   // close the parent's ends
  std::function<void()> parent_setup = [] {};  // close the child's ends
  std::function<bool()> parent_stop;            // signal the child to stop
};

void Run(benchmark::State& state, Mode mode, Transport& t) {
  auto child = Child::Fork([&] {
    t.child_setup();
    std::byte buf[kMessage];
    for (;;) {
      ssize_t n = t.child_receive(buf);
      if (n < 0) return 1;
      if (n == 0) return t.child_send(std::span(buf, 1)) ? 0 : 2;  // acknowledge the stop
      if (mode == Mode::kPingPong && !t.child_send(std::span(buf).first(size_t(n)))) return 3;
    }
  });
  if (!child) return state.SkipWithError("fork");
  t.parent_setup();
  std::byte msg[kMessage] = {};
  for (auto _ : state) {
    if (!t.parent_send(msg) ||
        (mode == Mode::kPingPong && t.parent_receive(msg) != ssize_t(kMessage))) {
      state.SkipWithError("transfer failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  state.SetBytesProcessed(state.iterations() * int64_t(kMessage));
  // The acknowledgement comes after every message sent was consumed.
  if (!t.parent_stop() || t.parent_receive(msg) != 1) state.SkipWithError("stop failed");
  auto st = child->WaitFor(std::chrono::seconds(10));
  if (!st || !st->ok()) state.SkipWithError("echo child failed");
}

ssize_t FromExact(ipc::sys::Result<bool> r, size_t n) { return !r ? -1 : *r ? ssize_t(n) : 0; }

void BM_RawPipe(benchmark::State& state, Mode mode) {
  auto ping = ipc::sys::MakePipe();
  auto pong = ipc::sys::MakePipe();
  if (!ping || !pong) return state.SkipWithError("pipe");
  // The baseline: bare write(2)/read(2), no wrapper. The ack is 1 byte, messages 64.
  auto rd = [](int fd, std::span<std::byte> b) -> ssize_t {
    ssize_t n = ::read(fd, b.data(), kMessage);
    return n;  // 0 at EOF, a short count only for the 1-byte ack
  };
  Transport t{
      .parent_send = [&](auto b) { return ::write(ping->write.get(), b.data(), b.size()) == ssize_t(b.size()); },
      .child_send = [&](auto b) { return ::write(pong->write.get(), b.data(), b.size()) == ssize_t(b.size()); },
      .parent_receive = [&](auto b) { return rd(pong->read.get(), b); },
      .child_receive = [&](auto b) { return rd(ping->read.get(), b); },
      .child_setup = [&] { ping->write.reset(); pong->read.reset(); },
      .parent_setup = [&] { ping->read.reset(); pong->write.reset(); },
      .parent_stop = [&] { ping->write.reset(); return true; },
  };
  Run(state, mode, t);
}
BENCHMARK_CAPTURE(BM_RawPipe, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_RawPipe, stream, Mode::kStream)->UseRealTime();

void BM_FramedPipe(benchmark::State& state, Mode mode) {
  auto ping = ipc::sys::MakePipe();
  auto pong = ipc::sys::MakePipe();
  if (!ping || !pong) return state.SkipWithError("pipe");
  std::optional<ipc::pipe::PipeWriter> to_child, to_parent;
  std::optional<ipc::pipe::PipeReader> from_parent, from_child;
  auto recv = [](std::optional<ipc::pipe::PipeReader>& r, std::span<std::byte> b) -> ssize_t {
    auto m = r->Receive();
    if (!m) return -1;
    if (!*m) return 0;
    std::memcpy(b.data(), (*m)->data(), std::min(b.size(), (*m)->size()));
    return ssize_t((*m)->size());
  };
  Transport t{
      .parent_send = [&](auto b) { return to_child->Send(b).has_value(); },
      .child_send = [&](auto b) { return to_parent->Send(b).has_value(); },
      .parent_receive = [&](auto b) { return recv(from_child, b); },
      .child_receive = [&](auto b) { return recv(from_parent, b); },
      .child_setup = [&] {
        ping->write.reset();
        pong->read.reset();
        from_parent.emplace(ping->read.get());
        to_parent.emplace(pong->write.get());
      },
      .parent_setup = [&] {
        ping->read.reset();
        pong->write.reset();
        to_child.emplace(ping->write.get());
        from_child.emplace(pong->read.get());
      },
      .parent_stop = [&] { ping->write.reset(); return true; },
  };
  Run(state, mode, t);
}
BENCHMARK_CAPTURE(BM_FramedPipe, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_FramedPipe, stream, Mode::kStream)->UseRealTime();

ssize_t FromMailbox(ipc::mailbox::Mailbox& box, std::span<std::byte> b) {
  auto m = box.Receive();
  if (!m) return -1;
  std::memcpy(b.data(), m->data.data(), std::min(b.size(), m->data.size()));
  return ssize_t(m->data.size());
}

void MailboxRun(benchmark::State& state, Mode mode, ipc::mailbox::Mailbox& ping,
                ipc::mailbox::Mailbox& pong) {
  Transport t{
      .parent_send = [&](auto b) { return ping.Send(b).has_value(); },
      .child_send = [&](auto b) { return pong.Send(b).has_value(); },
      .parent_receive = [&](auto b) { return FromMailbox(pong, b); },
      .child_receive = [&](auto b) { return FromMailbox(ping, b); },
      .parent_stop = [&] { return ping.Send({}).has_value(); },
  };
  Run(state, mode, t);
}

void BM_PosixMq(benchmark::State& state, Mode mode) {
  ipc::mailbox::Options o{.capacity = 8, .max_message_size = kMessage};
  auto ping = ipc::mailbox::PosixMqMailbox::Create("bench", o);
  auto pong = ipc::mailbox::PosixMqMailbox::Create("bench", o);
  if (!ping || !pong) return state.SkipWithError("mq_open");
  MailboxRun(state, mode, **ping, **pong);
}
BENCHMARK_CAPTURE(BM_PosixMq, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_PosixMq, stream, Mode::kStream)->UseRealTime();

void BM_SysvMsg(benchmark::State& state, Mode mode) {
  ipc::mailbox::Options o{.capacity = 8, .max_message_size = kMessage};
  auto ping = ipc::mailbox::SysvMsgMailbox::Create("bench", o);
  auto pong = ipc::mailbox::SysvMsgMailbox::Create("bench", o);
  if (!ping || !pong) return state.SkipWithError("msgget");
  MailboxRun(state, mode, **ping, **pong);
}
BENCHMARK_CAPTURE(BM_SysvMsg, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_SysvMsg, stream, Mode::kStream)->UseRealTime();

void SocketRun(benchmark::State& state, Mode mode, ipc::socket::Kind kind) {
  auto pair = ipc::socket::MakePair(kind);
  if (!pair) return state.SkipWithError("socketpair");
  const bool stream = kind == ipc::socket::Kind::kStream;
  bool stopping = false;
  auto send = [stream](int fd, std::span<const std::byte> b) {
    return (stream ? ipc::socket::SendAll(fd, b) : ipc::socket::SendMessage(fd, b)).has_value();
  };
  auto recv = [stream](int fd, std::span<std::byte> b, size_t want) -> ssize_t {
    if (stream) return FromExact(ipc::socket::ReceiveExact(fd, b.first(want)), want);
    auto d = ipc::socket::ReceiveMessage(fd, b);
    return !d ? -1 : d->eof ? 0 : ssize_t(d->bytes);
  };
  Transport t{
      .parent_send = [&](auto b) { return send(pair->a.get(), b); },
      .child_send = [&](auto b) { return send(pair->b.get(), b); },
      // On a stream the parent knows what comes back: an echo (64) or the ack (1).
      .parent_receive = [&](auto b) {
        return recv(pair->a.get(), b, mode == Mode::kPingPong && !stopping ? kMessage : 1);
      },
      .child_receive = [&](auto b) { return recv(pair->b.get(), b, kMessage); },
      .child_setup = [&] { pair->a.reset(); },
      .parent_setup = [&] { pair->b.reset(); },
      .parent_stop = [&] {
        stopping = true;
        return ipc::socket::HalfClose(pair->a.get()).has_value();
      },
  };
  Run(state, mode, t);
}
void BM_UnixSeqpacket(benchmark::State& state, Mode mode) {
  SocketRun(state, mode, ipc::socket::Kind::kSeqPacket);
}
BENCHMARK_CAPTURE(BM_UnixSeqpacket, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_UnixSeqpacket, stream, Mode::kStream)->UseRealTime();
void BM_UnixStream(benchmark::State& state, Mode mode) {
  SocketRun(state, mode, ipc::socket::Kind::kStream);
}
BENCHMARK_CAPTURE(BM_UnixStream, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_UnixStream, stream, Mode::kStream)->UseRealTime();

void BM_BoostMessageQueue(benchmark::State& state, Mode mode) {
  namespace bip = boost::interprocess;
  auto ping_name = ipc::audit::UniqueName("bench");
  auto pong_name = ipc::audit::UniqueName("bench");
  if (!ping_name || !pong_name) return state.SkipWithError("name");
  struct Remove {
    std::string a, b;
    ~Remove() {
      bip::message_queue::remove(a.c_str());
      bip::message_queue::remove(b.c_str());
    }
  } remove{*ping_name, *pong_name};
  bip::message_queue ping(bip::create_only, ping_name->c_str(), 8, kMessage);
  bip::message_queue pong(bip::create_only, pong_name->c_str(), 8, kMessage);
  auto recv = [](bip::message_queue& q, std::span<std::byte> b) -> ssize_t {
    size_t n = 0;
    unsigned prio = 0;
    q.receive(b.data(), b.size(), n, prio);
    return ssize_t(n);
  };
  Transport t{
      .parent_send = [&](auto b) { ping.send(b.data(), b.size(), 0); return true; },
      .child_send = [&](auto b) { pong.send(b.data(), b.size(), 0); return true; },
      .parent_receive = [&](auto b) { return recv(pong, b); },
      .child_receive = [&](auto b) { return recv(ping, b); },
      .parent_stop = [&] { ping.send(nullptr, 0, 0); return true; },
  };
  Run(state, mode, t);
}
BENCHMARK_CAPTURE(BM_BoostMessageQueue, pingpong, Mode::kPingPong)->UseRealTime();
BENCHMARK_CAPTURE(BM_BoostMessageQueue, stream, Mode::kStream)->UseRealTime();

// Prints the console report and remembers each benchmark's time for the ratio tables.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (!r.error_occurred && r.run_type == Run::RT_Iteration) {
        times_[r.benchmark_name()] = r.GetAdjustedRealTime();
      }
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    for (const char* mode : {"pingpong", "stream"}) {
      auto base = times_.find(std::string("BM_RawPipe/") + mode + "/real_time");
      if (base == times_.end()) continue;
      std::printf("\n%s, %zu-byte messages, 2 processes (ratio to the raw pipe, same run):\n",
                  std::string_view(mode) == "pingpong" ? "round trip" : "one-way, per message",
                  kMessage);
      for (const auto& [name, t] : times_) {
        if (name.find(std::string("/") + mode + "/") == std::string::npos) continue;
        std::printf("  %-40s %10.2f us  x%.2f\n", name.c_str(), t / 1000.0, t / base->second);
      }
    }
  }

 private:
  std::map<std::string, double> times_;
};

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  RatioReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  reporter.PrintRatios();
  return 0;
}
