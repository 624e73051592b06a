// Two-process ping-pong round trip of a 64-byte message over every message-passing transport of
// ipc/, in one run, with each result as a ratio to the raw pipe measured in the same run.
//
//   bazel run -c opt //ipc/bench:msg_bench
//   bazel run -c opt //ipc/bench:msg_bench -- --benchmark_min_time=2   (steadier figures)
//
// Each benchmark forks an echo child that sends every message straight back; the parent times
// send + receive (real time: the cost is two wakeups across processes, not the parent's CPU).
#include <unistd.h>

#include <boost/interprocess/ipc/message_queue.hpp>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/mailbox/posix_mq.h"
#include "ipc/mailbox/sysv_msg.h"
#include "ipc/pipe/io.h"
#include "ipc/pipe/pipe.h"
#include "ipc/signal/signal.h"
#include "ipc/socket/socket.h"

namespace {

constexpr size_t kMessage = 64;

using ipc::signal::Child;

// Runs the timed loop; `round_trip` sends one message and receives its echo.
void PingPong(benchmark::State& state, Child& child, const std::function<bool()>& round_trip) {
  for (auto _ : state) {
    if (!round_trip()) {
      state.SkipWithError("round trip failed");
      break;
    }
  }
  state.SetItemsProcessed(state.iterations());
  (void)child;
}

void Finish(benchmark::State& state, Child& child) {
  auto st = child.WaitFor(std::chrono::seconds(10));
  if (!st || !st->ok()) state.SkipWithError("echo child failed");
}

void BM_RawPipe(benchmark::State& state) {
  auto ping = ipc::sys::MakePipe();
  auto pong = ipc::sys::MakePipe();
  if (!ping || !pong) return state.SkipWithError("pipe");
  auto child = Child::Fork([&] {
    ping->write.reset();
    pong->read.reset();
    char buf[kMessage];
    for (;;) {
      ssize_t n = ::read(ping->read.get(), buf, kMessage);
      if (n == 0) return 0;
      if (n != ssize_t(kMessage)) return 1;
      if (::write(pong->write.get(), buf, kMessage) != ssize_t(kMessage)) return 2;
    }
  });
  if (!child) return state.SkipWithError("fork");
  ping->read.reset();
  pong->write.reset();
  // The baseline: bare write(2)/read(2), no wrapper (64 bytes < PIPE_BUF move in one call).
  char msg[kMessage] = {};
  PingPong(state, *child, [&] {
    return ::write(ping->write.get(), msg, kMessage) == ssize_t(kMessage) &&
           ::read(pong->read.get(), msg, kMessage) == ssize_t(kMessage);
  });
  ping->write.reset();
  Finish(state, *child);
}
BENCHMARK(BM_RawPipe)->UseRealTime();

void BM_FramedPipe(benchmark::State& state) {
  auto ping = ipc::sys::MakePipe();
  auto pong = ipc::sys::MakePipe();
  if (!ping || !pong) return state.SkipWithError("pipe");
  auto child = Child::Fork([&] {
    ping->write.reset();
    pong->read.reset();
    ipc::pipe::PipeReader in(ping->read.get());
    ipc::pipe::PipeWriter out(pong->write.get());
    for (;;) {
      auto m = in.Receive();
      if (!m) return 1;
      if (!*m) return 0;
      if (!out.Send(**m)) return 2;
    }
  });
  if (!child) return state.SkipWithError("fork");
  ping->read.reset();
  pong->write.reset();
  ipc::pipe::PipeWriter out(ping->write.get());
  ipc::pipe::PipeReader in(pong->read.get());
  std::vector<std::byte> msg(kMessage);
  PingPong(state, *child, [&] {
    if (!out.Send(msg)) return false;
    auto m = in.Receive();
    return m && *m && (*m)->size() == kMessage;
  });
  ping->write.reset();
  Finish(state, *child);
}
BENCHMARK(BM_FramedPipe)->UseRealTime();

template <class Box>
void MailboxPingPong(benchmark::State& state, Box& ping, Box& pong) {
  auto child = Child::Fork([&] {
    for (;;) {
      auto m = ping.Receive();
      if (!m) return 1;
      if (m->data.empty()) return 0;  // stop
      if (!pong.Send(m->data)) return 2;
    }
  });
  if (!child) return state.SkipWithError("fork");
  std::vector<std::byte> msg(kMessage);
  PingPong(state, *child, [&] {
    if (!ping.Send(msg)) return false;
    auto m = pong.Receive();
    return m && m->data.size() == kMessage;
  });
  (void)ping.Send({});
  Finish(state, *child);
}

void BM_PosixMq(benchmark::State& state) {
  ipc::mailbox::Options o{.capacity = 8, .max_message_size = kMessage};
  auto ping = ipc::mailbox::PosixMqMailbox::Create("bench", o);
  auto pong = ipc::mailbox::PosixMqMailbox::Create("bench", o);
  if (!ping || !pong) return state.SkipWithError("mq_open");
  MailboxPingPong(state, **ping, **pong);
}
BENCHMARK(BM_PosixMq)->UseRealTime();

void BM_SysvMsg(benchmark::State& state) {
  ipc::mailbox::Options o{.capacity = 8, .max_message_size = kMessage};
  auto ping = ipc::mailbox::SysvMsgMailbox::Create("bench", o);
  auto pong = ipc::mailbox::SysvMsgMailbox::Create("bench", o);
  if (!ping || !pong) return state.SkipWithError("msgget");
  MailboxPingPong(state, **ping, **pong);
}
BENCHMARK(BM_SysvMsg)->UseRealTime();

void SocketPingPong(benchmark::State& state, ipc::socket::Kind kind) {
  auto pair = ipc::socket::MakePair(kind);
  if (!pair) return state.SkipWithError("socketpair");
  const bool stream = kind == ipc::socket::Kind::kStream;
  auto child = Child::Fork([&] {
    pair->a.reset();
    std::byte buf[kMessage];
    for (;;) {
      size_t n;
      if (stream) {
        auto r = ipc::socket::ReceiveExact(pair->b.get(), buf);
        if (!r) return 1;
        if (!*r) return 0;
        n = kMessage;
      } else {
        auto d = ipc::socket::ReceiveMessage(pair->b.get(), buf);
        if (!d) return 1;
        if (d->eof) return 0;
        n = d->bytes;
      }
      auto out = std::span(buf).first(n);
      if (!(stream ? ipc::socket::SendAll(pair->b.get(), out)
                   : ipc::socket::SendMessage(pair->b.get(), out))) {
        return 2;
      }
    }
  });
  if (!child) return state.SkipWithError("fork");
  pair->b.reset();
  std::byte msg[kMessage] = {};
  PingPong(state, *child, [&] {
    if (stream) {
      return ipc::socket::SendAll(pair->a.get(), msg) &&
             ipc::socket::ReceiveExact(pair->a.get(), msg).value_or(false);
    }
    if (!ipc::socket::SendMessage(pair->a.get(), msg)) return false;
    auto d = ipc::socket::ReceiveMessage(pair->a.get(), msg);
    return d && d->bytes == kMessage;
  });
  pair->a.reset();
  Finish(state, *child);
}
void BM_UnixSeqpacket(benchmark::State& state) { SocketPingPong(state, ipc::socket::Kind::kSeqPacket); }
BENCHMARK(BM_UnixSeqpacket)->UseRealTime();
void BM_UnixStream(benchmark::State& state) { SocketPingPong(state, ipc::socket::Kind::kStream); }
BENCHMARK(BM_UnixStream)->UseRealTime();

void BM_BoostMessageQueue(benchmark::State& state) {
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
  auto child = Child::Fork([&] {
    std::byte buf[kMessage];
    for (;;) {
      size_t n = 0;
      unsigned prio = 0;
      ping.receive(buf, sizeof buf, n, prio);
      if (n == 0) return 0;
      pong.send(buf, n, 0);
    }
  });
  if (!child) return state.SkipWithError("fork");
  std::byte msg[kMessage] = {};
  PingPong(state, *child, [&] {
    ping.send(msg, kMessage, 0);
    size_t n = 0;
    unsigned prio = 0;
    pong.receive(msg, sizeof msg, n, prio);
    return n == kMessage;
  });
  ping.send(msg, 0, 0);
  Finish(state, *child);
}
BENCHMARK(BM_BoostMessageQueue)->UseRealTime();

// Prints the console report and remembers each benchmark's time for the ratio table.
class RatioReporter : public benchmark::ConsoleReporter {
 public:
  void ReportRuns(const std::vector<Run>& runs) override {
    for (const auto& r : runs) {
      if (!r.error_occurred) times_[r.benchmark_name()] = r.GetAdjustedRealTime();
    }
    ConsoleReporter::ReportRuns(runs);
  }
  void PrintRatios() const {
    auto base = times_.find("BM_RawPipe/real_time");
    if (base == times_.end()) return;
    std::printf("\n2-process round trip, %zu-byte message (ratio to the raw pipe, same run):\n",
                kMessage);
    for (const auto& [name, t] : times_) {
      std::printf("  %-36s %10.2f us  x%.2f\n", name.c_str(), t / 1000.0, t / base->second);
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
