// Model-based (rc::state) property of the MPMC buffer between processes (ipc/ring/mpmc_buffer.h):
// a bounded deque of messages (N slots, each up to slot_bytes). Random sequences of TrySend (any
// size up to past the slot size), TryReceive (buffers too small included: EMSGSIZE leaves the
// message in place), Size and Recoveries run against a real buffer in an anonymous shared mapping
// and the model. Multi-process commands: a forked producer attaches, sends and exits (its message
// is there); a forked producer is SIGKILLed mid-write holding the robust mutex (MpmcTesting::
// kill_after_bytes): its message is lost whole, never seen partially, the next operation repairs
// the buffer (Recoveries() counts one more) and everything else is as before. On failure
// rapidcheck prints the shrunk commands and an RC_PARAMS="reproduce=..." line.
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
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <stdexcept>
#include <vector>

#include "ipc/ring/mpmc_buffer.h"

namespace {

using Message = std::vector<std::byte>;

Message MessageOf(std::size_t len, std::uint32_t salt) {
  Message m(len);
  for (std::size_t i = 0; i < len; ++i) m[i] = std::byte(static_cast<std::uint8_t>(salt * 13 + i * 5));
  return m;
}

struct MpmcModel {
  std::uint32_t slots = 4;
  std::uint32_t slot_bytes = 32;
  std::deque<Message> messages;
  std::uint64_t recoveries = 0;
  std::uint32_t next_salt = 1;
};

class MpmcSut {
 public:
  MpmcSut(std::uint32_t slots, std::uint32_t slot_bytes)
      : bytes_(ipc::ring::MpmcBuffer::BytesFor(slots, slot_bytes)) {
    void* m = ::mmap(nullptr, bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) throw std::runtime_error("mmap failed");
    mem_ = {static_cast<std::byte*>(m), bytes_};
    if (auto ok = ipc::ring::MpmcBuffer::Init(mem_, slots, slot_bytes); !ok) throw std::runtime_error(ok.error().message());
    auto b = ipc::ring::MpmcBuffer::Attach(mem_);
    if (!b) throw std::runtime_error(b.error().message());
    buffer_.emplace(std::move(*b));
  }
  ~MpmcSut() {
    buffer_.reset();
    ::munmap(mem_.data(), bytes_);
  }
  ipc::ring::MpmcBuffer& buffer() { return *buffer_; }

  // Runs `body` on the child's own attachment in a forked process; returns its wait status.
  int InChild(const std::function<int(ipc::ring::MpmcBuffer&)>& body) {
    pid_t pid = ::fork();
    if (pid == 0) {
      auto b = ipc::ring::MpmcBuffer::Attach(mem_);
      _exit(b ? body(*b) : 3);
    }
    RC_ASSERT(pid > 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0) RC_ASSERT(errno == EINTR);
    return status;
  }

 private:
  std::size_t bytes_;
  std::span<std::byte> mem_;
  std::optional<ipc::ring::MpmcBuffer> buffer_;
};

using Cmd = rc::state::Command<MpmcModel, MpmcSut>;

struct Send : Cmd {
  std::size_t size;
  std::uint32_t salt;
  explicit Send(const MpmcModel& m)
      : size(*rc::gen::inRange<std::size_t>(0, m.slot_bytes + 9)), salt(m.next_salt) {}
  void apply(MpmcModel& m) const override {
    ++m.next_salt;
    if (size <= m.slot_bytes && m.messages.size() < m.slots) m.messages.push_back(MessageOf(size, salt));
  }
  void run(const MpmcModel& m, MpmcSut& sut) const override {
    auto r = sut.buffer().TrySend(MessageOf(size, salt));
    if (size > m.slot_bytes) {
      RC_ASSERT(!r.has_value());
      RC_ASSERT(r.error().err == EMSGSIZE);
      return;
    }
    RC_ASSERT(r.has_value());
    RC_ASSERT(*r == (m.messages.size() < m.slots));
  }
  void show(std::ostream& os) const override { os << "TrySend(" << size << " bytes)"; }
};

struct Receive : Cmd {
  std::size_t buffer;
  explicit Receive(const MpmcModel& m) : buffer(*rc::gen::inRange<std::size_t>(0, m.slot_bytes + 1)) {}
  void apply(MpmcModel& m) const override {
    if (!m.messages.empty() && m.messages.front().size() <= buffer) m.messages.pop_front();
  }
  void run(const MpmcModel& m, MpmcSut& sut) const override {
    Message out(buffer);
    auto r = sut.buffer().TryReceive(out);
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
    RC_ASSERT(r.has_value() && r->has_value());
    RC_ASSERT(**r == want.size());
    RC_ASSERT(std::equal(want.begin(), want.end(), out.begin()));
  }
  void show(std::ostream& os) const override { os << "TryReceive(buffer " << buffer << ")"; }
};

struct Size : Cmd {
  void run(const MpmcModel& m, MpmcSut& sut) const override {
    auto n = sut.buffer().Size();
    RC_ASSERT(n.has_value());
    RC_ASSERT(*n == m.messages.size());
    auto rec = sut.buffer().Recoveries();
    RC_ASSERT(rec.has_value());
    RC_ASSERT(*rec == m.recoveries);
  }
  void show(std::ostream& os) const override { os << "Size+Recoveries"; }
};

// A producer process attaches, sends one message and exits.
struct SendFromChild : Cmd {
  std::size_t size;
  std::uint32_t salt;
  explicit SendFromChild(const MpmcModel& m)
      : size(*rc::gen::inRange<std::size_t>(0, m.slot_bytes + 1)), salt(m.next_salt) {}
  void checkPreconditions(const MpmcModel& m) const override { RC_PRE(m.messages.size() < m.slots); }
  void apply(MpmcModel& m) const override {
    ++m.next_salt;
    m.messages.push_back(MessageOf(size, salt));
  }
  void run(const MpmcModel&, MpmcSut& sut) const override {
    Message msg = MessageOf(size, salt);
    int status = sut.InChild([&](ipc::ring::MpmcBuffer& b) {
      auto r = b.TrySend(msg);
      return r && *r ? 0 : 4;
    });
    RC_ASSERT(WIFEXITED(status));
    RC_ASSERT(WEXITSTATUS(status) == 0);
  }
  void show(std::ostream& os) const override { os << "SendFromChild(" << size << " bytes)"; }
};

// A producer process dies (SIGKILL) after copying `cut` of `size` bytes, holding the mutex.
struct ProducerKilledMidWrite : Cmd {
  std::size_t size;
  std::size_t cut;
  std::uint32_t salt;
  explicit ProducerKilledMidWrite(const MpmcModel& m)
      : size(*rc::gen::inRange<std::size_t>(1, m.slot_bytes + 1)),
        cut(*rc::gen::inRange<std::size_t>(0, size)),
        salt(m.next_salt) {}
  void checkPreconditions(const MpmcModel& m) const override { RC_PRE(m.messages.size() < m.slots); }
  // Lost whole; whichever process locks next repairs (every operation, Recoveries() too, locks).
  void apply(MpmcModel& m) const override {
    ++m.next_salt;
    ++m.recoveries;
  }
  void run(const MpmcModel&, MpmcSut& sut) const override {
    Message msg = MessageOf(size, salt);
    std::size_t at = cut;
    int status = sut.InChild([&](ipc::ring::MpmcBuffer& b) {
      b.testing().kill_after_bytes = at;
      (void)b.TrySend(msg);
      return 5;  // not reached: the send raises SIGKILL
    });
    RC_ASSERT(WIFSIGNALED(status));
    RC_ASSERT(WTERMSIG(status) == SIGKILL);
  }
  void show(std::ostream& os) const override {
    os << "ProducerKilledMidWrite(" << size << " bytes, killed after " << cut << ")";
  }
};

RC_GTEST_PROP(MpmcModel, BehavesAsBoundedDequeAcrossProcessesAndDeaths, ()) {
  MpmcModel model;
  model.slots = *rc::gen::inRange<std::uint32_t>(1, 6);
  model.slot_bytes = *rc::gen::element<std::uint32_t>(8, 24, 64);
  auto cmds = *rc::state::gen::commands(
      model, rc::state::gen::execOneOfWithArgs<Send, Send, Receive, Receive, Size, SendFromChild,
                                               ProducerKilledMidWrite>());
  MpmcSut sut(model.slots, model.slot_bytes);
  rc::state::runAll(cmds, model, sut);
}

}  // namespace
