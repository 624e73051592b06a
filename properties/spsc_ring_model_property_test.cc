// Model-based (rc::state) property of ipc::ring::SpscRing: random sequences of TrySend and
// TryReceive against a bounded deque of messages (each message takes FrameBytes(len) = 4 + len
// rounded up to 8 bytes of the ring's capacity). Small capacities and message sizes make frames
// wrap around the end of the buffer within a few commands. A multi-process command forks a
// child that attaches as the producer, sends a message and is killed (SIGKILL) before it can
// detach: the message must still arrive, and the role must be claimable again.
//
// The planted twin (properties/planted/planted_ring.h, an off-by-one at the wrap-around) must be
// caught and shrunk to a short sequence. On failure rapidcheck prints the shrunk command sequence
// and the seed; rerun with RC_PARAMS="reproduce=..." as it says.
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>
#include <rapidcheck/state.h>

#include <signal.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <cstring>
#include <deque>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "ipc/ring/spsc_ring.h"
#include "properties/planted/planted_ring.h"

namespace {

using Message = std::vector<std::uint8_t>;

constexpr std::uint32_t FrameBytes(std::size_t len) { return (4 + std::uint32_t(len) + 7) & ~7u; }

struct RingModel {
  std::uint32_t capacity = 64;
  std::uint32_t used = 0;
  std::deque<Message> messages;
};

// What the commands drive: the real ring (both ends in this process, in an anonymous shared
// mapping a forked child also sees) or the planted twin.
class RingSut {
 public:
  virtual ~RingSut() = default;
  virtual ipc::sys::Result<bool> TrySend(std::span<const std::byte> msg) = 0;
  virtual ipc::sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out) = 0;
  // Forks a producer that sends `msg` and dies by SIGKILL without detaching; false if the real
  // ring does not support it (the planted twin lives in one process).
  virtual bool SendFromKilledChild(std::span<const std::byte>) { return false; }
};

class RealRing : public RingSut {
 public:
  explicit RealRing(std::uint32_t capacity) : bytes_(ipc::ring::SpscRing<>::BytesFor(capacity)) {
    void* m = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
    mem_ = {static_cast<std::byte*>(m), bytes_};
    if (!ipc::ring::SpscRing<>::Init(mem_, capacity)) throw std::runtime_error("init failed");
    AttachProducer();
    auto rx = ipc::ring::SpscConsumer<>::Attach(mem_, {.spin = 0, .check_peer = false});
    if (!rx) throw std::runtime_error(rx.error().message());
    rx_.emplace(std::move(*rx));
  }
  ~RealRing() override {
    tx_.reset();
    rx_.reset();
    ::munmap(mem_.data(), bytes_);
  }
  ipc::sys::Result<bool> TrySend(std::span<const std::byte> msg) override { return tx_->TrySend(msg); }
  ipc::sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out) override {
    return rx_->TryReceive(out);
  }
  bool SendFromKilledChild(std::span<const std::byte> msg) override {
    tx_.reset();  // detach: the child claims the role
    pid_t pid = ::fork();
    if (pid == 0) {
      auto tx = ipc::ring::SpscProducer<>::Attach(mem_, {.spin = 0, .check_peer = false});
      if (!tx) _exit(3);
      auto sent = tx->TrySend(msg);
      if (!sent || !*sent) _exit(4);
      ::raise(SIGKILL);  // dies holding the producer role
      _exit(5);
    }
    RC_ASSERT(pid > 0);
    int status = 0;
    RC_ASSERT(::waitpid(pid, &status, 0) == pid);
    RC_ASSERT(WIFSIGNALED(status));
    RC_ASSERT(WTERMSIG(status) == SIGKILL);
    AttachProducer();  // a dead (or detached) holder's claim is taken over
    return true;
  }

 private:
  void AttachProducer() {
    auto tx = ipc::ring::SpscProducer<>::Attach(mem_, {.spin = 0, .check_peer = false});
    if (!tx) throw std::runtime_error(tx.error().message());
    tx_.emplace(std::move(*tx));
  }
  std::size_t bytes_;
  std::span<std::byte> mem_;
  std::optional<ipc::ring::SpscProducer<>> tx_;
  std::optional<ipc::ring::SpscConsumer<>> rx_;
};

class PlantedRing : public RingSut {
 public:
  explicit PlantedRing(std::uint32_t capacity) : ring_(capacity) {}
  ipc::sys::Result<bool> TrySend(std::span<const std::byte> msg) override { return ring_.TrySend(msg); }
  ipc::sys::Result<std::optional<std::size_t>> TryReceive(std::span<std::byte> out) override {
    return ring_.TryReceive(out);
  }

 private:
  properties::planted::OffByOneRing ring_;
};

using Cmd = rc::state::Command<RingModel, RingSut>;

Message MessageOf(std::size_t len) {
  Message m(len);
  for (std::size_t i = 0; i < len; ++i) m[i] = static_cast<std::uint8_t>(len * 7 + i);
  return m;
}

struct Send : Cmd {
  Message msg = MessageOf(*rc::gen::inRange<std::size_t>(0, 61));
  void apply(RingModel& m) const override {
    if (msg.size() <= m.capacity - 8 && m.capacity - m.used >= FrameBytes(msg.size())) {
      m.used += FrameBytes(msg.size());
      m.messages.push_back(msg);
    }
  }
  void run(const RingModel& m, RingSut& sut) const override {
    auto r = sut.TrySend(std::as_bytes(std::span(msg)));
    if (msg.size() > m.capacity - 8) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == EMSGSIZE);
      return;
    }
    RC_ASSERT(r.has_value());
    RC_ASSERT(*r == (m.capacity - m.used >= FrameBytes(msg.size())));
  }
  void show(std::ostream& os) const override { os << "Send(" << msg.size() << " bytes)"; }
};

struct Receive : Cmd {
  std::size_t buffer = *rc::gen::element<std::size_t>(8, 64);
  void apply(RingModel& m) const override {
    if (!m.messages.empty() && m.messages.front().size() <= buffer) {
      m.used -= FrameBytes(m.messages.front().size());
      m.messages.pop_front();
    }
  }
  void run(const RingModel& m, RingSut& sut) const override {
    std::vector<std::byte> out(buffer);
    auto r = sut.TryReceive(out);
    if (m.messages.empty()) {
      RC_ASSERT(r.has_value());
      RC_ASSERT(!r->has_value());
      return;
    }
    const Message& want = m.messages.front();
    if (want.size() > buffer) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == EMSGSIZE);
      return;
    }
    RC_ASSERT(r.has_value());
    RC_ASSERT(r->has_value());
    RC_ASSERT(**r == want.size());
    RC_ASSERT(std::equal(want.begin(), want.end(), out.begin(),
                         [](std::uint8_t a, std::byte b) { return std::byte{a} == b; }));
  }
  void show(std::ostream& os) const override { os << "Receive(buffer " << buffer << ")"; }
};

// A producer process that is SIGKILLed right after its send: the message survives its death.
struct SendFromKilledProcess : Cmd {
  Message msg = MessageOf(*rc::gen::inRange<std::size_t>(0, 25));
  void checkPreconditions(const RingModel& m) const override {
    RC_PRE(m.capacity - m.used >= FrameBytes(msg.size()));
  }
  void apply(RingModel& m) const override {
    m.used += FrameBytes(msg.size());
    m.messages.push_back(msg);
  }
  void run(const RingModel&, RingSut& sut) const override {
    RC_ASSERT(sut.SendFromKilledChild(std::as_bytes(std::span(msg))));
  }
  void show(std::ostream& os) const override { os << "SendFromKilledProcess(" << msg.size() << " bytes)"; }
};

// Commands of the last failing run, to assert the shrunk counterexample is short.
std::size_t g_last_failing_length = 0;

template <class SutT, class... Cmds>
void RunSequence(std::uint32_t capacity) {
  RingModel model;
  model.capacity = capacity;
  auto cmds = *rc::state::gen::commands(model, rc::state::gen::execOneOfWithArgs<Cmds...>());
  SutT sut(capacity);
  try {
    rc::state::runAll(cmds, model, sut);
  } catch (...) {
    g_last_failing_length = cmds.size();
    throw;
  }
}

RC_GTEST_PROP(SpscRingModel, BehavesAsBoundedDequeWithWrapAround, ()) {
  std::uint32_t capacity = *rc::gen::element<std::uint32_t>(64, 128);
  RunSequence<RealRing, Send, Receive>(capacity);
}

TEST(SpscRingModel, KilledProducerDeliversWhatItSent) {
  EXPECT_TRUE(rc::check("SPSC ring with killed producer processes", [] {
    RunSequence<RealRing, Send, Receive, SendFromKilledProcess>(64);
  }));
}

TEST(SpscRingModel, FindsPlantedWrapAroundOffByOneAndShrinksIt) {
  g_last_failing_length = 0;
  bool passed = rc::check("planted off-by-one ring", [] { RunSequence<PlantedRing, Send, Receive>(64); });
  EXPECT_FALSE(passed) << "the property missed the planted wrap-around bug";
  // Smallest failure: a couple of sends to move the tail near the end, receives, then one wrapped
  // message received. Shrinking must get close to that: over 160 random seeds it ended at 6 to 12
  // commands (12 in 13 %), once at 14 (a local minimum of sequence shrinking), so the bound is 16.
  EXPECT_GT(g_last_failing_length, 0u);
  EXPECT_LE(g_last_failing_length, 16u) << "counterexample not shrunk";
}

}  // namespace
