// ipc_bench: two processes exchanging messages over every ipclab transport and its peers, in one
// run, so the ratios compare like with like on this machine at this moment.
//
//   bazel run -c opt //ipc/bench:ipc_bench                   # everything (about a minute)
//   bazel run -c opt //ipc/bench:ipc_bench -- --benchmark_filter=pingpong
//
// pingpong/<transport>: a 64-byte message to a forked echo process and back, per iteration
//   (real time; p50/p99 counters from every 8th round trip, which includes ~25 ns of clock reads).
//   cacheline is the physical floor: one shared cache line bounced between the two cores.
// throughput/<transport>/<bytes>: the parent streams messages, the child acknowledges every 256;
//   items/s and bytes/s.
// The closing note prints each round trip against the floor, the pipe and Boost.Interprocess, and
// each 64-byte message rate against the pipe and Boost.Interprocess.
#include <fcntl.h>
#include <mqueue.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <benchmark/benchmark.h>
#include <boost/interprocess/ipc/message_queue.hpp>
#include <fmt/format.h>

#include "ipc/audit/names.h"
#include "ipc/ring/mpmc_buffer.h"
#include "ipc/ring/spsc_ring.h"
#include "ipc/shm/segment.h"
#include "ipc/sys/fd.h"

namespace {

using namespace ipc;
using Clock = std::chrono::steady_clock;
constexpr int kAckEvery = 256;

[[noreturn]] void Die(const std::string& what) {
  fmt::print(stderr, "ipc_bench: {}\n", what);
  std::_Exit(2);
}
template <class T>
T Must(sys::Result<T> r, std::string_view what) {
  if (!r) Die(fmt::format("{}: {}", what, r.error().message()));
  return std::move(*r);
}
void Must(sys::Status s, std::string_view what) {
  if (!s) Die(fmt::format("{}: {}", what, s.error().message()));
}

// A forked child that dies with its parent and is killed when the benchmark ends.
class Child {
 public:
  explicit Child(std::function<void()> body) {
    pid_ = ::fork();
    if (pid_ < 0) Die("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      body();
      ::_exit(0);
    }
  }
  ~Child() {
    ::kill(pid_, SIGKILL);
    int st;
    ::waitpid(pid_, &st, 0);
  }

 private:
  pid_t pid_;
};

// One direction of a transport. The child receives on `up` and sends on `down`.
class Channel {
 public:
  virtual ~Channel() = default;
  virtual void Send(std::span<const std::byte> m) = 0;
  // Receives one message of exactly out.size() bytes.
  virtual void Receive(std::span<std::byte> out) = 0;
};

class SpscChannel : public Channel {
 public:
  SpscChannel(std::size_t max_message, std::uint32_t spin) : spin_(spin) {
    std::uint32_t cap = 1 << 16;  // ~900 frames of 64 B: the producer rarely waits for room
    while (cap < 4 * (max_message + 8)) cap *= 2;
    seg_.emplace(Must(shm::Segment::CreatePosix("bench-spsc", ring::SpscRing<>::BytesFor(cap),
                                                {.layout = ring::kSpscLayout}),
                      "spsc segment"));
    Must(ring::SpscRing<>::Init(seg_->payload(), cap), "spsc init");
  }
  void Send(std::span<const std::byte> m) override {
    if (!tx_) tx_.emplace(Must(ring::SpscProducer<>::Attach(seg_->payload(), Opts()), "producer"));
    Must(tx_->Send(m), "spsc send");
  }
  void Receive(std::span<std::byte> out) override {
    if (!rx_) rx_.emplace(Must(ring::SpscConsumer<>::Attach(seg_->payload(), Opts()), "consumer"));
    Must(rx_->Receive(out), "spsc receive");
  }

 private:
  ring::SpscOptions Opts() const { return {.spin = spin_, .check_peer = true}; }
  std::uint32_t spin_;
  std::optional<shm::Segment> seg_;
  std::optional<ring::SpscProducer<>> tx_;
  std::optional<ring::SpscConsumer<>> rx_;
};

class MpmcChannel : public Channel {
 public:
  explicit MpmcChannel(std::size_t max_message) {
    auto slot = static_cast<std::uint32_t>(max_message);
    seg_.emplace(Must(shm::Segment::CreatePosix("bench-mpmc", ring::MpmcBuffer::BytesFor(16, slot),
                                                {.layout = ring::kMpmcLayout}),
                      "mpmc segment"));
    Must(ring::MpmcBuffer::Init(seg_->payload(), 16, slot), "mpmc init");
    buf_.emplace(Must(ring::MpmcBuffer::Attach(seg_->payload()), "mpmc attach"));
  }
  void Send(std::span<const std::byte> m) override { Must(buf_->Send(m), "mpmc send"); }
  void Receive(std::span<std::byte> out) override { Must(buf_->Receive(out), "mpmc receive"); }

 private:
  std::optional<shm::Segment> seg_;
  std::optional<ring::MpmcBuffer> buf_;
};

// A byte stream (pipe or Unix stream socket): exact-size writes and reads.
class StreamChannel : public Channel {
 public:
  explicit StreamChannel(bool socket) {
    int fds[2];
    if (socket) {
      if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0) Die("socketpair failed");
      read_.reset(fds[0]);
      write_.reset(fds[1]);
    } else {
      auto p = Must(sys::MakePipe(), "pipe");
      read_ = std::move(p.read);
      write_ = std::move(p.write);
    }
  }
  void Send(std::span<const std::byte> m) override {
    std::size_t done = 0;
    while (done < m.size()) {
      auto n = Must(sys::Retry("write", "bench stream",
                               [&] { return ::write(write_.get(), m.data() + done, m.size() - done); }),
                    "write");
      done += static_cast<std::size_t>(n);
    }
  }
  void Receive(std::span<std::byte> out) override {
    std::size_t done = 0;
    while (done < out.size()) {
      auto n = Must(sys::Retry("read", "bench stream",
                               [&] { return ::read(read_.get(), out.data() + done, out.size() - done); }),
                    "read");
      if (n == 0) Die("stream closed");
      done += static_cast<std::size_t>(n);
    }
  }

 private:
  sys::Fd read_, write_;
};

class PosixMqChannel : public Channel {
 public:
  explicit PosixMqChannel(std::size_t max_message) {
    name_ = Must(audit::PosixName("bench-mq"), "mq name");
    mq_attr attr{};
    attr.mq_maxmsg = 10;
    attr.mq_msgsize = static_cast<long>(std::max<std::size_t>(max_message, 1));
    mq_ = Must(sys::Call("mq_open", name_, [&] {
                 return ::mq_open(name_.c_str(), O_CREAT | O_EXCL | O_RDWR | O_CLOEXEC, 0600, &attr);
               }),
               "mq_open");
    ::mq_unlink(name_.c_str());  // the open descriptors (inherited by the child) are enough
  }
  ~PosixMqChannel() override { ::mq_close(mq_); }
  void Send(std::span<const std::byte> m) override {
    Must(sys::Retry("mq_send", name_,
                    [&] { return ::mq_send(mq_, reinterpret_cast<const char*>(m.data()), m.size(), 0); }),
         "mq_send");
  }
  void Receive(std::span<std::byte> out) override {
    std::vector<char> buf(out.size() < 8192 ? 8192 : out.size());
    auto n = Must(sys::Retry("mq_receive", name_,
                             [&] { return ::mq_receive(mq_, buf.data(), buf.size(), nullptr); }),
                  "mq_receive");
    std::memcpy(out.data(), buf.data(), std::min<std::size_t>(n, out.size()));
  }

 private:
  std::string name_;
  mqd_t mq_ = -1;
};

class BoostMqChannel : public Channel {
 public:
  explicit BoostMqChannel(std::size_t max_message) {
    name_ = Must(audit::UniqueName("bench-boost"), "boost name");
    mq_ = std::make_unique<boost::interprocess::message_queue>(boost::interprocess::create_only,
                                                               name_.c_str(), 64, max_message);
  }
  ~BoostMqChannel() override {
    mq_.reset();
    boost::interprocess::message_queue::remove(name_.c_str());
  }
  void Send(std::span<const std::byte> m) override { mq_->send(m.data(), m.size(), 0); }
  void Receive(std::span<std::byte> out) override {
    std::size_t got = 0;
    unsigned prio = 0;
    mq_->receive(out.data(), out.size(), got, prio);
  }

 private:
  std::string name_;
  std::unique_ptr<boost::interprocess::message_queue> mq_;
};

using Factory = std::function<std::unique_ptr<Channel>(std::size_t max_message)>;

struct Transport {
  std::string name;
  Factory make;
  bool big_messages = true;  // POSIX mq's default msgsize_max (8 KiB) rules out 64 KiB
};

std::vector<Transport> Transports() {
  return {
      {"spsc_spin", [](std::size_t m) { return std::make_unique<SpscChannel>(m, ring::kSpinForever); }},
      {"spsc_block", [](std::size_t m) { return std::make_unique<SpscChannel>(m, 0); }},
      {"spsc", [](std::size_t m) { return std::make_unique<SpscChannel>(m, ring::SpscOptions{}.spin); }},
      {"mpmc", [](std::size_t m) { return std::make_unique<MpmcChannel>(m); }},
      {"pipe", [](std::size_t) { return std::make_unique<StreamChannel>(false); }},
      {"unix_stream", [](std::size_t) { return std::make_unique<StreamChannel>(true); }},
      {"posix_mq", [](std::size_t m) { return std::make_unique<PosixMqChannel>(m); }, false},
      {"boost_mq", [](std::size_t m) { return std::make_unique<BoostMqChannel>(m); }},
  };
}

void SetLatencyCounters(benchmark::State& state, std::vector<double>& ns) {
  if (ns.empty()) return;
  std::sort(ns.begin(), ns.end());
  state.counters["p50_ns"] = ns[ns.size() / 2];
  state.counters["p99_ns"] = ns[std::min(ns.size() - 1, ns.size() * 99 / 100)];
}

void PingPong(benchmark::State& state, const Factory& make) {
  constexpr std::size_t kSize = 64;
  auto up = make(kSize);
  auto down = make(kSize);
  Child echo([&] {
    std::byte buf[kSize];
    for (;;) {
      up->Receive(buf);
      down->Send(buf);
    }
  });
  std::byte msg[kSize] = {};
  std::vector<double> samples;
  samples.reserve(1 << 16);
  std::uint64_t i = 0;
  for (auto _ : state) {
    if ((++i & 7) == 0 && samples.size() < (1u << 20)) {
      auto t0 = Clock::now();
      up->Send(msg);
      down->Receive(msg);
      samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
    } else {
      up->Send(msg);
      down->Receive(msg);
    }
  }
  SetLatencyCounters(state, samples);
}

// The floor: one cache line bounced between the two processes' cores.
void PingPongCacheLine(benchmark::State& state) {
  auto seg = Must(shm::Segment::CreatePosix("bench-line", 128), "line segment");
  auto* line = new (seg.payload().data()) std::atomic<std::uint64_t>(0);
  Child echo([&] {
    for (std::uint64_t want = 1;; want += 2) {
      while (line->load(std::memory_order_acquire) != want) ring::internal::CpuRelax();
      line->store(want + 1, std::memory_order_release);
    }
  });
  std::uint64_t v = 0;
  std::vector<double> samples;
  samples.reserve(1 << 16);
  for (auto _ : state) {
    bool sample = ((v >> 1) & 7) == 7 && samples.size() < (1u << 20);
    auto t0 = sample ? Clock::now() : Clock::time_point{};
    line->store(v + 1, std::memory_order_release);
    while (line->load(std::memory_order_acquire) != v + 2) ring::internal::CpuRelax();
    v += 2;
    if (sample) samples.push_back(std::chrono::duration<double, std::nano>(Clock::now() - t0).count());
  }
  SetLatencyCounters(state, samples);
}

void Throughput(benchmark::State& state, const Factory& make, std::size_t size) {
  auto up = make(size);
  auto down = make(1);
  Child sink([&] {
    std::vector<std::byte> buf(size);
    std::byte ack[1];
    for (;;) {
      for (int k = 0; k < kAckEvery; ++k) up->Receive(buf);
      down->Send(ack);
    }
  });
  std::vector<std::byte> msg(size, std::byte{0x5a});
  std::byte ack[1];
  for (auto _ : state) {
    for (int k = 0; k < kAckEvery; ++k) up->Send(msg);
    down->Receive(ack);
  }
  state.SetItemsProcessed(state.iterations() * kAckEvery);
  state.SetBytesProcessed(state.iterations() * kAckEvery * static_cast<std::int64_t>(size));
}

// Remembers every result for the closing note.
class NoteReporter : public benchmark::ConsoleReporter {
 public:
  struct Result {
    double ns_per_iter = 0;
    double items_per_s = 0;
    double bytes_per_s = 0;
    double p50 = 0, p99 = 0;
  };
  std::map<std::string, Result> results;

  void ReportRuns(const std::vector<Run>& runs) override {
    ConsoleReporter::ReportRuns(runs);
    for (const auto& r : runs) {
      if (r.error_occurred || r.run_type != Run::RT_Iteration) continue;
      Result res;
      res.ns_per_iter = r.GetAdjustedRealTime() *
                        (r.time_unit == benchmark::kMicrosecond   ? 1e3
                         : r.time_unit == benchmark::kMillisecond ? 1e6
                         : r.time_unit == benchmark::kSecond      ? 1e9
                                                                  : 1.0);
      auto get = [&](const char* k) {
        auto it = r.counters.find(k);
        return it == r.counters.end() ? 0.0 : double(it->second);
      };
      res.items_per_s = get("items_per_second");
      res.bytes_per_s = get("bytes_per_second");
      res.p50 = get("p50_ns");
      res.p99 = get("p99_ns");
      results[r.benchmark_name()] = res;
    }
  }
};

void PrintNote(const NoteReporter& rep) {
  auto find = [&](const std::string& prefix) -> const NoteReporter::Result* {
    for (const auto& [name, r] : rep.results) {
      if (name.rfind(prefix, 0) == 0) return &r;
    }
    return nullptr;
  };
  fmt::print("\nClosing note: two processes, 64-byte messages\n");
  const auto* floor = find("pingpong/cacheline");
  const auto* pipe = find("pingpong/pipe");
  const auto* boost = find("pingpong/boost_mq");
  fmt::print("{:<22} {:>11} {:>10} {:>10} {:>9} {:>10} {:>10}\n", "round trip", "mean", "p50",
             "p99", "x floor", "pipe / it", "boost / it");
  for (const auto& [name, r] : rep.results) {
    if (name.rfind("pingpong/", 0) != 0) continue;
    fmt::print("{:<22} {:>8.0f} ns {:>7.0f} ns {:>7.0f} ns {:>9.2f} {:>10.1f} {:>10.1f}\n",
               name.substr(9, name.find('/', 9) - 9), r.ns_per_iter, r.p50, r.p99,
               floor ? r.ns_per_iter / floor->ns_per_iter : 0.0,
               pipe ? pipe->ns_per_iter / r.ns_per_iter : 0.0,
               boost ? boost->ns_per_iter / r.ns_per_iter : 0.0);
  }
  for (std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{65536}}) {
    const auto* tpipe = find(fmt::format("throughput/pipe/{}", size));
    const auto* tboost = find(fmt::format("throughput/boost_mq/{}", size));
    fmt::print("\n{:<22} {:>14} {:>10} {:>10} {:>10}\n", fmt::format("throughput {} B", size),
               "msg/s", "GiB/s", "x pipe", "x boost");
    for (const auto& [name, r] : rep.results) {
      if (name.rfind("throughput/", 0) != 0) continue;
      auto slash = name.find('/', 11);
      if (name.substr(slash + 1, name.find('/', slash + 1) - slash - 1) != std::to_string(size)) continue;
      fmt::print("{:<22} {:>14.0f} {:>10.3f} {:>10.1f} {:>10.1f}\n", name.substr(11, slash - 11),
                 r.items_per_s, r.bytes_per_s / (1024.0 * 1024 * 1024),
                 tpipe && tpipe->items_per_s ? r.items_per_s / tpipe->items_per_s : 0.0,
                 tboost && tboost->items_per_s ? r.items_per_s / tboost->items_per_s : 0.0);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::RegisterBenchmark("pingpong/cacheline", PingPongCacheLine)->UseRealTime();
  for (const auto& t : Transports()) {
    benchmark::RegisterBenchmark(("pingpong/" + t.name).c_str(),
                                 [make = t.make](benchmark::State& s) { PingPong(s, make); })
        ->UseRealTime();
  }
  for (std::size_t size : {std::size_t{64}, std::size_t{1024}, std::size_t{65536}}) {
    for (const auto& t : Transports()) {
      if (t.name == "spsc_spin" || t.name == "spsc_block") continue;  // "spsc" spins, then blocks
      if (size > 8192 && !t.big_messages) continue;
      benchmark::RegisterBenchmark(fmt::format("throughput/{}/{}", t.name, size).c_str(),
                                   [make = t.make, size](benchmark::State& s) {
                                     Throughput(s, make, size);
                                   })
          ->UseRealTime();
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 2;
  NoteReporter reporter;
  benchmark::RunSpecifiedBenchmarks(&reporter);
  PrintNote(reporter);
  benchmark::Shutdown();
  return 0;
}
